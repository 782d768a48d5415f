"""Every request has an id: in the response header, on the page, in the action log."""

import re

import pytest
from django.test import RequestFactory

from imgdash.audit.models import AuditEvent
from imgdash.core.views import server_error

pytestmark = pytest.mark.django_db


def test_responses_carry_a_request_id(client, make_user):
    client.force_login(make_user("audra", "Auditor"))
    response = client.get("/audit/")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert response["X-Request-ID"].encode() in response.content  # the footer shows it


def test_a_proxys_plain_request_id_is_kept_and_a_forged_one_replaced(client):
    assert client.get("/healthz", headers={"X-Request-ID": "lb-42.a_b"})["X-Request-ID"] == (
        "lb-42.a_b"
    )
    forged = client.get("/healthz", headers={"X-Request-ID": "bad id\n<x>"})["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", forged)


def test_the_request_id_reaches_the_log(client, make_user):
    client.force_login(make_user("val"))
    response = client.get("/clusters/")
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="access.denied")
    assert event.request_id == response["X-Request-ID"]


def test_the_server_error_page_shows_the_request_id():
    request = RequestFactory().get("/")
    request.request_id = "abc123"
    response = server_error(request)
    assert response.status_code == 500
    assert b"request id abc123" in response.content
