"""The tests run against a running service with API keys: ADAM_URL and ADAM_KEY say where and with which key
(PythonClientTest in the repository's tests starts one and runs them; by hand: start the service with a key, see the
README's Authentication section)."""

import http.client
import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

import adamopt


def _environment(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: these tests run against a service with API keys, at ADAM_URL with the key "
                    f"ADAM_KEY (./mvnw verify runs them so: see PythonClientTest)", pytrace=False)
    return value


@pytest.fixture(scope="session")
def url():
    return _environment("ADAM_URL")


@pytest.fixture(scope="session")
def key():
    return _environment("ADAM_KEY")


@pytest.fixture
def service(url, key):
    with adamopt.AdamService(url, key) as service:
        yield service


@pytest.fixture
def json_service(url, key):
    with adamopt.AdamService(url, key, transport="json") as service:
        yield service


class Proxy:
    """An HTTP proxy in front of the service on a loopback port that does, to the requests a rule matches, what
    the rule says: forward them and drop the answer (the service acted, the client never hears), forward them and
    never answer, close the connection without forwarding, or answer a status itself, before or after forwarding.
    Every request it sees is recorded. Two proxies in front of one service are two nodes of a cluster: each serves
    every session."""

    def __init__(self, upstream):
        self.upstream = urlsplit(upstream)
        self.rules = []  # [method, path suffix, [actions...]]
        self.seen = []  # (method, path, headers) of every request
        self.lock = threading.Lock()
        self.closing = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with proxy.lock:
                    proxy.seen.append((self.command, self.path, dict(self.headers)))
                    action = proxy._next_action(self.command, self.path)
                if action == "close":
                    self.close_connection = True
                    return
                forwarded = isinstance(action, tuple) and action[0] == "forward"
                if isinstance(action, tuple) and not forwarded:  # (status, headers): the proxy answers
                    self.answer(*action)
                    return
                connection = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                    connection.request(self.command, self.path, body=body, headers=headers)
                    answer = connection.getresponse()
                    payload = answer.read()
                finally:
                    connection.close()
                if action == "drop":  # the service has acted; the client loses the answer
                    self.close_connection = True
                    return
                if action == "hang":  # the service has acted; the client waits for an answer that never comes
                    proxy.closing.wait(60)
                    self.close_connection = True
                    return
                if forwarded:  # the service has acted; the proxy answers ("forward", status, headers[, problem])
                    self.answer(*action[1:])
                    return
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length", "date"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def answer(self, status, headers, problem=None):
                payload = json.dumps(problem or {"status": status, "title": "injected by the test proxy"}).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/problem+json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_one

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def on(self, method, suffix, *actions):
        """The next requests of ``method`` whose path ends with ``suffix`` get ``actions``, one each, in order:
        ``"drop"``, ``"hang"``, ``"close"``, ``(status, headers[, problem])`` or ``("forward", status, headers[,
        problem])``; later ones are forwarded."""
        with self.lock:
            self.rules.append([method, suffix, list(actions)])

    def _next_action(self, method, path):
        for rule_method, suffix, actions in self.rules:
            if rule_method == method and path.split("?")[0].endswith(suffix) and actions:
                return actions.pop(0)
        return "forward"

    def requests(self, method, suffix):
        with self.lock:
            return [(m, p, h) for m, p, h in self.seen if m == method and p.split("?")[0].endswith(suffix)]

    def close(self):
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(url):
    proxy = Proxy(url)
    yield proxy
    proxy.close()


@pytest.fixture
def second_proxy(url):
    """Another node in front of the same service."""
    proxy = Proxy(url)
    yield proxy
    proxy.close()


@pytest.fixture
def dead_node():
    """The URL of a node that is down: a loopback port bound but not listening, so connections to it are refused
    (and no other process can take the port while the test runs)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as bound:
        bound.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{bound.getsockname()[1]}"
