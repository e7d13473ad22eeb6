#!/usr/bin/env python3
"""What durable sessions cost a step: 1M-parameter float64 safetensors step round trips (the 1,002,001-parameter model
of large_step.py) against three services started from the same jar, on the same disk:

  memory      adam.persistence.directory=         (memory only)
  every-step  adam.persistence.mode=every-step    (each step answers once its state is on disk: about 24 MB written
                                                   and fsynced per step when the service holds the parameters)
  interval    adam.persistence.mode=interval      (the default: changed sessions written every interval, off the
                                                   request path)

Part 1, every-step: rounds of STEPS timed steps on each service in turn (the order rotates every round), for a session
that holds its parameters (8 MB up, 8 MB down, 24 MB to disk) and one whose client sends them (16 MB up, 8 MB down,
16 MB to disk). Part 2, interval: steps without pause for SECONDS on the memory and the interval service in turn, with
the default interval (10 s) and with 1 s, so that the background writes land among the steps; the tail shows what a
write costs the steps it meets.

Usage (from the project root): python3 bench/persistence.py [rounds, default 5]
Env: BENCH_DATA (where the session files go; default: a new directory under target/), BENCH_STEPS (20),
BENCH_SECONDS (15). Builds the jar when it is missing.
"""
import glob
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from large_step import OCTET, SHAPES, pack, post_binary, unpack  # noqa: E402

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
STEPS = int(os.environ.get("BENCH_STEPS", "20"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "15"))


def jar():
    jars = [j for j in glob.glob("target/adam-optimizer-service-*.jar") if not j.endswith(".original")]
    if not jars:
        subprocess.run(["./mvnw", "-B", "-q", "-DskipTests", "package"], check=True)
        jars = [j for j in glob.glob("target/adam-optimizer-service-*.jar") if not j.endswith(".original")]
    return jars[0]


def start(name, args, logs):
    """Starts the jar on a free loopback port (port 0: no clash with other services on this machine)."""
    path = os.path.join(logs, name + ".log")
    log = open(path, "w")
    server = subprocess.Popen(["java", "-jar", jar(), "--server.port=0", "--server.address=127.0.0.1", *args],
                              stdout=log, stderr=subprocess.STDOUT)
    for _ in range(240):
        started = re.search(r"Tomcat started on port (\d+)", open(path).read())
        if started:
            url = f"http://127.0.0.1:{started.group(1)}"
            if requests.get(url + "/actuator/health", timeout=5).ok:
                return server, url
        if server.poll() is not None:
            sys.exit(f"{name} exited; see {path}")
        time.sleep(0.5)
    server.kill()
    sys.exit(f"{name} did not start; see {path}")


class Client:
    """One session on one service: held (gradients only) or client-held (parameters + gradients)."""

    def __init__(self, url, parameters, grads, held):
        self.http = requests.Session()
        self.url = url
        self.held = held
        self.parameters = dict(parameters)
        self.grads = {k + ".grad": g for k, g in grads.items()}
        sid = self.http.post(url + "/v1/sessions", json={"optimizer": {"learningRate": 1e-4}}).json()["id"]
        self.steps_url = f"{url}/v1/sessions/{sid}/steps"
        if held:
            self.http.put(f"{url}/v1/sessions/{sid}/parameters", data=pack(parameters),
                          headers={"Content-Type": OCTET}).raise_for_status()
            self.body = pack(self.grads)

    def step(self):
        """One round trip; its time in ms."""
        body = self.body if self.held else pack({**self.parameters, **self.grads})
        start = time.perf_counter()
        answer = unpack(post_binary(self.http, self.steps_url, body))
        elapsed = (time.perf_counter() - start) * 1e3
        if not self.held:
            self.parameters = answer
        return elapsed


def percentile(values, p):
    return float(np.percentile(values, p))


