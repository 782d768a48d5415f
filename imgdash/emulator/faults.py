"""Fault injection: make matching requests slow, fail, or break on the wire.

A fault matches on method ("*" for any) and a regular expression searched in the request
path (without the query string). The first fault that matches, in the order they were added,
applies to a request; `times` limits it to the next N matching requests. Knobs:

    latency=SECONDS      wait before answering (combines with any other knob)
    status=CODE          answer CODE with `body` (default: Go's status text) and
                         `content_type` (default text/plain; charset=utf-8)
    reset=True           close the connection with a TCP RST, sending nothing
    truncate=True        send the status and headers of the answer, Content-Length
                         included, then only part of the body, and close
    drip=SECONDS         send the status and headers at once, then the body one byte at a
                         time with SECONDS between bytes (every read of the client's gets
                         data in time, so only an overall deadline ends the wait)
    rate=BYTES           send the status and headers at once, then the body at about BYTES
                         per second: a large answer over a slow network
    malformed=True       200 application/json whose body is not valid JSON
    oversize=N           200 application/json with an N-byte (valid JSON) body
    redirect=URL         302 with Location: URL
    id_token=KIND        the OpenID provider's token endpoint answers normally but with a
                         bad ID token: bad_signature (signed by another key),
                         wrong_audience, expired, wrong_issuer, no_nonce or wrong_nonce

The control endpoint (`/_emulator/`) is never subject to faults.
"""

import itertools
import re
import threading
from dataclasses import asdict, dataclass, field
from http import HTTPStatus

TEXT = "text/plain; charset=utf-8"
JSON = "application/json"
ID_TOKEN_FAULTS = (
    "bad_signature",
    "wrong_audience",
    "expired",
    "wrong_issuer",
    "no_nonce",
    "wrong_nonce",
)
MALFORMED_BODY = b'{"repositories":[{"name":"default/alpine","owner":"default","scope":"glo'
OVERSIZE_CHUNK = 64 * 1024

_ids = itertools.count(1)


class FaultSpecError(ValueError):
    """A fault description that cannot be used; the message says which field and why."""


@dataclass
class Fault:
    method: str = "GET"
    path: str = ""
    latency: float | None = None
    status: int | None = None
    body: str | None = None
    content_type: str | None = None
    reset: bool = False
    truncate: bool = False
    drip: float | None = None
    rate: int | None = None
    malformed: bool = False
    oversize: int | None = None
    redirect: str | None = None
    id_token: str | None = None
    times: int | None = None
    id: int = field(default_factory=lambda: next(_ids))

    def __post_init__(self):
        self.method = str(self.method).upper()
        try:
            self._pattern = re.compile(self.path)
        except (re.error, TypeError) as exc:
            raise FaultSpecError(f"path is not a valid regular expression: {exc}") from None
        checks = [
            ("latency", self.latency is None or (_number(self.latency) and self.latency >= 0)),
            ("drip", self.drip is None or (_number(self.drip) and 0 < self.drip <= 60)),
            ("rate", self.rate is None or (_integer(self.rate) and self.rate >= 1024)),
            ("status", self.status is None or (_integer(self.status) and 100 <= self.status < 600)),
            ("body", self.body is None or isinstance(self.body, str)),
            ("content_type", self.content_type is None or isinstance(self.content_type, str)),
            ("oversize", self.oversize is None or (_integer(self.oversize) and self.oversize > 0)),
            ("redirect", self.redirect is None or isinstance(self.redirect, str)),
            ("id_token", self.id_token is None or self.id_token in ID_TOKEN_FAULTS),
            ("times", self.times is None or (_integer(self.times) and self.times >= 1)),
        ]
        checks += [(name, isinstance(getattr(self, name), bool)) for name in _FLAGS]
        for name, ok in checks:
            if not ok:
                raise FaultSpecError(f"{name}: invalid value {getattr(self, name)!r}")
        answers = [self.status is not None, self.malformed, self.oversize is not None]
        answers += [self.redirect is not None, self.reset]
        if sum(answers) > 1:
            raise FaultSpecError("choose one of status, malformed, oversize, redirect, reset")
        if self.drip is not None and (self.reset or self.truncate):
            raise FaultSpecError("drip sends the whole body: it cannot reset or truncate")
        if self.rate is not None and (self.reset or self.truncate or self.drip is not None):
            raise FaultSpecError("rate sends the whole body: it cannot reset, truncate or drip")

    @classmethod
    def from_spec(cls, spec):
        """A fault from its JSON description (the control endpoint, --fault)."""
        if not isinstance(spec, dict):
            raise FaultSpecError("a fault is a JSON object")
        unknown = set(spec) - set(cls.__dataclass_fields__) - {"id"}
        if unknown:
            raise FaultSpecError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        return cls(**{key: value for key, value in spec.items() if key != "id"})

    def to_dict(self):
        return asdict(self)

    def matches(self, method, path):
        return self.method in ("*", method.upper()) and self._pattern.search(path) is not None

    def canned_response(self):
        """(status line, headers, body chunks, length) for the answering knobs, else None."""
        if self.status is not None:
            if self.body is None:
                # What Go's http.Error(w, http.StatusText(code), code) sends.
                body = (HTTPStatus(self.status).phrase + "\n").encode()
                content_type = self.content_type or TEXT
            else:
                body = self.body.encode()
                content_type = self.content_type or TEXT
            return _status_line(self.status), _headers(content_type), [body], len(body)
        if self.malformed:
            return _status_line(200), _headers(JSON), [MALFORMED_BODY], len(MALFORMED_BODY)
        if self.oversize is not None:
            return _status_line(200), _headers(JSON), _oversize(self.oversize), self.oversize
        if self.redirect is not None:
            body = f'<a href="{self.redirect}">Found</a>.\n\n'.encode()
            headers = [*_headers("text/html; charset=utf-8"), ("Location", self.redirect)]
            return _status_line(302), headers, [body], len(body)
        return None


