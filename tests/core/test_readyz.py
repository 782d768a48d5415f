import pytest
from django.db import DatabaseError

pytestmark = pytest.mark.django_db


def test_it_is_ready_without_signing_in(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "cache": "ok",
        "migrations": "ok",
    }
    assert "no-cache" in response["Cache-Control"]


def test_it_is_not_ready_when_the_database_does_not_answer(client, monkeypatch):
    from django.db.backends.utils import CursorWrapper

    def broken(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "not answering"
    assert response.json()["migrations"] == "unknown"
    assert b"connection refused" not in response.content


def test_it_is_not_ready_while_migrations_are_pending(client, monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [object()] * 2)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["migrations"] == "2 not applied"


def test_it_is_not_ready_when_the_cache_fails(client, monkeypatch):
    from django.core.cache import cache

    def broken(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "set", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["cache"] == "not answering"


def test_it_is_not_ready_when_the_cache_keeps_nothing(client, monkeypatch):
    from django.core.cache import cache

    monkeypatch.setattr(cache, "get", lambda *args, **kwargs: None)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["cache"] == "not keeping values"


def test_healthz_stays_liveness_when_only_the_cache_fails(client, monkeypatch):
    from django.core.cache import cache

    monkeypatch.setattr(cache, "get", lambda *args, **kwargs: None)
    assert client.get("/healthz").status_code == 200


def test_it_refuses_post(client):
    assert client.post("/readyz").status_code == 405
