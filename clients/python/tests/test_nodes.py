"""Several nodes of one cluster: a request that cannot get its answer from a node goes on to the next one, with the
same Idempotency-Key, and the requests after it go there too. Two proxies in front of the one service are two nodes
that each serve every session, as a cluster's nodes do; a loopback port that refuses connections is a dead node."""

import socket
import time

import numpy as np
import pytest
import requests

import adamopt

from test_sessions import same_bits

CLUSTER_UNAVAILABLE = {"type": "/problems/cluster-unavailable", "title": "Cluster unavailable", "status": 503,
                       "detail": "the cluster could not carry out the step (members are leaving); it may have been "
                                 "applied: retry it with the same Idempotency-Key"}


class Recording(requests.Session):
    """requests' session, recording every request it sends: (method, URL, Idempotency-Key)."""

    def __init__(self):
        super().__init__()
        self.sent = []

    def send(self, request, **kwargs):
        self.sent.append((request.method, request.url, request.headers.get("Idempotency-Key")))
        return super().send(request, **kwargs)

    def to(self, method, suffix):
        return [(url, key) for m, url, key in self.sent if m == method and url.split("?")[0].endswith(suffix)]


def test_a_create_goes_on_at_once_from_a_node_that_refuses_connections_to_the_next_with_the_same_key(
        dead_node, proxy, key):
    recording = Recording()
    # a backoff of at least 5 s: a wait before the second node would show
    with adamopt.AdamService([dead_node, proxy.url], key, backoff=10.0, http=recording) as service:
        start = time.monotonic()
        session = service.create({"w": np.ones(3)})
        took = time.monotonic() - start
        try:
            creates = recording.to("POST", "/v1/sessions")
            assert [url.rsplit("/v1/", 1)[0] for url, _ in creates] == [dead_node, proxy.url]
            assert len({key for _, key in creates}) == 1 and len(creates[0][1]) == 36  # one uuid4 on both nodes
            assert len(proxy.requests("POST", "/v1/sessions")) == 1
            assert took < 4.0, f"the create took {took:.1f} s: it waited before trying the second node"

            # the node that answered serves the next requests: the dead one is not tried again
            assert service.url == proxy.url and session.url == f"{proxy.url}/v1/sessions/{session.id}"
            assert session.step({"dw": np.ones(3)}).step == 1
            session.refresh()
            assert all(url.startswith(proxy.url + "/") for _, url, _ in recording.sent[1:])
            assert len(proxy.requests("POST", "/steps")) == 1
        finally:
            session.delete()


@pytest.mark.parametrize("transport", ["safetensors", "json"])
def test_a_step_the_node_applied_before_dropping_the_connection_is_answered_by_the_next_node_not_applied_twice(
        service, proxy, second_proxy, key, transport):
    parameters = {"W1": np.array([[0.5, -0.2], [0.1, 0.3]]), "b1": np.zeros((2, 1))}
    grads = {"dW1": np.array([[0.01, -0.03], [0.02, 0.0]]), "db1": np.array([[0.1], [-0.1]])}
    control = service.create(parameters, learning_rate=0.01)
    with adamopt.AdamService(f"{proxy.url},{second_proxy.url}", key, transport=transport, backoff=0.01) as nodes:
        session = nodes.create(parameters, learning_rate=0.01)
        try:
            proxy.on("POST", "/steps", "drop")  # the first node applies the step and dies before answering
            result = session.step(grads)

            first, second = proxy.requests("POST", "/steps"), second_proxy.requests("POST", "/steps")
            assert len(first) == 1 and len(second) == 1
            assert first[0][2]["Idempotency-Key"] == second[0][2]["Idempotency-Key"]
            assert result.replayed  # the second node answered the step the first one had applied
            assert result.step == 1 and service.session(session.id).step_count == 1
            expected = control.step(grads)
            assert all(same_bits(result[name], expected[name]) for name in parameters)

            # the next step goes to the second node, with a new key, and is applied
            assert nodes.url == second_proxy.url
            assert session.step(grads).step == 2
            assert len(proxy.requests("POST", "/steps")) == 1
            assert [h["Idempotency-Key"] for _, _, h in second_proxy.requests("POST", "/steps")][1] != \
                first[0][2]["Idempotency-Key"]
        finally:
            session.delete()
            control.delete()


