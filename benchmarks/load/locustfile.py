"""Locust scenario: people browsing a large registry on one or more imgdash instances.

Each simulated user signs in through the form, waits until the repository list is there (the
first user of a cold index waits for the fetch), then keeps searching (one keystroke after
another), paging the list, opening deep pages sorted by size and opening repositories' detail
pages, with a short pause between requests. Users are spread over the instances in
IMGDASH_LOAD_HOSTS (comma-separated base URLs; `--host` when it is unset), one instance each,
round robin: a load balancer with sticky connections.

    locust -f benchmarks/load/locustfile.py --headless -u 50 -r 10 -t 60s \\
        --host http://127.0.0.1:8000

The figures locust reports are the steady state: once every user has signed in and seen the
list, the statistics are reset. What came before (the sign-ins, each a deliberately slow
password hash, and the first user's wait for the cold fetch) is written to
IMGDASH_LOAD_RAMP_FILE when set (JSON: seconds, requests, failures, slowest sign-in in ms).

Environment: IMGDASH_LOAD_USER / IMGDASH_LOAD_PASSWORD (an imgdash user with a connected
token; benchmarks/harness.py's viewer by default), IMGDASH_LOAD_CLUSTER (the cluster's slug,
`scale`), IMGDASH_LOAD_WAIT (the longest pause between two requests in seconds, 0.2).
A response that is not the expected page (an error, a sign-in page, a list still fetching
after the warm-up) counts as a failure.
"""

import itertools
import json
import os
import random
import re
import sys
import time
from pathlib import Path

from locust import HttpUser, between, task

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.harness import PASSWORD, LoopbackCookieJar, csrf_token

HOSTS = [host.strip() for host in os.environ.get("IMGDASH_LOAD_HOSTS", "").split(",") if host]
USERNAME = os.environ.get("IMGDASH_LOAD_USER", "viewer")
USER_PASSWORD = os.environ.get("IMGDASH_LOAD_PASSWORD", PASSWORD)
CLUSTER = os.environ.get("IMGDASH_LOAD_CLUSTER", "scale")
LIST = f"/clusters/{CLUSTER}/repositories/"
# Words the emulator's generated names are made of, and their prefixes: what people type.
TERMS = ["orders", "pay", "billing", "cat", "inventory", "auth", "gate", "ledger", "ship", "risk"]
DETAIL_LINK = re.compile(r'href="(' + re.escape(LIST) + r'[^"?]+/)"')
ROW = 'class="repo-name"'  # absent from the sign-in page and the fetch's progress view
_next_host = itertools.count()
_ready = {"users": 0, "started": time.monotonic()}


def _user_ready(environment):
    """Count a user who signed in and saw the list; with the last one, reset the figures."""
    _ready["users"] += 1  # locust's users are greenlets of one thread: no lock needed
    if _ready["users"] != environment.runner.target_user_count:
        return
    total = environment.stats.total
    sign_in = environment.stats.get("sign in", "POST")
    ramp = {
        "seconds": round(time.monotonic() - _ready["started"], 1),
        "requests": total.num_requests,
        "failures": total.num_failures,
        "slowest_sign_in_ms": round(sign_in.max_response_time or 0),
    }
    if os.environ.get("IMGDASH_LOAD_RAMP_FILE"):
        with open(os.environ["IMGDASH_LOAD_RAMP_FILE"], "w") as out:
            json.dump(ramp, out)
    environment.stats.reset_all()


class Browsing(HttpUser):
    wait_time = between(0, float(os.environ.get("IMGDASH_LOAD_WAIT", "0.2")))
    host = HOSTS[0] if HOSTS else None

    def on_start(self):
        if HOSTS:
            self.client.base_url = HOSTS[next(_next_host) % len(HOSTS)]
        # Production's cookies are Secure; the instances here are plain HTTP on loopback.
        self.client.cookies = LoopbackCookieJar()
        form = self.client.get("/accounts/login/", name="sign-in form")
        with self.client.post(
            "/accounts/login/",
            data={
                "username": USERNAME,
                "password": USER_PASSWORD,
                "csrfmiddlewaretoken": csrf_token(form.text),
            },
            allow_redirects=False,
            name="sign in",
            catch_response=True,
        ) as response:
            if response.status_code != 302:  # the form again: refused
                response.failure(f"sign-in refused with status {response.status_code}")
        self.details = self._wait_for_the_list()
        _user_ready(self.environment)

    def _wait_for_the_list(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.client.get(LIST, name="list (warm-up)", catch_response=True) as response:
                response.success()  # the progress view is a fine answer while it fetches
                links = DETAIL_LINK.findall(response.text)
                if links:
                    return [link.replace("&amp;", "&") for link in links]
            time.sleep(1)
        raise RuntimeError(f"{LIST} showed no repositories within {timeout} s")

    def _page(self, params, name):
        with self.client.get(LIST, params=params, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
            elif ROW not in response.text and "No repository matches" not in response.text:
                response.failure(f"not a list page: {response.url}")

    @task(4)
    def search(self):
        term = random.choice(TERMS)
        self._page({"q": term}, "search")

    @task(2)
    def list_page(self):
        self._page({"page": random.randint(1, 10)}, "list page")

    @task(1)
    def deep_page(self):
        self._page({"page": 50, "sort": "-size"}, "deep page by size")

    @task(3)
    def detail(self):
        path = random.choice(self.details)
        with self.client.get(path, name="detail", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code} for {path}")
            elif "/accounts/login/" in response.url:
                response.failure("signed out")
