#!/usr/bin/env python3
"""Large steps: a 1M-parameter Adam step round trip from a Python client (requests + numpy), in safetensors and in
JSON, beside the article's NumPy update_parameters_with_adam run in this process on the same arrays.

Target: the safetensors round trip within 3x of the in-process NumPy update.

Usage (from the project root): python3 bench/large_step.py [rounds, default 20]
Starts the service from target/*.jar on 127.0.0.1 (building it when missing) unless ADAM_URL points at a running one.
"""
import glob
import json
import os
import platform
import statistics
import struct
import subprocess
import sys
import time

import numpy as np
import requests

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
JSON_ROUNDS = max(3, ROUNDS // 5)
SHAPES = {"W1": (1000, 1000), "b1": (1000, 1), "W2": (1, 1000), "b2": (1, 1)}  # 1,002,001 parameters
OCTET = "application/octet-stream"


# --- the article's NumPy Adam, verbatim in spirit (gradients named dW1, db1, ...) ---------------------------------
def initialize_adam(parameters):
    L = len(parameters) // 2
    v, s = {}, {}
    for l in range(L):
        for p in ("W", "b"):
            v["d" + p + str(l + 1)] = np.zeros_like(parameters[p + str(l + 1)])
            s["d" + p + str(l + 1)] = np.zeros_like(parameters[p + str(l + 1)])
    return v, s


def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.001, beta1=0.9, beta2=0.999,
                                epsilon=1e-8):
    L = len(parameters) // 2
    for l in range(L):
        for p in ("W", "b"):
            key, grad = p + str(l + 1), "d" + p + str(l + 1)
            v[grad] = beta1 * v[grad] + (1 - beta1) * grads[grad]
            v_corrected = v[grad] / (1 - beta1 ** t)
            s[grad] = beta2 * s[grad] + (1 - beta2) * np.square(grads[grad])
            s_corrected = s[grad] / (1 - beta2 ** t)
            parameters[key] = parameters[key] - learning_rate * v_corrected / (np.sqrt(s_corrected) + epsilon)
    return parameters, v, s


# --- safetensors, both ways, without copies beyond one join --------------------------------------------------------
def pack(tensors):
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        data = memoryview(np.ascontiguousarray(array, dtype="<f8")).cast("B")
        header[name] = {"dtype": "F64", "shape": list(array.shape), "data_offsets": [offset, offset + data.nbytes]}
        offset += data.nbytes
        blobs.append(data)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return b"".join([struct.pack("<Q", len(raw)), raw, *blobs])


def unpack(body):
    n = struct.unpack_from("<Q", body)[0]
    header = json.loads(body[8:8 + n])
    data = memoryview(body)[8 + n:]
    return {name: np.frombuffer(data[e["data_offsets"][0]:e["data_offsets"][1]], dtype="<f8").reshape(e["shape"])
            for name, e in header.items() if name != "__metadata__"}


def post_binary(http, url, body):
    """POST a safetensors body, return the safetensors answer. stream=True and one raw.read() take the answer in a
    single read: requests' .content reads it in 10 KB pieces, which costs more than the step itself at 1M."""
    r = http.post(url, data=body, headers={"Content-Type": OCTET, "Accept": OCTET}, stream=True)
    r.raise_for_status()
    return r.raw.read()


