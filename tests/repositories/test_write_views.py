"""Scope, delete, bulk delete and docker-login tokens against the emulator, with its faults."""

import re

import pytest
from django.test import Client

from imgdash.audit.models import AuditEvent
from imgdash.clusters.models import Credential
from imgdash.jobs.models import Job, JobItem

pytestmark = pytest.mark.django_db


def team_a_repository(emulator, scope=None):
    for repository in emulator.repositories.all():
        if repository["owner"] == "team-a" and (scope is None or repository["scope"] == scope):
            return repository
    raise AssertionError("no team-a repository seeded")


def base(cluster, name):
    return f"/clusters/{cluster.slug}/repositories/{name}/"


def rows(action):
    """The action log rows for an action, oldest first, as (outcome, target, status)."""
    return [
        (e.outcome, e.target, e.status)
        for e in AuditEvent.objects.filter(action=action).order_by("pk")
    ]


def writes(emulator, method):
    return [r for r in emulator.requests if r.method == method]


def confirmation_of(client, cluster, name):
    html = client.get(base(cluster, name) + "-/delete/").content.decode()
    return re.search(r'name="confirmation" value="([^"]+)"', html).group(1)


# --- Scope ---------------------------------------------------------------------------------


def test_scope_form_says_who_can_pull_under_each(client, operator, cluster, emulator):
    repository = team_a_repository(emulator)
    html = client.get(base(cluster, repository["name"]) + "-/scope/").content.decode()
    assert 'name="scope" value="global"' in html and 'name="scope" value="namespace"' in html
    assert "Every namespace in the cluster can pull it." in html
    assert "Only workloads in its own namespace can pull it." in html


def test_changing_scope_puts_it_and_redirects_with_a_message(client, operator, cluster, emulator):
    repository = team_a_repository(emulator, scope="namespace")
    name = repository["name"]
    response = client.post(base(cluster, name) + "-/scope/", {"scope": "global"}, follow=True)
    assert response.redirect_chain[-1][0] == base(cluster, name)
    assert emulator.repositories.get(name)["scope"] == "global"
    assert f"{name} now has scope global" in response.content.decode()
    assert rows("repository.scope") == [("intent", name, None), ("ok", name, 200)]
    event = AuditEvent.objects.filter(action="repository.scope", outcome="intent").get()
    assert event.details == {"from": "namespace", "to": "global"}


def test_the_list_shows_the_new_scope_at_once(client, operator, cluster, emulator):
    repository = team_a_repository(emulator, scope="namespace")
    name = repository["name"]
    client.get(f"/clusters/{cluster.slug}/repositories/?q={name}")
    client.post(base(cluster, name) + "-/scope/", {"scope": "global"})
    html = client.get(f"/clusters/{cluster.slug}/repositories/?q={name}").content.decode()
    row = html[html.index(f'name="repository" value="{name}"') :]
    row = row[: row.index("</tr>")]
    assert 'class="badge global"' in row
    assert len([r for r in emulator.requests if r.path.endswith("/repositories")]) == 1


