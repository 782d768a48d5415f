from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F

from imgdash.audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def vera(make_user):
    return make_user("vera", "Viewer")


def sign_in(client, password, username="vera"):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_the_limit_and_cool_off_come_from_the_settings(client, vera, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    assert sign_in(client, "wrong").status_code == 200
    locked = sign_in(client, "wrong")
    assert locked.status_code == 429
    assert "paused for 1 minute " in locked.content.decode()
    assert AuditEvent.objects.get(action="auth.lockout").details["cooloff_seconds"] == 60


def test_after_the_cool_off_the_right_password_signs_in(client, vera, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong")
    assert sign_in(client, PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - settings.AXES_COOLOFF_TIME)
    assert sign_in(client, PASSWORD).status_code == 302


def test_a_successful_sign_in_forgets_earlier_mistakes(client, vera, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wrong")
    assert sign_in(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wrong")
    assert sign_in(client, PASSWORD).status_code == 302


def test_a_wrong_password_still_says_so_before_the_limit(client, vera):
    response = sign_in(client, "wrong")
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_the_stored_attempts_keep_no_password(client, vera):
    sign_in(client, "hunter2-guess")
    assert "hunter2-guess" not in repr(list(AccessAttempt.objects.values()))
