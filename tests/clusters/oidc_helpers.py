"""Signing in with the emulator's OpenID provider from the Django test client: the
dashboard's side through `client`, the provider's login page through a requests session."""

import re
from urllib.parse import parse_qs, urlsplit

import requests

CLIENT_ID = "imgdash-test"
CLIENT_SECRET = "imgdash-test-secret"
CALLBACK = "http://testserver/oidc/callback/"


def register_client(emulator, *redirect_uris):
    emulator.oidc_clients.register(
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "client_name": "imgdash (tests)",
            "redirect_uris": [CALLBACK, *redirect_uris],
            "post_logout_redirect_uris": ["http://testserver/"],
        }
    )


def offer_sign_in(cluster, emulator):
    from imgdash.clusters.models import SignInProvider

    provider = SignInProvider(
        cluster=cluster,
        enabled=True,
        client_id=CLIENT_ID,
        discovery_url=emulator.oidc_url + "/.well-known/openid-configuration",
    )
    provider.set_client_secret(CLIENT_SECRET)
    provider.save()
    return provider


def query_of(url):
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def sign_in_at_provider(authorize_url, username, password=None):
    """The provider's redirect back to imgdash (its Location) after logging in there."""
    browser = requests.Session()
    page = browser.get(authorize_url, allow_redirects=False, timeout=10)
    assert page.status_code == 200, page.text
    ticket = re.search(r'name="ticket" value="([^"]+)"', page.text).group(1)
    answer = browser.post(
        authorize_url.split("?")[0],
        data={"ticket": ticket, "username": username, "password": password or username},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def start(client, cluster, next_url=""):
    answer = client.post(f"/accounts/oidc/{cluster.slug}/start/", {"next": next_url})
    assert answer.status_code == 302, answer.content
    return answer.headers["Location"]


def callback_path(location):
    assert location.startswith(CALLBACK), location
    return "/oidc/callback/?" + urlsplit(location).query


def sign_in_with_cluster(client, cluster, username="editor"):
    """The whole flow; the callback's answer."""
    location = sign_in_at_provider(start(client, cluster), username)
    return client.get(callback_path(location))
