"""Deleting one tag from the repository page: the dialog names every tag sharing the image,
the button waits for the typed tag, and the tags are gone from the page afterwards."""

import re

import pytest
from playwright.sync_api import expect

from tests.repositories.test_tag_delete import tag_names, with_shared_tag

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_dialog_deletes_the_tag_and_its_twin_from_the_page(
    signed_in, make_user, connect, registry_cluster, emulator
):
    name, tag, extra = with_shared_tag(emulator)
    nina = make_user("nina", "Operator")
    connect(nina, "nsadmin")
    page = signed_in(user=nina)
    page.goto(f"/clusters/emu/repositories/{name}/")
    tags = page.locator("#tag-table td.tag-cell > strong")
    expect(tags.filter(has_text=re.compile(f"^{re.escape(extra)}$"))).to_have_count(1)

    page.get_by_role("link", name=f"Delete tag {tag}…", exact=True).click()
    dialog = page.locator("dialog#tag-delete-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#tags-going li")).to_have_text([tag, extra])
    button = dialog.locator("button[data-confirm-button]")
    field = dialog.locator("#confirm-tag")
    expect(field).to_be_focused()
    field.fill(extra)
    expect(button).to_be_disabled()
    field.fill(tag)
    expect(button).to_be_enabled()
    button.click()

    expect(page.locator(".messages")).to_contain_text(f"Deleted 2 tags of {name}")
    for gone in (tag, extra):
        expect(tags.filter(has_text=re.compile(f"^{re.escape(gone)}$"))).to_have_count(0)
    assert tag not in tag_names(emulator, name) and extra not in tag_names(emulator, name)
