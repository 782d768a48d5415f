import csv
import io
import json
import re
from datetime import UTC, datetime

import pytest

from imgdash.audit.chain import link
from imgdash.audit.log import record_event, record_intent, record_outcome
from imgdash.audit.models import AuditEvent
from imgdash.audit.views import PAGE_SIZE

URL = "/audit/"


def targets(response):
    """Targets of the rows shown, in page order."""
    return [row.target for row in response.context["rows"]]


def dated(day, target, **fields):
    """A row at a given UTC date (bulk-inserted: record_event always stamps now)."""
    event = AuditEvent(
        created_at=datetime.fromisoformat(day).replace(tzinfo=UTC),
        action=fields.pop("action", "repository.delete"),
        outcome=fields.pop("outcome", "ok"),
        target=target,
        **fields,
    )
    last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    link([event], prev_hash=last or "0" * 64)
    AuditEvent.objects.bulk_create([event])
    return event


@pytest.fixture
def mixed(user, auditor, prod):
    record_event(None, "credential.connect", actor=user, cluster=prod, target="credential v1")
    record_event(
        None,
        "repository.delete",
        outcome="refused",
        actor=auditor,
        cluster=prod,
        target="team/app",
        status=403,
        message="Forbidden by the cluster",
    )
    record_event(
        None,
        "repository.scope",
        outcome="failed",
        actor=user,
        target="team/web",
        message="connection reset",
    )
    record_event(None, "access.denied", outcome="denied", actor=user, target="/clusters/")


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_auditor_sees_everything_newest_first(client, auditor, mixed):
    client.force_login(auditor)
    response = client.get(URL)
    assert response.status_code == 200
    assert targets(response) == ["audra", "/clusters/", "team/web", "team/app", "credential v1"]
    assert response.context["nav_section"] == "audit"
    assert b"Action log" in response.content


def test_an_admin_sees_everything(admin_client, mixed):
    response = admin_client.get(URL)
    assert len(response.context["rows"]) == 5


def test_other_users_see_only_their_own_actions(client, user, mixed):
    client.force_login(user)
    response = client.get(URL)
    assert targets(response) == ["val", "/clusters/", "team/web", "credential v1"]
    assert b"team/app" not in response.content
    assert b"Your own actions" in response.content
    # Naming someone else shows nothing of theirs: the view filters, not the form.
    assert targets(client.get(URL, {"actor": "audra"})) == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"actor": "AUDRA"}, ["audra", "team/app"]),
        ({"action": "repository.delete"}, ["team/app"]),
        ({"outcome": "denied"}, ["/clusters/"]),
        ({"cluster": "prod"}, ["team/app", "credential v1"]),
        ({"q": "team/"}, ["team/web", "team/app"]),
        ({"q": "RESET"}, ["team/web"]),
        ({"outcome": "failed", "actor": "val"}, ["team/web"]),
        ({"q": "nothing like this"}, []),
    ],
)
def test_it_filters(client, auditor, mixed, params, expected):
    client.force_login(auditor)
    response = client.get(URL, params)
    assert response.status_code == 200
    assert targets(response) == expected


def test_it_filters_by_inclusive_dates(client, auditor):
    for day in (
        "2026-03-01T23:59:59",
        "2026-03-02T00:00:00",
        "2026-03-03T23:59:59.999999",
        "2026-03-04T00:00:00",
    ):
        dated(day, day[:10] + day[11:13])
    client.force_login(auditor)
    response = client.get(URL, {"since": "2026-03-02", "until": "2026-03-03"})
    assert targets(response) == ["2026-03-0323", "2026-03-0200"]
    # Chain order (newest first): signing in came after the rows were loaded.
    assert targets(client.get(URL, {"since": "2026-03-04"})) == ["audra", "2026-03-0400"]
    assert targets(client.get(URL, {"until": "2026-03-01"})) == ["2026-03-0123"]


@pytest.mark.parametrize(
    "params",
    [
        {"since": "yesterday"},
        {"until": "2026-02-30"},
        {"since": "2026-13-01"},
        {"since": "2026-05-02", "until": "2026-05-01"},
        {"outcome": "perhaps"},
        {"cluster": "no-such-cluster"},
        {"since": "9999-12-31", "until": "9999-12-31"},
    ],
)
def test_it_explains_a_bad_filter_instead_of_failing(client, auditor, params):
    client.force_login(auditor)
    response = client.get(URL, params)
    assert response.status_code == 200
    if "9999" not in params.get("since", ""):
        assert b"Check the filter" in response.content
        assert response.context["rows"] == []


