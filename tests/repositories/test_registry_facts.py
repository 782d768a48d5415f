"""The detail page's registry facts: stored once per digest, fetched under the page's
deadline, authorised by the user's own repository answer, and never needed."""

import html as html_text
import re
import sys

import pytest
from django.test import override_settings

from imgdash.imagemanager.errors import Forbidden, Unauthorized
from imgdash.repositories.models import ConfigFacts, ManifestFacts, MissingFacts
from tests.repositories.registry_fake import (
    C_NEW,
    C_OLD,
    M_ARM,
    NAME,
    days_ago,
    digest,
    put_repository,
    single,
    unavailable,
)

pytestmark = pytest.mark.django_db


def detail(client, cluster, name=NAME, query=""):
    return client.get(f"/clusters/{cluster.slug}/repositories/{name}/{query}")


def tag_order(html):
    return re.findall(
        r'<tr id="tag-\d+" class="tag-row">\s*<td class="mono tag-cell"><strong>([^<]+)<', html
    )


def test_it_shows_build_dates_newest_first_with_the_exact_utc_time(
    client, viewer, cluster, emulator, registry
):
    put_repository(emulator)
    html = detail(client, cluster).content.decode().replace("\xa0", " ")
    assert tag_order(html) == ["1.0", "multi", "2.0"]
    assert "3 days ago</time>" in html
    created = registry.configs[C_NEW].created.strftime("%Y-%m-%d %H:%M:%S")
    assert f'title="{created} UTC"' in html
    assert 'datetime="' + registry.configs[C_NEW].created.strftime("%Y-%m-%dT%H:%M:%S") in html


def test_tags_sort_by_version_or_name_and_garbage_falls_back_to_newest(
    client, viewer, cluster, emulator, registry
):
    put_repository(emulator)
    assert tag_order(detail(client, cluster, query="?tags=version").content.decode()) == [
        "2.0",
        "1.0",
        "multi",
    ]
    assert tag_order(detail(client, cluster, query="?tags=name").content.decode()) == [
        "1.0",
        "2.0",
        "multi",
    ]
    response = detail(client, cluster, query="?tags=%00garbage")
    assert response.status_code == 200
    assert tag_order(response.content.decode()) == ["1.0", "multi", "2.0"]
    assert 'href="?tags=version"' in response.content.decode()


def test_it_shows_platforms_history_env_names_and_labels_but_no_env_values(
    client, viewer, cluster, emulator, registry
):
    put_repository(emulator)
    html = detail(client, cluster).content.decode().replace("\xa0", " ")
    assert '<span class="badge namespace platform">linux/amd64</span>' in html
    assert '<span class="badge namespace platform">linux/arm64/v8</span>' in html
    assert "apk add --no-cache curl" in html
    assert "2 steps without a layer" in html
    assert "DB_PASSWORD" in html and "hunter2" not in html.split("steps without a layer")[0]
    assert "org.opencontainers.image.source" in html
    assert "8080/tcp" in html


def test_manifest_lists_get_true_sizes_per_platform_and_in_total(
    client, viewer, cluster, emulator, registry
):
    put_repository(emulator)
    html = detail(client, cluster).content.decode().replace("\xa0", " ")
    assert "13 MB" in html or "12.4 MB" in html  # 7,000,000 + 6,000,000 bytes
    assert "6.7 MB" in html or "7 MB" in html
    overview = html.split('id="repository-size"')[1].split("</span>")[0]
    assert "at least" not in overview and "unknown" not in overview


def test_a_list_with_a_missing_child_says_at_least(client, viewer, cluster, emulator, registry):
    registry.missing.add(M_ARM)
    put_repository(emulator)
    html = detail(client, cluster).content.decode().replace("\xa0", " ")
    row = html.split("<strong>multi</strong>")[1].split("</tr>")[0]
    assert "at least 6.7 MB" in row
    assert "not in registry" in html
    assert MissingFacts.objects.filter(digest=M_ARM, what="manifest").exists()


def test_facts_are_fetched_once_and_a_second_view_makes_no_registry_call(
    client, viewer, cluster, emulator, registry
):
    put_repository(emulator)
    detail(client, cluster)
    assert len(registry.calls) == 6  # 2 configs, 2 manifests, their 2 configs
    assert ConfigFacts.objects.count() == 4 and ManifestFacts.objects.count() == 2
    registry.calls.clear()
    html = detail(client, cluster).content.decode().replace("\xa0", " ")
    assert registry.calls == []
    assert registry.tokens == [registry.tokens[0]]  # no second pull token either
    assert "3 days ago" in html


def test_a_404_is_asked_again_only_after_the_retry_interval(
    client, viewer, cluster, emulator, registry
):
    registry.missing.add(C_OLD)
    put_repository(emulator)
    detail(client, cluster)
    registry.calls.clear()
    detail(client, cluster)
    assert registry.calls == []
    MissingFacts.objects.update(checked_at=days_ago(2))
    registry.missing.clear()
    html = detail(client, cluster).content.decode().replace("\xa0", " ")
    assert registry.calls == [("config", C_OLD)]
    assert "400 days ago" not in html and "1 year" in html


