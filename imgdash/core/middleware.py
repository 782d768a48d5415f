"""A request id for every request: in the action log, the response headers and error pages."""

import uuid

from imgdash.audit.log import valid_request_id

HEADER = "X-Request-ID"


class RequestIdMiddleware:
    """Use the caller's X-Request-ID when it is a plain token (a proxy's id), else a new one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(HEADER, "")
        request.request_id = incoming if valid_request_id(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        response[HEADER] = request.request_id
        return response
