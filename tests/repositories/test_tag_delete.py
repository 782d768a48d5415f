"""Deleting one tag by its manifest digest, against the emulator's Image Manager API and its
registry over real sockets: every tag sharing the digest goes, and only what was confirmed."""

import re

import pytest
from django.test import Client

from imgdash.audit.models import AuditEvent
from imgdash.imagemanager import is_valid_tag
from imgdash.repositories import index

pytestmark = pytest.mark.django_db


def team_a_repository(emulator):
    """A team-a repository with two or more valid tags of different images, single-arch."""
    for repository in emulator.repositories.all():
        tags = repository["tags"] or []
        manifests = [tag["manifest"] for tag in tags]
        if (
            repository["owner"] == "team-a"
            and len(tags) >= 2
            and all(is_valid_tag(tag["name"]) for tag in tags)
            and all(m.get("layers") for m in manifests)
            and len({str(m) for m in manifests}) == len(manifests)
        ):
            return repository
    raise AssertionError("no fitting team-a repository seeded")


def with_shared_tag(emulator, extra="shared-copy"):
    """A repository whose first tag now has a second name, `extra`, for the same manifest."""
    repository = team_a_repository(emulator)
    repository["tags"].append({"name": extra, "manifest": repository["tags"][0]["manifest"]})
    emulator.repositories.put(repository)
    return repository["name"], repository["tags"][0]["name"], extra


def url(cluster, name, tag):
    return f"/clusters/{cluster.slug}/repositories/{name}/-/tags/{tag}/delete/"


def form_of(html):
    """The confirmation form's hidden fields."""
    return {
        field: re.search(rf'name="{field}" value="([^"]*)"', html).group(1)
        for field in ("confirmation", "digest", "going")
    }


def tag_names(emulator, name):
    repository = emulator.repositories.get(name)
    return [tag["name"] for tag in (repository or {}).get("tags") or []]


def deletes(emulator):
    return [r for r in emulator.requests if r.method == "DELETE"]


def rows():
    return [
        (e.outcome, e.target, e.status)
        for e in AuditEvent.objects.filter(action="repository.tag_delete").order_by("pk")
    ]


@pytest.fixture
def nina(client, make_user, connect, registry_cluster):
    """An imgdash Operator holding nsadmin's token: Administrator in team-a, may delete."""
    user = make_user("nina", "Operator")
    connect(user, "nsadmin")
    client.force_login(user)
    return user


@pytest.fixture
def otto(client, make_user, connect, registry_cluster):
    """An imgdash Operator holding the cluster's "operator": may push, may not delete."""
    user = make_user("otto", "Operator")
    connect(user, "operator")
    client.force_login(user)
    return user


def test_it_lists_every_tag_sharing_the_digest_and_deletes_them_all(
    client, nina, registry_cluster, emulator
):
    name, tag, extra = with_shared_tag(emulator)
    others = [t for t in tag_names(emulator, name) if t not in (tag, extra)]
    html = client.get(url(registry_cluster, name, tag)).content.decode()
    assert "These 2 tags go together" in html
    going = html[html.index('id="tags-going"') :]
    going = going[: going.index("</ul>")]
    assert tag in going and extra in going
    assert not any(f">{other}<" in going for other in others)
    assert "garbage collection" in html and "layers other images share are not freed" in html
    form = form_of(html)

    response = client.post(url(registry_cluster, name, tag), {**form, "confirm": tag}, follow=True)

    assert (
        response.redirect_chain[-1][0] == f"/clusters/{registry_cluster.slug}/repositories/{name}/"
    )
    page = response.content.decode()
    assert f"Deleted 2 tags of {name}" in page
    assert tag_names(emulator, name) == others
    assert len(deletes(emulator)) == 1
    assert rows() == [("intent", name, None), ("ok", name, 200)]
    intent = AuditEvent.objects.get(action="repository.tag_delete", outcome="intent")
    assert intent.details == {"tag": tag, "digest": form["digest"], "tags": [tag, extra]}


