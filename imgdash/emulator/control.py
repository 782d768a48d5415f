"""The emulator's control endpoint, `/_emulator/`, on only when asked for (`--control`):
faults, the request log, reset, and minting tokens for tests and scripts.
"""

import orjson

from .faults import FaultSpecError
from .responses import NOT_FOUND, json_response, method_not_allowed, read_body

CONTROL_ENDPOINTS = [
    "GET /_emulator/faults",
    "POST /_emulator/faults  (a JSON fault, or a list of them)",
    "DELETE /_emulator/faults",
    "DELETE /_emulator/faults/{id}",
    "POST /_emulator/reset",
    "GET /_emulator/requests",
    "DELETE /_emulator/requests",
    'POST /_emulator/tokens  {"username": "...", "ttl": seconds}',
]


def control_endpoint(app, method, path, environ):
    """Answer a request under /_emulator/ (`path` is what follows it)."""
    if path == "" and method == "GET":
        return json_response(200, {"endpoints": CONTROL_ENDPOINTS})
    if path == "faults":
        if method == "GET":
            return json_response(200, {"faults": [f.to_dict() for f in app.faults]})
        if method == "POST":
            return add_faults(app, environ)
        if method == "DELETE":
            count = len(app.faults)
            app.faults.clear()
            return json_response(200, {"cleared": count})
        return method_not_allowed(["GET", "POST", "DELETE"])
    if path.startswith("faults/") and method == "DELETE":
        try:
            removed = app.faults.remove(int(path.split("/", 1)[1]))
        except ValueError:
            removed = False
        return json_response(200, {"removed": 1}) if removed else NOT_FOUND
    if path == "reset" and method == "POST":
        app.on_reset()
        return json_response(200, {"reset": True, "repositories": len(app.store)})
    if path == "requests":
        if method == "GET":
            return json_response(200, {"requests": [_logged(e) for e in app.requests]})
        if method == "DELETE":
            app.requests.clear()
            return json_response(200, {"cleared": True})
    if path == "tokens" and method == "POST":
        return mint_token(app, environ)
    return NOT_FOUND


def add_faults(app, environ):
    try:
        spec = orjson.loads(read_body(environ))
    except orjson.JSONDecodeError:
        return json_response(400, {"error": "the body must be a JSON fault or list of faults"})
    specs = spec if isinstance(spec, list) else [spec]
    try:
        added = [app.faults.add_spec(one) for one in specs]
    except FaultSpecError as exc:
        return json_response(400, {"error": str(exc)})
    faults = [fault.to_dict() for fault in added]
    return json_response(201, {"fault": faults[0]} if len(faults) == 1 else {"faults": faults})


def mint_token(app, environ):
    try:
        spec = orjson.loads(read_body(environ))
        user = app.users[spec["username"]]
        ttl = spec.get("ttl")
        if ttl is not None and not isinstance(ttl, int):
            raise TypeError(ttl)
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        return json_response(400, {"error": 'expected {"username": known user, "ttl": seconds}'})
    return json_response(200, {"id_token": app.tokens.issue_id_token(user, ttl)})


def _logged(entry):
    return {
        "method": entry.method,
        "path": entry.path,
        "query": entry.query,
        "username": entry.username,
        "time": entry.time,
    }
