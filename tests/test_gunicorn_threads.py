"""The way deploy/ runs imgdash: gunicorn with deploy/gunicorn.conf.py and production
settings, here with a single worker process, through benchmarks/harness.py.

A request waiting on a slow cluster must not hold up everyone else on its worker, and a
browser's kept-alive connection must be served again rather than closed after each page.
"""

import threading

import pytest

from benchmarks.harness import Deployment, client_session, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _empty_cache():
    """The instance keeps its own cache in its data folder: the suite's is not its."""
    yield


@pytest.fixture(scope="module")
def one_worker():
    with Deployment(repos=40, instances=1, workers=1) as running:
        yield running


def test_a_page_waiting_on_a_slow_cluster_does_not_hold_up_the_worker(one_worker):
    base = one_worker.urls[0]
    slow, quick = client_session(), client_session()
    sign_in(slow, base, "reader")
    sign_in(quick, base, "viewer")
    name = "team-a/ci/runner"
    fault = one_worker.emulator.faults.add(path=f"/repositories/{name}$", latency=4)
    finished = []

    def open_the_slow_page():
        response = slow.get(f"{base}{one_worker.list_path}{name}/", timeout=30)
        finished.append(("slow", response.status_code))

    waiting = threading.Thread(target=open_the_slow_page)
    try:
        waiting.start()
        # Until the slow page's call has reached the cluster (logged before the latency).
        while not any(
            entry.path.endswith(f"/repositories/{name}") for entry in one_worker.emulator.requests
        ):
            threading.Event().wait(0.05)
        response = quick.get(f"{base}/clusters/", timeout=30)
        finished.append(("quick", response.status_code))
        waiting.join(timeout=30)
    finally:
        one_worker.emulator.faults.remove(fault.id)
    # The quick page answered while the slow one still waited on the cluster.
    assert finished == [("quick", 200), ("slow", 200)]


def test_a_kept_alive_connection_serves_page_after_page(one_worker):
    base = one_worker.urls[0]
    browser = client_session()
    sign_in(browser, base, "viewer")
    sockets = set()
    for _ in range(3):
        response = browser.get(f"{base}/clusters/", timeout=30, stream=True)
        sockets.add(id(response.raw._connection.sock))
        response.content  # noqa: B018 - read it, so the connection goes back to the pool
        assert response.status_code == 200
        assert response.headers.get("Connection", "").lower() != "close"
    assert len(sockets) == 1
