"""One redaction for error excerpts and the action log."""

import pytest

from imgdash.audit.log import clean_text
from imgdash.imagemanager import redact_secrets

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    "token",
    [
        JWT,
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.",  # unsigned
        "eyJa.eyJb.c",  # short parts
        "eyJhbGciOiJSUzI1NiJ9.c29tZSBwYXlsb2Fk.sig",  # a payload that is not JSON
    ],
)
def test_anything_jwt_shaped_is_redacted(token):
    assert redact_secrets(f"bad {token}!") == "bad [redacted]!"
    assert redact_secrets(token, token_text="[redacted token]") == "[redacted token]"


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "Basic", "BASIC"])
def test_credentials_after_an_auth_scheme_are_redacted(scheme):
    assert redact_secrets(f"Authorization: {scheme} abcdefgh12345") == (
        f"Authorization: {scheme} [redacted]"
    )


def test_known_secrets_are_redacted_and_empty_ones_ignored():
    out = redact_secrets("user=al password=hunter2-secret", ["hunter2-secret", "", None])
    assert out == "user=al password=[redacted]"


def test_short_words_after_bearer_are_left_alone():
    assert redact_secrets("Bearer token missing") == "Bearer token missing"


def test_the_action_log_redacts_the_same_way():
    assert clean_text(f"Basic dXNlcjpwYXNzd29yZA== and {JWT}", 200) == (
        "Basic [redacted] and [redacted token]"
    )