_FLAGS = ("reset", "truncate", "malformed")


def _number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def _integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _status_line(code):
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Unknown"


def _headers(content_type):
    return [("Content-Type", content_type), ("X-Content-Type-Options", "nosniff")]


def _oversize(size):
    """`size` bytes of valid JSON, produced in chunks so a huge body costs no memory."""
    head, tail = b'{"repositories":[],"padding":"', b'"}'
    if size < len(head) + len(tail):
        yield b" " * size
        return
    yield head
    remaining = size - len(head) - len(tail)
    chunk = b"x" * OVERSIZE_CHUNK
    while remaining > 0:
        piece = chunk[:remaining]
        remaining -= len(piece)
        yield piece
    yield tail


class FaultSet:
    """The active faults, safe to change from tests while requests are being served."""

    def __init__(self, faults=()):
        self._lock = threading.Lock()
        self._faults = []
        for fault in faults:
            if isinstance(fault, Fault):
                self._faults.append(fault)
            else:
                self._faults.append(Fault.from_spec(fault))

    def add(
        self,
        method="GET",
        path="",
        latency=None,
        status=None,
        body=None,
        content_type=None,
        reset=False,
        truncate=False,
        malformed=False,
        oversize=None,
        redirect=None,
        times=None,
        drip=None,
        rate=None,
        id_token=None,
    ):
        """Add a fault (see the module docstring for the knobs) and return it."""
        fault = Fault(
            method=method,
            path=path,
            latency=latency,
            status=status,
            body=body,
            content_type=content_type,
            reset=reset,
            truncate=truncate,
            drip=drip,
            rate=rate,
            malformed=malformed,
            oversize=oversize,
            redirect=redirect,
            id_token=id_token,
            times=times,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def add_spec(self, spec):
        fault = Fault.from_spec(spec)
        with self._lock:
            self._faults.append(fault)
        return fault

    def remove(self, fault_id):
        with self._lock:
            before = len(self._faults)
            self._faults = [fault for fault in self._faults if fault.id != fault_id]
            return len(self._faults) < before

    def clear(self):
        with self._lock:
            self._faults.clear()

    def __len__(self):
        return len(self._faults)

    def __iter__(self):
        with self._lock:
            return iter(list(self._faults))

    def match(self, method, path):
        """The fault to apply to this request, counting it against `times`."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times == 0:
                            self._faults.remove(fault)
                    return fault
        return None
