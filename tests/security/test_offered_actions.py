"""Nothing is offered that imgdash's role check would refuse: on every page, as every role,
each link (href, hx-get) and each form with a button (action, hx-post) leads to a view the
role matrix (test_role_matrix.EXPECTED) lets that role reach with that method."""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, resolve

from imgdash.jobs.models import INTERRUPTED, NOT_ATTEMPTED, Job, JobItem
from tests.security.conftest import ROLES
from tests.security.test_role_matrix import EXPECTED

pytestmark = pytest.mark.django_db

SIGNED_IN_ROLES = ("no role", "Viewer", "Operator", "Auditor", "admin")


class Offers(HTMLParser):
    """(method, url) of every link and of every form a person can submit (it has a button)."""

    def __init__(self):
        super().__init__()
        self.offers = set()
        self._form = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            for name in ("href", "hx-get"):
                if attrs.get(name):
                    self.offers.add(("GET", attrs[name]))
        if tag == "form":
            method = (attrs.get("method") or "get").upper()
            action = attrs.get("hx-post") or attrs.get("action") or ""
            self._form = {"method": "POST" if attrs.get("hx-post") else method, "action": action}
            self._form["button"] = False
        if tag in ("button", "input") and self._form is not None:
            kind = (attrs.get("type") or ("submit" if tag == "button" else "text")).lower()
            if kind == "submit":
                self._form["button"] = True

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            if self._form["button"] and self._form["action"]:
                self.offers.add((self._form["method"], self._form["action"]))
            self._form = None


def offers_on(html):
    parser = Offers()
    parser.feed(html)
    return parser.offers


def refused(role, method, url):
    """Why `role` may not follow (method, url), or None when it may (or it is not ours)."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path == "/":
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    name = match.view_name
    if name.startswith("admin:"):
        return None if role == "admin" else f"{name} is for admins"
    expected = EXPECTED.get(name, {}).get(method)
    if expected is None:
        return None
    letter = expected[ROLES.index(role)]
    return None if letter == "+" else f"{name} {method} is {letter!r} for {role}"


def a_job_of(user, cluster):
    """An interrupted bulk delete of `user`'s with one repository not attempted: resumable."""
    job = Job.objects.create(
        owner=user,
        owner_username=user.get_username(),
        kind="bulk_delete",
        cluster=cluster,
        cluster_name=cluster.name,
        state=INTERRUPTED,
    )
    JobItem.objects.create(job=job, position=0, target="team-a/app", state=NOT_ATTEMPTED)
    return job


def test_no_page_offers_what_the_role_may_not_do(cast, emulator, cluster):
    name = next(r["name"] for r in emulator.repositories.all() if r["owner"] == "team-a")
    base = f"/clusters/{cluster.slug}"
    pages = [
        "/",
        "/clusters/",
        f"{base}/connect/",
        f"{base}/repositories/",
        f"{base}/repositories/{name}/",
        f"{base}/repositories/{name}/-/delete/",
        f"{base}/repositories/{name}/-/scope/",
        f"{base}/status/",
        f"{base}/storage/",
        "/jobs/",
        "/audit/",
    ]
    problems = []
    checked = 0
    for role in SIGNED_IN_ROLES:
        actor = cast[role]
        # Each once started a job (a role can be taken away after): its page too.
        job_page = f"/jobs/{a_job_of(actor.user, cluster).pk}/"
        for page in [*pages, job_page]:
            response = actor.client.get(page, follow=True)
            if response.status_code != 200:
                continue
            for method, url in sorted(offers_on(response.content.decode())):
                checked += 1
                why = refused(role, method, url)
                if why:
                    problems.append(f"{role} on {page}: {method} {url} ({why})")
    assert checked > 50
    assert not problems, "\n".join(problems)
