"""A request slowed by a latency fault goes on after its client gave up. reset() waits for it,
so its late change cannot land in the next test's freshly seeded state."""

import pytest
import requests

from tests.emulator import client


def test_reset_waits_for_a_slowed_write_before_restoring(emulator, bearer):
    name = emulator.repositories.names()[0]
    emulator.faults.add(method="DELETE", path="/repositories/", latency=0.8)
    with pytest.raises(requests.Timeout):
        client.delete(f"{emulator.api_url}/repositories/{name}", headers=bearer(), timeout=0.2)
    emulator.reset()  # the DELETE lands while reset waits, then the seeded state returns
    assert emulator.repositories.get(name) is not None
    assert emulator.wait_idle(timeout=0)


def test_the_late_write_does_happen(emulator, bearer):
    name = emulator.repositories.names()[0]
    emulator.faults.add(method="DELETE", path="/repositories/", latency=0.5)
    with pytest.raises(requests.Timeout):
        client.delete(f"{emulator.api_url}/repositories/{name}", headers=bearer(), timeout=0.1)
    assert emulator.wait_idle(timeout=5)
    assert emulator.repositories.get(name) is None
