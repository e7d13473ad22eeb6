"""Retries through a proxy that loses answers, drops connections and answers 503/429: a step or a create the
service carried out is never carried out twice, and Retry-After is honoured."""

import time

import numpy as np
import pytest
import requests

import adamopt
from adamopt._transport import retry_after

from test_sessions import same_bits


def through(proxy, key, **options):
    return adamopt.AdamService(proxy.url, key, **options)


@pytest.mark.parametrize("transport", ["safetensors", "json"])
def test_a_step_whose_answer_is_lost_is_retried_and_applied_once(service, proxy, key, transport):
    parameters = {"W1": np.array([[0.5, -0.2], [0.1, 0.3]]), "b1": np.zeros((2, 1))}
    grads = {"dW1": np.array([[0.01, -0.03], [0.02, 0.0]]), "db1": np.array([[0.1], [-0.1]])}
    control = service.create(parameters, learning_rate=0.01)
    with through(proxy, key, transport=transport, backoff=0.01) as flaky:
        session = flaky.create(parameters, learning_rate=0.01)
        try:
            proxy.on("POST", "/steps", "drop")  # the service applies the step, the client never hears
            result = session.step(grads)

            attempts = proxy.requests("POST", "/steps")
            assert len(attempts) == 2
            keys = {headers["Idempotency-Key"] for _, _, headers in attempts}
            assert len(keys) == 1 and len(next(iter(keys))) == 36  # one uuid4 on both attempts
            assert result.replayed  # the service answered the first attempt's result again
            assert result.step == 1 and service.session(session.id).step_count == 1
            expected = control.step(grads)
            assert all(same_bits(result[name], expected[name]) for name in parameters)
            # the next step gets a new key and is applied
            assert session.step(grads).step == 2
            assert len({h["Idempotency-Key"] for _, _, h in proxy.requests("POST", "/steps")}) == 2
        finally:
            session.delete()
            control.delete()


def test_a_create_whose_answer_is_lost_makes_one_session(service, proxy, key):
    before = {session.id for session in service.sessions()}
    with through(proxy, key, backoff=0.01) as flaky:
        proxy.on("POST", "/v1/sessions", "drop")
        session = flaky.create({"w": np.ones(3)})
        try:
            assert len(proxy.requests("POST", "/v1/sessions")) == 2
            created = {s.id for s in service.sessions()} - before
            assert created == {session.id}
        finally:
            session.delete()


def test_503_and_429_are_retried_after_their_retry_after(service, proxy, key):
    with through(proxy, key, backoff=0.001) as flaky, flaky.create({"w": np.ones(3)}) as session:
        proxy.on("POST", "/steps", (503, {"Retry-After": "1"}), (429, {"Retry-After": "1"}))
        start = time.monotonic()
        result = session.step({"dw": np.ones(3)})
        waited = time.monotonic() - start
        assert waited >= 2.0  # both Retry-After seconds, though the backoff alone is a few milliseconds
        assert not result.replayed and result.step == 1
        assert len(proxy.requests("POST", "/steps")) == 3
        assert service.session(session.id).step_count == 1


def test_connections_closed_before_an_answer_are_retried_and_exhausted_retries_raise(service, proxy, key):
    with through(proxy, key, backoff=0.001, retries=2) as flaky, flaky.create({"w": np.ones(3)}) as session:
        proxy.on("POST", "/steps", "close", "close")
        assert session.step({"dw": np.ones(3)}).step == 1  # third attempt
        proxy.on("POST", "/steps", "close", "close", "close")
        with pytest.raises(requests.ConnectionError):
            session.step({"dw": np.ones(3)})
        assert len(proxy.requests("POST", "/steps")) == 6
        assert service.session(session.id).step_count == 1
        proxy.on("POST", "/steps", (503, {"Retry-After": "0"}), (503, {"Retry-After": "0"}),
                 (503, {"Retry-After": "0"}))
        with pytest.raises(adamopt.ProblemError) as raised:
            session.step({"dw": np.ones(3)})
        assert raised.value.status == 503  # the last answer, once the retries are spent


def test_a_delete_whose_answer_is_lost_succeeds_on_its_retry(service, proxy, key):
    with through(proxy, key, backoff=0.001) as flaky:
        session = flaky.create()
        proxy.on("DELETE", session.id, "drop")
        session.delete()  # the retry gets 404: the first attempt deleted it
        assert len(proxy.requests("DELETE", session.id)) == 2
    with pytest.raises(adamopt.ProblemError) as raised:
        service.session(session.id)
    assert raised.value.status == 404


def test_retry_after_is_read_in_seconds_and_as_an_http_date():
    assert retry_after({"Retry-After": "3"}) == 3.0
    assert retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT"}, now=1445412500.0) == 10.0
    assert retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT"}, now=1445412600.0) == 0.0
    assert retry_after({}) is None and retry_after({"Retry-After": "soon"}) is None
