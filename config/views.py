from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """JSON for API clients, the usual page for people."""
    if request.path.startswith("/api/"):
        return JsonResponse({"success": False, "error": "Not found."}, status=404)
    return page_not_found(request, exception)
