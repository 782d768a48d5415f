import sys

import pytest

from tests.repositories.registry_fake import standard_registry


@pytest.fixture
def registry(monkeypatch):
    """The fake registry module (registry_fake.py) in place of the real client, holding every
    digest of put_repository()'s default tags."""
    fake = standard_registry()
    monkeypatch.setitem(sys.modules, "imgdash.imagemanager.registry", fake.module())
    return fake
