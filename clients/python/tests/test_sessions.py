"""AdamService and Session against the service: both transports, checkpoints, history, PATCH, problems."""

import numpy as np
import pytest

import adamopt
from adamopt.safetensors import pack, unpack


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    integer = {8: np.uint64, 4: np.uint32, 2: np.uint16}[a.dtype.itemsize]
    return np.array_equal(a.view(integer), b.view(integer))


def article_step(parameters, grads, v, s, t, learning_rate, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """The article's NumPy update, one tensor at a time (the reference, to rounding)."""
    out = {}
    for name, p in parameters.items():
        g = grads["d" + name]
        v[name] = beta1 * v.get(name, 0) + (1 - beta1) * g
        s[name] = beta2 * s.get(name, 0) + (1 - beta2) * np.square(g)
        v_corrected = v[name] / (1 - beta1 ** t)
        s_corrected = s[name] / (1 - beta2 ** t)
        out[name] = p - learning_rate * v_corrected / (np.sqrt(s_corrected) + epsilon)
    return out


def model(rng, dtype=np.float64):
    return {"W1": rng.standard_normal((5, 3)).astype(dtype), "b1": np.zeros((5, 1), dtype=dtype),
            "W2": rng.standard_normal((1, 5)).astype(dtype), "b2": np.asarray(0.25, dtype=dtype)}


def gradients(rng, parameters):
    return {"d" + name: rng.standard_normal(np.shape(p)).astype(np.asarray(p).dtype) for name, p in parameters.items()}


def test_steps_of_a_held_session_are_the_same_bits_in_safetensors_and_json_and_adams_update(service, json_service):
    rng = np.random.default_rng(1)
    parameters = model(rng)
    binary = service.create(parameters, learning_rate=0.01)
    text = json_service.create(parameters, learning_rate=0.01)
    assert binary.holds_parameters and text.holds_parameters
    assert binary.tensors == {"W1": (5, 3), "b1": (5, 1), "W2": (1, 5), "b2": ()}
    expected, v, s = dict(parameters), {}, {}
    try:
        for t in range(1, 6):
            grads = gradients(rng, parameters)
            a = binary.step(grads, loss=1.0 / t)
            b = text.step(grads, loss=1.0 / t)
            expected = article_step(expected, grads, v, s, t, 0.01)
            assert a.step == b.step == t == binary.step_count
            assert sorted(a) == sorted(b) == sorted(parameters)
            for name in parameters:
                assert same_bits(a[name], b[name]), name
                assert a[name].dtype == np.float64 and a[name].shape == np.shape(parameters[name])
                np.testing.assert_allclose(a[name], expected[name], rtol=1e-13, atol=1e-15)
            for attribute in ("learning_rate", "grad_norm", "update_norm", "clipped", "skipped", "replayed"):
                assert getattr(a, attribute) == getattr(b, attribute), attribute
            norm = np.sqrt(sum(np.sum(np.square(g)) for g in grads.values()))
            assert a.grad_norm == pytest.approx(norm, rel=1e-14)
            assert a.learning_rate == 0.01 and a.clipped is False and a.skipped is False and a.replayed is False
    finally:
        binary.delete()
        text.delete()


def test_answers_are_writable_arrays_in_the_dtype_sent(service):
    rng = np.random.default_rng(2)
    with service.create(learning_rate=0.1) as session:  # the client keeps the parameters
        assert not session.holds_parameters
        parameters = {"a": rng.standard_normal((4, 4)).astype(np.float32), "c": rng.standard_normal(3)}
        result = session.step(gradients(rng, parameters), parameters=parameters)
        assert result["a"].dtype == np.float32 and result["c"].dtype == np.float64
        result["a"] += 1  # the arrays are the client's own, not read-only views of a bytes object
        assert result["a"].flags.writeable and result["a"].flags.c_contiguous


def test_float32_parameters_make_a_float32_session_that_answers_float32(service, json_service):
    rng = np.random.default_rng(3)
    parameters = model(rng, np.float32)
    for svc in (service, json_service):
        with svc.create(parameters, learning_rate=0.01) as session:
            assert session.precision == "float32"
            result = session.step(gradients(rng, parameters))
            assert all(array.dtype == np.float32 for array in result.values())
            assert all(same_bits(result[n], session.parameters()[n]) for n in parameters)


def test_a_checkpoint_resumes_bit_for_bit_in_either_transport(service, json_service):
    rng = np.random.default_rng(4)
    parameters = model(rng)
    original = service.create(parameters, algorithm="adamw", learning_rate=0.02, amsgrad=True,
                              schedule={"type": "cosine", "t_max": 10}, groups=[{"match": ["b*"], "weight_decay": 0}])
    try:
        for _ in range(3):
            original.step(gradients(rng, parameters))
        binary_state = original.state()
        json_state = json_service.session(original.id).state()
        assert binary_state["step"] == json_state["step"] == 3
        assert binary_state["optimizer"] == json_state["optimizer"]
        assert binary_state["optimizer"]["schedule"]["position"] == 3
        for name in parameters:
            for part in ("firstMoment", "secondMoment", "maxSecondMoment", "parameter"):
                assert same_bits(binary_state["tensors"][name][part], json_state["tensors"][name][part]), part
        resumed = [service.resume(json_state), json_service.resume(binary_state), service.resume(binary_state)]
        grads = gradients(rng, parameters)
        expected = original.step(grads)
        for session in resumed:
            assert session.step_count == 3
            result = session.step(grads)
            assert result.step == 4 and result.learning_rate == expected.learning_rate
            assert all(same_bits(result[name], expected[name]) for name in parameters)
            session.delete()
    finally:
        original.delete()


def test_the_checkpoint_holds_the_articles_v_and_s(service):
    rng = np.random.default_rng(5)
    parameters = model(rng)
    with service.create(parameters, learning_rate=0.01) as session:
        v, s, expected = {}, {}, dict(parameters)
        for t in range(1, 4):
            grads = gradients(rng, parameters)
            session.step(grads)
            expected = article_step(expected, grads, v, s, t, 0.01)
        state = session.state()
        for name in parameters:
            tensor = state["tensors"][name]
            assert tensor["step"] == 3
            np.testing.assert_allclose(tensor["firstMoment"], v[name], rtol=1e-14, atol=1e-17)
            np.testing.assert_allclose(tensor["secondMoment"], s[name], rtol=1e-14, atol=1e-17)


def test_history_lists_each_step_with_its_loss_and_since_gives_the_later_ones(service):
    rng = np.random.default_rng(6)
    parameters = model(rng)
    with service.create(parameters, learning_rate=0.01) as session:
        for t in range(1, 5):
            session.step(gradients(rng, parameters), loss=10.0 / t)
        history = session.history()
        assert [entry["step"] for entry in history] == [1, 2, 3, 4]
        assert [entry["loss"] for entry in history] == [10.0, 5.0, 10.0 / 3, 2.5]
        assert [entry["step"] for entry in session.history(since=2)] == [3, 4]


def test_patch_takes_python_style_names_and_the_next_step_uses_the_change(service):
    rng = np.random.default_rng(7)
    parameters = model(rng)
    with service.create(parameters, learning_rate=0.01) as session:
        assert session.step(gradients(rng, parameters)).learning_rate == 0.01
        view = session.patch(learning_rate=0.5, schedule={"type": "step", "step_size": 1, "gamma": 0.5},
                             clipping={"max_norm": 1.0})
        assert view["optimizer"]["schedule"]["stepSize"] == 1
        assert view["optimizer"]["clipping"]["maxNorm"] == 1.0
        assert session.optimizer["learningRate"] == 0.5
        first, second = session.step(gradients(rng, parameters)), session.step(gradients(rng, parameters))
        assert (first.learning_rate, second.learning_rate) == (0.5, 0.25)
        assert first.total_norm is not None


def test_parameters_put_and_get_round_trip_bit_for_bit(service, json_service):
    rng = np.random.default_rng(8)
    parameters = model(rng)
    replacement = {name: np.asarray(p) * 3 + 1e-300 for name, p in parameters.items()}
    with service.create(parameters) as session:
        assert all(same_bits(session.parameters()[n], parameters[n]) for n in parameters)
        session.put_parameters(replacement)
        held = json_service.session(session.id).parameters()
        assert all(same_bits(held[n], replacement[n]) for n in parameters)


def test_a_problem_raises_problem_error_with_the_problems_fields_and_changes_nothing(service):
    rng = np.random.default_rng(9)
    parameters = model(rng)
    with service.create(parameters) as session:
        session.step(gradients(rng, parameters))
        with pytest.raises(adamopt.ProblemError) as raised:
            session.step({"dW1": np.zeros((2, 2))})
        problem = raised.value
        assert problem.status == 422
        assert problem.type == "/problems/tensor-mismatch"
        assert problem.title == "Tensors do not fit the session"
        assert "W1" in problem.detail
        assert problem.problem["status"] == 422
        assert session.refresh()["step"] == 1
    with service.create() as session, pytest.raises(adamopt.ProblemError) as raised:
        session.parameters()
    assert (raised.value.status, raised.value.type) == (409, "/problems/parameters-not-held")
    with pytest.raises(adamopt.ProblemError) as raised:
        service.create(learning_rate=-1)
    assert (raised.value.status, raised.value.type) == (400, "/problems/invalid-setting")
    assert "learningRate" in raised.value.detail


def test_deleted_sessions_are_gone_and_a_with_block_deletes(service):
    with service.create() as session:
        assert service.session(session.id).id == session.id
        assert session.id in [listed.id for listed in service.sessions(page_size=1)]
    with pytest.raises(adamopt.ProblemError) as raised:
        service.session(session.id)
    assert (raised.value.status, raised.value.type) == (404, "/problems/session-not-found")


def test_the_api_key_is_sent_and_without_it_the_service_answers_401(url, key, monkeypatch):
    monkeypatch.delenv("ADAM_KEY", raising=False)
    with adamopt.AdamService(url) as keyless, pytest.raises(adamopt.ProblemError) as raised:
        keyless.create()
    assert (raised.value.status, raised.value.type) == (401, "/problems/unauthorized")
    with adamopt.AdamService(url, "not-" + key) as wrong, pytest.raises(adamopt.ProblemError) as raised:
        wrong.create()
    assert raised.value.status == 401


def test_url_and_key_come_from_adam_url_and_adam_key_when_not_given(url, key, monkeypatch):
    monkeypatch.setenv("ADAM_URL", url)
    monkeypatch.setenv("ADAM_KEY", key)
    with adamopt.AdamService() as service, service.create() as session:
        assert service.url == url
        assert session.step_count == 0


def test_gradients_may_carry_non_finite_values_when_the_session_skips_such_steps(service, json_service):
    for svc in (service, json_service):
        with svc.create({"w": np.ones(3)}, non_finite="skip") as session:
            result = session.step({"dw": np.array([1.0, np.nan, np.inf])})
            assert result.skipped and result.step == 0
            assert same_bits(result["w"], np.ones(3))


def test_one_connection_serves_every_request(service):
    with service.create({"w": np.ones(1000)}) as session:
        for _ in range(10):
            session.step({"dw": np.ones(1000)})
            session.state()
            session.history()
        with pytest.raises(adamopt.ProblemError):
            session.step({"dx": np.ones(3)})
        session.step({"dw": np.ones(1000)})
    pool = service._http.http.get_adapter(service.url).poolmanager
    pools = [pool.pools[key] for key in pool.pools.keys()]
    assert sum(p.num_connections for p in pools) == 1


def test_safetensors_pack_and_unpack_round_trip_without_copies():
    arrays = {"a": np.arange(6, dtype=np.float64).reshape(2, 3), "b": np.float32(2.5), "c": np.zeros((0, 4))}
    body = pack(arrays, {"loss": "0.5"})
    assert len(body) == len(bytes(body))
    assert np.shares_memory(np.frombuffer(body.parts[1], dtype=np.float64), arrays["a"])  # a view, not a copy
    buffer = np.frombuffer(bytearray(bytes(body)), dtype=np.uint8)
    tensors, metadata = unpack(buffer)
    assert metadata == {"loss": "0.5"}
    assert all(same_bits(tensors[name], np.asarray(arrays[name])) for name in arrays)
    assert all(np.shares_memory(tensors[name], buffer) for name in ("a", "b"))
    assert (8 + int(buffer[:8].view("<u8")[0])) % 8 == 0  # the data starts 8-byte aligned
    big_endian = unpack(bytes(pack({"x": np.arange(3, dtype=">f4")})))[0]["x"]
    assert big_endian.dtype == np.dtype("<f4") and big_endian.tolist() == [0.0, 1.0, 2.0]
