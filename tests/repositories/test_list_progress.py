"""The first fetch of a large or slow registry: the list page answers at once with the fetch's
progress, and shows the list when it is ready (the browser side is in tests/browser/)."""

import html
import re
import time

import pytest
from django.test import Client

from imgdash.clusters import locks
from imgdash.clusters.models import Credential
from imgdash.repositories import index

pytestmark = pytest.mark.django_db

LIST = r"/repositories$"
POLL = {"HX-Request": "true", "HX-Target": "fetch-progress"}


@pytest.fixture
def short_wait(settings):
    """Pages wait one second for a fetch before they answer with its progress."""
    settings.REPOSITORY_LIST_WAIT = 1


def url(cluster, query=""):
    return f"/clusters/{cluster.slug}/repositories/" + (f"?{query}" if query else "")


def list_calls(emulator):
    return [r for r in emulator.requests if r.method == "GET" and r.path.endswith("/repositories")]


def is_progress(response):
    return 'id="fetch-progress"' in response.content.decode()


def poll_url(response):
    """Where the page asks for the fetch's progress next (its hx-get)."""
    found = re.search(r'id="fetch-progress"[^>]*?hx-get="([^"]+)"', response.content.decode(), re.S)
    assert found, "no progress view in this answer"
    return html.unescape(found.group(1))


def poll_until_done(client, response, timeout=60):
    """Follow the progress view the way the page does, until it is replaced."""
    deadline = time.monotonic() + timeout
    while is_progress(response):
        assert time.monotonic() < deadline, "the progress view never ended"
        time.sleep(0.2)
        response = client.get(poll_url(response), headers=POLL)
    return response


def rows(response):
    return re.findall(r'<td class="repo-name">', response.content.decode())


def test_a_slow_first_fetch_answers_with_progress_then_shows_the_list(
    client, viewer, cluster, emulator, short_wait
):
    emulator.faults.add(path=LIST, latency=4)

    first = client.get(url(cluster))

    assert first.status_code == 200
    page = first.content.decode()
    assert "Fetching the repository list" in page
    assert "<progress" in page and 'role="status"' in page
    assert "Waiting for Emulator to answer" in page
    done = poll_until_done(client, first)
    assert done.status_code == 200
    assert done["HX-Retarget"] == "#results"
    assert len(rows(done)) == 50  # the first page
    assert 'id="namespace" name="namespace" hx-swap-oob="true"' in done.content.decode()
    assert len(rows(client.get(url(cluster)))) == 50  # from the index now
    assert len(list_calls(emulator)) == 1


def test_a_small_registry_shows_its_list_without_a_progress_view(
    client, viewer, cluster, emulator, settings
):
    settings.REPOSITORY_LIST_WAIT = 30  # far longer than 60 repositories take

    response = client.get(url(cluster))

    assert not is_progress(response)
    assert len(rows(response)) == 50


def test_the_progress_view_keeps_the_search_filters_sort_and_page(
    client, viewer, cluster, emulator, short_wait
):
    emulator.faults.add(path=LIST, latency=3)

    first = client.get(url(cluster, "q=a&scope=&sort=-size&page=2&per_page=25"))

    follow = poll_url(first)
    for part in ("q=a", "scope=", "sort=-size", "page=2", "per_page=25", "fetch="):
        assert part in follow
    refresh_link = re.search(r'<a href="([^"]*fetch=[^"]*)">Refresh</a>', first.content.decode())
    assert refresh_link and "sort=-size" in html.unescape(refresh_link.group(1))
    done = poll_until_done(client, first)
    assert "Page 2 of" in done.content.decode()
    assert "matching" in done.content.decode()


def test_two_tabs_waiting_for_the_same_list_share_one_fetch(
    client, viewer, cluster, emulator, short_wait
):
    emulator.faults.add(path=LIST, latency=3)
    other_tab = Client()
    other_tab.force_login(viewer)

    first = client.get(url(cluster))
    second = other_tab.get(url(cluster, "q=b"))

    assert is_progress(first) and is_progress(second)
    assert poll_url(first).split("fetch=")[1][:8] == poll_url(second).split("fetch=")[1][:8]
    poll_until_done(client, first)
    poll_until_done(other_tab, second)
    assert len(list_calls(emulator)) == 1


def test_a_failed_fetch_shows_its_error_instead_of_progress(
    client, viewer, cluster, emulator, short_wait
):
    emulator.faults.add(path=LIST, latency=2, status=500, body="registry backend down\n")

    first = client.get(url(cluster))
    assert is_progress(first)
    failed = poll_until_done(client, first)

    assert failed.status_code == 502
    assert failed["HX-Retarget"] == "#results"
    page = failed.content.decode()
    assert "HTTP 500" in page and "Try again" in page
    assert not is_progress(failed)
    # The claim went with the failure: the next view asks the cluster again.
    emulator.faults.clear()
    assert len(rows(client.get(url(cluster)))) == 50
    assert len(list_calls(emulator)) == 2


