"""The emulator's answers: Go-style plain-text errors, JSON, and reading a request body."""

from http import HTTPStatus
from typing import NamedTuple

import orjson

TEXT = "text/plain; charset=utf-8"
JSON = "application/json"
# The identity provider is WebSphere Liberty, which labels its JSON this way.
OIDC_JSON = "application/json;charset=UTF-8"
NOSNIFF = ("X-Content-Type-Options", "nosniff")
MAX_BODY = 1024 * 1024


class Response(NamedTuple):
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: tuple = ()


def http_error(status, message):
    """What Go's http.Error(w, message, status) sends."""
    return Response(status, (message + "\n").encode(), TEXT, (NOSNIFF,))


def json_response(status, data, content_type=JSON, headers=()):
    return Response(status, orjson.dumps(data), content_type, headers)


NOT_FOUND = http_error(404, "404 page not found")


def method_not_allowed(allowed):
    response = http_error(405, "Method Not Allowed")
    return response._replace(headers=(*response.headers, ("Allow", ", ".join(allowed))))


def read_body(environ):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(min(length, MAX_BODY)) if length > 0 else b""


def phrase(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def send(response, start_response):
    """Hand `response` to the WSGI server: status line, headers with its length, body."""
    headers = list(response.headers)
    if response.content_type:
        headers.insert(0, ("Content-Type", response.content_type))
    headers.append(("Content-Length", str(len(response.body))))
    start_response(f"{response.status} {phrase(response.status)}", headers)
    return [response.body]