def test_it_ignores_a_bad_page_number(client, auditor, mixed):
    client.force_login(auditor)
    for page in ("x", "-3", "0", "99999999999999999999"):
        assert client.get(URL, {"page": page}).status_code == 200


def test_it_pages_without_counting(client, auditor):
    for n in range(PAGE_SIZE + 5):
        record_event(None, "repository.bulk_delete", target=f"ns/repo-{n:03d}")
    client.force_login(auditor)
    first = client.get(URL, {"action": "repository.bulk_delete"})
    assert len(first.context["rows"]) == PAGE_SIZE
    assert first.context["has_older"]
    assert b"page=2" in first.content and b"action=repository.bulk_delete" in first.content
    second = client.get(URL, {"action": "repository.bulk_delete", "page": 2})
    assert targets(second) == [f"ns/repo-{n:03d}" for n in range(4, -1, -1)]
    assert not second.context["has_older"]
    assert b"Newer" in second.content


def test_htmx_gets_only_the_results_fragment(client, auditor, mixed):
    client.force_login(auditor)
    response = client.get(URL, {"outcome": "refused"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="audit-results"')
    assert "<html" not in html and 'id="audit-filters"' not in html
    assert "team/app" in html and "team/web" not in html
    assert "HX-Request" in response["Vary"]


def test_the_full_page_has_the_htmx_filter_form(client, auditor, mixed):
    client.force_login(auditor)
    html = client.get(URL, {"outcome": "refused"}).content.decode()
    assert "<html" in html
    form = re.search(r'<form class="card" id="audit-filters"[^>]*>', html).group()
    for attribute in (
        'hx-get="/audit/"',
        'hx-target="#audit-results"',
        'hx-push-url="true"',
        'hx-trigger="input delay:400ms, submit"',
        'method="get"',
    ):
        assert attribute in form
    assert '<option value="refused" selected>' in html


def test_a_history_restore_gets_the_full_page(client, auditor, mixed):
    client.force_login(auditor)
    response = client.get(URL, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert b"<html" in response.content


def test_each_row_expands_to_its_details(client, auditor, prod):
    record_event(
        None,
        "repository.scope",
        actor=auditor,
        cluster=prod,
        target="team/app",
        details={"before": "namespace", "after": "global"},
    )
    client.force_login(auditor)
    html = client.get(URL, {"action": "repository.scope"}).content.decode()
    details = re.search(r'<tr class="event-details-row".*?</tr>', html, re.S).group()
    assert "&quot;after&quot;: &quot;global&quot;" in details
    assert "Request id" in details


def test_an_intent_without_outcome_is_flagged(client, auditor):
    answered = record_intent(None, "repository.delete", target="ns/answered")
    record_outcome(answered, "unknown", message="Timed out after sending")
    record_intent(None, "repository.delete", target="ns/cut-off")
    client.force_login(auditor)
    response = client.get(URL, {"outcome": "intent"})
    html = response.content.decode()
    rows = {row.target: row.has_outcome for row in response.context["rows"]}
    assert rows == {"ns/cut-off": False, "ns/answered": True}
    assert html.count("no outcome recorded") == 1
    assert html.index("no outcome recorded") < html.index("ns/answered")


def test_it_escapes_what_it_shows(client, auditor):
    record_event(None, "repository.delete", target="<script>alert(1)</script>")
    client.force_login(auditor)
    html = client.get(URL).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def _body(response):
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def test_it_exports_the_current_filter_as_csv(client, auditor, mixed):
    client.force_login(auditor)
    response = client.get(URL, {"cluster": "prod", "format": "csv", "page": "3"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="imgdash-audit-\d{8}T\d{6}Z\.csv"', response["Content-Disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(_body(response))))
    assert [row["target"] for row in rows] == ["team/app", "credential v1"]
    assert rows[0]["status"] == "403" and rows[0]["cluster"] == "Prod"
    assert rows[0]["time"].endswith("Z") and len(rows[0]["hash"]) == 64


def test_it_exports_json_lines(client, auditor, mixed):
    client.force_login(auditor)
    response = client.get(URL, {"outcome": "refused", "format": "jsonl"})
    assert response["Content-Type"].startswith("application/x-ndjson")
    assert response["Content-Disposition"].endswith('.jsonl"')
    lines = _body(response).splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["target"] for r in records] == ["team/app"]
    assert records[0]["details"] == {} and records[0]["action_label"] == "Deleted repository"


def test_exports_follow_the_same_permissions(client, user, mixed):
    client.force_login(user)
    body = _body(client.get(URL, {"format": "jsonl"}))
    assert {json.loads(line)["actor"] for line in body.splitlines()} == {"val"}


def test_export_cells_cannot_run_as_formulas(client, auditor):
    record_event(
        None,
        "repository.delete",
        target='=HYPERLINK("http://evil")',
        message="+1",
        details={"note": "@SUM(A1)"},
    )
    record_event(None, "repository.delete", target="-2", message="\tTAB")
    client.force_login(auditor)
    export = client.get(URL, {"format": "csv", "action": "repository.delete"})
    rows = list(csv.DictReader(io.StringIO(_body(export))))
    assert rows[1]["target"] == '\'=HYPERLINK("http://evil")'
    assert rows[1]["message"] == "'+1"
    assert rows[0]["target"] == "'-2"
    assert rows[0]["message"] == "\\tTAB"  # already escaped when recorded
    assert rows[1]["details"] == '{"note": "@SUM(A1)"}'


def test_it_refuses_an_unknown_export_format(client, auditor):
    client.force_login(auditor)
    response = client.get(URL, {"format": "xlsx"})
    assert response.status_code == 400
    assert b"?format=csv or ?format=jsonl" in response.content


def test_it_refuses_to_export_a_bad_filter(client, auditor):
    client.force_login(auditor)
    response = client.get(URL, {"format": "csv", "since": "soon"})
    assert response.status_code == 400
    assert b"YYYY-MM-DD" in response.content


def test_the_export_reads_rows_in_short_keyset_chunks(client, auditor, monkeypatch):
    """Rows are fetched as the response is consumed, a chunk per query, none left open (the
    memory figure is benchmarks/audit_export.py)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from imgdash.audit import export

    monkeypatch.setattr(export, "CHUNK_ROWS", 7)
    for n in range(30):
        record_event(None, "repository.bulk_delete", target=f"ns/{n}")
    client.force_login(auditor)
    response = client.get(URL, {"format": "jsonl", "action": "repository.bulk_delete"})
    # Nothing has been read yet: a row written now still makes it into the stream.
    record_event(None, "repository.bulk_delete", target="ns/late")
    with CaptureQueriesContext(connection) as queries:
        lines = _body(response).splitlines()
    assert len(lines) == 31
    assert [json.loads(line)["target"] for line in lines[:2]] == ["ns/late", "ns/29"]
    assert len({json.loads(line)["id"] for line in lines}) == 31  # no row twice, none lost
    selects = [q["sql"] for q in queries.captured_queries if "audit_auditevent" in q["sql"]]
    assert len(selects) == 5  # 31 rows in chunks of 7
    assert all("LIMIT 7" in sql for sql in selects)


def event_rows(html):
    """The page's event rows (each may have a details row beneath it)."""
    return re.findall(r'<tr id="event-\d+"[^>]*class="event"[^>]*>.*?</tr>', html, re.S)


def test_an_intent_and_its_outcome_are_one_row_with_both_times(client, auditor, prod):
    intent = record_intent(None, "repository.scope", cluster=prod, target="team/app")
    outcome = record_outcome(intent, "refused", status=403, message="The cluster refused")
    record_event(None, "credential.connect", target="credential c1")
    client.force_login(auditor)
    html = client.get(URL).content.decode()
    rows = [row for row in event_rows(html) if "team/app" in row]
    assert len(rows) == 1
    row = rows[0]
    assert intent.created_at.strftime("%H:%M:%S") in row
    assert outcome.created_at.strftime("%H:%M:%S") in row
    assert "refused" in row and 'class="badge namespace">intent' not in row
    assert f'id="event-{intent.pk}"' in html  # links to the intent still land on the row
    # Both rows stay in the log and in the exports.
    assert AuditEvent.objects.filter(target="team/app").count() == 2
    exported = _body(client.get(URL, {"format": "csv"}))
    assert exported.count("team/app") == 2


def test_an_intent_alone_stays_a_row_of_its_own(client, auditor):
    record_intent(None, "repository.delete", target="ns/cut-off")
    client.force_login(auditor)
    rows = [row for row in event_rows(client.get(URL).content.decode()) if "ns/cut-off" in row]
    assert len(rows) == 1
    assert "no outcome recorded" in rows[0]
