"""Accounts of people (staff and agency users): a one-time password and a second factor."""

import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, User
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest
from django_otp import match_token
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.errors import ApplicationError


@dataclass(frozen=True)
class NewAccount:
    user: User
    password: str  # one-time: shown once, stored as Django's password hash
    totp_uri: str  # otpauth:// for an authenticator app, shown once


def account_with_second_factor_create(*, username: str, **fields: Any) -> NewAccount:
    """A person's account (staff or agency) with a one-time password and a TOTP device,
    both to be handed over once. Refused when the username is empty or taken."""
    username = username.strip()
    user_model = get_user_model()
    if not username or user_model.objects.filter(username=username).exists():
        raise ApplicationError(f"The username {username!r} is empty or taken.", code="exists")
    password = secrets.token_urlsafe(18)
    user = user_model.objects.create_user(username=username, password=password, **fields)
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return NewAccount(user=user, password=password, totp_uri=device.config_url)


def second_factor_device(
    *, request: HttpRequest | None, user: AbstractBaseUser, token: str
) -> Device | None:
    """The user's device that ``token`` (the code an authenticator app shows) is good for;
    None when it matches none, which counts as a failed login: it is on the audit trail
    and counts towards the username's lockout, like a wrong password."""
    device = match_token(user, token)
    if device is None:
        user_login_failed.send(
            sender=__name__,
            credentials={"username": user.get_username()},
            request=request,
            reason="the authenticator code did not match",
        )
    return device
