"""How long a cold repository list page keeps its user waiting, before and after the first
fetch moved to the background.

    .venv/bin/python benchmarks/first_fetch.py [--repos 10000] [--rates 0,20,8] [--rounds 3]

A script with figures, not a test: no time is asserted. It starts the emulator with N
repositories on a real socket (each --rates value, in MB/s, paces the list's answer like a
network of that speed; 0 is loopback, unpaced), connects a Viewer who sees every repository,
and times the cold list page through Django's test client, the index emptied before each round:

- before (synchronous): the page waits for the whole fetch, as it did before
  (IMGDASH_LIST_WAIT longer than any fetch): the time to its first byte is the fetch;
- after, first byte: the page with the default IMGDASH_LIST_WAIT (2 s): the list when it
  was ready in time, else the progress view;
- after, list shown: from the first request until the list replaces the progress view, asking
  for progress every second as the page does.

Each figure is the median (and best) of --rounds, with the file-based cache (the default
without Redis) in a temporary data directory.
"""

import argparse
import html
import logging
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

POLL = {"HX-Request": "true", "HX-Target": "fetch-progress"}


def configure_django(data_dir):
    os.environ["IMGDASH_DEMO"] = "1"
    os.environ["IMGDASH_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "imgdash.settings"
    os.environ.pop("IMGDASH_LIST_WAIT", None)  # the default, as shipped
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    logging.disable(logging.INFO)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=10_000)
    parser.add_argument("--rates", default="0,20,8", help="MB/s of the list's answer; 0: unpaced")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="imgdash-bench-") as data_dir:
        configure_django(data_dir)
        run(args)


def run(args):
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.core.cache import cache
    from django.test import Client

    from imgdash.accounts.roles import VIEWER
    from imgdash.clusters.models import Cluster
    from imgdash.clusters.services import save_credential
    from imgdash.emulator.server import EmulatorServer

    with EmulatorServer(repos=args.repos, seed=1) as emulator:
        cluster = Cluster.objects.create(name="Emulator", slug="emu", api_url=emulator.api_url)
        user = User.objects.create_user("viewer")
        user.groups.add(Group.objects.get(name=VIEWER))
        save_credential(user, cluster, emulator.issue_id_token("admin"))
        browser = Client()
        browser.force_login(user)
        list_url = f"/clusters/{cluster.slug}/repositories/"
        shipped_wait = settings.REPOSITORY_LIST_WAIT

        def cold(wait):
            """(seconds to the first answer, seconds until the list is shown, progress answers)"""
            cache.clear()
            settings.REPOSITORY_LIST_WAIT = wait
            started = time.perf_counter()
            response = browser.get(list_url)
            first = time.perf_counter() - started
            polls = 0
            while 'id="fetch-progress"' in (text := response.content.decode()):
                time.sleep(1)  # the page's hx-trigger: "load delay:1s"
                poll = re.search(r'id="fetch-progress"[^>]*?hx-get="([^"]+)"', text, re.S)[1]
                response = browser.get(html.unescape(poll), headers=POLL)
                polls += 1
            if '<td class="repo-name">' not in response.content.decode():
                raise SystemExit(f"no list after the progress view ({response.status_code})")
            return first, time.perf_counter() - started, polls

        cold(600)  # untimed: imports, templates
        print(
            f"{args.repos:,} repositories; median (best) of {args.rounds} cold rounds; "
            f"IMGDASH_LIST_WAIT={shipped_wait} s after"
        )
        print()
        header = f"{'list answer paced at':<22}{'before: 1st byte':>20}{'after: 1st byte':>20}"
        print(f"{header}{'after: list shown':>20}{'polls':>7}")
        for rate in (float(r) for r in args.rates.split(",")):
            emulator.faults.clear()
            if rate:
                emulator.faults.add(path=r"/repositories$", rate=int(rate * 1_000_000))
            before = [cold(600) for _ in range(args.rounds)]
            after = [cold(shipped_wait) for _ in range(args.rounds)]
            label = f"{rate:g} MB/s" if rate else "unpaced (loopback)"
            print(
                f"{label:<22}{figure([b[0] for b in before]):>20}"
                f"{figure([a[0] for a in after]):>20}{figure([a[1] for a in after]):>20}"
                f"{statistics.median(a[2] for a in after):>7g}"
            )
        settings.REPOSITORY_LIST_WAIT = shipped_wait


def figure(seconds):
    return f"{statistics.median(seconds):.2f} s ({min(seconds):.2f})"


if __name__ == "__main__":
    main()
