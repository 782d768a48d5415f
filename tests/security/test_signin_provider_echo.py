"""An identity provider that echoes the password in its error body: imgdash shows a fixed
message for the failure and never quotes the body, in the page or in the action log."""

import html
import json
from urllib.parse import quote, quote_plus

import pytest
from django.test import Client

from imgdash.audit.chain import CONTENT_FIELDS
from imgdash.audit.models import AuditEvent
from imgdash.clusters.models import Credential

pytestmark = pytest.mark.django_db

IDENTITY = "/idprovider/v1/auth/identitytoken"
# Every encoding of it contains the canary, so one search finds them all.
PASSWORD = "Canary7Tangerine <&\"'> x+y/z%"
CANARY = "Canary7Tangerine"


def echoes():
    forms = {
        "plain": PASSWORD,
        "percent-encoded": quote(PASSWORD, safe=""),
        "form-encoded": quote_plus(PASSWORD),
        "html-escaped": html.escape(PASSWORD),
    }
    return "; ".join(f"{name}: {value}" for name, value in forms.items())


@pytest.fixture
def viewer(client, make_user):
    user = make_user("vic", "Viewer")
    client.force_login(user)
    return user


@pytest.mark.parametrize(
    ("status", "content_type", "body", "said"),
    [
        (401, "text/plain", f"bad credentials for password {echoes()}", "rejected the username"),
        (400, "application/json", None, "rejected the username"),
        (403, "text/html", f"<html><title>{echoes()}</title></html>", "rejected the username"),
        (500, "text/plain", f"stack trace: password={echoes()}", "could not sign you in"),
        (503, "text/html", f"<h1>Down</h1><p>{echoes()}</p>", "could not sign you in"),
    ],
)
def test_the_password_echoed_by_the_provider_is_shown_and_stored_nowhere(
    client, viewer, make_user, cluster, emulator, status, content_type, body, said
):
    if body is None:
        body = json.dumps({"error": "invalid_grant", "error_description": echoes()})
    emulator.faults.add(
        method="POST", path=IDENTITY, status=status, body=body, content_type=content_type
    )
    url = f"/clusters/{cluster.slug}/connect/"
    response = client.post(url, {"username": "admin", "password": PASSWORD})
    assert response.status_code == 400
    page = response.content.decode()
    assert said in page
    assert f"HTTP {status}" in page
    assert not Credential.objects.exists()
    auditor = Client()
    auditor.force_login(make_user("ada", "Auditor"))
    pages = [page, client.get(url).content.decode(), auditor.get("/audit/").content.decode()]
    for text in pages:
        assert CANARY not in text
    rows = list(AuditEvent.objects.values(*CONTENT_FIELDS))
    assert rows, "the failure is logged"
    assert CANARY not in repr(rows)
    event = AuditEvent.objects.get(action="credential.connect_failed")
    assert event.status == status
