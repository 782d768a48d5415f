import re

import pytest

pytestmark = pytest.mark.django_db


def detail(client, cluster, name):
    return client.get(f"/clusters/{cluster.slug}/repositories/{name}/")


def find(emulator, predicate):
    for repository in emulator.repositories.all():
        if predicate(repository):
            return repository
    raise AssertionError("the seeded emulator has no such repository")


def media_type(repository):
    return (repository["tags"][0]["manifest"] or {}).get("mediaType", "")


def test_it_shows_owner_scope_tags_size_and_pull_commands(client, viewer, cluster, emulator):
    repository = find(emulator, lambda r: r.get("tags") and "manifest.v2" in media_type(r))
    response = detail(client, cluster, repository["name"])
    assert response.status_code == 200
    html = response.content.decode()
    assert repository["owner"] in html
    assert f'class="badge {repository["scope"]}"' in html
    for tag in repository["tags"]:
        assert (
            f"docker pull mycluster.icp:8500/{repository['name']}:{tag['name']}" in html
            or f"docker pull {cluster.registry_host}/{repository['name']}:{tag['name']}" in html
        )
    assert "Docker v2" in html
    assert "compressed" in html
    assert html.count('data-copy="#pull-') == len(repository["tags"]) + 1


def test_it_always_asks_the_cluster_not_the_index(client, viewer, cluster, emulator):
    repository = find(emulator, lambda r: r.get("tags"))
    client.get(f"/clusters/{cluster.slug}/repositories/")
    new_tag = dict(repository["tags"][0], name="pushed-a-second-ago")
    emulator.repositories.put(dict(repository, tags=[*repository["tags"], new_tag]))
    html = detail(client, cluster, repository["name"]).content.decode()
    assert "pushed-a-second-ago" in html
    gets = [r for r in emulator.requests if r.path.endswith("/repositories/" + repository["name"])]
    assert len(gets) == 1


@pytest.mark.parametrize(
    ("is_kind", "label"),
    [
        (lambda m: "manifest.list.v2" in (m.get("mediaType") or ""), "manifest list"),
        (lambda m: "oci.image.index" in (m.get("mediaType") or ""), "OCI index"),
        (lambda m: "oci.image.manifest" in (m.get("mediaType") or ""), "OCI"),
        (lambda m: m.get("schemaVersion") == 1, "schema 1"),
    ],
)
def test_each_manifest_kind_is_named_readably(client, viewer, cluster, emulator, is_kind, label):
    repository = find(
        emulator,
        lambda r: r.get("tags") and any(is_kind(t.get("manifest") or {}) for t in r["tags"]),
    )
    html = detail(client, cluster, repository["name"]).content.decode()
    assert f">{label}</td>" in html


def test_multi_arch_tags_expand_to_their_platforms(client, viewer, cluster, emulator):
    repository = find(
        emulator,
        lambda r: (
            r.get("tags") and any("manifests" in (t.get("manifest") or {}) for t in r["tags"])
        ),
    )
    tag = next(t for t in repository["tags"] if "manifests" in (t.get("manifest") or {}))
    html = detail(client, cluster, repository["name"]).content.decode()
    for entry in tag["manifest"]["manifests"]:
        platform = entry.get("platform") or {}
        assert platform.get("architecture", "") in html
    assert re.search(r"<summary>\d+ platforms?: ", html)


def test_image_tags_expand_to_their_layers(client, viewer, cluster, emulator):
    repository = find(emulator, lambda r: r.get("tags") and "manifest.v2" in media_type(r))
    manifest = repository["tags"][0]["manifest"]
    html = detail(client, cluster, repository["name"]).content.decode()
    count = len(manifest["layers"])
    assert f"<summary>{count} layer{'s' if count != 1 else ''}</summary>" in html
    digest = manifest["layers"][0]["digest"]
    assert f'title="{digest}"' in html  # full digest on hover
    assert digest[:19] in html  # shortened in the cell


@pytest.mark.parametrize("tags", [[], None])
def test_a_repository_without_tags_says_so(client, viewer, cluster, emulator, tags):
    emulator.repositories.put(
        {"name": "team-a/empty", "owner": "team-a", "scope": "namespace", "tags": tags}
    )
    html = detail(client, cluster, "team-a/empty").content.decode()
    assert "No tags" in html
    assert "Nothing to pull" in html


def test_an_unknown_repository_is_a_readable_404(client, viewer, cluster, emulator):
    response = detail(client, cluster, "team-a/no-such-image")
    assert response.status_code == 404
    assert b"It may have been deleted" in response.content


