"""Repository pages with the real registry client against the emulator's registry v2 API:
build dates newest first for each kind of manifest, true sizes of multi-arch images, and a
registry that is down, slow or refusing leaving the page usable with a note.

The expected dates are the emulator's own (images.created_at from its anchor), not read back
through imgdash."""

from datetime import datetime

import orjson
import pytest
from django.test import override_settings
from playwright.sync_api import expect

from imgdash.core.templatetags.imgdash import bytes_human
from imgdash.emulator import images

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KINDS = {
    "default/alpine": "Docker v2",
    "team-a/tools/builder": "OCI",
    "team-a/web/frontend": "manifest list",
    "team-b/ml/scorer": "OCI index",
}


def open_detail(signed_in, name):
    page = signed_in()
    page.goto(f"/clusters/emu/repositories/{name}/")
    expect(page.locator("#tag-table .facts-pending")).to_have_count(0)
    return page


def dated_rows(page):
    """(tag name, <time> datetime, its title, its text) of each tag row with a build date."""
    rows = []
    for row in page.locator("#tag-table > tbody > tr.tag-row").all():
        time = row.locator("td.tag-built time")
        if time.count():
            name = row.locator("td.tag-cell strong").first.inner_text()
            rows.append((name, time.get_attribute("datetime"), time.get_attribute("title")))
            assert time.inner_text().endswith(" ago")
    return rows


@pytest.mark.parametrize("name", list(KINDS), ids=list(KINDS.values()))
def test_each_kind_of_image_shows_its_build_dates_newest_first(
    signed_in, registry_cluster, emulator, name
):
    page = open_detail(signed_in, name)

    rows = dated_rows(page)
    tags = emulator.repositories.get(name)["tags"]
    assert len(rows) >= len(tags) - 1  # a config may be missing, as after a partial GC
    for tag, _, title in rows:
        created = images.created_at(name, tag, emulator.anchor)
        assert title == created.strftime("%Y-%m-%d %H:%M:%S UTC")
    moments = [datetime.fromisoformat(when) for _, when, _ in rows]
    assert moments == sorted(moments, reverse=True)
    assert rows[0][0] == "latest" or "latest" not in {t["name"] for t in tags}
    expect(page.locator("#registry-note")).to_have_count(0)


def platform_sizes(name, tag, anchor):
    """Each platform's image size (config + layers) as the emulator's registry serves it, or
    None when the registry lost one of them."""
    sizes = []
    for entry in tag["manifest"]["manifests"]:
        if images.is_missing_manifest(entry["digest"]):
            return None
        body, config = images.platform_manifest_bytes(
            name, tag["name"], entry.get("platform") or {}, entry["mediaType"], anchor
        )
        sizes.append(len(config) + sum(layer["size"] for layer in orjson.loads(body)["layers"]))
    return sizes


@pytest.mark.parametrize("name", ["team-a/web/frontend", "team-b/ml/scorer"])
def test_multi_arch_images_show_their_true_size_per_platform_and_in_total(
    signed_in, registry_cluster, emulator, name
):
    tags = emulator.repositories.get(name)["tags"]
    whole = [(t, s) for t in tags if (s := platform_sizes(name, t, emulator.anchor)) and len(s) > 1]
    assert whole, "the seed has a multi-arch tag the registry holds whole"
    tag, sizes = whole[0]
    page = open_detail(signed_in, f"{name}/?tags=name")

    expect(page.locator("#repository-size")).not_to_contain_text("unknown")
    row = page.locator("#tag-table > tbody > tr.tag-row").filter(
        has=page.locator("td.tag-cell strong", has_text=tag["name"])
    )
    expect(row.locator("td.tag-size")).to_have_text(bytes_human(sum(sizes)))
    row.locator("td.tag-parts summary").click()
    shown = row.locator("td.platform-size")
    expect(shown).to_have_text([bytes_human(size) for size in sizes])
    expect(row.locator("tfoot td")).to_have_text(bytes_human(sum(sizes)))


def test_a_registry_that_is_down_leaves_the_page_usable_with_a_note(
    signed_in, registry_cluster, emulator
):
    emulator.faults.add(method="*", path="^/v2/", status=503)
    page = signed_in()
    page.goto("/clusters/emu/repositories/default/alpine/")

    expect(page.locator("#registry-note")).to_contain_text(
        f"the registry at {emulator.registry_host} failed (HTTP 503)"
    )
    expect(page.locator("#tag-table td.tag-built time")).to_have_count(0)
    expect(page.locator("#tag-table > tbody > tr.tag-row")).to_have_count(4)
    expect(page.locator("#pull-latest")).to_contain_text("docker pull")
    page.get_by_role("link", name="Repositories on Emulator").click()
    expect(page.locator("#repository-table")).to_be_visible()


@pytest.mark.parametrize("status", [401, 403])
def test_a_registry_that_refuses_leaves_the_page_usable_with_a_note(
    signed_in, registry_cluster, emulator, status
):
    emulator.faults.add(method="*", path="^/v2/", status=status)
    page = signed_in()
    page.goto("/clusters/emu/repositories/team-a/web/frontend/")

    expect(page.locator("#registry-note")).to_contain_text(
        f"refused imgdash's pull token (HTTP {status})"
    )
    expect(page.locator("#tag-table td.tag-built time")).to_have_count(0)
    expect(page.locator("#pull-latest")).to_contain_text("docker pull")


def test_a_slow_registry_fills_the_dates_in_after_the_page(signed_in, registry_cluster, emulator):
    emulator.faults.add(method="*", path="^/v2/", latency=0.4, times=4)
    with override_settings(REGISTRY_DEADLINE_MS=200):
        page = signed_in()
        served = page.goto("/clusters/emu/repositories/default/alpine/")
        assert "facts-pending" in served.text()  # the page did not wait for the registry

        expect(page.locator("#tag-table .facts-pending")).to_have_count(0)
        rows = dated_rows(page)
    assert [tag for tag, _, _ in rows][:1] == ["latest"]
    assert len(rows) >= 3
    expect(page.locator("#registry-note")).to_have_count(0)