def every_step_part(services, parameters, grads):
    print(f"\n1. every-step against memory: {ROUNDS} rounds of {STEPS} steps per service (order rotates), "
          "median of each round")
    for held in (True, False):
        clients = {name: Client(url, parameters, grads, held) for name, url in services.items()
                   if name in ("memory", "every-step")}
        for client in clients.values():  # warm up: JIT, connections, page cache
            for _ in range(10):
                client.step()
        rounds = {name: [] for name in clients}
        every = {name: [] for name in clients}
        names = list(clients)
        for r in range(ROUNDS):
            for name in names[r % 2:] + names[:r % 2]:
                times = [clients[name].step() for _ in range(STEPS)]
                rounds[name].append(statistics.median(times))
                every[name].extend(times)
        label = "service holds the parameters, 24 MB per write" if held else \
            "client sends the parameters, 16 MB per write"
        print(f"  {label}")
        print(f"    {'service':12} {'median ms':>10} {'round medians min-max':>22} {'p90 ms':>8}")
        for name in names:
            print(f"    {name:12} {statistics.median(every[name]):10.1f} "
                  f"{min(rounds[name]):10.1f} - {max(rounds[name]):<9.1f} {percentile(every[name], 90):8.1f}")
        ratios = [e / m for e, m in zip(rounds["every-step"], rounds["memory"])]
        print(f"    every-step / memory, per round: {', '.join(f'{x:.2f}' for x in ratios)} "
              f"(median {statistics.median(ratios):.2f}); adds {statistics.median(every['every-step']) - statistics.median(every['memory']):.1f} ms a step")


def interval_part(services, parameters, grads):
    print(f"\n2. interval against memory: steps without pause, {SECONDS:g} s per service and round, {ROUNDS} rounds "
          "(service holds the parameters)")
    print(f"    {'service':16} {'steps':>6} {'median ms':>10} {'p90':>7} {'p99':>7} {'max':>7}")
    clients = {name: Client(url, parameters, grads, True) for name, url in services.items()
               if name in ("memory", "interval 10s", "interval 1s")}
    for client in clients.values():
        for _ in range(10):
            client.step()
    times = {name: [] for name in clients}
    names = list(clients)
    for r in range(ROUNDS):
        for name in names[r % len(names):] + names[:r % len(names)]:
            deadline = time.perf_counter() + SECONDS
            while time.perf_counter() < deadline:
                times[name].append(clients[name].step())
    for name in names:
        t = times[name]
        print(f"    {name:16} {len(t):6} {statistics.median(t):10.1f} {percentile(t, 90):7.1f} "
              f"{percentile(t, 99):7.1f} {max(t):7.1f}")
    base = statistics.median(times["memory"])
    for name in names[1:]:
        print(f"    {name}: the median step {statistics.median(times[name]) - base:+.1f} ms, p99 "
              f"{percentile(times[name], 99) - percentile(times['memory'], 99):+.1f} ms against memory")


def main():
    data = os.environ.get("BENCH_DATA") or tempfile.mkdtemp(prefix="bench-persistence-", dir="target")
    logs = tempfile.mkdtemp(prefix="bench-persistence-logs-", dir="target")
    configs = {
        "memory": ["--adam.persistence.directory="],
        "every-step": [f"--adam.persistence.directory={data}/every-step", "--adam.persistence.mode=every-step"],
        "interval 10s": [f"--adam.persistence.directory={data}/interval-10s", "--adam.persistence.interval=10s"],
        "interval 1s": [f"--adam.persistence.directory={data}/interval-1s", "--adam.persistence.interval=1s"],
    }
    servers, services = [], {}
    try:
        for name, args in configs.items():
            server, url = start(name.replace(" ", "-"), args, logs)
            servers.append(server)
            services[name] = url
        rng = np.random.default_rng(0)
        parameters = {k: rng.standard_normal(s) for k, s in SHAPES.items()}
        grads = {k: rng.standard_normal(s) * 1e-3 for k, s in SHAPES.items()}
        size = sum(a.size for a in parameters.values())
        fs = subprocess.run(["df", "-T", data], capture_output=True, text=True).stdout.splitlines()[-1].split()
        cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                   platform.processor())
        java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
        print(f"{size:,} float64 parameters, safetensors; machine: {os.cpu_count()} cores ({cpu}), {java}, "
              f"python {platform.python_version()}, numpy {np.__version__}; session files on {fs[1]} ({fs[0]})")
        every_step_part(services, parameters, grads)
        interval_part(services, parameters, grads)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=60)
        if not os.environ.get("BENCH_DATA"):
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
