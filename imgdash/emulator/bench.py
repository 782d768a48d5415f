"""How the emulator copes with a large registry: a script with figures, not a test.

    python -m imgdash.emulator.bench [--repos 10000] [--seed 1]

Prints the seeding time, the size of the full `GET /repositories` answer, and how long that
call takes over a real socket (first call, which joins the cached per-repository JSON, and
repeated calls, which reuse the joined body), for a cluster administrator and a viewer --
with `requests` (what imgdash pays, client parsing of headers and body included) and with a
bare socket (the emulator's own share).
"""

import argparse
import functools
import socket
import statistics
import time

import requests

from .seed import generate_repositories
from .server import EmulatorServer


def timed(function):
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def raw_get(server, path, token):
    """GET over a bare socket, reading as fast as possible: the server's share of the time."""
    with socket.create_connection((server.host, server.port)) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {server.host}\r\nAuthorization: Bearer {token}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        received = 0
        while data := sock.recv(1 << 20):
            received += len(data)
    return received


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m imgdash.emulator.bench")
    parser.add_argument("--repos", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    _, seconds = timed(lambda: generate_repositories(args.repos, args.seed))
    print(f"generate {args.repos} repositories: {seconds:.2f} s")
    server, seconds = timed(lambda: EmulatorServer(repos=args.repos, seed=args.seed).start())
    print(f"seed and start the emulator (generate + encode + key): {seconds:.2f} s")

    store = server.repositories
    _, seconds = timed(store.list_body)
    print(f"join the full list body (server side, first): {seconds * 1000:.0f} ms")
    _, seconds = timed(store.list_body)
    print(f"join the full list body (server side, cached): {seconds * 1000:.3f} ms")
    url = server.api_url + "/repositories"
    try:
        with requests.Session() as session:
            for username in ("admin", "viewer"):
                server.repositories.set_scope("default/alpine", "global")  # drop the cached bodies
                session.headers["Authorization"] = "Bearer " + server.issue_id_token(username)
                first, seconds = timed(lambda: session.get(url, timeout=60))
                count = len(first.json()["repositories"])
                print(f"{username}: {count} repositories, {len(first.content) / 1e6:.1f} MB")
                print(f"  first GET /repositories:   {seconds * 1000:.0f} ms")
                times = [timed(lambda: session.get(url, timeout=60))[1] for _ in range(args.repeat)]
                median = statistics.median(times) * 1000
                print(f"  repeated (median of {args.repeat}): {median:.0f} ms")
                token = server.issue_id_token(username)
                path = "/image-manager/api/v1/repositories"
                fetch = functools.partial(raw_get, server, path, token)
                times = [timed(fetch)[1] for _ in range(args.repeat)]
                median = statistics.median(times) * 1000
                print(f"  repeated, bare socket instead of requests: {median:.0f} ms")
            _, seconds = timed(server.reset)
            print(f"reset(): {seconds * 1000:.1f} ms")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
