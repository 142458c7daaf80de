from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = "Intake"

    def ready(self) -> None:
        from django.contrib.auth import signals

        from intake import audit, checks  # noqa: F401 (checks registers the system checks)

        signals.user_logged_in.connect(audit.audit_login, dispatch_uid="audit_login")
        signals.user_logged_out.connect(audit.audit_logout, dispatch_uid="audit_logout")
        signals.user_login_failed.connect(
            audit.audit_login_failed, dispatch_uid="audit_login_failed"
        )