def test_an_invalid_name_is_refused_before_any_upstream_call(client, viewer, cluster, emulator):
    for name in ("Team-A/App", "team-a/-/x", "team-a/..", "team-a//x", "a" * 300):
        response = detail(client, cluster, name)
        assert response.status_code == 404
    assert not [r for r in emulator.requests if "/repositories/" in r.path]


def test_upstream_errors_render_in_the_page(client, viewer, cluster, emulator):
    emulator.faults.add(
        method="GET",
        path=r"/repositories/team-a/",
        status=500,
        body="<html><body><h1>Internal error</h1></body></html>",
        content_type="text/html",
    )
    response = detail(client, cluster, "team-a/anything")
    assert response.status_code == 502
    html = response.content.decode()
    assert "Internal error" in html
    assert "<h1>Internal error</h1>" not in html


def test_a_cluster_refusal_is_shown_as_such(client, make_user, connect, cluster, emulator):
    user = make_user("olga", "Operator")
    connect(user, "viewer")
    client.force_login(user)
    hidden = find(emulator, lambda r: r["owner"] == "kube-system" and r["scope"] == "namespace")
    response = detail(client, cluster, hidden["name"])
    assert response.status_code == 404  # the cluster hides what the token cannot see


def test_change_and_delete_links_only_for_operators(client, make_user, connect, cluster, emulator):
    repository = find(emulator, lambda r: r.get("tags"))
    viewer = make_user("vera", "Viewer")
    connect(viewer, "admin")
    client.force_login(viewer)
    html = detail(client, cluster, repository["name"]).content.decode()
    assert "-/scope/" not in html and "-/delete/" not in html


def overview_size(response):
    html = response.content.decode()
    size = re.search(r"<dt>Size</dt><dd>(.*?)</dd>", html, re.S).group(1)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", size)).strip()


def test_the_size_says_unknown_at_least_or_0_b(client, viewer, cluster, emulator):
    assert overview_size(detail(client, cluster, "team-a/web/frontend")).startswith("unknown")
    # No tags: nothing stored, exactly.
    assert overview_size(detail(client, cluster, "team-a/scratch")).startswith("0 B")
    sized = emulator.repositories.get("default/alpine")["tags"][:1]
    listed = emulator.repositories.get("team-a/web/frontend")["tags"][:1]
    emulator.repositories.put(
        {"name": "team-a/mixed", "owner": "team-a", "scope": "global", "tags": sized + listed}
    )
    mixed = overview_size(detail(client, cluster, "team-a/mixed"))
    assert re.match(r"at least [\d.]+ (KB|MB) compressed", mixed)
    assert "1 tag of unknown size not counted" in mixed


def test_a_size_that_leaves_out_unknown_tags_says_at_least(client, viewer, cluster, emulator):
    image = find(emulator, lambda r: r.get("tags") and "manifest.v2" in media_type(r))["tags"][0]
    multi_arch = find(
        emulator,
        lambda r: (
            r.get("tags") and any("manifests" in (t.get("manifest") or {}) for t in r["tags"])
        ),
    )["tags"][0]
    emulator.repositories.put(
        {
            "name": "team-a/mixed",
            "owner": "team-a",
            "scope": "namespace",
            "tags": [dict(image, name="1.0"), dict(multi_arch, name="2.0")],
        }
    )
    html = detail(client, cluster, "team-a/mixed").content.decode()
    assert re.search(r"at least [\d.]+ [KMG]?B", html)
    assert "1 tag of unknown size not counted" in html
    assert re.search(r'title="manifest list manifests carry no image size">unknown<', html)


def test_the_pull_card_and_the_tags_start_with_latest(client, viewer, cluster, emulator):
    image = find(emulator, lambda r: r.get("tags") and "manifest.v2" in media_type(r))["tags"][0]
    names = ["1.9.0", "latest", "1.10.0", "nightly", "1.10.0-rc1"]
    emulator.repositories.put(
        {
            "name": "team-a/ordered",
            "owner": "team-a",
            "scope": "namespace",
            "tags": [dict(image, name=name) for name in names],
        }
    )
    html = detail(client, cluster, "team-a/ordered").content.decode()
    assert re.search(r'id="pull-latest">docker pull \S+/team-a/ordered:latest<', html)
    shown = re.findall(r'<td class="mono tag-cell"><strong>([^<]+)</strong>', html)
    assert shown == ["latest", "1.10.0", "1.10.0-rc1", "1.9.0", "nightly"]
