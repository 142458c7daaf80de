"""What every admin page shares: each addition, change and deletion goes to the audit
trail as well as to the admin's own history, and a model admin can have every look at an
object's page recorded too (reports do)."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite

from intake.accounts import second_factor_device
from intake.audit import audit_record
from intake.models import AuditEntry
from routing.checks import routing_problems


class StaffLoginForm(OTPAdminAuthenticationForm):
    """Password and the code from the authenticator app on one page: the code is checked
    against each of the staff member's devices, so there is no device to pick."""

    def clean_otp(self, user: AbstractBaseUser | None) -> None:
        token = self.cleaned_data.get("otp_token")
        if user is None or not token or self.cleaned_data.get("otp_device"):
            super().clean_otp(user)
            return
        device = second_factor_device(request=self.request, user=user, token=token)
        if device is None:
            raise forms.ValidationError(
                "That code is not the one your authenticator app shows now.", code="invalid_token"
            )
        user.otp_device = device  # type: ignore[attr-defined]  # django-otp's login reads it


class StaffAdminSite(OTPAdminSite):
    """The admin, for staff verified by their password and a TOTP code."""

    login_form = StaffLoginForm
    login_template = "admin/staff_login.html"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.user.has_perm("routing.view_agency"):
            for problem in routing_problems():
                messages.warning(request, problem)
        return super().index(request, extra_context)


class AuditedAdmin(admin.ModelAdmin):
    audit_views = False

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        audit_record(
            action=AuditEntry.Action.ADD, request=request, obj=obj, detail=_message(message)
        )
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        audit_record(
            action=AuditEntry.Action.CHANGE, request=request, obj=obj, detail=_message(message)
        )
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        for obj in queryset:
            audit_record(action=AuditEntry.Action.DELETE, request=request, obj=obj)
        return super().log_deletions(request, queryset)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if self.audit_views and request.method == "GET" and response.status_code == 200:
            obj = getattr(response, "context_data", {}).get("original")
            if obj is not None:
                audit_record(action=AuditEntry.Action.VIEW, request=request, obj=obj)
        return response


def _message(message: Any) -> dict[str, Any]:
    return {"message": message if isinstance(message, (list, str)) else str(message)}