def test_the_list_shows_the_new_tag_count_without_fetching_again(
    client, nina, registry_cluster, emulator
):
    name, tag, _ = with_shared_tag(emulator)
    before = len(tag_names(emulator, name))
    client.get(f"/clusters/{registry_cluster.slug}/repositories/?q={name}")
    form = form_of(client.get(url(registry_cluster, name, tag)).content.decode())
    client.post(url(registry_cluster, name, tag), {**form, "confirm": tag})
    snapshot, _ = index.list_index(nina, registry_cluster)
    entry = next(e for e in snapshot.entries if e.name == name)
    assert entry.tag_count == before - 2
    assert tag not in entry.tags_text.split("\n")
    assert len([r for r in emulator.requests if r.path.endswith("/repositories")]) == 1


def test_a_tag_pushed_over_since_the_confirmation_is_not_deleted(
    client, nina, registry_cluster, emulator
):
    name, tag, _ = with_shared_tag(emulator)
    form = form_of(client.get(url(registry_cluster, name, tag)).content.decode())
    repository = emulator.repositories.get(name)
    repository["tags"][0]["manifest"] = repository["tags"][1]["manifest"]  # a push to `tag`
    emulator.repositories.put(repository)
    before = tag_names(emulator, name)

    response = client.post(url(registry_cluster, name, tag), {**form, "confirm": tag})

    assert response.status_code == 409
    assert "The registry changed since you confirmed" in response.content.decode()
    assert deletes(emulator) == []
    assert tag_names(emulator, name) == before
    assert rows() == []


def test_a_new_tag_sharing_the_digest_since_the_confirmation_is_not_deleted(
    client, nina, registry_cluster, emulator
):
    repository = team_a_repository(emulator)
    name, tag = repository["name"], repository["tags"][0]["name"]
    form = form_of(client.get(url(registry_cluster, name, tag)).content.decode())
    with_shared_tag(emulator, "pushed-meanwhile")
    response = client.post(url(registry_cluster, name, tag), {**form, "confirm": tag})
    assert response.status_code == 409
    assert "These 2 tags go together" in response.content.decode()
    assert deletes(emulator) == []


def test_without_the_delete_grant_there_is_no_button_and_no_delete(
    client, otto, registry_cluster, emulator
):
    name, tag, _ = with_shared_tag(emulator)
    html = client.get(url(registry_cluster, name, tag)).content.decode()
    assert "grants no delete" in html
    assert "data-confirm-button" not in html
    before = tag_names(emulator, name)
    response = client.post(
        url(registry_cluster, name, tag),
        {"confirm": tag, "digest": "sha256:" + "0" * 64, "going": tag, "confirmation": "x"},
    )
    assert response.status_code == 409
    assert deletes(emulator) == []
    assert tag_names(emulator, name) == before
    assert rows() == []


def test_an_unreachable_registry_is_said_plainly_with_no_button(client, nina, cluster, emulator):
    cluster.registry = "127.0.0.1:9"  # nothing listens on the discard port
    cluster.save(update_fields=["registry"])
    name, tag, _ = with_shared_tag(emulator)
    html = client.get(url(cluster, name, tag)).content.decode()
    assert "could not be reached, so no tag can be deleted now" in html
    assert "data-confirm-button" not in html


def test_a_registry_failure_is_a_failed_outcome_and_keeps_the_tags(
    client, nina, registry_cluster, emulator
):
    name, tag, _ = with_shared_tag(emulator)
    form = form_of(client.get(url(registry_cluster, name, tag)).content.decode())
    before = tag_names(emulator, name)
    emulator.faults.add(method="DELETE", path="^/v2/", status=503)
    response = client.post(url(registry_cluster, name, tag), {**form, "confirm": tag})
    assert response.status_code == 502
    assert "The registry failed (HTTP 503)" in response.content.decode()
    assert tag_names(emulator, name) == before
    assert rows() == [("intent", name, None), ("failed", name, 503)]


def test_a_delete_without_an_answer_is_unknown_and_sent_once(
    client, nina, registry_cluster, emulator, settings
):
    settings.IMAGEMANAGER_READ_TIMEOUT = 1
    name, tag, _ = with_shared_tag(emulator)
    form = form_of(client.get(url(registry_cluster, name, tag)).content.decode())
    emulator.faults.add(method="DELETE", path="^/v2/", latency=2.5)
    response = client.post(url(registry_cluster, name, tag), {**form, "confirm": tag})
    assert response.status_code == 504
    assert "Outcome unknown" in response.content.decode()
    assert len(deletes(emulator)) == 1
    assert rows() == [("intent", name, None), ("unknown", name, None)]


