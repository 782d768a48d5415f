"""A request id for every request (in the action log, the response headers and error pages),
and pages for a signed-in user kept out of every cache."""

import uuid

from django.utils.cache import patch_cache_control

from imgdash.audit.log import valid_request_id

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
