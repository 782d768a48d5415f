"""A sweep over every URL the resolver knows: hostile path parameters, query strings, form
fields and headers, as a randomly chosen role, by GET and by POST.

Generated cases per run (HYPOTHESIS_PROFILE=ci: three times as many): 250.

For every case: no 5xx, no secret in the answer, every redirect stays on site, and the
cluster hears nothing unless the request reached a view its role may use (the role table
in test_role_matrix.py), for the registered cluster, with a valid repository name.
"""

from urllib.parse import quote

import pytest
from django.urls import Resolver404, reverse
from hypothesis import given
from hypothesis import strategies as st

from imgdash.imagemanager import is_valid_repository_name, is_valid_tag
from tests.security.conftest import ROLES, fuzz_settings, hostile_text, repository_names
from tests.security.test_fuzz_connect import assert_stays_on_site
from tests.security.test_role_matrix import EXPECTED, app_urls, operators_job, sample_person

pytestmark = pytest.mark.django_db

# Every form field and query parameter any view reads, plus whatever else an attacker adds.
FIELD_NAMES = [
    "q",
    "namespace",
    "scope",
    "sort",
    "page",
    "per_page",
    "refresh",
    "show",
    "next",
    "token",
    "username",
    "password",
    "confirm",
    "confirmation",
    "confirm_count",
    "repository",
    "format",
    "actor",
    "action",
    "outcome",
    "cluster",
    "since",
    "until",
    "role",
]
HEADERS = {
    "HTTP_HX_REQUEST": st.sampled_from(["true", "false", ""]),
    "HTTP_HX_CURRENT_URL": hostile_text(),
    "HTTP_HX_HISTORY_RESTORE_REQUEST": st.sampled_from(["true", ""]),
    "HTTP_HX_BOOSTED": st.sampled_from(["true", ""]),
    "HTTP_X_REQUEST_ID": hostile_text(80),
    "HTTP_X_FORWARDED_FOR": hostile_text(60),
    "HTTP_REFERER": hostile_text(),
    "HTTP_USER_AGENT": hostile_text(),
}
SLUG_MARK, NAME_MARK, TAG_MARK = "zzslugzz", "zznamezz", "zztagzz"
# Digits only (the URL takes an integer), and no real job has this id.
JOB_MARK = 918273645546372819
USER_MARK = 817263544536271809


def fields():
    return st.dictionaries(
        st.one_of(st.sampled_from(FIELD_NAMES), hostile_text(20)),
        st.one_of(hostile_text(), st.lists(hostile_text(40), max_size=3)),
        max_size=6,
    )


def reached(response):
    """The URL name of the view that answered, or None when no URL matched."""
    try:
        return response.resolver_match.view_name, response.resolver_match.kwargs
    except Resolver404:
        return None, {}


def test_fuzz_every_url(cast, attack):
    urls = app_urls()
    slugs = st.one_of(st.just(cast.cluster.slug), st.just("nope"), hostile_text(40))
    job_ids = st.one_of(st.just(str(operators_job(cast).pk)), st.integers(0, 10**30).map(str))
    user_ids = st.one_of(st.just(str(sample_person().pk)), st.integers(0, 10**30).map(str))

    @fuzz_settings(250)
    @given(
        name=st.sampled_from(sorted(urls)),
        role=st.sampled_from(ROLES),
        method=st.sampled_from(["GET", "POST"]),
        slug=slugs,
        repository=repository_names(cast.emulator),
        data=fields(),
        headers=st.fixed_dictionaries({}, optional=HEADERS),
        job_id=job_ids,
        user_id=user_ids,
        tag=st.one_of(st.just("latest"), st.just("1.0"), hostile_text(40)),
    )
    def run(name, role, method, slug, repository, data, headers, job_id, user_id, tag):
        marks = {
            "slug": SLUG_MARK,
            "name": NAME_MARK,
            "tag": TAG_MARK,
            "job_id": JOB_MARK,
            "user_id": USER_MARK,
        }
        path = reverse(name, kwargs={param: marks[param] for param in urls[name]})
        path = path.replace(SLUG_MARK, quote(slug, safe="")).replace(
            NAME_MARK, quote(repository, safe="/")
        )
        path = path.replace(str(JOB_MARK), job_id).replace(str(USER_MARK), user_id)
        path = path.replace(TAG_MARK, quote(tag, safe=""))
        response, upstream = attack(role, method, path, data, **headers)
        assert_stays_on_site(response)
        view, kwargs = reached(response)
        allowed = view is not None and EXPECTED[view][method][ROLES.index(role)] == "+"
        for_cluster = kwargs.get("slug", cast.cluster.slug) == cast.cluster.slug
        valid_name = is_valid_repository_name(kwargs.get("name", "x"))
        valid_name = valid_name and is_valid_tag(kwargs.get("tag", "latest"))
        if not (allowed and for_cluster and valid_name):
            assert upstream == [], f"{role} {method} {path}: reached the cluster: {upstream}"
        cast.restore(role)

    run()
