#!/usr/bin/env python3
"""Docker API latency from a small client, the same for every daemon:
create+start+wait+delete of `IMAGE true`, N times over one unix-socket
connection each (http.client; no SDK), after 3 warm-ups. Prints the median
milliseconds of create alone and of the whole cycle: `CREATE CYCLE`.
Usage: api-latency.py SOCKET IMAGE N"""

import http.client
import json
import socket
import statistics
import sys
import time


class Unix(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("docker")
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


# podman's runc takes the default nofile limit from containers.conf, above
# this host's hard limit; the same explicit limits for every daemon.
LIMITS = [{"Name": "nofile", "Soft": 1024, "Hard": 1024}, {"Name": "nproc", "Soft": 1024, "Hard": 1024}]


def call(c, method, path, body=None):
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    if r.status >= 300 and r.status != 304:
        raise SystemExit(f"{method} {path}: {r.status} {data[:200]!r}")
    return json.loads(data) if data.strip() else None


def cycle(sock, image):
    c = Unix(sock)
    t0 = time.perf_counter()
    made = call(c, "POST", "/v1.41/containers/create",
                {"Image": image, "Cmd": ["true"], "HostConfig": {"NetworkMode": "none", "Ulimits": LIMITS}})
    t1 = time.perf_counter()
    call(c, "POST", f"/v1.41/containers/{made['Id']}/start")
    call(c, "POST", f"/v1.41/containers/{made['Id']}/wait")
    call(c, "DELETE", f"/v1.41/containers/{made['Id']}")
    t2 = time.perf_counter()
    c.close()
    return (t1 - t0) * 1000, (t2 - t0) * 1000


def main():
    sock, image, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    for _ in range(3):
        cycle(sock, image)
    runs = [cycle(sock, image) for _ in range(n)]
    print(f"{statistics.median(r[0] for r in runs):.1f} {statistics.median(r[1] for r in runs):.1f}")


main()