def test_a_node_that_never_answers_a_step_is_left_after_the_read_timeout_and_the_step_applied_once(
        service, proxy, second_proxy, key):
    with adamopt.AdamService([proxy.url, second_proxy.url], key, timeout=(10.0, 2.0), backoff=0.01) as nodes:
        with nodes.create({"w": np.ones(3)}) as session:
            proxy.on("POST", "/steps", "hang")  # applied, and the answer never comes
            result = session.step({"dw": np.ones(3)})

            keys = [h["Idempotency-Key"] for node in (proxy, second_proxy) for _, _, h in node.requests("POST", "/steps")]
            assert len(keys) == 2 and keys[0] == keys[1]
            assert result.replayed and result.step == 1
            assert service.session(session.id).step_count == 1


def test_a_503_cluster_unavailable_is_retried_with_the_same_key_and_a_patch_is_sent_again(service, proxy, key):
    with adamopt.AdamService(proxy.url, key, backoff=0.001) as flaky, flaky.create({"w": np.ones(3)}) as session:
        # the service applied the step, then the cluster could not confirm it
        proxy.on("POST", "/steps", ("forward", 503, {"Retry-After": "0"}, CLUSTER_UNAVAILABLE))
        result = session.step({"dw": np.ones(3)})
        steps = proxy.requests("POST", "/steps")
        assert len(steps) == 2 and steps[0][2]["Idempotency-Key"] == steps[1][2]["Idempotency-Key"]
        assert result.replayed and result.step == 1 and service.session(session.id).step_count == 1

        # a PATCH (no key: it sets values, so sending it again leaves the same settings) is sent again too
        proxy.on("PATCH", session.id, ("forward", 503, {"Retry-After": "0"}, CLUSTER_UNAVAILABLE))
        view = session.patch(learning_rate=0.005)
        assert len(proxy.requests("PATCH", session.id)) == 2
        assert view["optimizer"]["learningRate"] == 0.005
        assert service.session(session.id).optimizer["learningRate"] == 0.005


def test_when_every_node_is_down_the_retries_go_round_the_nodes_and_raise_as_with_one_node(dead_node, key):
    recording, waits = Recording(), []
    with adamopt.AdamService(dead_node, key, retries=2, backoff=0.001, http=recording) as one:
        one._http.sleep = waits.append
        with pytest.raises(requests.ConnectionError):
            one.create()
    # one URL: as before, every attempt to it, a wait before each retry
    assert [url for _, url, _ in recording.sent] == [dead_node + "/v1/sessions"] * 3
    assert len(waits) == 2

    recording, waits = Recording(), []
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as bound:  # another dead node
        bound.bind(("127.0.0.1", 0))
        other = f"http://127.0.0.1:{bound.getsockname()[1]}"
        with adamopt.AdamService([dead_node, other], key, retries=3, backoff=0.001, http=recording) as two:
            two._http.sleep = waits.append
            with pytest.raises(requests.ConnectionError):
                two.create()
    assert [url.rsplit("/v1/", 1)[0] for _, url, _ in recording.sent] == [dead_node, other, dead_node, other]
    assert len({key for _, _, key in recording.sent}) == 1
    assert len(waits) == 2  # none before the second node, the first time round


def test_nodes_come_as_a_list_a_comma_separated_string_or_adam_url(monkeypatch):
    service = adamopt.AdamService(["http://127.0.0.1:8081", "http://127.0.0.1:8082/"])
    assert service.urls == ("http://127.0.0.1:8081", "http://127.0.0.1:8082/")
    assert service.url == "http://127.0.0.1:8081"
    assert repr(service) == "AdamService(['http://127.0.0.1:8081', 'http://127.0.0.1:8082/'], transport='safetensors')"
    assert adamopt.AdamService(" http://127.0.0.1:8081 ,http://127.0.0.1:8082 ").urls == service.urls[:1] + (
        "http://127.0.0.1:8082",)
    monkeypatch.setenv("ADAM_URL", "http://127.0.0.1:8083,http://127.0.0.1:8084")
    assert adamopt.AdamService().urls == ("http://127.0.0.1:8083", "http://127.0.0.1:8084")
    one = adamopt.AdamService("http://127.0.0.1:8085/")
    assert one.url == "http://127.0.0.1:8085/" and repr(one) == "AdamService('http://127.0.0.1:8085/', transport='safetensors')"
    with pytest.raises(ValueError):
        adamopt.AdamService([" ", ""])
