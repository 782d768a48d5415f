"""The detail page with the real registry client against the emulator's registry."""

import html as html_text

import pytest

pytestmark = pytest.mark.django_db


def detail(client, cluster, name):
    response = client.get(f"/clusters/{cluster.slug}/repositories/{name}/")
    return response.status_code, html_text.unescape(response.content.decode())


@pytest.mark.parametrize(
    "name", ["default/alpine", "team-a/tools/builder", "team-a/web/frontend", "team-b/ml/scorer"]
)
def test_detail_pages_show_build_dates_from_the_emulators_registry(
    client, viewer, registry_cluster, name
):
    status, html = detail(client, registry_cluster, name)
    assert status == 200
    assert "ago</time>" in html
    assert "Build dates and platforms are not shown" not in html


def test_a_registry_that_refuses_leaves_the_page_working_with_a_note(
    client, viewer, registry_cluster, emulator
):
    emulator.faults.add(method="*", path="^/v2/", status=503)
    status, html = detail(client, registry_cluster, "default/alpine")
    assert status == 200
    assert "Build dates and platforms are not shown" in html
    assert "ago</time>" not in html


def registry_calls(emulator):
    return [r for r in emulator.requests if r.path.startswith("/v2/")]


def test_a_registry_that_cannot_be_reached_is_not_waited_on_by_every_page(
    client, viewer, registry_cluster, emulator
):
    emulator.faults.add(method="*", path="^/v2/", reset=True)
    status, first = detail(client, registry_cluster, "default/alpine")
    assert status == 200 and "Build dates and platforms are not shown" in first
    asked = len(registry_calls(emulator))
    assert asked > 0
    # Another repository, moments later: the page says why at once and asks nothing.
    status, second = detail(client, registry_cluster, "team-a/tools/builder")
    assert status == 200
    assert "could not be reached moments ago; imgdash asks it again within 30 seconds" in second
    assert len(registry_calls(emulator)) == asked


def test_a_registry_that_refuses_the_token_is_asked_again_at_once(
    client, viewer, registry_cluster, emulator
):
    # A refusal means the registry is up: nothing to rest.
    emulator.faults.add(method="*", path="^/v2/", status=401, times=1)
    detail(client, registry_cluster, "default/alpine")
    status, html = detail(client, registry_cluster, "default/alpine")
    assert status == 200 and "ago</time>" in html
