"""adamopt.article: the article's two functions, with the service behind them, against the article's NumPy code."""

import numpy as np
import pytest

import adamopt
from adamopt.article import initialize_adam, update_parameters_with_adam


# --- the article's own functions, as it defines them ----------------------------------------------------------------

def article_initialize_adam(parameters):
    L = len(parameters) // 2
    v = {}
    s = {}
    for l in range(L):
        v["dW" + str(l + 1)] = np.zeros_like(parameters["W" + str(l + 1)])
        v["db" + str(l + 1)] = np.zeros_like(parameters["b" + str(l + 1)])
        s["dW" + str(l + 1)] = np.zeros_like(parameters["W" + str(l + 1)])
        s["db" + str(l + 1)] = np.zeros_like(parameters["b" + str(l + 1)])
    return v, s


def article_update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
                                        epsilon=1e-8):
    L = len(parameters) // 2
    v_corrected = {}
    s_corrected = {}
    for l in range(L):
        for p in ("W", "b"):
            key = "d" + p + str(l + 1)
            v[key] = beta1 * v[key] + (1 - beta1) * grads[key]
            v_corrected[key] = v[key] / (1 - np.power(beta1, t))
            s[key] = beta2 * s[key] + (1 - beta2) * np.square(grads[key])
            s_corrected[key] = s[key] / (1 - np.power(beta2, t))
            parameters[p + str(l + 1)] = parameters[p + str(l + 1)] - learning_rate * v_corrected[key] / (
                np.sqrt(s_corrected[key]) + epsilon)
    return parameters, v, s


def network(rng):
    return {"W1": rng.standard_normal((4, 2)) * 0.5, "b1": np.zeros((4, 1)),
            "W2": rng.standard_normal((1, 4)) * 0.5, "b2": np.zeros((1, 1))}


def forward_backward(X, Y, parameters):
    """The article's two-layer network: tanh then sigmoid, cross-entropy; the gradients as it names them (and the
    intermediate dZ1, dZ2 a backward pass also returns)."""
    m = X.shape[1]
    A1 = np.tanh(parameters["W1"] @ X + parameters["b1"])
    A2 = 1 / (1 + np.exp(-(parameters["W2"] @ A1 + parameters["b2"])))
    cost = float(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m)
    dZ2 = A2 - Y
    dZ1 = (parameters["W2"].T @ dZ2) * (1 - A1 ** 2)
    return cost, {"dZ2": dZ2, "dW2": dZ2 @ A1.T / m, "db2": np.sum(dZ2, axis=1, keepdims=True) / m,
                  "dZ1": dZ1, "dW1": dZ1 @ X.T / m, "db1": np.sum(dZ1, axis=1, keepdims=True) / m}


def test_a_loop_written_from_the_article_trains_as_the_articles_own_functions_do(service):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1.5, 1.5, size=(2, 100))
    Y = (np.sum(X ** 2, axis=0, keepdims=True) < 1.0).astype(float)
    start = network(rng)

    ours, theirs = {k: a.copy() for k, a in start.items()}, {k: a.copy() for k, a in start.items()}
    v, s = initialize_adam(ours, service=service)
    v_ref, s_ref = article_initialize_adam(theirs)
    assert sorted(v) == sorted(v_ref) == ["dW1", "dW2", "db1", "db2"]
    assert all(np.array_equal(v[k], v_ref[k]) and np.array_equal(s[k], s_ref[k]) for k in v_ref)  # zeros

    costs = []
    for t in range(1, 101):
        cost, grads = forward_backward(X, Y, ours)
        _, grads_ref = forward_backward(X, Y, theirs)
        costs.append(cost)
        returned, v2, s2 = update_parameters_with_adam(ours, grads, v, s, t, learning_rate=0.05)
        theirs, v_ref, s_ref = article_update_parameters_with_adam(theirs, grads_ref, v_ref, s_ref, t,
                                                                   learning_rate=0.05)
        assert returned is ours and v2 is v and s2 is s  # as the article: the same dictionary, updated
        for name in start:
            # torch's order of operations against the article's: the same update to rounding
            np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-9, atol=1e-12)
    for key in v_ref:
        np.testing.assert_allclose(v[key], v_ref[key], rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(s[key], s_ref[key], rtol=1e-9, atol=1e-15)
    assert v.t == 100 and v.session.step_count == 100
    assert costs[-1] < 0.7 * costs[0]


def test_a_changed_learning_rate_reaches_the_session_before_its_step(service):
    rng = np.random.default_rng(1)
    ours = network(rng)
    theirs = {k: a.copy() for k, a in ours.items()}
    v, s = initialize_adam(ours, service=service)
    v_ref, s_ref = article_initialize_adam(theirs)
    for t in range(1, 21):
        grads = {"d" + name: rng.standard_normal(a.shape) for name, a in ours.items()}
        learning_rate = 0.1 / (1 + 0.5 * t)  # the article's learning-rate decay
        update_parameters_with_adam(ours, grads, v, s, t, learning_rate=learning_rate, beta2=0.99)
        article_update_parameters_with_adam(theirs, grads, v_ref, s_ref, t, learning_rate=learning_rate, beta2=0.99)
        for name in ours:
            np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-9, atol=1e-12)
    history = v.session.history()
    assert history[-1]["learningRate"] == 0.1 / (1 + 0.5 * 20)
    assert v.session.refresh()["optimizer"]["beta2"] == 0.99


def test_t_must_count_the_updates_and_v_and_s_must_come_from_initialize_adam(service):
    rng = np.random.default_rng(2)
    parameters = network(rng)
    grads = {"d" + name: np.ones_like(a) for name, a in parameters.items()}
    v, s = initialize_adam(parameters, service=service)
    with pytest.raises(ValueError, match="t must be 1 at the first update"):
        update_parameters_with_adam(parameters, grads, v, s, 0)
    update_parameters_with_adam(parameters, grads, v, s, 1)
    with pytest.raises(ValueError, match="this is update 2"):
        update_parameters_with_adam(parameters, grads, v, s, 3)
    with pytest.raises(TypeError, match="initialize_adam"):
        update_parameters_with_adam(parameters, grads, *article_initialize_adam(parameters), 2)
    with pytest.raises(KeyError, match="db2"):
        update_parameters_with_adam(parameters, {k: g for k, g in grads.items() if k != "db2"}, v, s, 2)
    assert v.session.refresh()["step"] == 1  # none of the refused calls stepped


def test_the_session_is_deleted_when_v_and_s_are_gone(service):
    v, s = initialize_adam(network(np.random.default_rng(3)), service=service)
    session_id = v.session.id
    del v, s
    import gc

    gc.collect()
    with pytest.raises(adamopt.ProblemError) as raised:
        service.session(session_id)
    assert raised.value.status == 404
