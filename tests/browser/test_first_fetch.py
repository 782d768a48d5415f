"""The first load of a 10,000-repository registry over a slow link: the page shows the fetch's
progress (bytes, then indexing) and then the list, with the URL's search kept."""

import re
import threading

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import has_param

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPOSITORIES = 10_000


@pytest.fixture(scope="module")
def large_registry():
    from imgdash.emulator.server import EmulatorServer

    server = EmulatorServer(repos=REPOSITORIES, seed=11, control=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def large_cluster(large_registry):
    from imgdash.clusters.models import Cluster

    large_registry.reset()
    return Cluster.objects.create(name="Big", slug="big", api_url=large_registry.api_url)


@pytest.fixture
def indexing_held(monkeypatch):
    """Holds the fetch after it has read the list and before it stores the index, until the
    test has seen the page say so: the indexing step is too quick to catch otherwise."""
    from imgdash.repositories import index

    seen = threading.Event()
    store = index._store

    def store_when_seen(*args, **kwargs):
        seen.wait(timeout=60)
        store(*args, **kwargs)

    monkeypatch.setattr(index, "_store", store_when_seen)
    yield seen
    seen.set()


def test_a_first_load_shows_bytes_then_indexing_then_the_list(
    page, make_user, sign_in, large_registry, large_cluster, indexing_held, settings
):
    from imgdash.clusters.services import save_credential

    settings.REPOSITORY_LIST_WAIT = 1
    user = make_user("vera", "Viewer")
    sign_in(user)
    save_credential(user, large_cluster, large_registry.issue_id_token("admin"))
    # About 46 MB at 8 MB/s: several seconds of bytes arriving.
    large_registry.faults.add(path=r"/repositories$", rate=8_000_000)

    page.goto("/clusters/big/repositories/?q=team-a&sort=-size")

    expect(page.locator("#fetch-title")).to_have_text("Fetching the repository list")
    stage = page.locator("#fetch-stage")
    expect(stage).to_have_attribute("role", "status")
    expect(stage).to_have_text("Receiving the list from Big…")
    expect(page.locator("#fetch-figures")).to_contain_text(" MB of 4", timeout=30_000)
    expect(page.locator("progress#fetch-bar")).to_have_attribute("value", re.compile(r"^\d+$"))

    expect(stage).to_have_text("Indexing 10,000 repositories…", timeout=60_000)
    expect(page.locator("#fetch-figures")).to_contain_text("received; indexing")
    indexing_held.set()

    rows = page.locator("#repository-table tbody tr")
    expect(rows).to_have_count(50, timeout=60_000)
    expect(page.locator("#fetch-progress")).to_have_count(0)
    expect(page.locator(".pager").first).to_contain_text(f"({REPOSITORIES:,} in all)")
    expect(page.locator("#search")).to_have_value("team-a")
    assert has_param("sort", "-size")(page.url) and has_param("q", "team-a")(page.url)
    # The namespace filter was filled in with the list.
    expect(page.locator("#namespace option[value='team-a']")).to_have_count(1)
    get_lists = [r for r in large_registry.requests if r.path.endswith("/repositories")]
    assert len(get_lists) == 1


def test_the_storage_page_of_a_cold_registry_fills_in_by_itself(
    page, make_user, sign_in, cluster, emulator, settings
):
    from imgdash.clusters.services import save_credential

    settings.REPOSITORY_LIST_WAIT = 1
    user = make_user("vera", "Viewer")
    sign_in(user)
    save_credential(user, cluster, emulator.issue_id_token("admin"))
    emulator.faults.add(path=r"/repositories$", latency=3, times=1)

    page.goto(f"/clusters/{cluster.slug}/storage/")

    expect(page.locator("#storage-progress h2")).to_contain_text("Fetching the repository list")
    expect(page.locator("#storage-progress progress")).to_have_count(1)
    expect(page.locator("#storage-table tbody tr").first).to_be_visible(timeout=60_000)
    expect(page.locator("#storage-progress")).to_have_count(0)
    expect(page.locator("#storage-chart")).to_be_visible()
