import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from imgdash.clusters import crypto
from imgdash.clusters.models import Credential

pytestmark = pytest.mark.django_db

CANARY = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.Q0FOQVJZLVRPS0VOLTEyMzQ1Njc4OTA"


def test_encryption_round_trip_and_ciphertext_hides_the_token():
    ciphertext = crypto.encrypt_token(CANARY)
    assert CANARY not in ciphertext
    assert crypto.decrypt_token(ciphertext) == CANARY


def test_fingerprint_is_short_stable_and_not_the_token():
    assert crypto.fingerprint(CANARY) == crypto.fingerprint(CANARY)
    assert len(crypto.fingerprint(CANARY)) == 12
    assert crypto.fingerprint(CANARY) not in CANARY


def test_the_token_is_not_stored_in_plain_text(make_user, cluster, settings):
    from imgdash.clusters.services import save_credential

    save_credential(make_user("olga", "Operator"), cluster, CANARY)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM clusters_credential")
        rows = cursor.fetchall()
    assert rows
    assert CANARY not in repr(rows)
    assert CANARY.split(".")[2] not in repr(rows)


def test_rotation_reencrypts_with_the_new_key_and_reads_keep_working(make_user, cluster, settings):
    from imgdash.clusters.services import save_credential

    old_key = settings.TOKEN_KEYS[0]
    credential = save_credential(make_user("olga", "Operator"), cluster, CANARY)
    new_key = Fernet.generate_key().decode()
    # During a rotation both keys are configured, the new one first: old rows still read.
    settings.TOKEN_KEYS = [new_key, old_key]
    assert Credential.objects.get(pk=credential.pk).token == CANARY
    call_command("rotate_token_keys")
    settings.TOKEN_KEYS = [new_key]
    assert Credential.objects.get(pk=credential.pk).token == CANARY


def test_rotation_reports_the_count(make_user, cluster, capsys):
    from imgdash.clusters.services import save_credential

    for name in ("a1", "a2", "a3"):
        save_credential(make_user(name, "Viewer"), cluster, CANARY)
    call_command("rotate_token_keys")
    assert "Re-encrypted 3 token(s)" in capsys.readouterr().out


def test_rotation_names_tokens_no_key_can_read(make_user, cluster, settings):
    from imgdash.clusters.services import save_credential

    save_credential(make_user("olga", "Operator"), cluster, CANARY)
    settings.TOKEN_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="could not be read with any configured key"):
        call_command("rotate_token_keys")
