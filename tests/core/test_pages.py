import pytest
from django.db import DatabaseError
from django.urls import reverse

pytestmark = pytest.mark.django_db

PROTECTED = [
    "/",
    "/clusters/",
    "/clusters/current/",
    "/clusters/emu/connect/",
    "/audit/",
    "/clusters/emu/repositories/",
    "/clusters/emu/repositories/team-a/app/",
    "/clusters/emu/status/",
]


@pytest.mark.parametrize("url", PROTECTED)
def test_it_sends_anonymous_visitors_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_sign_in_page_is_public_and_has_the_form(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


def test_it_signs_in_and_out(client, make_user):
    make_user("vera", "Viewer")
    response = client.post(
        "/accounts/login/", {"username": "vera", "password": "correct-horse-battery-staple"}
    )
    assert response.status_code == 302
    page = client.get("/clusters/")
    assert b"Signed in as </span><strong>vera</strong>" in page.content
    assert client.get("/accounts/logout/").status_code == 405  # sign-out is POST only
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/clusters/").status_code == 302


def test_wrong_password_is_refused_with_a_message(client, make_user):
    make_user("vera", "Viewer")
    response = client.post("/accounts/login/", {"username": "vera", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_healthz_answers_ok_without_signing_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_answers_503_when_the_database_does_not(client, monkeypatch):
    from django.db.backends.utils import CursorWrapper

    def broken(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_base_layout_has_navigation_csrf_header_and_no_inline_script(client, make_user):
    user = make_user("olga", "Operator", "Auditor")
    client.force_login(user)
    html = client.get(reverse("clusters:list")).content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert "Sign out" in html
    assert ">Clusters</a>" in html
    assert ">Action log</a>" in html
    assert "/static/vendor/htmx-2.0.11.min.js" in html
    # Every <script> has a src: the strict CSP forbids inline code.
    assert html.count("<script") == html.count("<script src=")


def test_vendored_htmx_is_served_locally(client, make_user):
    from django.contrib.staticfiles import finders

    assert finders.find("vendor/htmx-2.0.11.min.js")
    assert finders.find("vendor/htmx-2.0.11.LICENSE")


def test_no_template_loads_anything_from_another_host():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for template in (root / "templates").rglob("*.html"):
        text = template.read_text()
        for needle in ('src="http', "src='http", 'href="http', "//cdn", "unpkg", "jsdelivr"):
            assert needle not in text, f"{template} references {needle}"


def test_every_page_carries_a_strict_content_security_policy(client):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
