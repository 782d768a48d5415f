import pytest
from cryptography.fernet import Fernet

from imgdash.clusters.models import Credential

pytestmark = pytest.mark.django_db


def test_reconnecting_replaces_a_token_no_key_can_read(
    client, make_user, connect, cluster, emulator, settings
):
    user = make_user("olga", "Operator")
    connect(user, "operator")
    client.force_login(user)
    settings.TOKEN_KEYS = [Fernet.generate_key().decode()]
    assert "/connect/" in client.get(f"/clusters/{cluster.slug}/repositories/")["Location"]

    token = emulator.issue_id_token("operator")
    client.post(f"/clusters/{cluster.slug}/connect/", {"token": token})

    assert client.get(f"/clusters/{cluster.slug}/repositories/").status_code == 200
    assert Credential.objects.get(user=user).token == token


def test_rotate_token_keys_still_names_the_unreadable_tokens(make_user, connect, settings):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    connect(make_user("olga", "Operator"), "operator")
    settings.TOKEN_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="could not be read"):
        call_command("rotate_token_keys")
