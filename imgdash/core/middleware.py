"""A request id for every request (in the action log, the response headers and error pages),
and pages for a signed-in user kept out of every cache."""

import logging
import time
import uuid

from django.utils.cache import patch_cache_control

from imgdash.audit.log import valid_request_id
from imgdash.core import metrics
from imgdash.core.logs import request_context, request_secrets

HEADER = "X-Request-ID"


class RequestIdMiddleware:
    """Use the caller's X-Request-ID when it is 1-64 of [A-Za-z0-9._-] (a proxy's id), else a
    new one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(HEADER, "")
        request.request_id = incoming if valid_request_id(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        response[HEADER] = request.request_id
        return response


request_log = logging.getLogger("imgdash.request")

# Views where a 429 means a sign-in refused for too many wrong passwords.
SIGN_IN_VIEWS = ("login", "clusters:connect")


class RequestLogMiddleware:
    """One log line and one latency figure per request, by view (its URL name).

    It also holds the request's id, user and cluster where every log line of the request can
    find them (`imgdash.core.logs`). The path is logged without its query string: searches
    are nobody else's business, and a query may carry anything.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        context = {
            "request_id": getattr(request, "request_id", ""),
            "user": "",
            "cluster": "",
            "secrets": request_secrets(request),
        }
        reset = request_context.set(context)
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            match = getattr(request, "resolver_match", None)
            view = (match.view_name if match else "") or "unmatched"
            if view.startswith("admin:"):
                view = "admin"  # one label for the admin site, not one per model
            metrics.REQUEST_SECONDS.labels(
                view, _method(request.method), f"{response.status_code // 100}xx"
            ).observe(seconds)
            if response.status_code == 429 and view in SIGN_IN_VIEWS:
                metrics.THROTTLED_SIGN_INS.labels(view).inc()
            request_log.info(
                "%s %s -> %d in %.1f ms",
                request.method,
                request.path,
                response.status_code,
                seconds * 1000,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "view": view,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )
            return response
        finally:
            request_context.reset(reset)

    def process_view(self, request, view_func, view_args, view_kwargs):
        context = request_context.get()
        if context is not None:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                context["user"] = user.get_username()
            slug = view_kwargs.get("slug")
            context["cluster"] = slug if isinstance(slug, str) else ""


def _method(method):
    """A method as a label: the usual ones as they are, anything a client made up as other."""
    known = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
    return method if method in known else "other"


class PrivatePagesMiddleware:
    """`Cache-Control: private, no-store` on every answer to a signed-in user.

    Their pages show repositories, tokens and the action log: no shared proxy may keep them,
    and no browser may show them again from its cache after sign-out. Public views
    (`login_not_required`, e.g. /healthz) keep their own headers; static files are answered
    before this runs.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not getattr(request, "_public", False):
            patch_cache_control(response, private=True, no_store=True)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        request._public = not getattr(view_func, "login_required", True)
