"""Role × URL × method: who reaches each view, walked from Django's URL resolver.

Every named URL must have a row in EXPECTED, so a new view cannot ship without someone
deciding who may reach it; the test then checks the decision for each role and method.
The admin's URLs are covered as a group: only staff get past its sign-in.
"""

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from tests.security.conftest import ROLES, assert_safe

pytestmark = pytest.mark.django_db

# What each role gets, one letter per role in ROLES order:
#   anonymous, no role, Viewer, Operator, Auditor, admin.
#   + reaches the view   L sent to sign in   D refused by imgdash's role check (403)
#   M method not allowed (405)
# The view may still say no to the input (400) or be refused by the cluster: that is "+".
EVERYONE = "++++++"
SIGNED_IN = "L+++++"
VIEWERS = "LD++D+"
OPERATORS = "LDD+D+"
ADMINS = "LDDDD+"
NO_POST = "LMMMMM"
NO_GET = "LMMMMM"

EXPECTED = {
    "home": {"GET": "LD++++", "POST": NO_POST},
    "healthz": {"GET": EVERYONE, "POST": "MMMMMM"},
    "readyz": {"GET": EVERYONE, "POST": "MMMMMM"},
    # Everyone on an allowed network (the test client is on loopback, the default).
    "metrics": {"GET": EVERYONE, "POST": "MMMMMM"},
    "favicon": {"GET": EVERYONE, "POST": "MMMMMM"},
    "login": {"GET": EVERYONE, "POST": EVERYONE},
    "logout": {"GET": "LMMMMM", "POST": SIGNED_IN},
    "sign_out_everywhere": {"GET": "LMMMMM", "POST": SIGNED_IN},
    # "Sign in with <cluster>" and the provider's return: before anyone is signed in.
    "oidc_start": {"GET": EVERYONE, "POST": EVERYONE},
    "oidc_callback": {"GET": EVERYONE, "POST": "MMMMMM"},
    "clusters:list": {"GET": VIEWERS, "POST": NO_POST},
    "clusters:home": {"GET": VIEWERS, "POST": NO_POST},
    "clusters:connect": {"GET": VIEWERS, "POST": VIEWERS},
    "clusters:disconnect": {"GET": NO_GET, "POST": VIEWERS},
    "repositories:list": {"GET": VIEWERS, "POST": NO_POST},
    "repositories:detail": {"GET": VIEWERS, "POST": NO_POST},
    "repositories:facts": {"GET": VIEWERS, "POST": NO_POST},
    "repositories:status": {"GET": VIEWERS, "POST": NO_POST},
    "repositories:storage": {"GET": VIEWERS, "POST": NO_POST},
    # Viewers may look at the dry run; deleting is the bulk delete's POST (Operators).
    "repositories:cleanup": {"GET": VIEWERS, "POST": NO_POST},
    "repositories:scope": {"GET": OPERATORS, "POST": OPERATORS},
    "repositories:delete": {"GET": OPERATORS, "POST": OPERATORS},
    "repositories:bulk_delete": {"GET": NO_GET, "POST": OPERATORS},
    # One tag (and the tags sharing its manifest) through the registry: GET confirms.
    "repositories:tag_delete": {"GET": OPERATORS, "POST": OPERATORS},
    # Starting a registry crawl sends requests as the Operator: GET explains, POST starts.
    "repositories:crawl": {"GET": OPERATORS, "POST": OPERATORS},
    "repositories:docker_token": {"GET": NO_GET, "POST": OPERATORS},
    "audit:log": {"GET": SIGNED_IN, "POST": NO_POST},
    # Everyone signed in has a Jobs page (their own jobs); another's job is a 404 ("+").
    "jobs:list": {"GET": SIGNED_IN, "POST": NO_POST},
    "jobs:detail": {"GET": SIGNED_IN, "POST": NO_POST},
    # Its owner (whatever their role now) or an admin may stop a job.
    "jobs:cancel": {"GET": NO_GET, "POST": SIGNED_IN},
    # Resuming sends deletes again: only an Operator (its owner; checked in the view).
    "jobs:resume": {"GET": NO_GET, "POST": OPERATORS},
    "people:list": {"GET": ADMINS, "POST": NO_POST},
    "people:grant_role": {"GET": NO_GET, "POST": ADMINS},
    "people:remove_role": {"GET": NO_GET, "POST": ADMINS},
    "people:deactivate": {"GET": ADMINS, "POST": ADMINS},
    "people:reactivate": {"GET": NO_GET, "POST": ADMINS},
    "people:sign_out_everywhere": {"GET": NO_GET, "POST": ADMINS},
}
ADMIN_NAMESPACE = "admin"
# Admin pages anyone may load: its own sign-in and sign-out.
ADMIN_PUBLIC = {"admin:login", "admin:logout"}


