"""The repository page of a 40-tag multi-arch repository: cold vs warm registry facts.

    .venv/bin/python benchmarks/registry_detail.py [--rounds 7] [--tags 40]

A script with figures, not a test. It starts the emulator (API and registry v2 on real
sockets), adds one manifest-list repository of --tags tags to its store (the seed's 40-tag
repository is single-arch), and asks for its page with Django's test client as an admin:

- cold: the facts store emptied before each round, so the page asks the registry for every
  platform manifest and config (under a deadline long enough for all of them to arrive);
- warm: the facts stored by the round before, so the page asks the registry for nothing.

It prints the median of --rounds rounds of each; of one page, the registry v2 requests, the
pull tokens asked of the API (operation 2), the other API requests (operation 4) and the
placeholders left to fill in by htmx; and the ratio cold / warm.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NAME = "bench/multiarch"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--tags", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="imgdash-detail-") as data_dir:
        configure_django(data_dir)
        run(args)


def configure_django(data_dir):
    os.environ["IMGDASH_DEMO"] = "1"
    os.environ["IMGDASH_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "imgdash.settings"
    import logging

    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False
    # Long enough for every platform of 40 tags: the cold page measures the whole fetch.
    settings.REGISTRY_DEADLINE_MS = 120_000
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    logging.disable(logging.WARNING)


def multiarch_repository(anchor, tags):
    from imgdash.emulator.seed import _Seeder

    seeder = _Seeder(seed=15, anchor=anchor)
    return seeder.repository(NAME, "global", "list", tags)


def one_page(browser, emulator, url):
    emulator.requests.clear()
    started = time.perf_counter()
    response = browser.get(url)
    seconds = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    paths = [entry.path for entry in emulator.requests]
    registry = sum(1 for p in paths if p.startswith("/v2/"))
    tokens = sum(1 for p in paths if p.endswith("/auth/token"))
    pending = response.content.decode().count("facts-pending")
    return seconds, registry, tokens, len(paths) - registry - tokens, pending


def run(args):
    from django.contrib.auth.models import User
    from django.test import Client

    from imgdash.clusters.models import Cluster
    from imgdash.clusters.services import save_credential
    from imgdash.emulator.server import EmulatorServer
    from imgdash.repositories.models import ConfigFacts, ManifestFacts, MissingFacts

    with EmulatorServer(repos=60, seed=7, registry_port=0) as emulator:
        repository = multiarch_repository(emulator.anchor, args.tags)
        emulator.repositories.put(repository)
        platforms = len(repository["tags"][0]["manifest"]["manifests"])
        cluster = Cluster.objects.create(
            name="Emulator", slug="emu", api_url=emulator.api_url, registry=emulator.registry_host
        )
        admin = User.objects.create_superuser("admin", "admin@example.com", "x")
        save_credential(admin, cluster, emulator.issue_id_token("admin"))
        browser = Client()
        browser.force_login(admin)
        url = f"/clusters/{cluster.slug}/repositories/{NAME}/"
        browser.get(url)  # imports, templates and the session, outside the rounds

        cold, warm = [], []
        for _ in range(args.rounds):
            for model in (ConfigFacts, ManifestFacts, MissingFacts):
                model.objects.all().delete()
            cold.append(one_page(browser, emulator, url))
            warm.append(one_page(browser, emulator, url))

        facts = ConfigFacts.objects.count(), ManifestFacts.objects.count()
        print(f"{NAME}: {args.tags} tags x {platforms} platforms (a manifest list)")
        print(f"stored facts after a page   {facts[0]} configs, {facts[1]} manifests")
        header = ("median ms", "registry", "tokens", "API", "pending")
        print(f"{'':28}" + "".join(f"{h:>10}" for h in header))
        for label, rounds in (("cold (empty facts store)", cold), ("warm (facts stored)", warm)):
            median = statistics.median(r[0] for r in rounds) * 1000
            _, registry, tokens, api, pending = rounds[-1]
            print(f"{label:28}{median:10.1f}{registry:10}{tokens:10}{api:10}{pending:10}")
        ratio = statistics.median(r[0] for r in cold) / statistics.median(r[0] for r in warm)
        print(f"cold / warm                 {ratio:10.1f}x  ({args.rounds} rounds each)")


if __name__ == "__main__":
    main()
