#!/usr/bin/env python3
"""The Python package's step at 1M float64 parameters against the article's NumPy update, in one process.

A 1,002,001-parameter model (W1 1000x1000, b1, W2, b2, as bench/large_step.py), three ways, one step of each in
every round, in a new random order each round, so that all see the same load: the article's update_parameters_with_adam in NumPy, in this process; the
package's Session.step with the session holding the parameters (8 MB up, 8 MB down); and with the client sending
them (16 MB up, 8 MB down). Then what each of the client's optimisations is worth: the held step again with one of
them undone (the body joined into one bytes object; the answer read with requests' .content, or with raw.read(); a
new connection for each step; requests' request(), which reads the environment's proxy settings for every request),
and what the Idempotency-Key that makes a retry safe costs.

Targets: within 2x of NumPy (held) and 2.5x (client-sent). The ratios are taken round by round (the same load on
both), their median and quartiles reported.

Usage (from the project root): python3 bench/python_client.py [rounds, default 150]
Starts the service from target/*.jar on 127.0.0.1 (building it when missing) unless ADAM_URL points at a running one
(with ADAM_KEY when it has API keys). Uses the package from clients/python/src unless it is installed.
"""
import os
import platform
import random
import statistics
import sys
import time
import uuid

import numpy as np
import requests

try:
    import adamopt
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python", "src"))
    import adamopt
from adamopt import _transport
from adamopt.safetensors import pack, unpack

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# the article's NumPy Adam (gradients named dW1, db1, ...) and the service for the run, as bench/large_step.py has them
from large_step import initialize_adam, serve, update_parameters_with_adam  # noqa: E402

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 150
SHAPES = {"W1": (1000, 1000), "b1": (1000, 1), "W2": (1, 1000), "b2": (1, 1)}  # 1,002,001 parameters


# --- the held step with one optimisation undone -------------------------------------------------------------------
def undone(session, grads, how):
    """The package's held step, by hand, with one of its optimisations undone."""
    http = session.service._http
    url = session.url + "/steps"
    headers = dict(http.headers, Accept=f"{_transport.OCTET}, {_transport.PROBLEM}",
                   **{"Content-Type": _transport.OCTET})
    if how != "no Idempotency-Key":
        headers["Idempotency-Key"] = str(uuid.uuid4())
    body = pack({name + ".grad": g for name, g in grads.items()})
    if how == "joined body":
        body = bytes(body)  # one more copy of every tensor
    client = requests.Session() if how == "new connection" else http.http
    if how == "new connection":
        headers["Connection"] = "close"
    if how == "requests' request()":  # the proxy settings read from the environment again for each request
        response = client.post(url, data=body, headers=headers, stream=True, timeout=60)
    else:
        prepared = client.prepare_request(requests.Request("POST", url, data=body, headers=headers))
        response = client.send(prepared, stream=True, timeout=60, allow_redirects=False, **http.settings)
    response.raise_for_status()
    if how == ".content":
        buffer = np.frombuffer(bytearray(response.content), dtype=np.uint8)  # 10 KB reads, joined, copied
    elif how == "raw.read()":
        buffer = np.frombuffer(bytearray(response.raw.read()), dtype=np.uint8)  # one read, then a copy
    else:
        buffer = _transport._read_body(response)
    if how == "new connection":
        client.close()
    return unpack(buffer)[0]


# each undoes one optimisation; the last shows what a safe retry costs (the service digests the body to recognise it)
VARIANTS = ["joined body", ".content", "raw.read()", "new connection", "requests' request()", "no Idempotency-Key"]


def main():
    serve(run, default_port="18083")


def run(url):
    rng = np.random.default_rng(0)
    parameters = {k: rng.standard_normal(s) for k, s in SHAPES.items()}
    grads = {"d" + k: rng.standard_normal(s) * 1e-3 for k, s in SHAPES.items()}
    size = sum(a.size for a in parameters.values())
    service = adamopt.AdamService(url, os.environ.get("ADAM_KEY"))

    v, s = initialize_adam(parameters)
    article = {"p": dict(parameters), "t": 0}
    held = service.create(parameters, learning_rate=0.01)
    sent = service.create(learning_rate=0.01)
    client_parameters = {"p": dict(parameters)}

    def numpy_step():
        article["t"] += 1
        article["p"], _, _ = update_parameters_with_adam(article["p"], grads, v, s, article["t"], learning_rate=0.01)

    def held_step():
        held.step(grads)

    def sent_step():
        client_parameters["p"] = sent.step(grads, parameters=client_parameters["p"])

    paths = {"numpy": numpy_step, "held": held_step, "sent": sent_step}
    paths.update({how: (lambda how=how: undone(held, grads, how)) for how in VARIANTS})
    for fn in paths.values():  # warm up: the server's JIT, the connection, the page cache
        for _ in range(3):
            fn()

    load_before = os.getloadavg()
    samples = {name: [] for name in paths}
    names = list(paths)
    shuffle = random.Random(0)
    for _ in range(ROUNDS):
        # one step of every path per round, in a new (random) order: all paths see the same load, no path always
        # follows the same one (after NumPy's large temporaries are freed, the next path's buffers are fresh pages)
        for name in shuffle.sample(names, len(names)):
            start = time.perf_counter()
            paths[name]()
            samples[name].append((time.perf_counter() - start) * 1e3)
    load_after = os.getloadavg()

    # sanity: the client-sent session took as many steps as NumPy, and they agree (in a different order of
    # operations, so not bit for bit)
    assert sent.step_count == article["t"]
    np.testing.assert_allclose(client_parameters["p"]["W1"], article["p"]["W1"], rtol=0, atol=1e-9)
    held.delete()
    sent.delete()

    def quartiles(values):
        q = statistics.quantiles(values, n=4)
        return f"{q[0]:.2f}-{q[2]:.2f}"

    def ratios(name, base):  # per round: the same load on both
        return [a / b for a, b in zip(samples[name], samples[base])]

    print(f"{size:,} parameters (float64); {ROUNDS} rounds, one step of each path per round in a random order; "
          f"medians and quartiles")
    print(f"{'path':58} {'ms':>6} {'quartiles':>12} {'x NumPy':>8} {'quartiles':>10}")
    labels = {"numpy": "NumPy update_parameters_with_adam, in process",
              "held": "adamopt Session.step, the session holds the parameters",
              "sent": "adamopt Session.step, the client sends the parameters"}
    for name in ("numpy", "held", "sent"):
        r = ratios(name, "numpy")
        print(f"{labels[name]:58} {statistics.median(samples[name]):6.1f} {quartiles(samples[name]):>12} "
              f"{statistics.median(r):8.2f} {quartiles(r) if name != 'numpy' else '':>10}")
    print("targets: held within 2x of NumPy, client-sent within 2.5x")
    print()
    print(f"{'the held step with one optimisation undone':58} {'ms':>6} {'quartiles':>12} {'x held':>8} "
          f"{'quartiles':>10}")
    for name in VARIANTS:
        r = ratios(name, "held")
        print(f"{'  ' + name:58} {statistics.median(samples[name]):6.1f} {quartiles(samples[name]):>12} "
              f"{statistics.median(r):8.2f} {quartiles(r):>10}")
    print()
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; {os.cpu_count()} cores, "
          f"{platform.machine()}, python {platform.python_version()}, numpy {np.__version__}, "
          f"requests {requests.__version__}")


if __name__ == "__main__":
    main()