def test_inline_scope_change_with_htmx_returns_the_badge(client, operator, cluster, emulator):
    name = team_a_repository(emulator, scope="namespace")["name"]
    response = client.post(
        base(cluster, name) + "-/scope/", {"scope": "global"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<span class="scope-cell">')
    assert 'class="badge global"' in html
    assert "<html" not in html


@pytest.mark.parametrize("value", ["", "public", "GLOBAL", "global\n"])
def test_a_bad_scope_makes_no_upstream_write(client, operator, cluster, emulator, value):
    name = team_a_repository(emulator)["name"]
    response = client.post(base(cluster, name) + "-/scope/", {"scope": value})
    assert response.status_code == 400
    assert b"Choose global or namespace." in response.content
    assert not writes(emulator, "PUT")


def test_a_cluster_refusal_of_scope_is_shown_logged_and_changes_nothing(
    client, make_user, connect, cluster, emulator
):
    user = make_user("olga", "Operator")
    connect(user, "viewer")  # Viewer upstream: may look, may not change
    client.force_login(user)
    repository = team_a_repository(emulator, scope="namespace")
    response = client.post(base(cluster, repository["name"]) + "-/scope/", {"scope": "global"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "The cluster refused" in html
    assert "The scope was not changed." in html
    assert emulator.repositories.get(repository["name"])["scope"] == "namespace"
    assert rows("repository.scope")[-1][0] == "refused"
    assert rows("repository.scope")[-1][2] == 403


def test_a_scope_change_that_times_out_is_unknown_and_not_retried(
    client, operator, cluster, emulator, settings
):
    settings.IMAGEMANAGER_READ_TIMEOUT = 1
    name = team_a_repository(emulator, scope="namespace")["name"]
    emulator.faults.add(method="PUT", path=r"/repositories/", latency=2)
    response = client.post(base(cluster, name) + "-/scope/", {"scope": "global"})
    assert response.status_code == 504
    assert b"Outcome unknown" in response.content
    assert b"Refresh to check" in response.content
    assert len(writes(emulator, "PUT")) == 1
    assert rows("repository.scope")[-1][0] == "unknown"
    # Unknown was the honest answer: the change did land, after imgdash stopped waiting.
    assert emulator.wait_idle(timeout=5)
    assert emulator.repositories.get(name)["scope"] == "global"


def test_a_server_error_on_scope_is_failed(client, operator, cluster, emulator):
    name = team_a_repository(emulator, scope="namespace")["name"]
    emulator.faults.add(method="PUT", path=r"/repositories/", status=500, body="boom\n")
    response = client.post(base(cluster, name) + "-/scope/", {"scope": "global"})
    assert response.status_code == 502
    assert rows("repository.scope")[-1][0] == "failed"
    assert len(writes(emulator, "PUT")) == 1


def test_a_401_on_scope_is_logged_then_leads_to_reconnect(client, operator, cluster, emulator):
    name = team_a_repository(emulator, scope="namespace")["name"]
    emulator.faults.add(method="PUT", path=r"/repositories/", status=401)
    response = client.post(base(cluster, name) + "-/scope/", {"scope": "global"})
    assert response.status_code == 302
    assert "/connect/" in response["Location"]
    assert Credential.objects.get(user=operator).is_stale
    assert rows("repository.scope")[-1][:1] == ("refused",)


def test_a_401_after_a_disconnect_in_another_tab_still_leads_to_reconnect(
    client, operator, cluster, emulator, monkeypatch
):
    from imgdash.imagemanager import ImageManagerClient

    name = team_a_repository(emulator, scope="namespace")["name"]
    emulator.faults.add(method="PUT", path=r"/repositories/", status=401)
    set_scope = ImageManagerClient.set_scope

    def disconnect_meanwhile(self, *args):
        Credential.objects.filter(user=operator).delete()
        return set_scope(self, *args)

    monkeypatch.setattr(ImageManagerClient, "set_scope", disconnect_meanwhile)
    response = client.post(base(cluster, name) + "-/scope/", {"scope": "global"})
    assert response.status_code == 302
    assert "/connect/" in response["Location"]
    assert rows("repository.scope")[-1][:1] == ("refused",)


# --- Delete ---------------------------------------------------------------------------------


def test_delete_confirmation_states_what_goes(client, operator, cluster, emulator):
    repository = next(
        r for r in emulator.repositories.all() if r["owner"] == "team-a" and r.get("tags")
    )
    html = client.get(base(cluster, repository["name"]) + "-/delete/").content.decode()
    count = len(repository["tags"])
    assert f"all <strong>{count} tag{'s' if count != 1 else ''}</strong>" in html
    assert "garbage collection" in html
    assert 'name="confirm"' in html
    assert f'data-confirm-match="{repository["name"]}"' in html


def test_delete_confirmation_gives_a_lower_bound_and_the_newest_tags_first(
    client, operator, cluster, emulator
):
    sized = emulator.repositories.get("default/alpine")["tags"][0]
    listed = emulator.repositories.get("team-a/web/frontend")["tags"][0]
    tags = [dict(sized, name="1.9"), dict(listed, name="1.10"), dict(sized, name="latest")]
    emulator.repositories.put(
        {"name": "team-a/mixed", "owner": "team-a", "scope": "global", "tags": tags}
    )
    html = client.get(base(cluster, "team-a/mixed") + "-/delete/").content.decode()
    assert re.search(r"<strong>at least [\d.]+ (KB|MB)</strong> compressed", html)
    shown = re.findall(r'<span class="mono">([^<]+)</span>', html.split("Tags, newest first:")[1])
    assert shown[:3] == ["latest", "1.10", "1.9"]

    html = client.get(base(cluster, "team-a/web/frontend") + "-/delete/").content.decode()
    assert "of unknown size" in html
    assert "<strong>0 B</strong>" not in html


def test_a_deletes_intent_records_whether_its_size_is_known(client, operator, cluster, emulator):
    name = "team-a/web/frontend"  # a manifest list: no size in the API
    client.post(
        base(cluster, name) + "-/delete/",
        {"confirm": name, "confirmation": confirmation_of(client, cluster, name)},
    )
    intent = AuditEvent.objects.get(action="repository.delete", outcome="intent")
    assert intent.details["size_state"] == "unknown"


def test_delete_with_the_exact_name_deletes_and_lands_on_the_list(
    client, operator, cluster, emulator
):
    name = team_a_repository(emulator)["name"]
    client.get(f"/clusters/{cluster.slug}/repositories/")
    response = client.post(
        base(cluster, name) + "-/delete/",
        {"confirm": name, "confirmation": confirmation_of(client, cluster, name)},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/clusters/{cluster.slug}/repositories/"
    assert emulator.repositories.get(name) is None
    html = response.content.decode()
    assert f"Deleted {name}" in html
    assert f">{name.split('/', 1)[1]}</strong>" not in html  # gone from the list at once
    assert rows("repository.delete") == [("intent", name, None), ("ok", name, 200)]
    intent = AuditEvent.objects.get(action="repository.delete", outcome="intent")
    assert set(intent.details) >= {"tags", "size"}


def test_a_wrong_typed_name_makes_no_upstream_call(client, operator, cluster, emulator):
    name = team_a_repository(emulator)["name"]
    token = confirmation_of(client, cluster, name)
    response = client.post(
        base(cluster, name) + "-/delete/", {"confirm": name.upper(), "confirmation": token}
    )
    assert response.status_code == 400
    assert b"The name you typed does not match" in response.content
    assert not writes(emulator, "DELETE")
    assert emulator.repositories.get(name) is not None
    assert not rows("repository.delete")


def test_a_double_submit_sends_one_delete(client, operator, cluster, emulator):
    name = team_a_repository(emulator)["name"]
    saved = emulator.repositories.get(name)
    token = confirmation_of(client, cluster, name)
    client.post(base(cluster, name) + "-/delete/", {"confirm": name, "confirmation": token})
    # A second tab submits the same confirmation; even if the name exists again, nothing goes.
    emulator.repositories.put(saved)
    second = client.post(
        base(cluster, name) + "-/delete/", {"confirm": name, "confirmation": token}, follow=True
    )
    assert b"was already submitted" in second.content
    assert len(writes(emulator, "DELETE")) == 1
    assert emulator.repositories.get(name) is not None


def test_delete_of_an_already_deleted_repository_says_already_gone(
    client, operator, cluster, emulator
):
    name = team_a_repository(emulator)["name"]
    token = confirmation_of(client, cluster, name)
    emulator.faults.add(
        method="DELETE", path=r"/repositories/", status=404, body="repository not found\n"
    )
    response = client.post(
        base(cluster, name) + "-/delete/", {"confirm": name, "confirmation": token}, follow=True
    )
    assert b"already gone" in response.content
    assert rows("repository.delete")[-1][0] == "refused"
    assert rows("repository.delete")[-1][2] == 404


def test_a_cluster_refusal_of_delete_is_shown_and_logged(
    client, make_user, connect, cluster, emulator
):
    user = make_user("olga", "Operator")
    connect(user, "operator")  # Operator upstream: may change scope, may not delete
    client.force_login(user)
    name = team_a_repository(emulator)["name"]
    response = client.post(
        base(cluster, name) + "-/delete/",
        {"confirm": name, "confirmation": confirmation_of(client, cluster, name)},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "The cluster refused" in html and "Nothing was deleted." in html
    assert emulator.repositories.get(name) is not None
    assert rows("repository.delete")[-1][::2] == ("refused", 403)


def test_a_delete_that_times_out_is_unknown_and_never_retried(
    client, operator, cluster, emulator, settings
):
    settings.IMAGEMANAGER_READ_TIMEOUT = 1
    name = team_a_repository(emulator)["name"]
    token = confirmation_of(client, cluster, name)
    emulator.faults.add(method="DELETE", path=r"/repositories/", latency=2)
    response = client.post(
        base(cluster, name) + "-/delete/", {"confirm": name, "confirmation": token}
    )
    assert response.status_code == 504
    assert b"Outcome unknown" in response.content
    assert len(writes(emulator, "DELETE")) == 1
    assert rows("repository.delete")[-1][0] == "unknown"
    assert emulator.wait_idle(timeout=5)
    assert emulator.repositories.get(name) is None  # it was applied after all


def test_a_reset_connection_on_delete_is_unknown(client, operator, cluster, emulator):
    name = team_a_repository(emulator)["name"]
    token = confirmation_of(client, cluster, name)
    emulator.faults.add(method="DELETE", path=r"/repositories/", reset=True)
    response = client.post(
        base(cluster, name) + "-/delete/", {"confirm": name, "confirmation": token}
    )
    assert response.status_code in (502, 504)
    assert len(writes(emulator, "DELETE")) == 1
    assert rows("repository.delete")[-1][0] in ("unknown", "failed")


def test_delete_via_htmx_redirects_the_page_to_the_list(client, operator, cluster, emulator):
    name = team_a_repository(emulator)["name"]
    dialog = client.get(base(cluster, name) + "-/delete/", headers={"HX-Request": "true"})
    assert dialog.content.decode().lstrip().startswith('<dialog id="delete-dialog"')
    token = re.search(r'name="confirmation" value="([^"]+)"', dialog.content.decode()).group(1)
    response = client.post(
        base(cluster, name) + "-/delete/",
        {"confirm": name, "confirmation": token},
        headers={"HX-Request": "true"},
    )
    assert response["HX-Redirect"] == f"/clusters/{cluster.slug}/repositories/"


# --- Roles and CSRF ----------------------------------------------------------------------------


@pytest.mark.parametrize("roles", [("Viewer",), ("Auditor",), ("Viewer", "Auditor")])
@pytest.mark.parametrize(
    ("method", "suffix", "data"),
    [
        ("get", "-/scope/", {}),
        ("post", "-/scope/", {"scope": "global"}),
        ("get", "-/delete/", {}),
        ("post", "-/delete/", {"confirm": "team-a/x"}),
    ],
)
def test_viewers_and_auditors_get_403_and_make_no_upstream_call(
    client, make_user, connect, cluster, emulator, roles, method, suffix, data
):
    user = make_user("someone", *roles)
    connect(user, "admin")
    client.force_login(user)
    name = team_a_repository(emulator)["name"]
    response = getattr(client, method)(base(cluster, name) + suffix, data)
    assert response.status_code == 403
    assert not emulator.requests
    assert rows("access.denied")[-1][0] == "denied"


@pytest.mark.parametrize("path", ["-/bulk-delete/", "../docker-token/"])
def test_viewers_cannot_bulk_delete_or_get_docker_tokens(
    client, make_user, connect, cluster, emulator, path
):
    user = make_user("vera", "Viewer")
    connect(user, "admin")
    client.force_login(user)
    url = {
        "-/bulk-delete/": f"/clusters/{cluster.slug}/repositories/-/bulk-delete/",
        "../docker-token/": f"/clusters/{cluster.slug}/docker-token/",
    }[path]
    response = client.post(url, {"repository": "team-a/x", "confirm_count": "1"})
    assert response.status_code == 403
    assert not emulator.requests


@pytest.mark.parametrize(
    ("suffix", "data"),
    [
        ("-/scope/", {"scope": "global"}),
        ("-/delete/", {"confirm": "NAME"}),
    ],
)
def test_csrf_is_enforced_on_every_write(make_user, connect, cluster, emulator, suffix, data):
    user = make_user("olga", "Operator")
    connect(user, "admin")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    name = team_a_repository(emulator)["name"]
    data = {key: value.replace("NAME", name) for key, value in data.items()}
    assert client.post(base(cluster, name) + suffix, data).status_code == 403
    docker = client.post(f"/clusters/{cluster.slug}/docker-token/", {})
    bulk = client.post(
        f"/clusters/{cluster.slug}/repositories/-/bulk-delete/", {"repository": name}
    )
    assert docker.status_code == 403 and bulk.status_code == 403
    assert not [r for r in emulator.requests if r.method in ("PUT", "DELETE")]
    assert not [r for r in emulator.requests if r.path.endswith("/auth/token")]


# --- Bulk delete --------------------------------------------------------------------------------


def bulk_url(cluster):
    return f"/clusters/{cluster.slug}/repositories/-/bulk-delete/"


def team_names(emulator, owner, count):
    return [r["name"] for r in emulator.repositories.all() if r["owner"] == owner][:count]


def test_bulk_delete_confirms_then_queues_one_job_and_sends_nothing_itself(
    client, operator, cluster, emulator
):
    names = team_names(emulator, "team-a", 3)
    page = client.post(bulk_url(cluster), {"repository": names})
    html = page.content.decode()
    assert page.status_code == 200
    for name in names:
        assert name in html
    assert "Type the number of repositories, 3, to confirm" in html
    token = re.search(r'name="confirmation" value="([^"]+)"', html).group(1)
    assert not writes(emulator, "DELETE")
    done = client.post(
        bulk_url(cluster), {"repository": names, "confirm_count": "3", "confirmation": token}
    )
    job = Job.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/jobs/{job.pk}/"
    assert [item.target for item in job.items.order_by("position")] == names
    assert job.state == "queued" and job.owner == operator and job.cluster == cluster
    # The deletes are the worker's (tests/jobs/test_worker.py): this request sent none.
    assert not writes(emulator, "DELETE")
    assert all(emulator.repositories.get(name) is not None for name in names)
    assert rows("repository.bulk_delete") == []
    assert [r[:2] for r in rows("job.enqueue")] == [("ok", f"job {job.pk}")]


def test_bulk_delete_with_htmx_redirects_the_browser_to_the_job(
    client, operator, cluster, emulator
):
    names = team_names(emulator, "team-a", 1)
    html = client.post(bulk_url(cluster), {"repository": names}).content.decode()
    token = re.search(r'name="confirmation" value="([^"]+)"', html).group(1)
    response = client.post(
        bulk_url(cluster),
        {"repository": names, "confirm_count": "1", "confirmation": token},
        HTTP_HX_REQUEST="true",
    )
    assert response["HX-Redirect"] == f"/jobs/{Job.objects.get().pk}/"


def test_bulk_delete_wrong_count_deletes_nothing(client, operator, cluster, emulator):
    names = team_names(emulator, "team-a", 2)
    html = client.post(bulk_url(cluster), {"repository": names}).content.decode()
    token = re.search(r'name="confirmation" value="([^"]+)"', html).group(1)
    response = client.post(
        bulk_url(cluster), {"repository": names, "confirm_count": "3", "confirmation": token}
    )
    assert response.status_code == 400
    assert b"Type 2, the number of repositories" in response.content
    assert not writes(emulator, "DELETE")
    assert not Job.objects.exists()


def test_bulk_delete_double_submit_sends_nothing_twice(client, operator, cluster, emulator):
    names = team_names(emulator, "team-a", 2)
    html = client.post(bulk_url(cluster), {"repository": names}).content.decode()
    token = re.search(r'name="confirmation" value="([^"]+)"', html).group(1)
    data = {"repository": names, "confirm_count": "2", "confirmation": token}
    client.post(bulk_url(cluster), data)
    again = client.post(bulk_url(cluster), data, follow=True)
    assert b"already submitted" in again.content
    assert Job.objects.count() == 1 and JobItem.objects.count() == 2


def test_bulk_delete_skips_invalid_names_without_sending_them(client, operator, cluster, emulator):
    good = team_names(emulator, "team-a", 1)[0]
    html = client.post(bulk_url(cluster), {"repository": [good, "../../etc", "Bad/Name"]})
    page = html.content.decode()
    assert "will be skipped" in page
    assert "Delete 1 repository" in page
    token = re.search(r'name="confirmation" value="([^"]+)"', page).group(1)
    client.post(
        bulk_url(cluster),
        {
            "repository": [good, "../../etc", "Bad/Name"],
            "confirm_count": "1",
            "confirmation": token,
        },
    )
    assert [item.target for item in JobItem.objects.all()] == [good]
    assert Job.objects.get().parameters == {"repositories": 1, "skipped_invalid": 2}


# --- Docker-login token ----------------------------------------------------------------------


def test_docker_token_for_a_repository(client, operator, cluster, emulator):
    name = team_a_repository(emulator)["name"]
    response = client.post(f"/clusters/{cluster.slug}/docker-token/", {"repository": name})
    assert response.status_code == 200
    html = response.content.decode()
    request = [r for r in emulator.requests if r.path.endswith("/auth/token")][-1]
    assert request.query["service"] == ["token-service"]
    assert request.query["scope"] == [f"repository:{name}:pull,push"]
    token = re.search(r'<code id="docker-token-value">([^<]+)</code>', html).group(1)
    assert token.count(".") == 2
    assert (
        "docker login -u admin --password-stdin mycluster.icp:8500" in html
        or f"--password-stdin {cluster.registry_host}" in html
    )
    assert "data-countdown=" in html
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="docker_token.issue")
    assert token not in repr(event.__dict__)
    assert event.outcome == "ok"


def test_docker_token_without_repository_asks_for_the_catalog(client, operator, cluster, emulator):
    client.post(f"/clusters/{cluster.slug}/docker-token/", {})
    request = [r for r in emulator.requests if r.path.endswith("/auth/token")][-1]
    assert request.query["scope"] == ["registry:catalog:*"]


def test_docker_token_refused_by_the_cluster_is_shown_and_logged(
    client, operator, cluster, emulator
):
    emulator.faults.add(method="GET", path=r"/auth/token", status=403, body="denied\n")
    response = client.post(f"/clusters/{cluster.slug}/docker-token/", {})
    assert response.status_code == 403
    assert b"refused" in response.content
    assert rows("docker_token.issue")[-1][::2] == ("refused", 403)


def test_docker_token_with_an_invalid_repository_asks_nothing(client, operator, cluster, emulator):
    response = client.post(
        f"/clusters/{cluster.slug}/docker-token/", {"repository": "team-a/../x"}, follow=True
    )
    assert b"not a valid repository name" in response.content
    assert not [r for r in emulator.requests if r.path.endswith("/auth/token")]


def test_docker_token_when_the_cluster_fails_is_failed_and_says_so(
    client, operator, cluster, emulator
):
    emulator.faults.add(method="GET", path=r"/auth/token", status=500, body="token service down\n")
    response = client.post(f"/clusters/{cluster.slug}/docker-token/", {})
    assert response.status_code == 502
    assert b"token service down" in response.content
    assert b'id="docker-token-value"' not in response.content
    assert rows("docker_token.issue")[-1][::2] == ("failed", 500)


def test_the_bulk_total_is_a_lower_bound_when_some_sizes_are_unknown(
    client, operator, cluster, emulator
):
    from imgdash.core.templatetags.imgdash import bytes_human
    from imgdash.imagemanager import Repository

    names = ["default/alpine", "team-a/web/frontend", "team-c/legacy/billing", "team-a/scratch"]
    client.get(f"/clusters/{cluster.slug}/repositories/")  # the list the confirmation reads
    html = client.post(bulk_url(cluster), {"repository": names}).content.decode()
    alpine = Repository.from_api(emulator.repositories.get("default/alpine")).size
    intro = re.sub(r"<[^>]+>|\s+", " ", html[html.index("Every tag of each goes") :])
    assert f"at least {bytes_human(alpine)} compressed in all" in intro
    assert "2 repositories have tags of unknown size" in intro
    token = re.search(r'name="confirmation" value="([^"]+)"', html).group(1)
    client.post(
        bulk_url(cluster), {"repository": names, "confirm_count": "4", "confirmation": token}
    )
    # The job keeps what was known of each size, for its page to show.
    states = [item.details["size_state"] for item in Job.objects.get().items.order_by("position")]
    assert states == ["exact", "unknown", "unknown", "exact"]
    cells = re.findall(r'<td class="num size">(.*?)</td>', html, re.S)
    assert [re.sub(r"<[^>]+>", "", c).strip() for c in cells] == [
        bytes_human(alpine),
        "unknown",
        "unknown",
        "0 B",
    ]


def test_the_bulk_total_is_exact_when_every_size_is_known(client, operator, cluster, emulator):
    names = ["default/alpine", "team-a/scratch"]
    client.get(f"/clusters/{cluster.slug}/repositories/")
    html = client.post(bulk_url(cluster), {"repository": names}).content.decode()
    assert "compressed in all" in html
    assert "at least" not in html and "unknown" not in html
