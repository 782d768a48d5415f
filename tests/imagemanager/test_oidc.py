"""The OpenID provider client against the emulator: where it agrees to send secrets."""

import orjson
import pytest

from imgdash.imagemanager import ProtocolError
from imgdash.imagemanager.oidc import OpenIDClient

SECRET = "client-secret-CANARY"


def discovery_url(emulator):
    return emulator.oidc_url + "/.well-known/openid-configuration"


def test_it_reads_the_providers_endpoints(emulator):
    with OpenIDClient(discovery_url(emulator), "imgdash", SECRET) as client:
        config = client.discover()
    assert config.issuer == emulator.oidc_url
    assert config.token_endpoint == emulator.oidc_url + "/token"
    assert config.end_session_endpoint == emulator.oidc_url + "/logout"


def test_a_token_endpoint_on_another_host_is_refused(emulator):
    body = {
        "issuer": emulator.oidc_url,
        "authorization_endpoint": emulator.oidc_url + "/authorize",
        "token_endpoint": "https://collector.example/token",
        "jwks_uri": emulator.oidc_url + "/jwk",
    }
    emulator.faults.add(
        path="openid-configuration$",
        status=200,
        body=orjson.dumps(body).decode(),
        content_type="application/json",
    )
    client = OpenIDClient(discovery_url(emulator), "imgdash", SECRET)
    with client, pytest.raises(ProtocolError, match="another host"):
        client.discover()


def test_the_secret_is_not_in_its_repr(emulator):
    assert SECRET not in repr(OpenIDClient(discovery_url(emulator), "imgdash", SECRET))
