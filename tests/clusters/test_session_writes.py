"""Browsing does not write the session on every request."""

import pytest
from django.contrib.sessions.backends.cached_db import SessionStore

pytestmark = pytest.mark.django_db


def test_pages_of_the_same_cluster_do_not_save_the_session_each_time(
    client, operator, cluster, monkeypatch
):
    pages = [
        f"/clusters/{cluster.slug}/repositories/",
        f"/clusters/{cluster.slug}/repositories/?q=nginx",
        f"/clusters/{cluster.slug}/repositories/?page=2",
        f"/clusters/{cluster.slug}/repositories/default/alpine/",
    ]
    assert client.get(pages[0]).status_code == 200  # remembers the current cluster: one save
    saves = []
    save = SessionStore.save
    monkeypatch.setattr(
        SessionStore, "save", lambda self, *a, **k: saves.append(1) or save(self, *a, **k)
    )
    for url in pages:
        assert client.get(url).status_code == 200
    assert saves == []
