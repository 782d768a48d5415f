"""The Image Manager API client: one method per API operation, typed results.

One :class:`ImageManagerClient` is bound to one cluster (API base URL, CA bundle or an
explicit verify-off, timeouts) and one bearer token. How requests are sent, retried,
capped and kept free of secrets is :mod:`.transport`'s business; failures become the
errors of :mod:`.errors`. Views that hold a token still need ``@sensitive_variables``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import quote_plus, urlencode

import orjson

from . import errors as E
from . import listing
from .answers import (
    Answer,
    check_confirmation,
    check_json_type,
    docker_token_from,
    identity_token_from,
    json_of,
    protocol_error,
    shape_error,
)
from .errors import InvalidInput, InvalidScope, ProtocolError
from .listing import RepositorySummary
from .names import repository_url
from .results import ApiBanner, DockerToken, IdentityToken, Repository
from .session import NoAuth, SecretBody, Secrets
from .transport import ClusterTransport, ListProgress

log = logging.getLogger("imgdash.imagemanager")

SCOPES = ("global", "namespace")
IDENTITY_TOKEN_PATH = "/idprovider/v1/auth/identitytoken"  # noqa: S105 - a path
_BANNER_LINE_RE = re.compile(r"^\s*(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS)\s+(/\S*)\s*$")


class ImageManagerClient(ClusterTransport):
    """A client for one cluster's Image Manager API and one bearer token.

    ``ImageManagerClient(api_url, token, verify=True, ca_pem=None, connect_timeout=5.0,
    read_timeout=60.0, max_response_bytes=256 MiB, get_retries=2, backoff=0.2,
    call_deadline=15.0, list_deadline=60.0, max_repositories=200_000)``; see
    :class:`.transport.ClusterTransport` for what each setting does.
    """

    def endpoints(self) -> ApiBanner:
        """Operation 1, *List endpoints*: ``GET <base>``; the plain-text banner.

        Doubles as the cluster's API status check: ``elapsed`` is the round trip in seconds.
        """
        answer = self._call(E.LIST_ENDPOINTS, "GET", self.api_url)
        if answer.is_web_page:
            raise protocol_error(
                answer,
                "The cluster answered with a web page instead of the Image Manager banner: "
                "check the cluster's API URL (it should end in /image-manager/api/v1).",
            )
        text = bytes(answer.body).decode("utf-8", errors="replace")
        found = [(m[1], m[2]) for m in map(_BANNER_LINE_RE.match, text.splitlines()) if m]
        return ApiBanner(text=text, endpoints=found, elapsed=answer.elapsed)

    def docker_token(
        self, scopes: Iterable[str] = (), service: str = "token-service"
    ) -> DockerToken:
        """Operation 2, *Get JWT tokens*: ``GET <base>/auth/token?service=…&scope=…``.

        A token for ``docker login`` against the cluster's registry (port 8500). Without
        a scope it grants nothing; see :func:`names.repository_scope` and
        :data:`names.CATALOG_SCOPE`.
        """
        scope_list = [scopes] if isinstance(scopes, str) else list(scopes)
        for scope in scope_list:
            if not isinstance(scope, str) or not scope or any(c.isspace() for c in scope):
                raise InvalidInput(
                    f"{scope!r} is not a registry scope (e.g. repository:team-a/app:pull).",
                    operation=E.DOCKER_TOKEN,
                )
        params = [("service", service)] + [("scope", scope) for scope in scope_list]
        answer = self._call(E.DOCKER_TOKEN, "GET", f"{self.api_url}/auth/token", params=params)
        token = docker_token_from(json_of(answer))
        if token is None:
            raise shape_error(answer, "an object with a token")
        return token

    def list_repositories(self, progress: ListProgress | None = None) -> list[Repository]:
        """Operation 3, *List repositories*: ``GET <base>/repositories``, sorted by name.

        The API returns every repository the token may see, every tag's manifest included,
        in one answer; tags are parsed lazily (see :class:`Repository`). A large registry's
        answer takes a while: ``progress`` (a :class:`.transport.ListProgress`) is told the
        bytes received so far, then that the answer is being read and how many it lists.
        """
        answer = self._list_answer(progress)
        return self._repositories_of(answer, progress)

    def list_repository_summaries(
        self, progress: ListProgress | None = None
    ) -> list[RepositorySummary]:
        """Operation 3 as the index needs it: each repository's name, scope, tag names and
        size (see :mod:`.listing`), sorted by name; errors and ``progress`` as
        :meth:`list_repositories`."""
        answer = self._list_answer(progress)
        check_json_type(answer)
        items = listing.repository_json(answer.body)
        if items is not None:
            self._check_count(answer, len(items))
            if progress is not None:
                progress.indexing(len(items))
            try:
                found = listing.summaries(items, on_odd=_log_skipped)
            except orjson.JSONDecodeError:
                pass  # malformed after all: the old way says how
            else:
                found.sort(key=lambda summary: summary.name)
                return found
        return [listing.summary_of(repo) for repo in self._repositories_of(answer, progress)]

    def _check_count(self, answer: Answer, count: int) -> None:
        if count > self.max_repositories:
            raise ProtocolError(
                f"The cluster listed more than {self.max_repositories:,} repositories "
                f"({count:,}), more than imgdash reads in one list. If the registry "
                "really is that large, raise IMGDASH_MAX_REPOSITORIES; otherwise check the "
                "cluster's API URL.",
                operation=E.LIST_REPOSITORIES,
                status=answer.status,
            )

    def _list_answer(self, progress: ListProgress | None) -> Answer:
        """Operation 3's whole answer, telling ``progress`` the bytes as they come, then that
        it is being read."""
        answer = self._call(
            E.LIST_REPOSITORIES,
            "GET",
            f"{self.api_url}/repositories",
            on_received=progress.receiving if progress is not None else None,
        )
        if progress is not None:
            progress.indexing(None)
        return answer

    def _repositories_of(self, answer: Answer, progress: ListProgress | None) -> list[Repository]:
        data = json_of(answer)
        items = data.get("repositories", ...) if isinstance(data, dict) else ...
        if items is None:
            items = []
        if not isinstance(items, list):
            raise shape_error(answer, 'an object with a "repositories" list')
        self._check_count(answer, len(items))
        if progress is not None:
            progress.indexing(len(items))
        repositories = [repo for repo in map(Repository.from_api, items) if repo is not None]
        if len(repositories) != len(items):
            _log_skipped(len(items) - len(repositories))
        repositories.sort(key=lambda repo: repo.name)
        return repositories

    def get_repository(self, name: str) -> Repository:
        """Operation 4, *List specified repository*: ``GET <base>/repositories/<name>``."""
        url = repository_url(self.api_url, name)
        answer = self._call(E.GET_REPOSITORY, "GET", url, repository=name)
        data = json_of(answer)
        if isinstance(data, dict) and "name" not in data:
            data = {**data, "name": name}
        repository = Repository.from_api(data)
        if repository is None:
            raise shape_error(answer, "a repository object")
        return repository

    def set_scope(self, name: str, scope: str) -> None:
        """Operation 5, *Update repository metadata*: ``PUT <base>/repositories/<name>``.

        ``scope`` is ``"global"`` (pullable from every namespace) or ``"namespace"``.
        Never retried: if no answer comes, :class:`OutcomeUnknown` is raised.
        """
        url = repository_url(self.api_url, name)
        if scope not in SCOPES:
            raise InvalidScope(
                f"{scope!r} is not a scope: use 'global' or 'namespace'.",
                operation=E.SET_SCOPE,
                repository=name,
            )
        answer = self._call(
            E.SET_SCOPE,
            "PUT",
            url,
            repository=name,
            data=orjson.dumps({"scope": scope}),
            headers={"Content-Type": "application/json"},
        )
        check_confirmation(answer)

    def delete_repository(self, name: str) -> None:
        """Operation 6, *Delete repository*: ``DELETE <base>/repositories/<name>``.

        Removes the repository with every tag. Never retried: if no answer comes,
        :class:`OutcomeUnknown` is raised.
        """
        url = repository_url(self.api_url, name)
        answer = self._call(E.DELETE_REPOSITORY, "DELETE", url, repository=name)
        check_confirmation(answer)

    def sign_in(self, username: str, password: str) -> IdentityToken:
        """Sign in on the cluster's identity provider and get an ID token.

        ``POST <origin>/idprovider/v1/auth/identitytoken`` with
        ``grant_type=password&username=…&password=…&scope=openid`` (form-encoded). Works
        without a token; the password is never logged or put in an error.
        """
        if not (isinstance(username, str) and username and isinstance(password, str) and password):
            raise InvalidInput("Enter both a user name and a password.", operation=E.SIGN_IN)
        form = {"grant_type": "password", "username": username, "password": password}
        body = SecretBody(urlencode({**form, "scope": "openid"}).encode())
        # Redact it as typed, as form-encoded, and the whole form, should a server echo it.
        secrets = Secrets((password, quote_plus(password), body.decode()))
        del password, form
        answer = self._call(
            E.SIGN_IN,
            "POST",
            self.origin + IDENTITY_TOKEN_PATH,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=NoAuth(),
            secrets=secrets,
        )
        del secrets, body
        result = identity_token_from(json_of(answer))
        if result is None:
            # Not raised from inside a frame that holds the answer's tokens.
            answer.body.clear()
            raise ProtocolError(
                "The cluster's identity provider answered without an ID token: check the "
                "cluster's API URL.",
                operation=E.SIGN_IN,
                status=answer.status,
            )
        return result


def _log_skipped(count: int) -> None:
    log.warning("list repositories: skipped %d entries without a usable name", count)
