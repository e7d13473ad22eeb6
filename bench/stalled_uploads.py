#!/usr/bin/env python3
"""Slow clients: latency of health checks and small JSON steps from a well-behaved client while 300 small and 40 large
uploads stall halfway (headers and 10 bytes of their body sent, then nothing). Prints p50, p99 and max.

Usage (from the project root): python3 bench/stalled_uploads.py [samples, default 300] [jar, default target/*.jar]
Only 127.0.0.1. With a service that holds a worker thread per stalled upload, the first answers wait for the stalled
ones to time out: keep the samples low then (each request waits up to 180 s).
"""
import glob
import json
import socket
import statistics
import subprocess
import sys
import time

import requests

SAMPLES = int(sys.argv[1]) if len(sys.argv) > 1 else 300
PORT = 18097


def jar():
    if len(sys.argv) > 2:
        return sys.argv[2]
    jars = [j for j in glob.glob("target/adam-optimizer-service-*.jar") if not j.endswith(".original")]
    if not jars:
        subprocess.run(["./mvnw", "-B", "-q", "-DskipTests", "package"], check=True)
        jars = glob.glob("target/adam-optimizer-service-*.jar")
    return jars[0]


def main():
    server = subprocess.Popen(["java", "-jar", jar(), f"--server.port={PORT}", "--server.address=127.0.0.1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{PORT}"
    stalled = []
    try:
        for _ in range(240):
            try:
                if requests.get(url + "/actuator/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        http = requests.Session()
        sid = http.post(url + "/v1/sessions", json={"parameters": {"W1": [[0.5, -0.2]]}}).json()["id"]
        step = json.dumps({"gradients": {"dW1": [[0.1, 0.2]]}})
        headers = {"Content-Type": "application/json"}
        for _ in range(200):  # warm up
            http.get(url + "/actuator/health")
            http.post(f"{url}/v1/sessions/{sid}/steps", data=step, headers=headers)
        for i in range(340):
            s = socket.create_connection(("127.0.0.1", PORT))
            length = len(step) if i < 300 else 8 * 1024 * 1024
            s.sendall((f"POST /v1/sessions/{sid}/steps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       f"Content-Length: {length}\r\n\r\n" + step[:10]).encode())
            stalled.append(s)
        time.sleep(1)
        latencies = {"health": [], "small step": []}
        for _ in range(SAMPLES):
            start = time.perf_counter()
            assert http.get(url + "/actuator/health", timeout=180).ok
            latencies["health"].append((time.perf_counter() - start) * 1e3)
            start = time.perf_counter()
            assert http.post(f"{url}/v1/sessions/{sid}/steps", data=step, headers=headers, timeout=180).ok
            latencies["small step"].append((time.perf_counter() - start) * 1e3)
        for what, ms in latencies.items():
            ms.sort()
            print(f"{what:10} with 340 stalled uploads: p50 {statistics.median(ms):8.0f} ms, "
                  f"p99 {ms[max(0, -(-len(ms) * 99 // 100) - 1)]:8.0f} ms, max {ms[-1]:8.0f} ms ({len(ms)} samples)")
    finally:
        for s in stalled:
            s.close()
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
