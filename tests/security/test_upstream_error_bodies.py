"""Hostile error pages are summarised at once: no pattern backtracks over a large body.

A cluster (or anything at its URL) can answer an error with any body. Summarising it for the
error message must not take seconds: the old patterns took about 5 s on this kind of machine
for 64 KB of repeated ``<title>``. Each summary runs in a child process given a generous
bound, hundreds of times what a linear scan needs and well below what the old patterns took
(a thread would not do: a regular expression holds the interpreter lock until it is done).
"""

import multiprocessing

import pytest

from imgdash.imagemanager import ImageManagerClient, Unavailable
from imgdash.imagemanager.errors import sanitise_excerpt
from imgdash.imagemanager.redaction import redact_secrets

BOUND = 1.0  # seconds; a linear summary of these bodies takes a few milliseconds
KB = 1024

HOSTILE = {
    "open titles, 64 KB": b"<title>" * (64 * KB // 7),
    "open titles, 1 MB": b"<title>" * (1024 * KB // 7),
    "open scripts": b"<script>" * (64 * KB // 8),
    "unclosed tags": b"<" * (64 * KB),
    "titles and scripts": b"<title><script" * (64 * KB // 14),
}


def _run(work, sender):
    sender.send(work())


def finishes_within(seconds, work):
    """Run `work` in a child process; its result, or None when it is not done in `seconds`."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_run, args=(work, sender), daemon=True)
    child.start()
    try:
        return receiver.recv() if receiver.poll(seconds) else None
    finally:
        child.kill()
        child.join()


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_it_summarises_a_hostile_html_body_quickly(body):
    excerpt = finishes_within(BOUND, lambda: sanitise_excerpt(body, "text/html"))
    assert excerpt is not None, "the summary of the body did not finish in time"
    assert len(excerpt) <= 200


def test_it_redacts_a_long_token_shaped_run_quickly():
    text = "eyJ" * (128 * KB // 3)
    assert finishes_within(BOUND, lambda: redact_secrets(text)) is not None


def test_it_still_redacts_tokens_inside_words_and_dotted_runs():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvbGdhIn0.c2ln"
    assert redact_secrets(f"token={jwt} x{jwt} a.b.{jwt}.") == (
        "token=[redacted] x[redacted] a.b.[redacted]."
    )
    assert redact_secrets("eyJa.b eyJ.c.d eyJa..c") == "eyJa.b eyJ.c.d eyJa..c"


def test_it_reports_a_1_mb_hostile_error_page_from_the_cluster_quickly(emulator):
    body = "<title>" * (1024 * KB // 7)
    emulator.faults.add(path="/repositories", status=502, body=body, content_type="text/html")
    client = ImageManagerClient(emulator.api_url, emulator.issue_id_token("admin"), get_retries=0)

    def attempt():
        try:
            client.list_repositories()
        except Unavailable as error:
            return error.message
        return None

    message = finishes_within(BOUND * 3, attempt)
    assert message is not None, "the error page was not summarised in time"
    assert "HTTP 502" in message
