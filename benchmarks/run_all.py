"""Every performance figure of the issue's goals in one run, written to docs/performance.md.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/run_all.py [--repos 10000,30000] [--rounds 5]
        [--load-repos 10000] [--users 50] [--seconds 60] [--output docs/performance.md]

1. benchmarks/scale.py: cold list page against a naive client, warm list / search / deep
   page, peak memory of a cold fetch (file cache, as production without Redis).
2. The locust scenario in benchmarks/load/ against gunicorn with production settings
   (benchmarks/harness.py): SQLite + file cache on one instance with 4 workers; and, when
   DATABASE_URL (PostgreSQL) and REDIS_URL are set, PostgreSQL + Redis on two instances with
   2 workers each, users spread over both. The PostgreSQL run uses a database of its own on
   that server (imgdash_bench, made afresh) and empties the Redis database given.

A script with figures: it asserts nothing, and the page it writes says what was measured,
where and when. Figures from a shared or busy machine are lower than from an idle one.
"""

import argparse
import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import scale  # noqa: E402 - after the path is set
from benchmarks.harness import Deployment, empty_redis, fresh_database, run_locust  # noqa: E402

GOALS = {
    "cold": 0.6,  # cold list page / naive client, at most
    "warm_share": 1.0,  # warm page as % of the cold page, at most
    "warm_ms": 5.0,  # warm page at 10k, ms, at most
    "memory": 3.0,  # peak allocation / upstream body, at most
    "rps": 150.0,
    "p95_ms": 500.0,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", default="10000,30000", help="sizes for scale.py")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--query", default="nginx")
    parser.add_argument("--load-repos", type=int, default=10000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--output", default=str(ROOT / "docs" / "performance.md"))
    args = parser.parse_args()
    # Only the second load run uses them; scale.py's worker measures on SQLite + file cache.
    database_url = os.environ.pop("DATABASE_URL", "")
    redis_url = os.environ.pop("REDIS_URL", "")

    scale_args = argparse.Namespace(rounds=args.rounds, query=args.query, cache="file")
    sizes = [scale.run_size(int(size), scale_args) for size in args.repos.split(",")]
    scale.report(sizes, scale_args)

    loads = []
    with Deployment(repos=args.load_repos, instances=1, workers=4) as deployment:
        loads.append(("SQLite + file cache", "1 instance × 4 workers", load(deployment, args)))
    if database_url.startswith("postgres") and redis_url:
        with Deployment(
            repos=args.load_repos,
            instances=2,
            workers=2,
            database_url=fresh_database(database_url, "imgdash_bench"),
            redis_url=empty_redis(redis_url),
        ) as deployment:
            loads.append(("PostgreSQL + Redis", "2 instances × 2 workers", load(deployment, args)))
    page = render(sizes, loads, args)
    Path(args.output).write_text(page)
    print(f"\nWrote {args.output}")


def load(deployment, args):
    result = run_locust(deployment.urls, users=args.users, spawn_rate=10, seconds=args.seconds)
    print(
        f"locust, {args.users} users over {len(deployment.urls)} instance(s): "
        f"{result['rps']:.1f} req/s, median {result['median_ms']:.0f} ms, "
        f"p95 {result['p95_ms']:.0f} ms, {result['failures']} failures, "
        f"{result['exceptions']} exceptions"
    )
    return result


def verdict(met):
    return "met" if met else "**not met**"


def render(sizes, loads, args):
    import django

    lines = [
        "# Performance",
        "",
        "Measured by `benchmarks/run_all.py`, which wrote this page. Rerun it with:",
        "",
        "    .venv/bin/pip install -e '.[bench]'",
        "    DATABASE_URL=postgres://USER:PASSWORD@127.0.0.1:5432/imgdash \\",
        "        REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python benchmarks/run_all.py",
        "",
        "(without DATABASE_URL and REDIS_URL it measures SQLite + file cache only).",
        "",
        f"- Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}",
        f"- Machine: {machine()}",
        f"- Python {platform.python_version()}, Django {django.get_version()}",
        f"- Cold and warm pages: `benchmarks/scale.py`, file cache, Django's test client with "
        f"DEBUG off, median of {args.rounds} rounds",
        f"- Load: locust, `benchmarks/load/locustfile.py`, {args.users} users signed in through "
        f"the form, {args.seconds} s, {args.load_repos:,} repositories, gunicorn with "
        "production settings (`benchmarks/harness.py`); emulator, locust and gunicorn share "
        "the machine",
        "",
        "## Goals and measured figures",
        "",
        "| goal | size / setup | measured | |",
        "|---|---|---|---|",
    ]
    for result in sizes:
        figures, count = result["figures"], f"{result['count']:,}"
        naive, cold = figures["naive"][0], figures["cold list"][0]
        ratio = cold / naive
        lines.append(
            f"| cold list page ≤ {GOALS['cold']}× naive `requests`+`.json()` | {count} | "
            f"{cold:.0f} ms vs {naive:.0f} ms = {ratio:.2f}× | {verdict(ratio <= GOALS['cold'])} |"
        )
        for label, (median, _best) in figures.items():
            if not label.startswith("warm"):
                continue
            share = 100 * median / cold
            goal = f"{label} ≤ {GOALS['warm_share']:.0f} % of cold"
            met = share <= GOALS["warm_share"]
            if result["count"] <= 10000:
                goal += f" and ≤ {GOALS['warm_ms']:.0f} ms"
                met = met and median <= GOALS["warm_ms"]
            lines.append(f"| {goal} | {count} | {median:.1f} ms = {share:.1f} % | {verdict(met)} |")
        multiple = result["traced_peak"] / result["bytes"]
        lines.append(
            f"| peak memory of a cold fetch ≤ {GOALS['memory']:.0f}× the body | {count} | "
            f"{result['traced_peak'] / 1e6:.0f} MB for a {result['bytes'] / 1e6:.0f} MB body = "
            f"{multiple:.1f}× (resident peak grew {result['resident_peak'] / 1e6:.0f} MB) | "
            f"{verdict(multiple <= GOALS['memory'])} |"
        )
    for name, setup, result in loads:
        ramp = result["ramp"] or {}
        met = (
            result["rps"] >= GOALS["rps"]
            and result["p95_ms"] <= GOALS["p95_ms"]
            and result["failures"] == 0
            and result["exceptions"] == 0
            and bool(ramp)
            and ramp["failures"] == 0
        )
        before = (
            f"; before that, {args.users} sign-ins and first lists took {ramp['seconds']} s, "
            f"{ramp['failures']} failures of {ramp['requests']:,} requests"
            if ramp
            else "; not every user got in, so these include the sign-ins"
        )
        lines.append(
            f"| {args.users} users: ≥ {GOALS['rps']:.0f} req/s, p95 ≤ {GOALS['p95_ms']:.0f} ms, "
            f"0 errors | {name}, {setup} | {result['rps']:.0f} req/s, p95 "
            f"{result['p95_ms']:.0f} ms (median {result['median_ms']:.0f} ms), "
            f"{result['failures']} failures of {result['requests']:,} requests{before} | "
            f"{verdict(met)} |"
        )
    if len(loads) == 1:
        lines.append(
            "| the same on PostgreSQL + Redis | — | not measured: run with DATABASE_URL and "
            "REDIS_URL | — |"
        )
    lines += [
        "",
        "The load figures are the steady state: locust's statistics are reset once every user "
        "has signed in through the form (a deliberately slow password hash each) and seen the "
        "list, the first of them after the cold fetch; that ramp is summed up beside them, and "
        "counts towards 0 errors. gunicorn runs `deploy/gunicorn.conf.py`: "
        "4 threads per worker. The two-instance run is also what `.ci/run` tests "
        "(`tests/scaleout/`), there with 20 users for 20 s and only 0 errors asserted.",
        "",
        NOTES,
    ]
    return "\n".join(lines)


# Written by hand, not measured by this script: where the figures above come from, and where
# they started. Keep it true when the code changes.
NOTES = """## Where the time goes, and why some goals are not met

- **A warm page has a floor.** Measured as each process's CPU time per request through
  Django's test client at 10,000 repositories (2026-11-30): `/healthz`, which only passes the
  middleware, 0.6 ms; the cluster list, a small page with the full navigation, 2.3 ms; the
  repository list 4.5 ms, a repeated search 3.0 ms (an htmx fragment: no navigation), page 50
  4.6 ms. Of the list page, about 1 ms is its 50 rows, 0.3 ms the sort headers and 0.2 ms the
  pager; the rest is the page around them, the session, the user with their roles, the
  cluster and the credential (3 queries, 4 small cache reads). At 10,000 repositories a cold
  page takes about 330 ms, so 1 % is 3.3 ms: below that floor. At 30,000 the same warm pages
  are 0.4 % of cold.
- **A new search** (text not searched before in this worker) scans every repository's name
  and tags once: about 7 ms at 10,000 and 13 ms at 30,000. Typing the same text again, paging
  and sorting reuse that result.
- **PostgreSQL + Redis** pays a network round trip for each query and cache read, and both
  servers run on the same two cores as gunicorn, the emulator and locust.

## Where it started

The same measurements when the work began (gunicorn, DEBUG off, 2 cores):

| | 10,000 | 30,000 |
|---|---|---|
| cold list page | 690–750 ms (1.4–1.6× naive) | 2,300–2,600 ms (1.35–1.5× naive) |
| warm list, search, page 50 | 26–39 ms (3–6 % of cold) | 60–120 ms |
| peak worker memory during the cold fetch | 339 MB (7× the 46 MB body) | 886 MB |
| 50 users, 4 workers | 28–40 req/s, p95 1.4–3.7 s | 16–30 req/s |
"""


def machine():
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kilobytes = int(meminfo.read_text().split()[1])
        memory = f", {kilobytes / 1024 / 1024:.0f} GB RAM"
    return f"{os.cpu_count()} CPUs{f' ({model})' if model else ''}{memory}, {platform.system()}"


def commit():
    finished = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, fixed words
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return finished.stdout.strip() or "unknown"


if __name__ == "__main__":
    main()