def test_concurrent_fetches_stay_within_the_bound(client, viewer, cluster, emulator, registry):
    tags = [{"name": f"v{i}", "manifest": single(digest(f"c{i}"))} for i in range(12)]
    for i in range(12):
        registry.add_config(digest(f"c{i}"), days_ago(i))
    put_repository(emulator, tags=tags)
    registry.delay = 0.05
    with override_settings(REGISTRY_CONCURRENCY=3, REGISTRY_DEADLINE_MS=10_000):
        detail(client, cluster)
    assert len(registry.calls) == 12
    assert 1 < registry.most_in_flight <= 3


def test_a_slow_registry_leaves_placeholders_that_the_fragment_fills(
    client, viewer, cluster, emulator, registry
):
    put_repository(emulator)
    registry.delay = 0.5
    with override_settings(REGISTRY_DEADLINE_MS=100):
        response = detail(client, cluster)
    html = response.content.decode().replace("\xa0", " ")
    assert response.status_code == 200
    assert "fetching…" in html
    facts_url = f"/clusters/{cluster.slug}/repositories/{NAME}/-/facts/?tags=newest"
    assert f'hx-get="{facts_url}"' in html
    assert 'href="/clusters/emu/repositories/team-a/facts/?tags=newest">Reload</a>' in html
    registry.delay = 0
    fragment = client.get(facts_url, headers={"HX-Request": "true"})
    text = fragment.content.decode().replace("\xa0", " ")
    assert fragment.status_code == 200
    assert "<html" not in text and "fetching…" not in text and "hx-get" not in text.split(">")[0]
    assert "3 days ago" in text
    assert 'hx-swap-oob="true"' in text  # the overview's size follows


@pytest.mark.parametrize(
    ("error", "note"),
    [
        (unavailable("The registry took longer than 1 s to answer."), "did not answer in time"),
        (unavailable(), "could not be reached"),
        (unavailable("Bad gateway", status=502), "failed (HTTP 502)"),
        (Unauthorized("no", status=401), "refused imgdash's pull token (HTTP 401)"),
        (Forbidden("no", status=403), "refused imgdash's pull token (HTTP 403)"),
    ],
)
def test_registry_failures_leave_the_page_working_with_a_note(
    client, viewer, cluster, emulator, registry, error, note
):
    put_repository(emulator)
    registry.error = error
    response = detail(client, cluster)
    html = html_text.unescape(response.content.decode())
    assert response.status_code == 200
    assert (
        f"Build dates and platforms are not shown: the registry at {cluster.registry_host} {note}"
        in html
    )
    assert tag_order(html) == ["2.0", "1.0", "multi"]  # no dates: by version
    assert "docker pull" in html


def test_without_a_registry_client_the_page_says_so(client, viewer, cluster, emulator, monkeypatch):
    monkeypatch.setitem(sys.modules, "imgdash.imagemanager.registry", None)  # import fails
    put_repository(emulator)
    response = detail(client, cluster)
    assert response.status_code == 200
    assert "no registry client configured" in response.content.decode()


def test_the_pull_token_never_reaches_the_page_or_the_logs(
    client, viewer, cluster, emulator, registry, caplog
):
    put_repository(emulator)
    registry.error = Unauthorized("no", status=401)
    html = detail(client, cluster).content.decode().replace("\xa0", " ")
    token = registry.tokens[0]
    assert token and token not in html and token not in caplog.text


def test_a_user_gets_no_facts_for_a_repository_only_another_user_may_see(
    client, make_user, connect, cluster, emulator, registry
):
    secret_config = digest("team-c secret")
    registry.add_config(secret_config, days_ago(5), labels={"secret.label": "only-team-c"})
    put_repository(
        emulator,
        name="team-c/secret",
        owner="team-c",
        tags=[{"name": "1", "manifest": single(secret_config)}],
    )
    alice = make_user("alice", "Viewer")
    connect(alice, "admin")
    client.force_login(alice)
    assert "only-team-c" in detail(client, cluster, "team-c/secret").content.decode()
    assert ConfigFacts.objects.filter(digest=secret_config).exists()  # stored, shared store
    # Bob's cluster token sees team-a and team-b only; team-a/facts now also names the digest.
    put_repository(emulator)
    bob = make_user("bob", "Viewer")
    connect(bob, "viewer")
    client.force_login(bob)
    for url in (
        f"/clusters/{cluster.slug}/repositories/team-c/secret/",
        f"/clusters/{cluster.slug}/repositories/team-c/secret/-/facts/",
        f"/clusters/{cluster.slug}/repositories/team-c/secret/-/facts/?digest={secret_config}",
        f"/clusters/{cluster.slug}/repositories/team-a/facts/-/facts/?digest={secret_config}",
        f"/clusters/{cluster.slug}/repositories/team-a/facts/?digest={secret_config}",
    ):
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(url, headers=headers)
            assert response.status_code < 500
            assert "only-team-c" not in response.content.decode(), url


def test_bad_names_on_the_fragment_url_are_404_not_5xx(client, viewer, cluster, registry):
    response = client.get(f"/clusters/{cluster.slug}/repositories/UPPER/..//-/facts/")
    assert response.status_code == 404


def test_a_refused_registry_token_is_said_and_the_credential_kept(
    client, viewer, cluster, emulator, registry
):
    put_repository(emulator)
    emulator.faults.add(path="/auth/token", status=403)
    response = detail(client, cluster)
    html = html_text.unescape(response.content.decode())
    assert response.status_code == 200
    assert "Emulator would not issue a registry token for this repository (HTTP 403)" in html
    assert registry.calls == []
    assert not viewer.cluster_credentials.get().is_stale
