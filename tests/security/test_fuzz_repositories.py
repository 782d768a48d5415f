"""Fuzzing the repository pages and their forms, as every role that reaches them.

Generated cases per run (HYPOTHESIS_PROFILE=ci: three times as many):
paths 200, list 150, storage 40, bulk delete 100, docker-login token 80, delete and bulk
delete with real confirmations 40 + 40 = 650. With the other test_fuzz_* files: 1,260.

For every case: no 5xx and no secret in the answer (checked by `attack`). An invalid
repository name never reaches the cluster, and nothing is deleted without the typed name (or
count) and the user's own unused one-time confirmation.
"""

import re

import pytest
from django.urls import Resolver404
from hypothesis import given
from hypothesis import strategies as st

from imgdash.imagemanager import SCOPES, is_valid_repository_name
from imgdash.repositories.write_views import MAX_BULK
from tests.security.conftest import (
    assert_action_log_clean,
    existing_names,
    fuzz_settings,
    hostile_text,
    path_segment,
    repository_names,
)

pytestmark = pytest.mark.django_db

BROWSERS = ("Viewer", "Operator", "admin")
WRITERS = ("Operator", "admin")
HTMX = {"HTTP_HX_REQUEST": "true"}


def base(cast):
    return f"/clusters/{cast.cluster.slug}/repositories/"


def warm_indexes(cast, attack):
    """Each browsing role's repository index fetched once, so later pages need the cluster
    only for what they really ask it."""
    for role in BROWSERS:
        response, _ = attack(role, "GET", base(cast))
        assert response.status_code == 200


def view_and_name(response):
    """(URL name, repository name) the request was routed to; (None, None) when none."""
    try:
        return response.resolver_match.url_name, response.resolver_match.kwargs.get("name")
    except Resolver404:
        return None, None


def test_fuzz_repository_paths_and_their_forms(cast, attack):
    names = repository_names(cast.emulator)
    actions = st.sampled_from(["", "-/scope/", "-/delete/"])

    @fuzz_settings(200)
    @given(
        role=st.sampled_from(BROWSERS),
        name=names,
        action=actions,
        method=st.sampled_from(["GET", "POST"]),
        htmx=st.booleans(),
        scope=st.one_of(st.sampled_from(SCOPES), hostile_text()),
        confirm=st.one_of(st.just("<name>"), hostile_text()),
        confirmation=hostile_text(),
        show=st.sampled_from(["", "badge", "x"]),
    )
    def run(role, name, action, method, htmx, scope, confirm, confirmation, show):
        path = base(cast) + path_segment(name) + "/" + action
        data = (
            {"scope": scope, "confirm": name if confirm == "<name>" else confirm}
            if method == "POST"
            else {"show": show}
        )
        if method == "POST":
            data["confirmation"] = confirmation
        response, upstream = attack(role, method, path, data, **(HTMX if htmx else {}))
        view, seen = view_and_name(response)
        if seen is not None and not is_valid_repository_name(seen):
            assert upstream == [], f"invalid name {seen!r} reached the cluster: {upstream}"
            assert response.status_code in (403, 404, 405), response.status_code
        if view in ("scope", "delete") and role == "Viewer":
            assert response.status_code == 403 and upstream == []
        # The confirmation is never a real one: nothing may be deleted.
        assert not [r for r in upstream if r.method == "DELETE"], upstream
        for request in upstream:
            if request.method == "PUT":
                assert scope in SCOPES and role in WRITERS

    run()
    assert_action_log_clean(cast.secrets)


def test_fuzz_the_list_search_sort_and_paging(cast, attack):
    warm_indexes(cast, attack)
    sort_keys = st.sampled_from(["name", "-name", "size", "-size", "tags", "namespace", "--size"])
    numbers = st.one_of(st.integers(-(10**20), 10**20).map(str), hostile_text(40))

    @fuzz_settings(150)
    @given(
        role=st.sampled_from(BROWSERS),
        q=st.one_of(hostile_text(600), st.lists(hostile_text(30), max_size=30).map(" ".join)),
        namespace=st.one_of(st.sampled_from(["team-a", "TEAM-A", ""]), hostile_text()),
        scope=st.one_of(st.sampled_from(SCOPES), hostile_text()),
        sort=st.one_of(sort_keys, hostile_text()),
        page=numbers,
        per_page=st.one_of(st.sampled_from(["25", "200", "201"]), numbers),
        extra=st.dictionaries(hostile_text(20), hostile_text(), max_size=3),
        htmx=st.booleans(),
    )
    def run(role, q, namespace, scope, sort, page, per_page, extra, htmx):
        params = {
            **extra,
            "q": q,
            "namespace": namespace,
            "scope": scope,
            "sort": sort,
            "page": page,
            "per_page": per_page,
        }
        params.pop("refresh", None)
        response, upstream = attack(role, "GET", base(cast), params, **(HTMX if htmx else {}))
        assert response.status_code == 200
        # Searching, sorting and paging read the cached index: the cluster sees none of it.
        assert upstream == [], upstream

    run()


def test_fuzz_the_storage_sort(cast, attack):
    warm_indexes(cast, attack)
    for role in BROWSERS:
        attack(role, "GET", f"/clusters/{cast.cluster.slug}/storage/")

    @fuzz_settings(40)
    @given(role=st.sampled_from(BROWSERS), sort=hostile_text())
    def run(role, sort):
        response, upstream = attack(
            role, "GET", f"/clusters/{cast.cluster.slug}/storage/", {"sort": sort}
        )
        assert response.status_code == 200 and upstream == []

    run()


