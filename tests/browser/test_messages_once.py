"""What a person reads in the browser says each thing once: a refusal in the delete dialog,
a token the cluster stopped accepting."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIST = "/clusters/emu/repositories/"


def a_repository_of(emulator, owner):
    return next(r["name"] for r in emulator.repositories.all() if r["owner"] == owner)


def test_a_refused_delete_says_so_once_and_names_the_role_needed(
    signed_in, make_user, connect, emulator
):
    tom = make_user("tom", "Operator")
    connect(tom, "nsadmin")  # Administrator of team-a only
    page = signed_in(tom)
    name = a_repository_of(emulator, "team-a")
    page.goto(f"{LIST}{name}/")
    emulator.faults.add(method="DELETE", status=403, body="user nsadmin may not delete\n")
    page.locator("#delete-repository").click()
    dialog = page.locator("dialog[open]")
    dialog.locator("[data-confirm-match]").fill(name)
    dialog.get_by_role("button", name="Delete repository").click()
    expect(dialog).to_contain_text("The cluster refused")
    text = dialog.inner_text()
    assert text.count("The cluster refused") == 1
    assert text.count("user nsadmin may not delete") == 1
    assert "Deleting needs the Administrator role in namespace team-a" in text
    page.keyboard.press("Escape")
    page.goto("/clusters/")
    assert "The cluster refused" not in page.locator("main").inner_text()


def test_a_token_the_cluster_stopped_accepting_shows_one_banner(signed_in, emulator):
    emulator.faults.add(method="GET", status=401)
    page = signed_in()  # signing in opens the repository list, which the cluster refuses
    page.goto(LIST)
    page.wait_for_url("**/clusters/emu/connect/**")
    text = page.locator("main").inner_text()
    said = sum(
        text.count(phrase)
        for phrase in ("did not accept your token", "no longer accepted", "no longer accepts")
    )
    assert said == 1, text
