"""The cold fetch and the warm path at registry sizes, against a naive client, in one run.

    .venv/bin/python benchmarks/scale.py [--repos 10000,30000] [--rounds 5] [--query nginx]
                                         [--cache file|locmem]

A script with figures, not a test: no time is asserted. For each size it starts the emulator
with that many repositories on a real socket (seed 1) in this process, and measures the
dashboard in a separate worker process, so the emulator's own memory never counts as the
dashboard's. The worker registers the emulator as a cluster, connects a Viewer whose token is
the emulator's cluster administrator (who sees every repository), and times through Django's
test client (DEBUG off, medians of --rounds):

- naive: `requests.get(...)`, `.json()` and a list comprehension of names and tag counts --
  what a user's own script does; every other figure is also shown as a ratio to it;
- cold list: the cache (and this worker's decoded copy) cleared, then the list page;
- warm list, warm search (the htmx fragment for `?q=<query>`, the same text each round), warm
  new search (`?q=<query> <n>`, a text not searched for before each round), warm page 50
  (sorted by size): the index already cached; shown also as a percentage of the cold list;
- peak memory of one cold list page: the peak of Python's allocations (tracemalloc) and the
  growth of the worker's peak resident size, each also as a multiple of the upstream body.

The memory round runs first in a fresh worker (so the resident-size peak is its own), untimed.
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", default="10000,30000", help="sizes, comma-separated")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--query", default="nginx", help="the search text a keystroke sends")
    parser.add_argument("--cache", choices=("file", "locmem"), default="file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # api_url,token of a running emulator
    args = parser.parse_args()
    if args.worker:
        api_url, token = args.worker.split(",", 1)
        with tempfile.TemporaryDirectory(prefix="imgdash-bench-") as data_dir:
            print(json.dumps(measure(api_url, token, data_dir, args)))
        return
    results = [run_size(int(size), args) for size in args.repos.split(",")]
    report(results, args)


def run_size(repos, args):
    from imgdash.emulator.server import EmulatorServer

    with EmulatorServer(repos=repos, seed=1) as emulator:
        token = emulator.issue_id_token("admin")
        command = [sys.executable, __file__, "--worker", f"{emulator.api_url},{token}"]
        command += ["--rounds", str(args.rounds), "--query", args.query, "--cache", args.cache]
        finished = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - this script
        if finished.returncode:
            raise SystemExit(f"the worker for {repos:,} repositories failed:\n{finished.stderr}")
        figures = json.loads(finished.stdout.strip().splitlines()[-1])
        # naive, cold and the memory round ask for the list; the warm rounds must not.
        figures["list_calls"] = sum(
            1 for entry in emulator.requests if entry.path.rstrip("/").endswith("/repositories")
        )
        figures["list_calls_expected"] = 1 + 2 * (args.rounds + 1)
        return figures


def configure_django(data_dir, cache):
    os.environ["IMGDASH_DEMO"] = "1"
    os.environ["IMGDASH_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "imgdash.settings"
    os.environ["IMGDASH_INDEX_TTL"] = "86400"  # warm stays warm however long cold rounds take
    os.environ["IMGDASH_LIST_WAIT"] = "600"  # the cold page waits for its fetch: time the fetch
    import logging

    import django
    from django.conf import settings

    if cache == "locmem":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    django.setup()
    settings.DEBUG = False
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    logging.disable(logging.INFO)


def timed_ms(function, rounds, before=None):
    times = []
    for _ in range(rounds):
        if before:
            before()
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times)


def resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure(api_url, token, data_dir, args):
    configure_django(data_dir, args.cache)
    import requests
    from django.contrib.auth.models import Group, User
    from django.core.cache import cache
    from django.test import Client

    from imgdash.accounts.roles import VIEWER
    from imgdash.clusters.models import Cluster
    from imgdash.clusters.services import save_credential
    from imgdash.repositories import index

    cluster = Cluster.objects.create(name="Emulator", slug="emu", api_url=api_url)
    user = User.objects.create_user("viewer")
    user.groups.add(Group.objects.get(name=VIEWER))
    save_credential(user, cluster, token)
    browser = Client()
    browser.force_login(user)
    list_url = f"/clusters/{cluster.slug}/repositories/"
    htmx = {"HX-Request": "true", "HX-Current-URL": "http://testserver" + list_url}
    upstream = {}

    def naive():
        response = requests.get(
            api_url + "/repositories", headers={"Authorization": f"Bearer {token}"}, timeout=120
        )
        response.raise_for_status()
        rows = [(repo["name"], len(repo["tags"] or ())) for repo in response.json()["repositories"]]
        upstream["bytes"], upstream["count"] = len(response.content), len(rows)

    def get(params=None, headers=None):
        response = browser.get(list_url, params, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"GET {list_url} {params or ''}: {response.status_code}")
        return response

    def cold():
        cache.clear()
        forget_local = getattr(index, "forget_local_copies", None)
        if forget_local:
            forget_local()

    # Memory first, in this fresh process: one cold page, traced, then its resident peak.
    cold()
    resident_before = resident_bytes()
    get()
    resident_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - resident_before
    cold()
    tracemalloc.start()
    get()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    naive()
    figures = {"naive": timed_ms(naive, args.rounds)}
    figures["cold list"] = timed_ms(get, args.rounds, before=cold)
    get()
    figures["warm list"] = timed_ms(get, args.rounds)
    search = {"q": args.query}
    figures[f"warm search q={args.query}"] = timed_ms(lambda: get(search, htmx), args.rounds)
    # A text not searched for before in this worker: a real keystroke, no remembered result.
    fresh = iter(range(10**6))
    figures["warm new search"] = timed_ms(
        lambda: get({"q": f"{args.query} {next(fresh)}"}, htmx), args.rounds
    )
    paged = {"sort": "-size", "page": "50"}
    figures["warm page 50"] = timed_ms(lambda: get(paged, htmx), args.rounds)
    return {
        "figures": figures,
        "bytes": upstream["bytes"],
        "count": upstream["count"],
        "traced_peak": traced_peak,
        "resident_peak": resident_peak,
    }


def report(results, args):
    import django

    print(
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"{os.cpu_count()} CPUs; {args.cache} cache; median (best) of {args.rounds} rounds"
    )
    for result in results:
        body = result["bytes"]
        figures = result["figures"]
        naive = figures["naive"][0]
        cold = figures["cold list"][0]
        print()
        print(f"{result['count']:,} repositories, upstream body {body / 1e6:.1f} MB")
        print(f"{'figure':<26} {'median ms':>10} {'best ms':>9} {'/ naive':>8} {'% of cold':>10}")
        for label, (median, best) in figures.items():
            share = f"{100 * median / cold:9.1f}%" if label.startswith("warm") else ""
            print(f"{label:<26} {median:10.1f} {best:9.1f} {median / naive:8.2f} {share:>10}")
        print(
            f"peak memory of a cold list page: {result['traced_peak'] / 1e6:.0f} MB allocated "
            f"({result['traced_peak'] / body:.1f}x the body), resident peak grew "
            f"{result['resident_peak'] / 1e6:.0f} MB ({result['resident_peak'] / body:.1f}x)"
        )
        if result["list_calls"] != result["list_calls_expected"]:
            print(
                f"WARNING: upstream listed {result['list_calls']} times, expected "
                f"{result['list_calls_expected']}: a warm round may have fetched"
            )


if __name__ == "__main__":
    main()
