"""A bulk delete stops within its time budget instead of outrunning the server's timeout.

150 deletes in one request outran gunicorn's 30 s: the user got a 500 and no results. Now
a request stops before the next repository once IMGDASH_BULK_DELETE_BUDGET is spent (never in
the middle of a call), shows what it did and what it did not attempt, and offers to go on
with the rest after a fresh confirmation. Nothing is sent or logged for the rest.
"""

import re

import pytest

from imgdash.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client, make_user, connect):
    user = make_user("olga", "Operator")
    connect(user, "admin")
    client.force_login(user)
    return user


def bulk_url(cluster):
    return f"/clusters/{cluster.slug}/repositories/-/bulk-delete/"


def confirmation_of(html):
    return re.search(r'name="confirmation" value="([^"]+)"', html).group(1)


def deletes(emulator):
    return [r.path.split("/repositories/", 1)[1] for r in emulator.requests if r.method == "DELETE"]


def test_it_stops_at_the_budget_and_offers_the_rest(client, operator, cluster, emulator, settings):
    settings.BULK_DELETE_BUDGET = 1
    names = [r["name"] for r in emulator.repositories.all() if r["owner"] == "team-a"][:5]
    emulator.faults.add(method="DELETE", path="/repositories/", latency=0.6)
    html = client.post(bulk_url(cluster), {"repository": names}).content.decode()

    done = client.post(
        bulk_url(cluster),
        {"repository": names, "confirm_count": "5", "confirmation": confirmation_of(html)},
    )

    assert done.status_code == 200
    sent = deletes(emulator)
    rest = [name for name in names if name not in sent]
    assert sent == names[: len(sent)] and sent  # in order, at least the first
    assert rest, "every repository was sent although the budget was spent"
    page = done.content.decode()
    assert page.count(">deleted</span>") == len(sent)
    assert page.count(">not attempted</span>") == len(rest)
    assert all(emulator.repositories.get(name) is not None for name in rest)
    # The action log holds exactly what was sent: an intent and an outcome for each.
    assert sorted(e.target for e in AuditEvent.objects.filter(action="repository.bulk_delete")) == (
        sorted(sent * 2)
    )
    # Continuing asks afresh for the rest, and only the rest.
    form = page[page.index('id="bulk-continue"') :]
    form = form[: form.index("</form>")]
    assert re.findall(r'name="repository" value="([^"]+)"', form) == rest
    again = client.post(bulk_url(cluster), {"repository": rest}).content.decode()
    assert f"Type the number of repositories, {len(rest)}, to confirm" in again
