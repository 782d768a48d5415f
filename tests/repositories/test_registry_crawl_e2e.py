"""After a registry crawl (`manage.py crawl_registry`, the real registry client against the
emulator's registry over real sockets), the list sorts and filters by build date and cleanup's
"not built for N days" picks the stale repositories; its bulk delete runs in a worker process.

The expected dates are the emulator's own (tests/repositories/registry_truth.py)."""

import io
import re

import pytest
from django.core.management import call_command

from imgdash.audit.models import AuditEvent
from imgdash.jobs.models import Job
from tests.conftest import wait_for
from tests.repositories.registry_truth import (
    emulator_server,  # noqa: F401 - its own anchor
    last_built,
    newer_than,
    older_than,
)
from tests.repositories.test_list import names_on, url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def crawled(client, make_user, connect, registry_cluster, emulator):
    """An admin (Operator too) signed in on `client` whose stored token lists everything; the
    registry crawled by the command as them. Returns the emulator's last-built dates."""
    admin = make_user("ada", "Operator", superuser=True)
    connect(admin, "admin")
    client.force_login(admin)
    assert "Build dates for 0 of" in client.get(url(registry_cluster)).content.decode()
    out = io.StringIO()
    call_command("crawl_registry", registry_cluster.slug, "--rate", "100", stdout=out)
    assert " done: " in out.getvalue()
    return last_built(emulator)


def test_the_list_sorts_by_build_date_after_a_crawl(client, registry_cluster, emulator, crawled):
    total = len(emulator.repositories.all())
    html = client.get(url(registry_cluster)).content.decode()
    assert f"Build dates for {len(crawled)} of {total} repositories" in html

    newest = names_on(client.get(url(registry_cluster, sort="-built", per_page=200)))
    by_date = sorted(crawled, key=crawled.get, reverse=True)
    assert newest[: len(crawled)] == by_date
    assert set(newest[len(crawled) :]) == {r["name"] for r in emulator.repositories.all()} - set(
        crawled
    )
    oldest = names_on(client.get(url(registry_cluster, sort="built", per_page=200)))
    assert oldest[: len(crawled)] == by_date[::-1]


@pytest.mark.parametrize(
    "q, expected",
    [
        ("built:<30d", lambda d: newer_than(d, 30)),
        ("built:>180d", lambda d: older_than(d, 180)),
        (
            "built:>30d built:<180d",
            lambda d: sorted(set(older_than(d, 30)) - set(older_than(d, 180))),
        ),
    ],
)
def test_the_list_filters_by_build_date_after_a_crawl(
    client, registry_cluster, crawled, q, expected
):
    found = names_on(client.get(url(registry_cluster, q=q, sort="name", per_page=200)))
    assert found == expected(crawled)
    assert found, f"the seed has repositories for {q}"


def test_cleanups_not_built_rule_and_its_bulk_delete_after_a_crawl(
    client, registry_cluster, emulator, crawled, start_worker
):
    stale = older_than(crawled, 365)
    assert stale
    page = client.get(f"/clusters/{registry_cluster.slug}/cleanup/?not_built_days=365&per_page=200")
    html = page.content.decode()
    form = html[html.rindex("<form", 0, html.index('id="bulk-form"')) :]
    names = re.findall(r'name="repository" value="([^"]+)" data-bulk', form)
    assert sorted(names) == stale

    action = re.search(r'action="([^"]+)"', form).group(1)
    confirm = client.post(action, {"repository": names}).content.decode()
    token = re.search(r'name="confirmation" value="([^"]+)"', confirm).group(1)
    client.post(
        action, {"repository": names, "confirm_count": str(len(names)), "confirmation": token}
    )
    start_worker()
    job = Job.objects.get(kind="bulk_delete")
    wait_for(lambda: Job.objects.get(pk=job.pk).state == "done", message="the bulk delete job")

    assert all(emulator.repositories.get(name) is None for name in names)
    remaining = {r["name"] for r in emulator.repositories.all()}
    assert remaining and not remaining & set(stale)
    intents = AuditEvent.objects.filter(action="repository.bulk_delete", details__job=job.pk)
    assert sorted(intents.values_list("target", flat=True)) == stale
    # The worker drops what it deleted from its own cache; a test's cache is its process's
    # memory, not the shared one of a deployment, so this process fetches the list again.
    client.get(url(registry_cluster, refresh=1))
    after = client.get(f"/clusters/{registry_cluster.slug}/cleanup/?not_built_days=365")
    assert "No repository matches these rules" in after.content.decode()


def test_the_crawl_page_estimates_the_requests_the_crawl_then_sends(
    client, make_user, connect, registry_cluster
):
    admin = make_user("ada", "Operator", superuser=True)
    connect(admin, "admin")
    client.force_login(admin)
    client.get(url(registry_cluster))
    page = client.get(f"/clusters/{registry_cluster.slug}/repositories/-/crawl/").content.decode()
    estimate = int(re.search(r"about ([\d,]+) requests", page).group(1).replace(",", ""))

    call_command("crawl_registry", registry_cluster.slug, "--rate", "100", stdout=io.StringIO())
    sent = Job.objects.get(kind="registry_crawl").requests
    assert 0.8 * sent <= estimate <= 1.2 * sent
    page = client.get(f"/clusters/{registry_cluster.slug}/repositories/-/crawl/").content.decode()
    assert "about 0 requests" in page
