"""How long the repository list takes to download, and how long to parse into objects.

    .venv/bin/python benchmarks/client_parse.py [--repos 10000] [--rounds 3]

Starts the emulator with N repositories on a real socket, then for each round:
- download: GET /repositories through the client's own session, body read, not parsed;
- parse: orjson + Repository objects + sort, on those bytes (what list_repositories adds),
  and how much of that is orjson.loads alone;
- list_repositories(): the whole call, end to end;
- index: reading name, namespace, scope, tag_count and size of every repository (what a
  cache index built from the list costs; sizes come from the raw JSON, tags stay unparsed);
- all tags: parsing every tag into Tag/Manifest/Layer objects (what nobody should need).
Prints the best of the rounds, in seconds.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson

from imgdash.emulator.server import EmulatorServer
from imgdash.imagemanager import ImageManagerClient, Repository


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repos", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with EmulatorServer(repos=args.repos, seed=1) as server:
        token = server.issue_id_token("admin")
        client = ImageManagerClient(server.api_url, token)
        url = server.api_url + "/repositories"
        labels = ["download", "parse", "  of which orjson", "list_repositories()", "index"]
        best = dict.fromkeys([*labels, "all tags"], float("inf"))

        def note(label, started):
            best[label] = min(best[label], time.perf_counter() - started)

        size = 0
        count = 0
        for _ in range(args.rounds):
            started = time.perf_counter()
            body = client._call("list repositories", "GET", url).body
            note("download", started)
            size = len(body)

            started = time.perf_counter()
            data = orjson.loads(body)
            note("  of which orjson", started)
            repositories = [Repository.from_api(item) for item in data["repositories"]]
            repositories.sort(key=lambda repo: repo.name)
            note("parse", started)
            del data, repositories

            started = time.perf_counter()
            repositories = client.list_repositories()
            note("list_repositories()", started)
            count = len(repositories)

            started = time.perf_counter()
            [(r.name, r.namespace, r.scope, r.tag_count, r.size) for r in repositories]
            note("index", started)

            started = time.perf_counter()
            sum(len(r.tags) for r in repositories)
            note("all tags", started)
        client.close()

    print(f"{count} repositories, {size / 1e6:.1f} MB of JSON, best of {args.rounds} rounds")
    for label, seconds in best.items():
        print(f"  {label:<22} {seconds:7.3f} s")
    print(f"  parse / download       {best['parse'] / best['download']:7.2f}")


if __name__ == "__main__":
    main()