def test_the_no_javascript_refresh_link_shows_the_failure_too(
    client, viewer, cluster, emulator, short_wait
):
    emulator.faults.add(path=LIST, latency=2, status=500, body="down\n")
    first = client.get(url(cluster))
    refresh = html.unescape(re.search(r'<a href="([^"]+)">Refresh</a>', first.content.decode())[1])

    poll_until_done(client, first)
    response = client.get(refresh)

    assert response.status_code == 502
    assert "HTTP 500" in response.content.decode()


def test_a_401_during_the_fetch_leads_to_reconnect(client, viewer, cluster, emulator, short_wait):
    emulator.faults.add(path=LIST, latency=2, status=401, body="token expired\n")

    first = client.get(url(cluster))
    assert is_progress(first)
    deadline = time.monotonic() + 60
    response = first
    while is_progress(response):
        assert time.monotonic() < deadline
        time.sleep(0.2)
        response = client.get(poll_url(response), headers=POLL)

    assert f"/clusters/{cluster.slug}/connect/" in response["HX-Redirect"]
    assert Credential.objects.get(user=viewer).is_stale


def test_refresh_with_a_copy_shows_the_copy_while_it_refreshes(
    client, viewer, cluster, emulator, short_wait
):
    assert len(rows(client.get(url(cluster)))) == 50
    emulator.faults.add(path=LIST, latency=3)

    response = client.get(url(cluster, "q=a&refresh=1"))

    assert response.status_code == 302
    assert "refresh" not in response["Location"] and "fetch=" in response["Location"]
    during = client.get(response["Location"])
    page = during.content.decode()
    assert "Refreshing the list" in page and rows(during)
    done = poll_until_done(client, during)
    assert "Refreshing the list" not in done.content.decode() and rows(done)
    assert len(list_calls(emulator)) == 2


def test_a_fetch_whose_process_died_is_started_again_by_the_next_page(
    client, viewer, cluster, emulator, settings
):
    # A claim nobody will release, as a web process that died mid-fetch leaves it.
    settings.IMAGEMANAGER_LIST_DEADLINE = 1
    settings.IMAGEMANAGER_CONNECT_TIMEOUT = 1
    settings.REPOSITORY_LIST_WAIT = 30
    assert locks.claim(index.index_key(viewer.pk, cluster.pk) + ":fetching", timeout=2)

    response = client.get(url(cluster))

    assert len(rows(response)) == 50
    assert len(list_calls(emulator)) == 1


def storage_poll_url(response):
    found = re.search(r'id="storage-progress"[^>]*?hx-get="([^"]+)"', response.content.decode())
    assert found, "no progress card in this answer"
    return html.unescape(found.group(1))


def test_the_storage_page_of_a_cold_registry_shows_progress_then_the_totals(
    client, viewer, cluster, emulator, short_wait
):
    emulator.faults.add(path=LIST, latency=4)

    first = client.get(f"/clusters/{cluster.slug}/storage/?sort=namespace")

    assert first.status_code == 200
    assert "Fetching the repository list" in first.content.decode()
    assert 'id="storage-table"' not in first.content.decode()
    deadline = time.monotonic() + 60
    response = first
    while 'id="storage-progress"' in response.content.decode():
        assert time.monotonic() < deadline, "the progress card never ended"
        time.sleep(0.2)
        response = client.get(storage_poll_url(response), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'id="storage-table"' in response.content.decode()
    assert len(list_calls(emulator)) == 1


def test_a_storage_page_whose_fetch_fails_shows_the_error_and_stops_asking(
    client, viewer, cluster, emulator, short_wait
):
    emulator.faults.add(path=LIST, latency=2, status=500, body="image manager exploded")

    response = client.get(f"/clusters/{cluster.slug}/storage/")
    deadline = time.monotonic() + 60
    while 'id="storage-progress"' in response.content.decode():
        assert time.monotonic() < deadline, "the progress card never ended"
        time.sleep(0.2)
        response = client.get(storage_poll_url(response), headers={"HX-Request": "true"})

    assert response.status_code >= 500
    assert "HTTP 500" in response.content.decode()
    assert len(list_calls(emulator)) == 1  # the poll reported the failure, it did not retry


def test_a_bulk_delete_confirmation_on_a_cold_registry_does_not_wait_for_the_list(
    client, make_user, connect, cluster, emulator, short_wait
):
    user = make_user("olga", "Operator")
    connect(user, "admin")
    client.force_login(user)
    emulator.faults.add(path=LIST, latency=30)
    names = sorted(emulator.repositories)[:2]

    started = time.monotonic()
    response = client.post(
        f"/clusters/{cluster.slug}/repositories/-/bulk-delete/", {"repository": names}
    )

    assert time.monotonic() - started < 20  # the list's answer takes 30 s
    page = response.content.decode()
    assert response.status_code == 200
    assert "not known yet" in page
    assert all(html.escape(name) in page for name in names)
    assert 'name="confirm_count"' in page