def timed(fn, rounds):
    for _ in range(max(2, rounds // 4)):  # warm up: the server's JIT, the connection, the page cache
        fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def start_server(default_port="18082"):
    """The service from target/ (built if missing) on 127.0.0.1:$BENCH_PORT, memory only; (process, url)."""
    jars = [j for j in glob.glob("target/adam-optimizer-service-*.jar") if not j.endswith(".original")]
    if not jars:
        subprocess.run(["./mvnw", "-B", "-q", "-DskipTests", "package"], check=True)
        jars = glob.glob("target/adam-optimizer-service-*.jar")
    port = os.environ.get("BENCH_PORT", default_port)
    # memory only, as measured in the README (bench/persistence.py measures what durable sessions add)
    server = subprocess.Popen(["java", "-jar", jars[0], "--server.port=" + port, "--adam.persistence.directory="],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = "http://127.0.0.1:" + port
    for _ in range(240):
        try:
            if requests.get(url + "/actuator/health", timeout=1).ok:
                return server, url
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    server.kill()
    sys.exit("the service did not start")


def serve(run, default_port="18082"):
    """run(url) against $ADAM_URL, or against a service started for it and stopped after."""
    server, url = (None, os.environ["ADAM_URL"]) if "ADAM_URL" in os.environ else start_server(default_port)
    try:
        run(url)
    finally:
        if server:
            server.terminate()
            server.wait(30)


def main():
    serve(run)


def run(url):
    rng = np.random.default_rng(0)
    parameters = {k: rng.standard_normal(s) for k, s in SHAPES.items()}
    grads = {"d" + k: rng.standard_normal(s) * 1e-3 for k, s in SHAPES.items()}
    size = sum(a.size for a in parameters.values())
    http = requests.Session()

    # in-process NumPy, the article's code
    v, s = initialize_adam(parameters)
    state = {"p": dict(parameters), "t": 0}

    def numpy_step():
        state["t"] += 1
        state["p"], _, _ = update_parameters_with_adam(state["p"], grads, v, s, state["t"])
    numpy_ms = timed(numpy_step, ROUNDS)

    def new_session(body=None):
        return http.post(url + "/v1/sessions", json=body or {}).json()["id"]

    # safetensors, the client keeps the parameters: sends parameters + gradients, gets the parameters back
    sid = new_session()
    held_by_client = {"p": dict(parameters)}

    def binary_client_step():
        body = {**held_by_client["p"], **{k + ".grad": grads["d" + k] for k in SHAPES}}
        held_by_client["p"] = unpack(post_binary(http, f"{url}/v1/sessions/{sid}/steps", pack(body)))
    binary_client_ms = timed(binary_client_step, ROUNDS)

    # safetensors, the service holds the parameters: sends gradients, gets the parameters back
    sid_held = new_session()
    http.put(f"{url}/v1/sessions/{sid_held}/parameters", data=pack(parameters),
             headers={"Content-Type": OCTET}).raise_for_status()
    grad_body = pack({k + ".grad": grads["d" + k] for k in SHAPES})

    def binary_held_step():
        unpack(post_binary(http, f"{url}/v1/sessions/{sid_held}/steps", grad_body))
    binary_held_ms = timed(binary_held_step, ROUNDS)

    # JSON, the client keeps the parameters (tolist / np.array both ways)
    sid_json = new_session()
    json_state = {"p": dict(parameters)}

    def json_step():
        body = {"parameters": {k: a.tolist() for k, a in json_state["p"].items()},
                "gradients": {k: a.tolist() for k, a in grads.items()}}
        r = http.post(f"{url}/v1/sessions/{sid_json}/steps", json=body)
        r.raise_for_status()
        json_state["p"] = {k: np.array(a) for k, a in r.json()["parameters"].items()}
    json_ms = timed(json_step, JSON_ROUNDS)

    # sanity: the service and NumPy agree (different formula order, so not bit for bit)
    ours = held_by_client["p"]["W1"]
    assert np.allclose(ours, state["p"]["W1"], rtol=0, atol=1e-9), "service and NumPy disagree"

    print(f"{size:,} parameters (float64), median of {ROUNDS} rounds ({JSON_ROUNDS} for JSON)")
    print(f"{'path':58} {'ms':>9} {'x NumPy':>8}")
    rows = [("NumPy update_parameters_with_adam, in process", numpy_ms),
            ("safetensors round trip, client sends parameters+gradients", binary_client_ms),
            ("safetensors round trip, service holds parameters", binary_held_ms),
            ("JSON round trip, client sends parameters+gradients", json_ms)]
    for name, ms in rows:
        print(f"{name:58} {ms:9.1f} {ms / numpy_ms:8.2f}")
    print(f"target: safetensors within 3x of NumPy; machine: {os.cpu_count()} cores, {platform.machine()}, "
          f"numpy {np.__version__}, python {platform.python_version()}")


if __name__ == "__main__":
    main()
