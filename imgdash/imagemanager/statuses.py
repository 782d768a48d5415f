"""When the cluster answered with an error status: which error, and what to tell the user."""

from __future__ import annotations

import re
from collections.abc import Mapping

from .answers import Answer
from .errors import (
    DELETE_REPOSITORY,
    DOCKER_TOKEN,
    GET_REPOSITORY,
    LIST_ENDPOINTS,
    LIST_REPOSITORIES,
    MUTATIONS,
    SET_SCOPE,
    SIGN_IN,
    BadRequest,
    ClientError,
    ErrorFields,
    Forbidden,
    ImageManagerError,
    NotFound,
    ProtocolError,
    RateLimited,
    Unauthorized,
    Unavailable,
    describe,
    sanitise_excerpt,
)
from .failures import Call
from .names import namespace_of

# What the role was refused, phrased to follow "your role ... cannot".
_REFUSED_ACTION = {
    LIST_ENDPOINTS: "read the API status",
    DOCKER_TOKEN: "get registry tokens",
    LIST_REPOSITORIES: "list images",
    GET_REPOSITORY: "view images",
    SET_SCOPE: "change the scope of images",
    DELETE_REPOSITORY: "delete images",
}

# Which ICP role on images (`images.icp.ibm.com`) each operation needs, as IBM documents it:
# ClusterAdministrator everything; Administrator list, get, update, delete in its namespaces;
# Operator and Editor list, get, update; Viewer list and get. `{ns}` is where. IBM's pages name
# no role for the docker token or the API's banner: for those the message says it does not know.
_ROLE_NEEDED = {
    LIST_REPOSITORIES: "Listing needs at least the Viewer role in a namespace",
    GET_REPOSITORY: "Viewing needs at least the Viewer role in {ns}",
    SET_SCOPE: (
        "Changing the scope needs the Editor, Operator or Administrator role in {ns}, "
        "or ClusterAdministrator"
    ),
    DELETE_REPOSITORY: "Deleting needs the Administrator role in {ns}, or ClusterAdministrator",
}


def _role_needed(operation: str, namespace: str) -> str:
    """The cluster role IBM documents for `operation`, honest where it documents none."""
    needed = _ROLE_NEEDED.get(operation)
    if needed is None:
        return (
            "IBM's API documentation does not say which cluster role this needs: ask a "
            "cluster administrator."
        )
    where = f"namespace {namespace}" if namespace else "the repository's namespace"
    return (
        f"{needed.format(ns=where)} (the image roles IBM documents; a cluster may be set up "
        "otherwise): ask a cluster administrator for it."
    )


_REASONS = {
    400: "bad request",
    401: "unauthorized",
    403: "forbidden",
    404: "not found",
    409: "conflict",
    429: "too many requests",
    500: "internal server error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}


def status_error(call: Call, answer: Answer, headers: Mapping[str, str]) -> ImageManagerError:
    """The error for an answer with status 300 or more (redirects are never followed)."""
    status = answer.status
    # An identity provider may echo the password in its error body, in encodings no
    # redaction can list: a sign-in failure never quotes the body at all.
    excerpt = "" if call.operation == SIGN_IN else call.excerpt(answer.body, answer.media_type)
    if 300 <= status < 400:
        location = sanitise_excerpt(
            headers.get("Location", "").split("?", 1)[0], secrets=call.secrets, limit=120
        )
        to = f" to {location}" if location else ""
        return ProtocolError(
            f"The cluster answered with a redirect (HTTP {status}{to}) instead of an "
            "API answer: check the cluster's API URL (scheme, host, port and the "
            "/image-manager/api/v1 path). Redirects are not followed.",
            operation=call.operation,
            status=status,
            excerpt=excerpt,
            repository=call.repository,
        )
    retry_after = headers.get("Retry-After", "")
    return error_for_status(
        call.operation,
        status,
        excerpt,
        repository=call.repository,
        retry_after=int(retry_after) if retry_after.isdigit() else None,
        attempts=answer.attempts,
    )


def _said(excerpt: str, status: int) -> str:
    """`` The cluster said: "…".`` unless the excerpt only repeats the status."""
    if not excerpt:
        return ""
    plain = re.sub(r"[^a-z ]", "", excerpt.lower()).strip()
    if plain in ("", _REASONS.get(status, "")):
        return ""
    return f' The cluster said: "{excerpt}"'


def error_for_status(
    operation: str,
    status: int,
    excerpt: str = "",
    *,
    repository: str | None = None,
    retry_after: int | None = None,
    attempts: int = 1,
) -> ImageManagerError:
    """The error for an HTTP error status, with a message a person can act on."""
    said = _said(excerpt, status)
    common: ErrorFields = {
        "operation": operation,
        "status": status,
        "excerpt": excerpt,
        "repository": repository,
    }
    if operation == SIGN_IN and status in (400, 401, 403):
        return Unauthorized(
            f"The cluster's identity provider rejected the user name or password "
            f"(HTTP {status}). Check them and sign in again.{said}",
            **common,
        )
    if status == 401:
        return Unauthorized(
            "The cluster did not accept your token (HTTP 401); it may have expired. "
            f"Reconnect to this cluster with a fresh token.{said}",
            **common,
        )
    if status == 403:
        ns = namespace_of(repository) if repository else ""
        where = f" in namespace {ns}" if ns else ""
        action = _REFUSED_ACTION.get(operation, "do this")
        return Forbidden(
            f"The cluster refused: your role{where} cannot {action} (HTTP 403). "
            f"{_role_needed(operation, ns)}{said}",
            **common,
        )
    if status == 404:
        if repository:
            return NotFound(
                f"Repository {repository} was not found on the cluster (HTTP 404). It may "
                f"have been deleted, or your token cannot see it; refresh the list.{said}",
                **common,
            )
        return NotFound(
            f"The cluster has no such API path (HTTP 404) while trying to "
            f"{describe(operation)}: check the cluster's API URL.{said}",
            **common,
        )
    if status == 400:
        return BadRequest(
            f"The cluster rejected the request to {describe(operation, repository)} "
            f"as invalid (HTTP 400).{said}",
            **common,
        )
    if status == 409:
        return ClientError(
            f"The cluster refused to {describe(operation, repository)} because of a "
            f"conflict (HTTP 409); refresh and try again.{said}",
            **common,
        )
    if status == 429:
        wait = f" in {retry_after} s" if retry_after is not None else " later"
        err = RateLimited(
            f"The cluster is rate-limiting requests (HTTP 429): wait a moment and try "
            f"again{wait}.{said}",
            **common,
        )
        err.retry_after = retry_after
        return err
    if 400 <= status < 500:
        return ClientError(
            f"The cluster refused to {describe(operation, repository)} (HTTP {status}).{said}",
            **common,
        )
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    if status in (502, 503, 504):
        text = (
            f"The cluster's image manager is unavailable (HTTP {status}{tries}) while "
            f"trying to {describe(operation, repository)}. Try again in a minute; if it "
            f"persists, check the image-manager pods and the management ingress."
        )
    else:
        text = (
            f"The cluster's image manager failed to {describe(operation, repository)} "
            f"(HTTP {status}{tries}). Try again later; if it persists, check the "
            f"image-manager logs on the cluster."
        )
    if operation in MUTATIONS and operation != SIGN_IN:
        text += " The change was most likely not applied; refresh to check."
    return Unavailable(text + said, **common)
