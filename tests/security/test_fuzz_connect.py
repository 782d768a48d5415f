"""Fuzzing the forms that take credentials: connect a cluster token, and sign in.

Generated cases per run (HYPOTHESIS_PROFILE=ci: three times as many):
connect 150, sign-in 60 = 210.

For every case: no 5xx and no secret in the answer; a form that is not valid sends nothing
to the cluster; the canary password is never shown or logged; every redirect stays on site.
"""

import base64
import json

import pytest
from django.test import Client
from django.utils.http import url_has_allowed_host_and_scheme
from hypothesis import given
from hypothesis import strategies as st

from imgdash.clusters.forms import ConnectForm
from tests.conftest import PASSWORD
from tests.security.conftest import (
    CANARY_PASSWORD,
    assert_action_log_clean,
    assert_safe,
    fuzz_settings,
    hostile_text,
)

pytestmark = pytest.mark.django_db

CONNECTORS = ("Viewer", "Operator", "admin")
NEXT_URLS = st.one_of(
    st.sampled_from(
        [
            "",
            "/clusters/",
            "/clusters/emu/repositories/?q=a",
            "//evil.example.com/",
            "https://evil.example.com/",
            "/\\evil.example.com",
            "\\\\evil.example.com",
            "https:evil.example.com",
            "javascript:alert(1)",
            " //evil.example.com",
            "/%2F%2Fevil.example.com",
            "http://testserver@evil.example.com/",
        ]
    ),
    hostile_text(),
)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# Tokens with the shape of a JWT that no cluster signed: they get as far as the cluster.
FORGED_TOKENS = st.builds(
    lambda claims, signature: ".".join(
        [b64(b'{"alg":"RS256","typ":"JWT"}'), b64(json.dumps(claims).encode()), b64(signature)]
    ),
    st.dictionaries(
        st.sampled_from(["sub", "exp", "iat", "iss", "name"]),
        st.one_of(st.integers(-(10**20), 10**20), hostile_text(40)),
        max_size=5,
    ),
    st.binary(max_size=64),
)
TOKENS = st.one_of(
    st.just(""),
    hostile_text(),
    FORGED_TOKENS,
    FORGED_TOKENS.map(lambda t: f"ID token: {t}"),
    FORGED_TOKENS.map(lambda t: f"Bearer {t[:40]}\n{t[40:]}"),
    st.just("eyJ" + "a" * 20_000 + ".e.e"),
)
PASSWORDS = st.one_of(
    st.just(""), st.just(CANARY_PASSWORD), hostile_text(30).map(lambda t: CANARY_PASSWORD + t)
)
USERNAMES = st.one_of(st.just(""), st.sampled_from(["admin", "viewer", "nobody"]), hostile_text())


def assert_stays_on_site(response):
    if response.status_code in (301, 302, 303, 307, 308):
        location = response["Location"]
        # Host and scheme are decided before the query; Django's check also refuses any URL
        # over 2,048 characters, which a long `next=` in the query makes (still on site).
        target = location.split("?", 1)[0]
        assert url_has_allowed_host_and_scheme(target, allowed_hosts={"testserver"}), location


def test_fuzz_connect(cast, attack):
    path = f"/clusters/{cast.cluster.slug}/connect/"

    @fuzz_settings(150)
    @given(
        role=st.sampled_from(CONNECTORS),
        method=st.sampled_from(["GET", "POST", "POST", "POST"]),
        token=TOKENS,
        username=USERNAMES,
        password=PASSWORDS,
        next_url=NEXT_URLS,
    )
    def run(role, method, token, username, password, next_url):
        if method == "GET":
            response, upstream = attack(role, "GET", path, {"next": next_url})
            assert upstream == []
        else:
            data = {"token": token, "username": username, "password": password, "next": next_url}
            response, upstream = attack(role, "POST", path, data)
            if not ConnectForm(data).is_valid():
                assert upstream == [], f"an invalid connect form reached the cluster: {upstream}"
        assert_stays_on_site(response)
        # Nothing here is a real credential: each role keeps the token it had.
        assert cast[role].user.cluster_credentials.get().token == cast[role].token

    run()
    assert_action_log_clean(cast.secrets)


def test_fuzz_sign_in(cast, make_user):
    make_user("sam", "Viewer")

    @fuzz_settings(60)
    @given(
        username=st.one_of(st.just("sam"), USERNAMES),
        password=st.one_of(st.just(PASSWORD), PASSWORDS),
        next_url=NEXT_URLS,
    )
    def run(username, password, next_url):
        client = Client()
        response = client.post(
            "/accounts/login/", {"username": username, "password": password, "next": next_url}
        )
        # A wrong password is answered with the form again; the right one goes on, on site.
        assert_safe(response, cast.secrets, "sign-in")
        assert CANARY_PASSWORD not in response.content.decode("utf-8", "replace")
        assert_stays_on_site(response)

    run()
    assert_action_log_clean(cast.secrets)
