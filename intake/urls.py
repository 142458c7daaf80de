from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.security import content_security_policy_extended
from intake import api, ispws, views

app_name = "intake"

urlpatterns = [
    path("", views.home, name="home"),
    path("report/", views.public_report, name="public-report"),
    path("report/status/", views.report_status, name="report-status"),
]

api_urlpatterns = [
    path("reports", api.ReportOpenApi.as_view(), name="report-open"),
    path("reports/bulk", api.ReportBulkApi.as_view(), name="reports-bulk"),
    path("reports/<int:report_id>", api.ReportDetailApi.as_view(), name="report-detail"),
    path("reports/<int:report_id>/files", api.ReportFileAddApi.as_view(), name="report-files"),
    path("reports/<int:report_id>/finish", api.ReportFinishApi.as_view(), name="report-finish"),
    path("reports/<int:report_id>/retract", api.ReportRetractApi.as_view(), name="report-retract"),
    path("hashes", api.SharedHashesApi.as_view(), name="shared-hashes"),
    path(
        "hashes/<int:entry_id>/feedback",
        api.SharedHashFeedbackApi.as_view(),
        name="shared-hash-feedback",
    ),
]

schema_urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Its start-up script comes from a URL of its own rather than inline, as the
    # Content-Security-Policy requires; Swagger UI draws its icons as data: images.
    path(
        "docs/",
        content_security_policy_extended({"img-src": ["data:"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-docs:schema")
        ),
        name="docs",
    ),
]

ispws_urlpatterns = [
    path("status", ispws.status, name="status"),
    path("xsd", ispws.xsd, name="xsd"),
    path("submit", ispws.submit, name="submit"),
    path("upload", ispws.upload, name="upload"),
    path("fileinfo", ispws.fileinfo, name="fileinfo"),
    path("finish", ispws.finish, name="finish"),
    path("retract", ispws.retract, name="retract"),
]
