"""Who is calling: API tokens (``Authorization: Token <token>``) and HTTP Basic for the
XML interface. A successful check is remembered in this process for a short while, so
that a busy provider does not pay a database lookup (or a slow password hash) on every
request; revoking a token or deactivating an account takes effect within that time."""

import base64
import binascii
import hashlib
import secrets
import time

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.http import HttpRequest
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from intake.models import ApiToken

PROVIDER_PASSWORDS = ModelBackend()
REMEMBER_SECONDS = 30
REMEMBER_AT_MOST = 10_000
_remembered: dict[str, tuple[User, float]] = {}


def token_hash(token: str) -> str:
    """Tokens are 256-bit random values, so one round of SHA-256 is enough to keep
    a database leak from revealing them (unlike passwords, they cannot be guessed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_create(*, user: User) -> str:
    """Make a new API token for ``user`` and return it. Only its hash is stored."""
    token = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=token_hash(token))
    return token


def remembered(key: str) -> User | None:
    entry = _remembered.get(key)
    if entry is None or entry[1] < time.monotonic():
        return None
    return entry[0]


def remember(key: str, user: User) -> User:
    if len(_remembered) >= REMEMBER_AT_MOST:
        _remembered.clear()
    _remembered[key] = (user, time.monotonic() + REMEMBER_SECONDS)
    return user


def forget_remembered_logins() -> None:
    _remembered.clear()


def user_for_token(token: str) -> User | None:
    key = token_hash(token)
    user = remembered(key)
    if user is None:
        api_token = (
            ApiToken.objects.select_related("user__provider")
            .filter(key_hash=key, user__is_active=True)
            .first()
        )
        if api_token is None:
            return None
        user = remember(key, api_token.user)
    return user


def user_for_basic_auth(request: HttpRequest) -> User | None:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    key = "basic:" + hashlib.sha256(f"{username}\0{password}".encode()).hexdigest()
    user = remembered(key)
    if user is None:
        # Django's password check itself, not authenticate(): staff login lockouts
        # (django-axes) and the staff audit trail are not for providers' logins, which a
        # stranger's wrong passwords must never lock out.
        found = PROVIDER_PASSWORDS.authenticate(request, username=username, password=password)
        if not isinstance(found, User):
            return None
        user = remember(key, User.objects.select_related("provider").get(pk=found.pk))
    return user


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token <token>``, looked up by its hash."""

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[User, None] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header.")
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token header.") from None
        user = user_for_token(token)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        return user, None

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
