"""What every API endpoint shares: its error shapes, the JSON parser, the exception handler.

Errors keep the documented shapes: ``{"success": false, "errors": {field: [...]}}`` for a bad
request (a malformed body included, under ``body``), ``{"success": false, "error": "..."}`` for
the rest, and DRF's ``{"detail": "..."}`` for missing credentials. An unexpected error is a JSON
500 whose text names nothing of the request (the log has the traceback).
"""
from __future__ import annotations

import logging
import math
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers, status, throttling
from rest_framework.exceptions import ParseError, Throttled
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger("receipts.api")

INTERNAL_ERROR = "Internal error; the server's log has the details."

# The error shapes, as the OpenAPI schema shows them.
ERRORS = inline_serializer("ValidationErrors", {
    "success": serializers.BooleanField(),
    "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField()))})
FAILURE = inline_serializer("Failure", {"success": serializers.BooleanField(), "error": serializers.CharField()})
# DRF's own errors (no credentials, an invalid page): {"detail": "..."}
AUTH_ERROR = inline_serializer("Detail", {"detail": serializers.CharField()})


class Pagination(PageNumberPagination):
    """DRF's standard page; ``page_size`` up to 500."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, with a body nested too deeply for Python's parser a 400 like any other
    malformed body (Python's ``json`` raises RecursionError, which DRF would let through as a 500)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None


class UserThrottle(throttling.UserRateThrottle):
    """Every API request of a user (or an address, for requests without credentials), at
    API_THROTTLE_RATE; the rate is read when asked, so that a change of settings applies."""

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATE


class SyncStartThrottle(throttling.UserRateThrottle):
    """Sync starts of a user, at SYNC_START_THROTTLE_RATE."""

    scope = "sync_start"

    def get_rate(self) -> str | None:
        return settings.SYNC_START_THROTTLE_RATE


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ParseError):
        return Response({"success": False, "errors": {"body": [str(exc.detail)]}}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Throttled):
        seconds = getattr(exc, "wait", None)  # set by DRF; its type stubs leave it out
        wait = math.ceil(seconds) if seconds is not None else None
        text = "Too many requests" + (f"; try again in {wait} s." if wait is not None else ".")
        throttled = Response({"success": False, "error": text}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        if wait is not None:
            throttled["Retry-After"] = str(wait)
        return throttled
    response: Response | None = drf_exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        logger.error("unhandled error in %s", type(view).__name__ if view else "an API view", exc_info=exc)
        return Response({"success": False, "error": INTERNAL_ERROR}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    return response


def server_error(request: HttpRequest) -> Any:
    """Django's 500 (an error outside a DRF view): JSON for API clients, the usual page for people."""
    from django.views.defaults import server_error as page

    if request.path.startswith("/api/"):
        return JsonResponse({"success": False, "error": INTERNAL_ERROR}, status=500)
    return page(request)
