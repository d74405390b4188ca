from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):  # type: ignore[misc]  # knox has no types
    """API tokens read from ``Authorization: Bearer <token>``, stored hashed, expiring (knox;
    its ``AUTH_HEADER_PREFIX`` is set to Bearer in the settings)."""


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """How the OpenAPI schema describes it: HTTP bearer authentication."""

    target_class = "gmail_sync.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {"type": "http", "scheme": "bearer",
                "description": "A token from `manage.py create_api_user`, valid API_TOKEN_TTL_DAYS days."}
