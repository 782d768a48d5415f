"""The container's health check: GET /healthz on the local gunicorn, exit 0 on 200.

Django answers 400 to a Host outside IMGDASH_ALLOWED_HOSTS, so the request names the first of
them (a leading-dot wildcard such as `.example.com` becomes `example.com`). /healthz is exempt
from the HTTPS redirect, so plain HTTP on the loopback is enough.
"""

import http.client
import os
import sys

hosts = [h.strip() for h in os.environ.get("IMGDASH_ALLOWED_HOSTS", "").split(",") if h.strip()]
host = (hosts[0] if hosts else "localhost").lstrip(".")
if host == "*":
    host = "localhost"

try:
    connection = http.client.HTTPConnection("127.0.0.1", 8000, timeout=4)
    connection.request("GET", "/healthz", headers={"Host": host})
    status = connection.getresponse().status
except OSError as error:
    print(f"healthz: {error}", file=sys.stderr)
    sys.exit(1)
print(f"healthz: {status}")
sys.exit(0 if status == 200 else 1)