def test_a_wrong_typed_tag_deletes_nothing(client, nina, registry_cluster, emulator):
    name, tag, _ = with_shared_tag(emulator)
    form = form_of(client.get(url(registry_cluster, name, tag)).content.decode())
    response = client.post(url(registry_cluster, name, tag), {**form, "confirm": tag + "x"})
    assert response.status_code == 400
    assert f"Type the tag, {tag}, to delete it" in response.content.decode()
    assert deletes(emulator) == []


def test_a_form_is_sent_once(client, nina, registry_cluster, emulator):
    name, tag, _ = with_shared_tag(emulator)
    pushed_again = emulator.repositories.get(name)
    form = form_of(client.get(url(registry_cluster, name, tag)).content.decode())
    client.post(url(registry_cluster, name, tag), {**form, "confirm": tag})
    emulator.repositories.put(pushed_again)  # the same tags, the same image: the same form fits
    response = client.post(url(registry_cluster, name, tag), {**form, "confirm": tag}, follow=True)
    assert "was already submitted" in response.content.decode()
    assert len(deletes(emulator)) == 1
    assert tag in tag_names(emulator, name)


@pytest.mark.parametrize(
    "tag", ["..", "-x", ".hidden", "a%20b", "x" * 129, "%00", "t%C3%A9", "%3Cb%3E"]
)
def test_a_bad_tag_is_a_404_before_any_call(client, nina, registry_cluster, emulator, tag):
    name = team_a_repository(emulator)["name"]
    emulator.requests.clear()
    for method in (client.get, client.post):
        response = method(url(registry_cluster, name, tag))
        assert response.status_code == 404
    assert list(emulator.requests) == []


def test_a_tag_with_a_slash_is_no_tag_delete_and_sends_nothing(
    client, nina, registry_cluster, emulator
):
    name = team_a_repository(emulator)["name"]
    emulator.requests.clear()
    path = url(registry_cluster, name, "latest%2F..%2Fx")
    assert client.get(path).status_code == 404
    assert client.post(path).status_code == 405  # the repository page's URL, which is GET only
    assert list(emulator.requests) == []


def test_htmx_gets_a_dialog_then_goes_back_to_the_repository(
    client, nina, registry_cluster, emulator
):
    name, tag, _ = with_shared_tag(emulator)
    htmx = {"HX-Request": "true"}
    html = client.get(url(registry_cluster, name, tag), headers=htmx).content.decode()
    assert html.strip().startswith("<dialog")
    response = client.post(
        url(registry_cluster, name, tag), {**form_of(html), "confirm": tag}, headers=htmx
    )
    assert response["HX-Redirect"] == f"/clusters/{registry_cluster.slug}/repositories/{name}/"


def test_the_detail_page_offers_delete_tag_to_operators_only(
    client, nina, make_user, connect, registry_cluster, emulator
):
    repository = team_a_repository(emulator)
    repository["tags"].append({"name": "not a tag!", "manifest": repository["tags"][0]["manifest"]})
    emulator.repositories.put(repository)
    name = repository["name"]
    detail = f"/clusters/{registry_cluster.slug}/repositories/{name}/"
    html = client.get(detail).content.decode()
    valid = [t["name"] for t in repository["tags"] if is_valid_tag(t["name"])]
    assert html.count("Delete tag…</a>") == len(valid)
    for tag in valid:
        assert f'href="{url(registry_cluster, name, tag)}"' in html

    viewer = make_user("vic", "Viewer")
    connect(viewer, "nsadmin")
    other = Client()
    other.force_login(viewer)
    assert "Delete tag…" not in other.get(detail).content.decode()


def test_a_teammates_list_shows_the_new_tag_count_too(
    client, nina, make_user, connect, registry_cluster, emulator
):
    name, tag, _ = with_shared_tag(emulator)
    before = len(tag_names(emulator, name))
    teammate = make_user("tom", "Viewer")
    connect(teammate, "admin")
    index.list_index(teammate, registry_cluster)  # the teammate's copy, fetched before
    form = form_of(client.get(url(registry_cluster, name, tag)).content.decode())
    client.post(url(registry_cluster, name, tag), {**form, "confirm": tag})
    index.forget_local_copies()  # as another worker process would read it
    snapshot, _ = index.list_index(teammate, registry_cluster)
    assert next(e for e in snapshot.entries if e.name == name).tag_count == before - 2
