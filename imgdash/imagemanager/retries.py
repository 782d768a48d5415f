"""Which calls are sent again, and when: GETs only, briefly, as urllib3 ``Retry`` rules.

A GET is retried (``get_retries`` times, after ``backoff`` seconds, then twice that, …)
when the connection was refused or dropped before an answer came, and on 502, 503 and
504. Nothing else is: PUT, DELETE and POST never (a change sent twice is a change made
twice, or an outcome we cannot know), nor a DNS failure, a TLS failure or a timeout,
which would only make the user wait as long again for the same answer.

The last 502/503/504 is handed back as an answer (``raise_on_status=False``), so that its
error names the status and the number of attempts: see :func:`attempts_made`.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Self

import requests
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import NameResolutionError, NewConnectionError, ProtocolError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

log = logging.getLogger("imgdash.imagemanager")

RETRY_STATUSES = frozenset({502, 503, 504})


def worth_retrying(error: Exception) -> bool:
    """Whether a GET may be sent again after this urllib3 error."""
    if isinstance(error, NewConnectionError):
        return not isinstance(error, NameResolutionError)  # refused or unreachable
    # The connection was reset or closed before the answer's headers came.
    return isinstance(error, ProtocolError)


class GetRetry(Retry):
    """urllib3's Retry, narrowed to :func:`worth_retrying`, logging each retry.

    The stock rules differ from ours in four ways this class changes: they retry a failed
    connection for any method (PUT included) and a DNS failure or read timeout for a GET,
    wait nothing before the first retry, and read a retried error page to its end.
    """

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        if error is not None and not (method == "GET" and worth_retrying(error)):
            # Fail now, exactly as requests' adapter does with retries off (which
            # re-raises a read error as it is, so a read timeout stays a ReadTimeout).
            return Retry.increment(
                self.new(total=0, read=False), method, url, response, error, _pool, _stacktrace
            )
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        if response is not None:
            # Close rather than let urllib3 drain it: the error page's size is not capped.
            response.close()
            response.release_conn()
        where = f"{_pool.host}:{_pool.port}" if _pool is not None else ""
        path = (url or "").split("?", 1)[0]
        why = (
            f"HTTP {response.status}"
            if response is not None
            else f"{type(error).__name__}: {error}"
        )
        log.warning(
            "%s %s%s -> %s (attempt %d); retrying in %.2f s",
            method,
            where,
            path,
            why,
            len(retry.history),
            retry.get_backoff_time(),
        )
        return retry

    def get_backoff_time(self) -> float:
        # urllib3 would not wait before the first retry; we wait `backoff`, then double it.
        if not self.history:
            return 0.0
        return float(min(self.backoff_max, self.backoff_factor * 2 ** (len(self.history) - 1)))


def get_retries(count: int, backoff: float) -> GetRetry:
    """The retry rules to mount on a cluster's adapter."""
    return GetRetry(
        total=count,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff,
        raise_on_status=False,
        # A Retry-After of an hour must not hold a page for an hour.
        respect_retry_after_header=False,
    )


def attempts_made(response: requests.Response) -> int:
    """How many times the request behind this answer was sent."""
    retries = getattr(response.raw, "retries", None)
    return 1 + len(retries.history) if isinstance(retries, Retry) else 1
