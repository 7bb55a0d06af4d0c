"""The device API skips the dashboard's middleware.

Sessions, locale negotiation, CSRF, authentication, messages and django-axes serve the dashboard's pages;
on `/v1/…`, `/healthz` and `/readyz` (bearer tokens, JSON, csrf-exempt views) they only cost time on
every kiosk request. This middleware comes first and sends those paths straight to the URL resolver and
the view, with Django's exception handling, the host check and `nosniff` kept.
"""

from __future__ import annotations

from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response

PREFIXES = ("/v1/", "/healthz", "/readyz")


class _Bare(BaseHandler):
    """A request handler with no middleware at all."""

    def __init__(self):
        super().__init__()
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        self._middleware_chain = convert_exception_to_response(self._get_response)


class DeviceAPIFastPath:
    def __init__(self, get_response):
        self.get_response = get_response
        self.bare = _Bare()
        self.chain = convert_exception_to_response(self._api)

    def _api(self, request):
        request.get_host()   # ALLOWED_HOSTS still applies (DisallowedHost answers 400)
        return self.bare._middleware_chain(request)

    def __call__(self, request):
        if not request.path_info.startswith(PREFIXES):
            return self.get_response(request)
        response = self.chain(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response
