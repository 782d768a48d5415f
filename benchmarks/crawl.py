"""A registry crawl of N repositories against the emulator: time, requests, achieved rate.

    .venv/bin/python benchmarks/crawl.py [--repos 10000] [--rate 5] [--fake]

A script with figures, not a test. It starts the emulator with --repos repositories (seed 1)
on a real socket, registers it as a cluster with an admin connected as the emulator's
cluster administrator, and runs `manage.py crawl_registry` in this process (as a job, one
repository at a time, paced at --rate requests per second). It prints the wall time, the
requests sent (Image Manager API and registry together), the achieved rate against the
setting, the 404s, and then how long the list's "last built" dates take to work out for all
N repositories (cold: once per index copy and facts version) and a warm list page.

The registry: the real client (imgdash/imagemanager/registry.py) against the emulator's
registry v2 endpoint when both exist; with --fake, an in-process stand-in that answers every
digest at once with a made-up config (what is measured then is imgdash's own cost and the
pacing, not a registry). The seed's repositories cost about 6.6 requests each (operation 4,
a pull token, a config per tag; a manifest and a config per platform of a list): 10,000 take
about 11 minutes at --rate 100 (the most allowed) and 3.7 hours at the default 5 per second;
--repos 45 at the default rate is a minute.
"""

import argparse
import hashlib
import io
import os
import sys
import tempfile
import time
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=5.0, help="requests per second")
    parser.add_argument("--fake", action="store_true", help="an in-process stand-in registry")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="imgdash-crawl-") as data_dir:
        configure_django(data_dir)
        if args.fake:
            sys.modules["imgdash.imagemanager.registry"] = fake_registry()
        else:
            try:
                import imgdash.imagemanager.registry  # noqa: F401
            except ImportError:
                raise SystemExit(
                    "No registry client here yet (imgdash/imagemanager/registry.py): run with "
                    "--fake to measure imgdash's side and the pacing."
                ) from None
        run(args)


def configure_django(data_dir):
    os.environ["IMGDASH_DEMO"] = "1"
    os.environ["IMGDASH_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "imgdash.settings"
    os.environ["IMGDASH_INDEX_TTL"] = "86400"
    import logging

    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    logging.disable(logging.INFO)


def fake_registry():
    """The contract's module, answering every digest with a config built that many days ago."""
    from imgdash.imagemanager.imagefacts import ImageConfig, PlatformManifest

    def made_up_date(digest):
        days = int(hashlib.sha256(digest.encode()).hexdigest()[:4], 16) % 730
        return datetime.now(UTC) - timedelta(days=days)

    class RegistryClient:
        def __init__(self, registry_url, token=None, **options):
            pass

        def image_config(self, name, digest):
            return ImageConfig(digest=digest, created=made_up_date(digest), os="linux")

        def platform_manifest(self, name, digest):
            config = "sha256:" + hashlib.sha256(digest.encode()).hexdigest()
            return PlatformManifest(digest, config, 1000, (1000,), "linux", "amd64", "")

        def close(self):
            pass

    return types.SimpleNamespace(
        RegistryClient=RegistryClient,
        registry_url=lambda api_url, host: f"http://{host}",
        pull_scope=lambda name: f"repository:{name}:pull",
    )


def run(args):
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client

    from imgdash.clusters.models import Cluster
    from imgdash.clusters.services import save_credential
    from imgdash.emulator.server import EmulatorServer
    from imgdash.jobs.models import Job
    from imgdash.repositories import built, index

    # Its registry on a port of its own: without one the cluster's registry would be the
    # default <host>:8500, where nothing answers.
    with EmulatorServer(repos=args.repos, seed=1, registry_port=0) as emulator:
        cluster = Cluster.objects.create(
            name="Emulator",
            slug="emu",
            api_url=emulator.api_url,
            registry=emulator.registry_host,
        )
        admin = User.objects.create_superuser("admin", "admin@example.com", "x")
        save_credential(admin, cluster, emulator.issue_id_token("admin"))
        started = time.perf_counter()
        out = io.StringIO()
        call_command("crawl_registry", cluster.slug, "--rate", str(args.rate), stdout=out)
        seconds = time.perf_counter() - started
        job = Job.objects.get()
        sent = job.requests
        print(out.getvalue().strip())
        print(f"\n{args.repos:,} repositories, rate setting {args.rate:g}/s")
        print(f"wall time                 {seconds:10.1f} s (includes the list fetch)")
        print(f"requests sent             {sent:10,}  ({job.missing:,} answered 404)")
        print(
            f"achieved rate             {sent / seconds:10.2f} /s  "
            f"({sent / seconds / args.rate:.2f} of the setting)"
        )

        snapshot, _ = index.list_index(admin, cluster)
        built._store_dates.clear()
        started = time.perf_counter()
        dates = built.built_dates(cluster, snapshot.entries, index.Derived())
        cold = (time.perf_counter() - started) * 1000
        print(f"last-built dates, cold    {cold:10.1f} ms ({dates.dated:,} repositories dated)")
        browser = Client()
        browser.force_login(admin)
        list_url = f"/clusters/{cluster.slug}/repositories/?sort=-built"
        browser.get(list_url)
        started = time.perf_counter()
        for _ in range(5):
            browser.get(list_url)
        print(f"warm list, sort=-built    {(time.perf_counter() - started) * 200:10.1f} ms")


if __name__ == "__main__":
    main()
