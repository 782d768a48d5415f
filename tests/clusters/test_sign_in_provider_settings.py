"""How an admin offers "Sign in with <cluster>": add_cluster's options, the secret at rest."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from imgdash.clusters.models import ClusterIdentity, SignInProvider

pytestmark = pytest.mark.django_db

API = "https://master.example.com:8443/image-manager/api/v1"
SECRET = "s3cret-client-secret-CANARY"


def test_add_cluster_reads_the_secret_from_a_file_and_derives_the_discovery_url(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    call_command(
        "add_cluster",
        "Prod",
        API,
        "--oidc-client-id",
        "imgdash",
        "--oidc-client-secret-file",
        str(secret_file),
    )
    provider = SignInProvider.objects.get()
    assert provider.enabled and provider.client_id == "imgdash"
    assert provider.client_secret == SECRET
    assert provider.effective_discovery_url == (
        "https://master.example.com:8443/oidc/endpoint/OP/.well-known/openid-configuration"
    )


def test_add_cluster_reads_the_secret_from_the_environment(monkeypatch):
    monkeypatch.setenv("IMGDASH_OIDC_CLIENT_SECRET", SECRET)
    call_command("add_cluster", "Prod", API, "--oidc-client-id", "imgdash")
    assert SignInProvider.objects.get().client_secret == SECRET


def test_add_cluster_without_a_secret_is_refused(monkeypatch):
    monkeypatch.delenv("IMGDASH_OIDC_CLIENT_SECRET", raising=False)
    with pytest.raises(CommandError, match="client secret"):
        call_command("add_cluster", "Prod", API, "--oidc-client-id", "imgdash")


def test_the_client_secret_is_not_stored_in_plain_text(monkeypatch):
    monkeypatch.setenv("IMGDASH_OIDC_CLIENT_SECRET", SECRET)
    call_command("add_cluster", "Prod", API, "--oidc-client-id", "imgdash")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM clusters_signinprovider")
        rows = cursor.fetchall()
    assert rows and SECRET not in repr(rows)


def test_rotation_reencrypts_the_secret_and_refresh_tokens(monkeypatch, settings, make_user):
    monkeypatch.setenv("IMGDASH_OIDC_CLIENT_SECRET", SECRET)
    call_command("add_cluster", "Prod", API, "--oidc-client-id", "imgdash")
    provider = SignInProvider.objects.get()
    identity = ClusterIdentity(
        user=make_user("edith"), cluster=provider.cluster, issuer="https://op", subject="edith"
    )
    identity.set_refresh_token("refresh-CANARY")
    identity.save()
    old_key, new_key = settings.TOKEN_KEYS[0], Fernet.generate_key().decode()
    settings.TOKEN_KEYS = [new_key, old_key]
    call_command("rotate_token_keys")
    settings.TOKEN_KEYS = [new_key]
    assert SignInProvider.objects.get().client_secret == SECRET
    assert ClusterIdentity.objects.get().refresh_token == "refresh-CANARY"
