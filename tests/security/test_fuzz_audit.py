"""Fuzzing the action log's filters, dates, paging and exports, as every signed-in role.

Generated cases per run (HYPOTHESIS_PROFILE=ci: three times as many): 150.

For every case: no 5xx, no secret in the page or export, nothing sent to a cluster, and
nobody but auditors and admins sees anyone else's rows.
"""

import csv
import io
import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imgdash.audit.actions import ACTIONS, OUTCOMES
from imgdash.audit.log import record_event
from tests.security.conftest import body_of, fuzz_settings, hostile_text

pytestmark = pytest.mark.django_db

READERS = ("no role", "Viewer", "Operator", "Auditor", "admin")
SEES_EVERYTHING = ("Auditor", "admin")

DATES = st.one_of(
    st.dates().map(date.isoformat),
    st.sampled_from(
        [
            "0001-01-01",
            "9999-12-31",
            "10000-01-01",
            "0000-00-00",
            "2024-02-30",
            "2024-13-01",
            "2024-1-1",
            "20240101",
            "2024-01-01T00:00:00",
            "-2024-01-01",
            "２０２４-０１-０１",
        ]
    ),
    hostile_text(30),
)


def test_fuzz_action_log_filters_and_exports(cast, attack):
    # Every cast member signed in (a row each); one more row by nobody in particular.
    record_event(None, "repository.scope", target="team-a/app", message="a system row")

    def filters(cluster, actor, text, day, page):
        return st.fixed_dictionaries(
            {
                "actor": actor,
                "action": st.one_of(st.just(""), st.sampled_from(list(ACTIONS)), text),
                "outcome": st.one_of(st.just(""), st.sampled_from(list(OUTCOMES)), text),
                "cluster": cluster,
                "q": text,
                "since": day,
                "until": day,
                "page": page,
            }
        )

    well_formed = filters(
        st.sampled_from(["", "", cast.cluster.slug]),
        st.sampled_from(["", "", "otto", "OTTO", "nora"]),
        st.sampled_from(["", "", "", "team-a", "credential"]),
        st.one_of(st.just(""), st.just(""), st.dates().map(date.isoformat)),
        st.integers(1, 3).map(str),
    )
    hostile = filters(
        hostile_text(),
        hostile_text(),
        hostile_text(300),
        DATES,
        st.one_of(st.integers(-(10**30), 10**30).map(str), hostile_text(40)),
    )

    @fuzz_settings(150)
    @given(
        role=st.sampled_from(READERS),
        params=st.one_of(well_formed, hostile),
        export=st.one_of(st.sampled_from(["", "csv", "jsonl"]), hostile_text(20)),
        htmx=st.booleans(),
    )
    def run(role, params, export, htmx):
        if export:
            params = {**params, "format": export}
        extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        response, upstream = attack(role, "GET", "/audit/", params, **extra)
        assert upstream == []
        assert response.status_code in (200, 400)
        if response.status_code == 200 and export in ("csv", "jsonl"):
            actors = exported_actors(body_of(response), export)
            if role not in SEES_EVERYTHING:
                assert actors <= {cast[role].user.username}, (role, actors)

    run()


def test_exports_hold_only_the_rows_a_role_may_read(cast, attack):
    record_event(None, "repository.scope", target="team-a/app", message="a system row")
    everyone = {actor.user.username for actor in cast.actors.values() if actor.user}
    for role in READERS:
        for export in ("csv", "jsonl"):
            response, _ = attack(role, "GET", "/audit/", {"format": export})
            actors = exported_actors(body_of(response), export)
            if role in SEES_EVERYTHING:
                assert actors >= everyone | {""}
            else:
                assert actors == {cast[role].user.username}


def exported_actors(body, export):
    text = body.decode("utf-8")
    if export == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    else:
        rows = [json.loads(line) for line in text.splitlines() if line]
    return {row["actor"] for row in rows}
