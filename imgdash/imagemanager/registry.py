"""The registry v2 client: what the Image Manager API does not say about an image.

One :class:`RegistryClient` is bound to one cluster's registry (``registry_url``) and one
registry token, the pull- or delete-scoped JWT of operation 2::

    token = ImageManagerClient(api_url, id_token).docker_token([pull_scope(name)]).token
    with RegistryClient(registry_url(api_url, cluster.registry_host), token) as registry:
        config = registry.image_config(name, manifest.config.digest)

It goes through the same transport as the Image Manager client (timeouts, deadline, size
cap, the cluster's CA, redirects never followed, the token never logged or in a repr).
Every body fetched by digest is checked against that digest: content that does not match
what the Image Manager API named is a :class:`ProtocolError`, never a fact.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import orjson

from . import errors as E
from . import imageconfigs
from .answers import Answer
from .claims import token_claims
from .errors import (
    ConfigurationError,
    Forbidden,
    ImageManagerError,
    InvalidInput,
    NotFound,
    ProtocolError,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from .failures import Call
from .imagefacts import ImageConfig, PlatformManifest
from .names import repository_path, repository_scope
from .transport import ClusterTransport

MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
)
# A config or a manifest is a few kilobytes; this much is plenty and bounds a bad answer.
DEFAULT_MAX_BLOB_BYTES = 4 * 1024 * 1024
_DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}")


def pull_scope(name: str) -> str:
    """``repository:<name>:pull``, the scope to ask operation 2 for to read ``name``."""
    return repository_scope(name, "pull")


def delete_scope(name: str) -> str:
    """``repository:<name>:delete``, to delete a manifest of ``name`` by digest."""
    return repository_scope(name, "delete")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def registry_url(api_url: str, registry_host: str) -> str:
    """The registry's base URL from the cluster's registry ``host:port``.

    ``host:port`` becomes ``https://host:port``, except that a plain-HTTP API on this
    machine (the emulator) implies a plain-HTTP registry on this machine. A value with a
    scheme is kept; ``http://`` only for a loopback host, so a token never crosses a
    network in clear. ConfigurationError for anything else.
    """
    text = registry_host.strip() if isinstance(registry_host, str) else ""
    if not text:
        raise ConfigurationError("The cluster has no registry address.", operation="configure")
    if "://" not in text:
        api = urlsplit(api_url if isinstance(api_url, str) else "")
        host = urlsplit("//" + text).hostname or ""
        local = api.scheme == "http" and _is_loopback(api.hostname or "") and _is_loopback(host)
        text = ("http://" if local else "https://") + text
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
        or any(ch.isspace() for ch in text)
    ):
        raise ConfigurationError(
            "The cluster's registry address must look like host:port (e.g. mycluster.icp:8500).",
            operation="configure",
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigurationError(
            "The registry can be reached over plain HTTP only on this machine: use https.",
            operation="configure",
        )
    return f"{parts.scheme}://{parts.netloc}"


def _check_digest(digest: object, operation: str, name: str) -> str:
    if not isinstance(digest, str) or _DIGEST_RE.fullmatch(digest) is None:
        shown = repr(digest)[:80]
        raise InvalidInput(
            f"{shown} is not a sha256 digest (sha256: and 64 lower-case hex digits).",
            operation=operation,
            repository=name,
        )
    return digest


class RegistryClient(ClusterTransport):
    """A client for one cluster's registry v2 API and one registry token.

    ``RegistryClient(registry_url, token, verify=True, ca_pem=None, connect_timeout=5.0,
    read_timeout=60.0, max_response_bytes=4 MiB, get_retries=2, backoff=0.2,
    call_deadline=15.0)``; see :class:`.transport.ClusterTransport` for each setting.
    """

    def __init__(self, registry_url: str, token: str | None = None, **transport_options: Any):
        transport_options.setdefault("max_response_bytes", DEFAULT_MAX_BLOB_BYTES)
        super().__init__(registry_url, token, **transport_options)
        del token

    def grants(self, name: str, action: str) -> bool:
        """Whether this client's registry token says it grants ``action`` on ``name``.

        Read from the token's ``access`` claim without verifying it: only to decide what to
        offer (operation 2 leaves out what the user's role may not do); the registry still
        has the last word on every call.
        """
        token = self._auth._token if self._auth is not None else None
        access = token_claims(token).get("access")
        for entry in access if isinstance(access, list) else []:
            if not isinstance(entry, dict) or entry.get("type") != "repository":
                continue
            actions = entry.get("actions")
            granted = actions if isinstance(actions, list) else []
            if entry.get("name") == name and (action in granted or "*" in granted):
                return True
        return False

    def image_config(
        self, name: str, digest: str, layer_sizes: Sequence[int] | None = None
    ) -> ImageConfig:
        """``GET /v2/<name>/blobs/<digest>``: the image config's facts.

        ``layer_sizes``, the manifest's ``layers[].size`` in order, give the history's
        non-empty steps their sizes; without them those sizes are None.
        """
        answer = self._get(E.READ_IMAGE_CONFIG, name, "blobs", digest, None)
        config = imageconfigs.image_config_from_body(digest, answer.body, layer_sizes)
        if config is None:
            raise self._shape(answer, "an image config (a JSON object)")
        return config

    def platform_manifest(self, name: str, digest: str) -> PlatformManifest:
        """``GET /v2/<name>/manifests/<digest>``: one entry of a manifest list or OCI index.

        Its ``os``/``architecture``/``variant`` are empty: a manifest does not carry them;
        take them from the list's entry or from the config.
        """
        answer = self._get(E.READ_MANIFEST, name, "manifests", digest, ", ".join(MANIFEST_TYPES))
        manifest = imageconfigs.platform_manifest(digest, self._json(answer))
        if manifest is None:
            raise self._shape(answer, "a single-platform image manifest")
        return manifest

    def tag_digest(self, name: str, tag: str) -> str:
        """``HEAD /v2/<name>/manifests/<tag>``: the digest the tag points at."""
        if not isinstance(tag, str) or not re.fullmatch(r"[\w][\w.-]{0,127}", tag, re.ASCII):
            raise InvalidInput(
                f"{tag!r:.80} is not a tag.", operation=E.READ_TAG_DIGEST, repository=name
            )
        url = f"{self.api_url}/v2/{repository_path(name)}/manifests/{tag}"
        answer = self._send(
            E.READ_TAG_DIGEST, "HEAD", url, name, {"Accept": ", ".join(MANIFEST_TYPES)}
        )
        digest = answer.headers.get("docker-content-digest", "").strip()
        if _DIGEST_RE.fullmatch(digest) is None:
            raise self._shape(answer, "a manifest with a Docker-Content-Digest header")
        return digest

    def delete_manifest(self, name: str, digest: str) -> None:
        """``DELETE /v2/<name>/manifests/<digest>``: every tag with that manifest goes.

        Never retried: if no answer comes, :class:`OutcomeUnknown` is raised. The space is
        freed only by the registry's garbage collection.
        """
        _check_digest(digest, E.DELETE_MANIFEST, name)
        url = f"{self.api_url}/v2/{repository_path(name)}/manifests/{digest}"
        self._send(E.DELETE_MANIFEST, "DELETE", url, name, None)

    # -- one call -----------------------------------------------------------------------

    def _get(self, operation: str, name: str, kind: str, digest: str, accept: str | None) -> Answer:
        _check_digest(digest, operation, name)
        url = f"{self.api_url}/v2/{repository_path(name)}/{kind}/{digest}"
        answer = self._send(operation, "GET", url, name, {"Accept": accept} if accept else None)
        actual = "sha256:" + hashlib.sha256(answer.body).hexdigest()
        if actual != digest:
            answer.body.clear()
            raise ProtocolError(
                f"The registry answered a request for {digest[:19]}… of {name} with content "
                f"whose digest is {actual[:19]}…: it is not what the Image Manager API names. "
                "Check the cluster's registry address.",
                operation=operation,
                status=answer.status,
                repository=name,
            )
        return answer

    def _send(
        self, operation: str, method: str, url: str, name: str, headers: dict[str, str] | None
    ) -> Answer:
        try:
            return self._call(operation, method, url, repository=name, headers=headers)
        except ImageManagerError as err:
            raise _registry_error(err) from None

    def _status_error(
        self, call: Call, answer: Answer, headers: Mapping[str, str]
    ) -> ImageManagerError:
        # Worded for the registry before it is logged: a blob lost to garbage collection is
        # not "a repository deleted, refresh the list".
        return _registry_error(super()._status_error(call, answer, headers))

    def _json(self, answer: Answer) -> object:
        try:
            return orjson.loads(answer.body)
        except orjson.JSONDecodeError:
            raise self._shape(answer, "JSON") from None

    def _shape(self, answer: Answer, expected: str) -> ProtocolError:
        return ProtocolError(
            f"The registry's answer to {answer.what} is not {expected}: check the cluster's "
            "registry address.",
            operation=answer.operation,
            status=answer.status,
            repository=answer.repository,
        )


def _registry_error(err: ImageManagerError) -> ImageManagerError:
    """The transport's error, reworded for the registry where the API's words would mislead."""
    status, what = err.status, E.describe(err.operation, err.repository)
    common: E.ErrorFields = {
        "operation": err.operation,
        "status": status,
        "excerpt": err.excerpt,
        "repository": err.repository,
        "detail": err.detail,
    }
    said = f' The registry said: "{err.excerpt}"' if err.excerpt else ""
    if status is None or isinstance(err, RateLimited):
        return err
    if 300 <= status < 400:
        return ProtocolError(
            f"The registry answered with a redirect (HTTP {status}) while trying to {what}; "
            "redirects are not followed. Check the cluster's registry address.",
            **common,
        )
    if status == 401:
        return Unauthorized(
            f"The registry did not accept the registry token (HTTP 401) while trying to "
            f"{what}; it may have expired. Get a fresh one and try again.{said}",
            **common,
        )
    if status == 403:
        return Forbidden(
            f"The registry refused (HTTP 403): the registry token does not allow you to "
            f"{what}. The cluster grants only what your role allows.{said}",
            **common,
        )
    if status == 404:
        return NotFound(
            f"The registry has no such content (HTTP 404) while trying to {what}: it may "
            f"have been deleted or removed by garbage collection.{said}",
            **common,
        )
    if status >= 500:
        return Unavailable(
            f"The registry failed (HTTP {status}) while trying to {what}. Try again later; "
            f"the Image Manager API alone still works.{said}",
            **common,
        )
    return err
