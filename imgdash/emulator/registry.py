"""The registry behind the Image Manager API: Docker Distribution v2, read and delete.

    GET  /v2/                                 200 {} with a valid token, else 401
    GET  /v2/<name>/manifests/<tag|digest>    the manifest, its media type, Docker-Content-Digest
    HEAD /v2/<name>/manifests/<tag|digest>    the same without the body
    GET  /v2/<name>/blobs/<digest>            config blobs (layers are not kept)
    DELETE /v2/<name>/manifests/<digest>      202; every tag with that manifest goes

It serves the emulator's own repository store, so a repository deleted through the API is
gone here too, and a manifest deleted here is gone from the API. Tokens are the RS256 JWTs
the API's `GET /auth/token` issues; their `access` claim is checked per repository and
action (pull for GET/HEAD, delete for DELETE). Manifests are served as the API embeds them;
per-platform manifests and config blobs are rebuilt from the store (images.py). A few of
those are missing on purpose, as after a partial garbage collection.
"""

import logging
import re

import jwt
import orjson

from . import images
from .responses import Response, send
from .tokens import REGISTRY_ISSUER

logger = logging.getLogger("imgdash.emulator")

SERVICE = "token-service"
SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
_DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}")
_ROUTE_RE = re.compile(r"/v2/(?P<name>.+)/(?P<kind>manifests|blobs)/(?P<reference>[^/]+)")
_HEADERS = (("Docker-Distribution-API-Version", "registry/2.0"),)


def registry_error(status, code, message, headers=()):
    body = orjson.dumps({"errors": [{"code": code, "message": message, "detail": None}]})
    return Response(status, body, "application/json", (*_HEADERS, *headers))


