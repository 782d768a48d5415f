"""`requests` with a timeout on every call: a hung emulator fails one test, not the run."""

import requests

TIMEOUT = 10


def request(method, url, **kwargs):
    kwargs.setdefault("timeout", TIMEOUT)
    return requests.request(method, url, **kwargs)  # noqa: S113 (the timeout is set above)


def get(url, **kwargs):
    kwargs.setdefault("allow_redirects", True)
    return request("GET", url, **kwargs)


def post(url, **kwargs):
    return request("POST", url, **kwargs)


def put(url, **kwargs):
    return request("PUT", url, **kwargs)


def delete(url, **kwargs):
    return request("DELETE", url, **kwargs)
