"""axe-core finds nothing to fix (WCAG 2.2 A and AA, and axe's best practices such as content
outside landmarks and a page without an <h1>) on every page, in light and dark mode and at
phone width.

axe-core is vendored for the tests only (tests/browser/vendor/, MPL-2.0): nothing of it is
served by imgdash. It is loaded as a same-origin script, so the pages keep their
Content-Security-Policy while axe looks at them.
"""

import re
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core-4.14.1.min.js"
# Served to the browser from this address by the test itself (page.route), never by imgdash:
# 'self' in script-src allows it, so the CSP stays on.
AXE_URL = "/__axe-core.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

MODES = {
    "light": {"color_scheme": "light", "viewport": {"width": 1280, "height": 900}},
    "dark": {"color_scheme": "dark", "viewport": {"width": 1280, "height": 900}},
    "phone": {"color_scheme": "light", "viewport": {"width": 390, "height": 844}},
    "phone-dark": {"color_scheme": "dark", "viewport": {"width": 390, "height": 844}},
}

# One repository of every kind the emulator seeds.
KINDS = {
    "Docker v2": "default/alpine",
    "OCI image": "team-a/tools/builder",
    "manifest list": "team-a/web/frontend",
    "OCI index": "team-b/ml/scorer",
    "schema 1": "team-c/legacy/billing",
    "empty": "team-a/scratch",
    "no tags": "team-b/placeholder",
}
LIST = "/clusters/emu/repositories/"


def axe_violations(page):
    """axe's violations on the page as it stands: [(rule, impact, elements, examples)]."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(url=AXE_URL)
    found = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            const why = (node) => node.any.concat(node.all, node.none)
                .map((check) => check.message).join("; ");
            return result.violations.map((v) => [
                v.id, v.impact, v.nodes.length,
                v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " [" + why(n) + "]")
                    .join(", "),
            ]);
        }""",
        TAGS,
    )
    return [tuple(v) for v in found]


def session_cookie(live_server, user):
    client = Client()
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}


def visits(page, live_server, viewer, newcomer, admin):
    """Each page of the console in turn: yields its name once the page is showing."""
    page.goto("/accounts/login/")
    yield "sign-in"
    page.fill("#id_username", "olga")
    page.fill("#id_password", "not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".alert.error")).to_be_visible()
    yield "sign-in, failed"
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{LIST}")
    expect(page.locator("#repository-table")).to_be_visible()
    yield "list"
    page.goto(f"{LIST}?q=team-a&sort=-size")
    expect(page.locator("#repository-table")).to_be_visible()
    yield "search results"
    page.goto(f"{LIST}?q=tag:1")
    expect(page.locator("#repository-table .tag-match").first).to_be_visible()
    yield "tag search"
    page.locator("#repository-table .scope-cell a", has_text="change").first.click()
    expect(page.locator(".scope-cell.editing")).to_be_visible()
    yield "inline scope editor"
    page.goto(f"{LIST}?q=nothing-matches-this")
    yield "search, no results"
    for kind, name in KINDS.items():
        page.goto(f"{LIST}{name}/")
        expect(page.locator("h1")).to_be_visible()
        yield f"detail ({kind})"
    page.goto(f"{LIST}default/alpine/")
    page.locator("#get-docker-token").click()
    expect(page.locator("#docker-token-card")).to_be_visible()
    yield "docker token on the detail page"
    page.locator("#delete-repository").click()
    expect(page.locator("dialog[open]")).to_be_visible()
    yield "delete dialog"
    page.goto(f"{LIST}default/alpine/")
    # The form as it works without JavaScript: a whole page.
    page.evaluate("document.querySelector('#get-docker-token').form.submit()")
    page.wait_for_url("**/docker-token/")
    yield "docker token page"
    page.goto(f"{LIST}default/alpine/-/scope/")
    yield "scope page"
    page.goto(f"{LIST}default/alpine/-/delete/")
    yield "delete page"
    page.goto(LIST)
    boxes = page.locator("input[data-bulk]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.locator("[data-bulk-submit]").click()
    expect(page.locator("dialog#bulk-dialog[open]")).to_be_visible()
    yield "bulk delete dialog"
    # The same confirmation as it works without JavaScript: a whole page.
    page.evaluate("document.getElementById('bulk-form').submit()")
    page.wait_for_url(re.compile(r"/-/bulk-delete/$"))
    yield "bulk delete page"
    page.fill("#confirm-count", "2")
    page.locator("#bulk-confirm button[data-confirm-button]").click()
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    yield "job"
    page.goto("/jobs/")
    yield "jobs"
    page.goto("/clusters/")
    yield "clusters"
    page.goto("/clusters/emu/connect/")
    yield "connect"
    page.goto("/clusters/emu/status/")
    yield "status"
    page.goto("/clusters/emu/storage/")
    yield "storage"
    page.goto("/clusters/emu/cleanup/?more_than_tags=3")
    yield "cleanup dry run"
    page.goto("/clusters/emu/cleanup/?largest=abc")
    yield "cleanup, bad input"
    page.goto("/audit/")
    yield "action log"
    page.locator("details.event-toggle summary").first.click()
    expect(page.locator(".event-details-row").first).to_be_visible()
    yield "action log, details open"
    page.goto(f"{LIST}no/such/repository/")
    yield "missing repository"
    page.goto("/nothing/here/")
    yield "404"
    page.context.clear_cookies()
    page.context.add_cookies([session_cookie(live_server, viewer)])
    page.goto(f"{LIST}default/alpine/-/scope/")  # an Operator's page
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    yield "403"
    page.context.clear_cookies()
    page.context.add_cookies([session_cookie(live_server, newcomer)])
    page.goto("/")
    yield "no role"
    page.context.clear_cookies()
    page.context.add_cookies([session_cookie(live_server, admin)])
    page.goto("/people/")
    yield "people"
    page.get_by_role("link", name="Deactivate… vera").click()
    expect(page.locator("dialog[open]")).to_be_visible()
    yield "deactivate dialog"
    page.goto(f"/people/{viewer.pk}/deactivate/")
    yield "deactivate page"


@pytest.mark.parametrize("mode", MODES)
def test_axe_finds_nothing_on_any_page(
    mode, browser, live_server, make_user, connect, settings, capsys
):
    settings.DEMO = True  # the demo banner shows on every page
    operator = make_user("olga", "Operator", "Auditor")
    connect(operator, "admin")
    viewer = make_user("vera", "Viewer")
    connect(viewer, "viewer")
    newcomer = make_user("nina")
    admin = make_user("ada", superuser=True)
    context = browser.new_context(base_url=live_server.url, **MODES[mode])
    context.set_default_timeout(15_000)
    context.route(f"**{AXE_URL}", lambda route: route.fulfill(path=str(AXE)))
    found = {}
    try:
        page = context.new_page()
        for name in visits(page, live_server, viewer, newcomer, admin):
            found[name] = axe_violations(page)
    finally:
        context.close()
    with capsys.disabled():
        rules = sum(len(v) for v in found.values())
        elements = sum(v[2] for violations in found.values() for v in violations)
        print(f"\naxe, {mode}: {rules} violations ({elements} elements) on {len(found)} pages")
    report = [
        f"{name}: {rule} ({impact}, {nodes} elements) e.g. {example}"
        for name, violations in found.items()
        for rule, impact, nodes, example in violations
    ]
    assert not report, f"axe in {mode} mode:\n" + "\n".join(report)
