from django.urls import path

from intake import api, views

app_name = "intake"

urlpatterns = [
    path("", views.home, name="home"),
    path("report/", views.public_report, name="public-report"),
]

api_urlpatterns = [
    path("reports", api.ReportOpenApi.as_view(), name="report-open"),
    path("reports/<int:report_id>", api.ReportDetailApi.as_view(), name="report-detail"),
    path("reports/<int:report_id>/finish", api.ReportFinishApi.as_view(), name="report-finish"),
]
