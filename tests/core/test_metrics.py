import ipaddress

import pytest
from prometheus_client.parser import text_string_to_metric_families

from imgdash.jobs.models import Job

pytestmark = pytest.mark.django_db


def metrics_text(client, **extra):
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def sample(text, name, **labels):
    """The value of the sample `name` with exactly these labels, or None."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return None


def test_it_answers_loopback_without_signing_in(client):
    text = metrics_text(client)
    assert "# TYPE imgdash_request_seconds histogram" in text
    assert "# TYPE imgdash_upstream_call_seconds histogram" in text


def test_it_is_a_404_to_clients_outside_the_allowed_networks(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 404
    assert b"imgdash_" not in response.content


def test_a_signed_in_admin_outside_the_networks_is_refused_too(client, make_user):
    client.force_login(make_user("ada", superuser=True))
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404


def test_the_allowed_networks_come_from_the_setting(client, settings):
    settings.METRICS_ALLOW = [ipaddress.ip_network("10.1.0.0/16")]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


def test_behind_a_proxy_the_client_is_the_address_the_proxy_saw(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The proxy itself is on loopback; the real client is not allowed.
    outside = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    assert client.get("/metrics", **outside).status_code == 404
    inside = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "127.0.0.1"}
    assert client.get("/metrics", **inside).status_code == 200


def test_a_request_through_a_proxy_imgdash_was_not_told_of_is_refused(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    proxied = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    assert client.get("/metrics", **proxied).status_code == 404


def test_it_counts_requests_by_view(client):
    before = (
        sample(
            metrics_text(client),
            "imgdash_request_seconds_count",
            **{"view": "healthz", "method": "GET", "status": "2xx"},
        )
        or 0
    )
    client.get("/healthz")
    client.get("/healthz")
    after = sample(
        metrics_text(client),
        "imgdash_request_seconds_count",
        **{"view": "healthz", "method": "GET", "status": "2xx"},
    )
    assert after == before + 2


def test_it_counts_upstream_calls_by_operation_and_status(client, operator, cluster, emulator):
    emulator.faults.add(method="GET", path=r"/repositories/team-a/", status=500, times=1)
    labels = {"operation": "get repository", "status": "500", "outcome": "refused"}
    before = sample(metrics_text(client), "imgdash_upstream_call_seconds_count", **labels) or 0
    client.get("/clusters/emu/repositories/team-a/app/")
    text = metrics_text(client)
    assert sample(text, "imgdash_upstream_call_seconds_count", **labels) == before + 1


def test_it_counts_index_hits_and_misses(client, operator, cluster, emulator):
    text = metrics_text(client)
    misses = sample(text, "imgdash_index_reads_total", result="miss") or 0
    hits = sample(text, "imgdash_index_reads_total", result="hit") or 0
    fetches = sample(text, "imgdash_index_fetch_seconds_count", result="ok") or 0
    assert client.get("/clusters/emu/repositories/").status_code == 200
    assert client.get("/clusters/emu/repositories/?q=alp").status_code == 200
    text = metrics_text(client)
    assert sample(text, "imgdash_index_reads_total", result="miss") == misses + 1
    assert sample(text, "imgdash_index_reads_total", result="hit") == hits + 1
    assert sample(text, "imgdash_index_fetch_seconds_count", result="ok") == fetches + 1


def test_it_shows_jobs_by_state(client, make_user):
    owner = make_user("olga", "Operator")
    for state in ("queued", "queued", "running", "done"):
        Job.objects.create(owner=owner, owner_username="olga", kind="bulk_delete", state=state)
    text = metrics_text(client)
    assert sample(text, "imgdash_jobs", state="queued") == 2
    assert sample(text, "imgdash_jobs", state="running") == 1
    assert sample(text, "imgdash_jobs", state="done") == 1
    assert sample(text, "imgdash_jobs", state="interrupted") == 0


def test_a_database_that_does_not_answer_leaves_out_only_the_jobs(client, monkeypatch):
    from django.db import OperationalError

    def broken(*args, **kwargs):
        raise OperationalError("no such table: jobs_job")

    monkeypatch.setattr(Job.objects, "values_list", broken)
    text = metrics_text(client)
    assert "# TYPE imgdash_request_seconds histogram" in text
    assert "imgdash_jobs" not in text


def test_it_counts_throttled_sign_ins(client, make_user, settings):
    make_user("vera", "Viewer")
    before = sample(metrics_text(client), "imgdash_throttled_sign_ins_total", view="login") or 0
    for _ in range(settings.LOCKOUT_FAILURES + 2):
        last = client.post("/accounts/login/", {"username": "vera", "password": "wrong"})
    assert last.status_code == 429
    after = sample(metrics_text(client), "imgdash_throttled_sign_ins_total", view="login")
    assert after >= before + 1


def test_it_sums_worker_processes_in_multiprocess_mode(client, settings, tmp_path, monkeypatch):
    from prometheus_client import values

    settings.METRICS_MULTIPROC_DIR = str(tmp_path)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    # Two other workers' figures, as prometheus-client writes them into the shared folder.
    for pid, count in ((4242, 3), (4343, 4)):
        value = values.MultiProcessValue(process_identifier=lambda pid=pid: pid)(
            "counter",
            "imgdash_throttled_sign_ins",
            "imgdash_throttled_sign_ins_total",
            ("view",),
            ("login",),
            "help",
        )
        value.inc(count)
    text = metrics_text(client)
    assert sample(text, "imgdash_throttled_sign_ins_total", view="login") == 7
    assert sample(text, "imgdash_jobs", state="queued") == 0
