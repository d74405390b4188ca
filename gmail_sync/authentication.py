from knox.auth import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    """API tokens read from ``Authorization: Bearer <token>``, stored hashed, expiring (knox;
    its ``AUTH_HEADER_PREFIX`` is set to Bearer in the settings)."""
