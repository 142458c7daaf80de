import hashlib

from django.contrib.auth.models import AbstractBaseUser
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from intake.models import ApiToken


def token_hash(token: str) -> str:
    """Tokens are 256-bit random values, so one round of SHA-256 is enough to keep
    a database leak from revealing them (unlike passwords, they cannot be guessed)."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token <token>``, looked up by its hash."""

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, ApiToken] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header.")
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token header.") from None
        api_token = (
            ApiToken.objects.select_related("user").filter(key_hash=token_hash(token)).first()
        )
        if api_token is None or not api_token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid token.")
        return api_token.user, api_token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