def walk(resolver=None, namespace="", params=frozenset()):
    """(full URL name, names of its URL parameters) for every pattern, through includes."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        here = params | _parameters(pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern, inner, here)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}{pattern.name}" if pattern.name else None
            yield name or f"{namespace}<unnamed {pattern.pattern}>", here


def _parameters(pattern):
    converters = getattr(pattern.pattern, "converters", None)
    if converters is not None:
        return frozenset(converters)
    return frozenset(pattern.pattern.regex.groupindex)


def app_urls():
    return {name: params for name, params in walk() if not name.startswith(ADMIN_NAMESPACE + ":")}


def test_every_url_has_a_row_in_the_role_table():
    names = set(app_urls())
    missing = sorted(names - set(EXPECTED))
    assert not missing, (
        f"No role expectations for {', '.join(missing)}. Add a row to EXPECTED in "
        f"{__file__}: which of {', '.join(ROLES)} may GET and POST it."
    )
    stale = sorted(set(EXPECTED) - names)
    assert not stale, f"EXPECTED has rows for URLs that no longer exist: {', '.join(stale)}"


def url_for(name, params, cast):
    samples = {
        "slug": cast.cluster.slug,
        "name": viewer_visible_repository(cast.emulator),
        "tag": viewer_visible_tag(cast.emulator),
        "job_id": operators_job(cast).pk,
        "user_id": sample_person().pk,
    }
    return reverse(name, kwargs={param: samples[param] for param in params})


def operators_job(cast):
    """A finished job of the Operator's: the others may not see it (404, which is "+")."""
    from imgdash.jobs.models import Job

    operator = cast["Operator"].user
    job, _ = Job.objects.get_or_create(
        owner=operator,
        defaults={
            "owner_username": operator.username,
            "kind": "bulk_delete",
            "cluster": cast.cluster,
            "cluster_name": cast.cluster.name,
            "state": "done",
        },
    )
    return job


def sample_person():
    """The person the people page's actions are tried on: none of the cast, so that an
    admin's deactivation or sign-out of them changes nothing for the next request."""
    from django.contrib.auth import get_user_model

    person, _ = get_user_model().objects.get_or_create(username="pat")
    return person


def viewer_visible_repository(emulator):
    return next(r["name"] for r in emulator.repositories.all() if r["owner"] == "team-a")


def viewer_visible_tag(emulator):
    repository = emulator.repositories.get(viewer_visible_repository(emulator))
    return repository["tags"][0]["name"]


def is_sign_in(location, login_url=None):
    """A redirect to sign in first, and come back (signing out also lands on the sign-in page,
    but with no way back)."""
    login_url = login_url or resolve_url(settings.LOGIN_URL)
    return location.startswith(login_url + "?") and "next=" in location


def outcome(response):
    location = response.get("Location", "")
    if response.status_code == 405:
        return "M"
    if response.status_code == 302 and is_sign_in(location):
        return "L"
    if response.status_code == 403:
        return "D"
    return "+"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_role_reaches_exactly_what_its_row_says(name, cast):
    params = app_urls()[name]
    path = url_for(name, params, cast)
    got = {}
    for method in ("GET", "POST"):
        letters = []
        for role in ROLES:
            client = cast[role].client
            response = client.get(path) if method == "GET" else client.post(path)
            assert_safe(response, cast.secrets, f"{role} {method} {path}")
            letters.append(outcome(response))
            cast.restore(role)
        got[method] = "".join(letters)
    assert got == EXPECTED[name], (
        f"{path}: roles {', '.join(ROLES)} got {got}, the table says {EXPECTED[name]}"
    )


STATE_CHANGING = sorted(name for name, row in EXPECTED.items() if "+" in row["POST"])


@pytest.mark.parametrize("name", STATE_CHANGING)
def test_a_post_without_a_csrf_token_is_refused(name, cast):
    role = next(r for r, letter in zip(ROLES, EXPECTED[name]["POST"], strict=True) if letter == "+")
    client = Client(enforce_csrf_checks=True)
    if cast[role].user is not None:
        client.force_login(cast[role].user)
    path = url_for(name, app_urls()[name], cast)
    credentials_before = cast.cluster.credentials.count()
    cast.emulator.requests.clear()
    response = client.post(path, {"scope": "global", "repository": "team-a/x", "confirm": "x"})
    assert response.status_code == 403, f"{role} POST {path} without a CSRF token"
    assert b"CSRF" in response.content
    assert list(cast.emulator.requests) == [], "a refused POST reached the cluster"
    assert cast.cluster.credentials.count() == credentials_before


ADMIN_SAMPLES = {"app_label": "auth", "object_id": "1", "content_type_id": "1"}


def admin_paths():
    paths = {}
    for name, params in walk():
        if not name.startswith(ADMIN_NAMESPACE + ":") or "<unnamed" in name:
            continue
        try:
            paths[name] = reverse(name, kwargs={p: ADMIN_SAMPLES[p] for p in params})
        except (KeyError, NoReverseMatch):
            continue
    return paths


def test_the_admin_urls_are_walked():
    paths = admin_paths()
    assert "admin:index" in paths and "admin:clusters_cluster_changelist" in paths
    assert len(paths) > 20


def test_only_staff_get_past_the_admin_sign_in(cast):
    admin_login = reverse("admin:login")
    failures = []
    for name, path in sorted(admin_paths().items()):
        for role in ROLES:
            client = cast[role].client
            for method in ("GET", "POST"):
                response = client.get(path) if method == "GET" else client.post(path)
                assert_safe(response, cast.secrets, f"{role} {method} {path}")
                location = response.get("Location", "")
                sent_to_sign_in = response.status_code == 302 and (
                    is_sign_in(location, admin_login) or is_sign_in(location)
                )
                if name in ADMIN_PUBLIC:
                    if role != "anonymous" and name == "admin:logout" and method == "POST":
                        client.force_login(cast[role].user)
                    continue
                if role == "admin" and sent_to_sign_in:
                    failures.append(f"admin {method} {path}: sent to sign in")
                if role != "admin" and (not sent_to_sign_in):
                    failures.append(f"{role} {method} {path}: HTTP {response.status_code}")
    assert not failures, "\n".join(failures)
