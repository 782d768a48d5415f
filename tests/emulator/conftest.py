import pytest

from imgdash.emulator.server import EmulatorServer


@pytest.fixture
def bearer(emulator):
    """Authorization headers carrying a fresh ID token for one of the emulator's users."""

    def headers(username="admin"):
        return {"Authorization": "Bearer " + emulator.issue_id_token(username)}

    return headers


@pytest.fixture
def start_emulator():
    """Start extra emulators (TLS, short token lifetime, state file...); all stopped after."""
    started = []

    def start(**kwargs):
        kwargs.setdefault("repos", 20)
        server = EmulatorServer(**kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
