"""Accounts of people (staff and agency users): a one-time password and a second factor."""

import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
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
