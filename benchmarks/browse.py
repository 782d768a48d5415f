"""How quick the repository list and a search keystroke are with many repositories.

    .venv/bin/python benchmarks/browse.py [--repos 10000] [--rounds 5] [--query nginx]
                                          [--cache file|locmem]

A script with figures, not a test: no time is asserted. It starts the emulator with N
repositories on a real socket, registers it as a cluster, connects a Viewer whose token is the
emulator's cluster administrator (who sees every repository), and times through Django's test
client, in one run:

- baseline: a bare `GET /repositories` with requests plus `orjson.loads` -- downloading and
  parsing the upstream list, nothing else; every figure is also shown as a ratio to it;
- cold list: the cache cleared, then the list page (fetch, build and store the index, render
  page 1);
- warm list: the same page again, served from the cached index;
- warm search: the results fragment for `?q=<query>`, as htmx sends it for a keystroke;
- warm page 50: the results fragment for page 50 sorted by size, largest first.

The warm figures must not call upstream; the script stops with an error if one did.

Each figure is the median (and best) of --rounds. The cache is Django's file-based cache (the
default without Redis, shared by the gunicorn workers) in a temporary data directory;
`--cache locmem` swaps in the in-process cache for comparison.
"""

import argparse
import logging
import os
import pickle
import platform
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def configure_django(data_dir, cache):
    """A throw-away local installation in `data_dir`: SQLite, and the cache under test."""
    os.environ["IMGDASH_DEMO"] = "1"
    os.environ["IMGDASH_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "imgdash.settings"
    # Warm stays warm however long the cold rounds take.
    os.environ["IMGDASH_INDEX_TTL"] = "86400"
    # The cold list waits for its fetch, so it times the fetch (first_fetch.py times the
    # progress view a slow fetch answers with instead).
    os.environ["IMGDASH_LIST_WAIT"] = "600"
    import django
    from django.conf import settings

    if cache == "locmem":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    logging.disable(logging.INFO)  # one access-log line per upstream call would drown the table


def timed_ms(function, rounds, before=None):
    """(median, best) wall time of `function()` in ms; `before()` runs untimed each round."""
    times = []
    for _ in range(rounds):
        if before:
            before()
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--query", default="nginx", help="the search text a keystroke sends")
    parser.add_argument("--cache", choices=("file", "locmem"), default="file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="imgdash-bench-") as data_dir:
        configure_django(data_dir, args.cache)
        run(args)


def run(args):
    import django
    import orjson
    import requests
    from django.contrib.auth.models import Group, User
    from django.core.cache import cache
    from django.test import Client

    from imgdash.accounts.roles import VIEWER
    from imgdash.clusters.models import Cluster
    from imgdash.clusters.services import save_credential
    from imgdash.emulator.server import EmulatorServer
    from imgdash.repositories.index import _key

    with EmulatorServer(repos=args.repos, seed=1) as emulator:
        token = emulator.issue_id_token("admin")
        cluster = Cluster.objects.create(name="Emulator", slug="emu", api_url=emulator.api_url)
        user = User.objects.create_user("viewer")
        user.groups.add(Group.objects.get(name=VIEWER))
        save_credential(user, cluster, token)
        browser = Client()
        browser.force_login(user)
        list_url = f"/clusters/{cluster.slug}/repositories/"
        htmx = {"HX-Request": "true", "HX-Current-URL": "http://testserver" + list_url}

        upstream = {}

        def download_and_parse():
            with requests.Session() as session:
                session.trust_env = False  # no proxy from the environment, as in the client
                response = session.get(
                    emulator.api_url + "/repositories",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=60,
                )
            response.raise_for_status()
            upstream["bytes"] = len(response.content)
            upstream["count"] = len(orjson.loads(response.content)["repositories"])

        def get(params=None, headers=None):
            response = browser.get(list_url, params, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"GET {list_url} {params or ''}: {response.status_code}")
            return response

        download_and_parse()  # one untimed call each first: imports, template loading
        get()
        figures = [("download + parse (baseline)", timed_ms(download_and_parse, args.rounds))]
        figures.append(("cold list", timed_ms(get, args.rounds, before=cache.clear)))
        emulator.requests.clear()
        figures.append(("warm list", timed_ms(get, args.rounds)))
        search = {"q": args.query}
        figures.append(
            (f"warm search q={args.query}", timed_ms(lambda: get(search, htmx), args.rounds))
        )
        paged = {"sort": "-size", "page": "50"}
        figures.append(
            ("warm page 50, sort=-size", timed_ms(lambda: get(paged, htmx), args.rounds))
        )

        if len(emulator.requests):
            raise SystemExit(f"the warm rounds called upstream {len(emulator.requests)} times")
        matched = get(search, htmx).content.decode().count('<td class="repo-name">')
        pickled = pickle.dumps(cache.get(_key(user, cluster)), pickle.HIGHEST_PROTOCOL)
        browser.logout()

    # The file-based cache stores the pickle zlib-compressed.
    stored = f", {len(zlib.compress(pickled)):,} on disk" if args.cache == "file" else ""
    print(
        f"{upstream['count']:,} repositories, upstream list {upstream['bytes'] / 1e6:.1f} MB; "
        f"cached index {len(pickled):,} bytes pickled{stored} ({args.cache} cache)"
    )
    print(
        f"Python {platform.python_version()}, Django {django.get_version()}; "
        f"median and best of {args.rounds} rounds; q={args.query} shows {matched} on page 1"
    )
    print()
    baseline = figures[0][1][0]
    print(f"{'figure':<30} {'median ms':>10} {'best ms':>10} {'median / baseline':>18}")
    for label, (median, best) in figures:
        print(f"{label:<30} {median:10.1f} {best:10.1f} {median / baseline:18.2f}")


if __name__ == "__main__":
    main()
