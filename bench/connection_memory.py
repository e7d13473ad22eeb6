#!/usr/bin/env python3
"""Heap per connection: live heap (class histogram after a full GC) with N connections open, idle and then each with a
request in progress (headers and 10 bytes of a 1000-byte body, stalled), minus the heap without them. This is what
web.TomcatConfiguration's per-connection cost (3 socket buffers + 76 KiB) comes from.

Usage (from the project root): python3 bench/connection_memory.py [socket buffer sizes, default 8KB,16KB,32KB,64KB]
[connections, default 1000]. Needs jcmd (the JDK); builds the jar when it is missing; only 127.0.0.1.
"""
import glob
import re
import socket
import subprocess
import sys
import time

import requests

SIZES = (sys.argv[1] if len(sys.argv) > 1 else "8KB,16KB,32KB,64KB").split(",")
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
PORT = 18093


def jar():
    jars = [j for j in glob.glob("target/adam-optimizer-service-*.jar") if not j.endswith(".original")]
    if not jars:
        subprocess.run(["./mvnw", "-B", "-q", "-DskipTests", "package"], check=True)
        jars = glob.glob("target/adam-optimizer-service-*.jar")
    return jars[0]


def live_heap(pid):
    out = subprocess.run(["jcmd", str(pid), "GC.class_histogram"], capture_output=True, text=True).stdout
    return int(re.search(r"Total\s+\d+\s+(\d+)", out).group(1))


def measure(size):
    server = subprocess.Popen(["java", "-Xmx1g", "-jar", jar(), f"--server.port={PORT}", "--server.address=127.0.0.1",
                               f"--adam.http.socket-buffer-size={size}", "--adam.http.connection-memory=900MB",
                               "--server.tomcat.connection-timeout=300s", "--adam.limits.request-body-timeout=300s"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{PORT}"
    sockets = []
    try:
        for _ in range(240):
            try:
                if requests.get(url + "/actuator/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        sid = requests.post(url + "/v1/sessions", json={}).json()["id"]
        for _ in range(20):  # every code path loaded once
            requests.get(url + "/actuator/health")
            requests.post(f"{url}/v1/sessions/{sid}/steps", json={"gradients": {"w": [1.0]}})
        time.sleep(1)
        live_heap(server.pid)
        base = live_heap(server.pid)
        for _ in range(N):
            sockets.append(socket.create_connection(("127.0.0.1", PORT)))
        time.sleep(3)
        idle = live_heap(server.pid)
        head = (f"POST /v1/sessions/{sid}/steps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Content-Length: 1000\r\n\r\n").encode()
        for s in sockets:
            s.sendall(head + b"{" * 10)
        time.sleep(5)
        busy = live_heap(server.pid)
        print(f"socket buffers {size:>5}: {(idle - base) / N / 1024:6.1f} KiB per idle connection, "
              f"{(busy - base) / N / 1024:6.1f} KiB per connection with a request in progress ({N} connections)")
    finally:
        for s in sockets:
            s.close()
        server.terminate()
        server.wait()


if __name__ == "__main__":
    for size in SIZES:
        measure(size)
