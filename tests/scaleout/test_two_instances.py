"""Two gunicorn instances on one PostgreSQL and one Redis behave as one dashboard.

A CI-only step (.ci/run): it starts real processes with production settings through
benchmarks/harness.py, so it runs only with IMGDASH_SCALEOUT=1 and DATABASE_URL and REDIS_URL
pointing at PostgreSQL and Redis. The instances get a database of their own on that server
(imgdash_scaleout, made afresh) and the Redis database given, emptied first.
"""

import os
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from benchmarks.harness import (
    Deployment,
    client_session,
    empty_redis,
    fresh_database,
    run_locust,
    sign_in,
)

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
ENABLED = (
    os.environ.get("IMGDASH_SCALEOUT") == "1"
    and DATABASE_URL.startswith(("postgres://", "postgresql://"))
    and REDIS_URL.startswith("redis://")
)
pytestmark = pytest.mark.skipif(
    not ENABLED,
    reason="scale-out test: set IMGDASH_SCALEOUT=1, DATABASE_URL (PostgreSQL), REDIS_URL",
)
REPOSITORIES = 2000


@pytest.fixture(autouse=True)
def _empty_cache():
    """The suite empties the cache around each test; here the cache is the instances', which
    keep running from one test to the next, so it is left alone."""
    yield


@pytest.fixture(scope="module")
def deployment():
    with Deployment(
        repos=REPOSITORIES,
        instances=2,
        workers=2,
        database_url=fresh_database(DATABASE_URL, "imgdash_scaleout"),
        redis_url=empty_redis(REDIS_URL),
    ) as running:
        yield running


@pytest.fixture(scope="module")
def operator(deployment):
    """One operator's browser: its cookies go to both instances (same host, other port), as
    behind a load balancer."""
    return sign_in(client_session(), deployment.urls[0], "operator")


def plain_names(deployment, count):
    names = [
        repository["name"]
        for repository in deployment.emulator.repositories.all()
        if re.fullmatch(r"[a-z0-9][a-z0-9._/-]*", repository["name"])
    ]
    return sorted(names)[:count]


def list_html(session, base_url, deployment, query=""):
    """The list page's HTML once the list is there (a cold index shows a progress view)."""
    for _ in range(120):
        response = session.get(base_url + deployment.list_path, params={"q": query}, timeout=60)
        assert response.status_code == 200
        assert "/accounts/login/" not in response.url
        html = response.text
        if 'class="repo-name"' in html or "No repository matches" in html:
            return html
        time.sleep(0.5)
    raise AssertionError(f"{base_url} never showed the list")


def detail_link(deployment, name):
    return f'href="{deployment.list_path}{name}/"'


def post(session, url, data):
    data = {**data, "csrfmiddlewaretoken": session.cookies.get("csrftoken")}
    return session.post(url, data=data, allow_redirects=False, timeout=60)


def test_a_user_signs_in_on_one_instance_and_continues_on_the_other(deployment):
    first, second = deployment.urls
    on_first = sign_in(client_session(), first, "reader")
    on_second = client_session()
    on_second.cookies.update(on_first.cookies)  # the same session cookie, another instance

    response = on_second.get(second + deployment.list_path, timeout=60)

    assert response.status_code == 200
    assert response.url == second + deployment.list_path  # not sent to the sign-in page
    assert "reader" in response.text


def test_a_delete_on_one_instance_is_gone_from_the_others_list_at_once(deployment, operator):
    first, second = deployment.urls
    name = plain_names(deployment, 1)[0]
    # A teammate with their own index of the same cluster, on the other instance.
    teammate = sign_in(client_session(), second, "reader")
    for _ in range(4):  # every worker of both instances has the list, with the repository
        assert detail_link(deployment, name) in list_html(operator, first, deployment, name)
        assert detail_link(deployment, name) in list_html(operator, second, deployment, name)
        assert detail_link(deployment, name) in list_html(teammate, second, deployment, name)

    # The confirmation is asked on one instance and given on the other.
    form = operator.get(f"{second}{deployment.list_path}{name}/-/delete/", timeout=60).text
    confirmation = re.search(r'name="confirmation" value="([^"]+)"', form).group(1)
    response = post(
        operator,
        f"{first}{deployment.list_path}{name}/-/delete/",
        {"confirm": name, "confirmation": confirmation},
    )

    assert response.status_code == 302
    assert deployment.emulator.repositories.get(name) is None
    for _ in range(4):
        assert detail_link(deployment, name) not in list_html(operator, second, deployment, name)
        assert detail_link(deployment, name) not in list_html(teammate, second, deployment, name)


def audit_rows(deployment):
    """How many rows `manage.py verify_audit` checked, after asserting the chain is intact."""
    verified = deployment.manage("verify_audit", check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "the chain is intact" in verified.stdout
    return int(re.search(r"Checked (\d+) rows", verified.stdout).group(1))


def test_concurrent_scope_changes_through_both_instances_keep_one_unbroken_chain(
    deployment, operator
):
    names = plain_names(deployment, 7)[1:]  # the first was deleted above
    rows_before = audit_rows(deployment)

    def change(change):
        base_url, name, scope = change
        session = client_session()
        session.cookies.update(operator.cookies)
        return post(session, f"{base_url}{deployment.list_path}{name}/-/scope/", {"scope": scope})

    statuses = []
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        # Each round flips every repository's scope, all at once, half through each instance.
        for round_ in range(4):
            changes = [
                (
                    deployment.urls[(index + round_) % 2],
                    name,
                    flipped(deployment.emulator.repositories.get(name)["scope"]),
                )
                for index, name in enumerate(names)
            ]
            statuses += [response.status_code for response in pool.map(change, changes)]

    assert statuses == [302] * 4 * len(names)
    # One chain, with an intent and an outcome for every change: no row lost or forked.
    assert audit_rows(deployment) - rows_before == 2 * len(statuses)


def flipped(scope):
    return "namespace" if scope == "global" else "global"


def test_a_locust_run_over_both_instances_has_no_errors(deployment):
    result = run_locust(deployment.urls, users=20, spawn_rate=10, seconds=20)

    print(
        f"\nlocust, 20 users over 2 instances x 2 workers, {result['seconds']} s, "
        f"{REPOSITORIES} repositories: {result['requests']} requests, {result['rps']:.1f} req/s, "
        f"median {result['median_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms, "
        f"{result['failures']} failures"
    )
    assert result["ramp"] is not None, result["output"]  # every user got in and saw the list
    assert result["ramp"]["failures"] == 0, result["ramp"]
    assert result["failures"] == 0, result["output"]
    assert result["exceptions"] == 0, result["output"]
    assert result["exit_code"] == 0, result["output"]