class RegistryApp:
    """WSGI application of the registry; `api_url` is where clients get their tokens."""

    def __init__(self, store, tokens, api_url, anchor):
        self.store = store
        self.tokens = tokens
        self.api_url = api_url
        self.anchor = anchor

    def __call__(self, environ, start_response):
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        try:
            response = self.route(method, path, environ)
        except Exception:
            logger.exception("registry error on %s %s", method, path)
            response = registry_error(500, "UNKNOWN", "internal error")
        return send(response, start_response)

    def route(self, method, path, environ):
        if path in ("/v2", "/v2/"):
            if method not in ("GET", "HEAD"):
                return registry_error(405, "UNSUPPORTED", "method not allowed")
            refusal = self.refusal(environ, None, "pull")
            return refusal or Response(200, b"{}", "application/json", _HEADERS)
        match = _ROUTE_RE.fullmatch(path)
        if match is None:
            return registry_error(404, "NAME_UNKNOWN", "no such route")
        name, kind, reference = match["name"], match["kind"], match["reference"]
        action = "delete" if method == "DELETE" else "pull"
        allowed = ("GET", "HEAD", "DELETE") if kind == "manifests" else ("GET", "HEAD")
        if method not in allowed:
            return registry_error(405, "UNSUPPORTED", "method not allowed")
        refusal = self.refusal(environ, name, action)
        if refusal:
            return refusal
        tags = self.tags_of(name)
        if tags is None:
            return registry_error(404, "NAME_UNKNOWN", f"repository name not known: {name}")
        if kind == "blobs":
            return self.blob(name, tags, reference)
        if method == "DELETE":
            return self.delete(name, reference)
        return self.manifest(name, tags, reference)

    # -- tokens ------------------------------------------------------------------------

    def challenge(self, name, action):
        value = f'Bearer realm="{self.api_url}/auth/token",service="{SERVICE}"'
        if name:
            value += f',scope="repository:{name}:{action}"'
        return (("WWW-Authenticate", value),)

    def refusal(self, environ, name, action):
        """None when the request's token may `action` repository `name` (any, for None)."""
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return registry_error(
                401, "UNAUTHORIZED", "authentication required", self.challenge(name, action)
            )
        try:
            claims = jwt.decode(
                token.strip(),
                self.tokens.public_key,
                algorithms=["RS256"],
                issuer=REGISTRY_ISSUER,
                audience=SERVICE,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.InvalidTokenError as exc:
            reason = "token expired" if isinstance(exc, jwt.ExpiredSignatureError) else "invalid"
            return registry_error(
                401,
                "UNAUTHORIZED",
                f"authentication required: {reason}",
                self.challenge(name, action),
            )
        if name is None:
            return None
        for entry in claims.get("access") or []:
            if not isinstance(entry, dict):
                continue
            if entry.get("type") == "repository" and entry.get("name") == name:
                actions = entry.get("actions") or []
                if action in actions or "*" in actions:
                    return None
        return registry_error(
            403, "DENIED", f"requested access to the resource is denied: {action} {name}"
        )

    # -- content -----------------------------------------------------------------------

    def tags_of(self, name):
        """The repository's tags as dicts ([] for none), None when there is no repository."""
        record = self.store.record(name)
        if record is None:
            return None
        tags = orjson.loads(record.json[record.tags_at + len(b',"tags":') : -1])
        return [tag for tag in tags or [] if isinstance(tag, dict)]

    def manifest(self, name, tags, reference):
        by_digest = _DIGEST_RE.fullmatch(reference) is not None
        for tag in tags:
            body = orjson.dumps(tag.get("manifest"))
            digest = images.digest_of(body)
            if (digest == reference) if by_digest else (tag.get("name") == reference):
                return _manifest_response(tag.get("manifest"), body, digest)
        if by_digest and not images.is_missing_manifest(reference):
            for tag, entry in _entries(tags):
                if entry.get("digest") == reference:
                    body, _ = self.platform_manifest(name, tag, entry)
                    if images.digest_of(body) == reference:
                        return _manifest_response(orjson.loads(body), body, reference)
        return registry_error(404, "MANIFEST_UNKNOWN", f"manifest unknown: {reference}")

    def platform_manifest(self, name, tag, entry):
        platform = entry.get("platform") if isinstance(entry.get("platform"), dict) else {}
        return images.platform_manifest_bytes(
            name, tag.get("name"), platform, entry.get("mediaType"), self.anchor
        )

    def blob(self, name, tags, digest):
        if _DIGEST_RE.fullmatch(digest) is None:
            return registry_error(400, "DIGEST_INVALID", "provided digest did not match")
        if not images.is_missing_config(digest):
            for config in self.configs(name, tags, digest):
                if images.digest_of(config) == digest:
                    return Response(200, config, "application/octet-stream", _headers(digest))
        return registry_error(404, "BLOB_UNKNOWN", f"blob unknown to registry: {digest}")

    def configs(self, name, tags, digest):
        """Candidate config blobs for `digest`: rebuilt for every tag that names it."""
        for tag in tags:
            manifest = tag.get("manifest") or {}
            if (manifest.get("config") or {}).get("digest") == digest:
                layers = [layer.get("digest", "") for layer in manifest.get("layers") or []]
                platform = images.single_arch_platform(name)
                yield images.config_bytes(name, tag.get("name"), platform, layers, self.anchor)
        for tag, entry in _entries(tags):
            _, config = self.platform_manifest(name, tag, entry)
            if images.digest_of(config) == digest:
                yield config

    def delete(self, name, digest):
        if _DIGEST_RE.fullmatch(digest) is None:
            return registry_error(400, "UNSUPPORTED", "delete a manifest by its digest")
        with self.store._lock:  # read, filter and write back as one change
            repository = self.store.get(name)
            if repository is None:
                return registry_error(404, "NAME_UNKNOWN", f"repository name not known: {name}")
            tags = repository.get("tags") or []
            kept = [t for t in tags if images.digest_of(orjson.dumps(t.get("manifest"))) != digest]
            if len(kept) == len(tags):
                return registry_error(404, "MANIFEST_UNKNOWN", f"manifest unknown: {digest}")
            self.store.put({**repository, "tags": kept})
        return Response(202, b"", None, (*_HEADERS, ("Docker-Content-Digest", digest)))


def _entries(tags):
    for tag in tags:
        manifest = tag.get("manifest") or {}
        for entry in manifest.get("manifests") or []:
            if isinstance(entry, dict):
                yield tag, entry


def _headers(digest):
    return (*_HEADERS, ("Docker-Content-Digest", digest), ("Etag", f'"{digest}"'))


def _manifest_response(manifest, body, digest):
    media_type = manifest.get("mediaType") if isinstance(manifest, dict) else None
    if not media_type:
        media_type = (
            SCHEMA1_SIGNED if (manifest or {}).get("schemaVersion") == 1 else "application/json"
        )
    return Response(200, body, media_type, _headers(digest))