def test_fuzz_bulk_delete(cast, attack):
    warm_indexes(cast, attack)
    names = repository_names(cast.emulator)
    selections = st.one_of(
        st.lists(names, max_size=8),
        st.lists(names, min_size=1, max_size=3).map(lambda few: few * (MAX_BULK // len(few) + 1)),
    )
    counts = st.one_of(st.integers(-3, 600).map(str), hostile_text(40))

    @fuzz_settings(100)
    @given(
        role=st.sampled_from(BROWSERS),
        selection=selections,
        confirm_count=st.one_of(st.none(), counts),
        confirmation=st.one_of(st.none(), hostile_text()),
        htmx=st.booleans(),
    )
    def run(role, selection, confirm_count, confirmation, htmx):
        data = {"repository": selection}
        if confirm_count is not None:
            data["confirm_count"] = confirm_count
        if confirmation is not None:
            data["confirmation"] = confirmation
        response, upstream = attack(
            role,
            "POST",
            base(cast) + "-/bulk-delete/",
            data,
            **(HTMX if htmx else {}),
        )
        if role == "Viewer":
            assert response.status_code == 403
        # The list comes from the warm index, and no confirmation here is a real one.
        assert upstream == [], upstream

    run()
    assert_action_log_clean(cast.secrets)


def test_fuzz_the_docker_login_token(cast, attack):
    names = repository_names(cast.emulator)

    @fuzz_settings(80)
    @given(role=st.sampled_from(BROWSERS), name=names, htmx=st.booleans())
    def run(role, name, htmx):
        response, upstream = attack(
            role,
            "POST",
            f"/clusters/{cast.cluster.slug}/docker-token/",
            {"repository": name},
            **(HTMX if htmx else {}),
        )
        if role == "Viewer":
            assert response.status_code == 403 and upstream == []
        elif name.strip() and not is_valid_repository_name(name.strip()):
            assert upstream == [], f"invalid name {name!r} reached the cluster"

    run()
    assert_action_log_clean(cast.secrets)


CONFIRMATION = re.compile(r'name="confirmation" value="([^"]+)"')


def confirmation_from(response):
    return CONFIRMATION.search(response.content.decode()).group(1)


def typed(name):
    """What someone might type to confirm deleting `name`: it, near misses, or anything."""
    return st.one_of(
        st.just(name),
        st.sampled_from([f" {name}\n", name.upper(), name + "x", name[:-1], f"{name}\x00"]),
        hostile_text(),
    )


def test_fuzz_delete_with_real_confirmations(cast, attack):
    """A DELETE goes out exactly when the typed name matches and the user's own fresh
    confirmation comes with it; never twice for one confirmation."""
    names = existing_names(cast.emulator)

    @fuzz_settings(40)
    @given(
        role=st.sampled_from(WRITERS),
        data=st.data(),
        whose=st.sampled_from(["own", "own", "other's", "replayed"]),
    )
    def run(role, data, whose):
        cast.emulator.reset()  # what the last case deleted is back
        name = data.draw(st.sampled_from(names), label="name")
        confirm = data.draw(typed(name), label="confirm")
        path = base(cast) + name + "/-/delete/"
        owner = role if whose != "other's" else next(r for r in WRITERS if r != role)
        response, _ = attack(owner, "GET", path)
        confirmation = confirmation_from(response)
        if whose == "replayed":
            attack(role, "POST", path, {"confirm": name, "confirmation": confirmation})
        response, upstream = attack(
            role, "POST", path, {"confirm": confirm, "confirmation": confirmation}
        )
        deletes = [r for r in upstream if r.method == "DELETE"]
        should = confirm.strip() == name and whose == "own"
        assert len(deletes) == (1 if should else 0), (confirm, whose, deletes)

    run()
    assert_action_log_clean(cast.secrets)


def test_fuzz_bulk_delete_with_real_confirmations(cast, attack):
    """Each valid name selected is queued once in a job, exactly when the typed count matches;
    an invalid name never is. The request itself sends no DELETE (the job's worker does)."""
    from imgdash.jobs.models import Job, JobItem

    warm_indexes(cast, attack)
    invalid = st.sampled_from(["UPPER/x", "a//b", "../x", "-/scope", "a b"])
    path = base(cast) + "-/bulk-delete/"
    names = existing_names(cast.emulator)

    @fuzz_settings(40)
    @given(role=st.sampled_from(WRITERS), data=st.data())
    def run(role, data):
        cast.emulator.reset()  # what the last case deleted is back
        valid = data.draw(st.lists(st.sampled_from(names), max_size=4, unique=True), "valid")
        bad = data.draw(st.lists(invalid, max_size=2, unique=True), "invalid")
        selection = data.draw(st.permutations(valid + bad), "selection")
        count = str(len(valid))
        confirm_count = data.draw(
            st.one_of(
                st.just(count),
                st.just(f" {count} "),
                st.sampled_from([str(len(selection)), str(len(valid) + 1), count + "0"]),
                hostile_text(20),
            ),
            "confirm_count",
        )
        if not selection:
            return
        response, _ = attack(role, "POST", path, {"repository": selection})
        confirmation = confirmation_from(response)
        before = list(Job.objects.values_list("pk", flat=True))
        response, upstream = attack(
            role,
            "POST",
            path,
            {"repository": selection, "confirm_count": confirm_count, "confirmation": confirmation},
        )
        assert not [r for r in upstream if r.method == "DELETE"]
        queued = sorted(JobItem.objects.exclude(job__in=before).values_list("target", flat=True))
        expected = sorted(valid) if confirm_count.strip() == count and valid else []
        assert queued == expected, (selection, confirm_count, queued)

    run()
    assert_action_log_clean(cast.secrets)
