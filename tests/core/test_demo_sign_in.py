"""The demo's "Sign in with Demo cluster": the emulator's client matches the demo's port."""

from imgdash.core.management.commands.demo import demo_oidc_client
from imgdash.emulator.oidc_clients import DEMO_CLIENT


def test_the_default_port_uses_the_emulators_demo_client():
    assert demo_oidc_client("127.0.0.1:8000") == DEMO_CLIENT


def test_another_port_gets_redirect_uris_on_that_port():
    client = demo_oidc_client("127.0.0.1:8765")
    assert client["redirect_uris"] == [
        "http://127.0.0.1:8765/oidc/callback/",
        "http://localhost:8765/oidc/callback/",
    ]
    assert client["post_logout_redirect_uris"] == [
        "http://127.0.0.1:8765/",
        "http://localhost:8765/",
    ]
