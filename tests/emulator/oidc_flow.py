"""A relying party done by hand, for the OpenID provider's tests: PKCE values, the login
form, the code exchange."""

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import requests

from tests.emulator import client

CLIENT_ID = "dashboard"
CLIENT_SECRET = "dashboard-secret"
REDIRECT_URI = "http://127.0.0.1:8000/oidc/callback/"
LOGOUT_URI = "http://127.0.0.1:8000/signed-out/"
CLIENT = {
    "client_id": CLIENT_ID,
    "client_secret": CLIENT_SECRET,
    "client_name": "Dashboard",
    "redirect_uris": [REDIRECT_URI],
    "post_logout_redirect_uris": [LOGOUT_URI],
}


def s256(verifier):
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def query_of(url):
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@dataclass
class Flow:
    """One browser (a cookie jar) signing in to the provider for the test client."""

    issuer: str
    browser: requests.Session = field(default_factory=requests.Session)
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    state: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    def authorize(self, **overrides):
        params = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid profile email",
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": s256(self.verifier),
            "code_challenge_method": "S256",
            **overrides,
        }
        params = {key: value for key, value in params.items() if value is not None}
        return self.browser.get(
            self.issuer + "/authorize",
            params=params,
            allow_redirects=False,
            timeout=client.TIMEOUT,
        )

    def submit_login(self, page, username, password):
        ticket = re.search(r'name="ticket" value="([^"]+)"', page.text).group(1)
        return self.browser.post(
            self.issuer + "/authorize",
            data={"ticket": ticket, "username": username, "password": password},
            allow_redirects=False,
            timeout=client.TIMEOUT,
        )

    def sign_in(self, username="editor", password=None):
        """The redirect's query (code and state) after logging in as `username` (at once
        when this browser is still signed in)."""
        answer = page = self.authorize()
        if page.status_code == 200:
            answer = self.submit_login(page, username, password or username)
        assert answer.status_code == 302, answer.text
        assert answer.headers["Location"].startswith(REDIRECT_URI + "?")
        return query_of(answer.headers["Location"])

    def exchange(self, code, verifier=None, redirect_uri=REDIRECT_URI):
        return client.post(
            self.issuer + "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier or self.verifier,
            },
            auth=(CLIENT_ID, CLIENT_SECRET),
        )

    def tokens(self, username="editor"):
        """A full sign-in: the token endpoint's answer (JSON)."""
        answer = self.exchange(self.sign_in(username)["code"])
        assert answer.status_code == 200, answer.text
        return answer.json()
