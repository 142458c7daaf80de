from django.contrib import admin
from django.urls import include, path

from config.views import healthz
from intake.urls import api_urlpatterns, ispws_urlpatterns, schema_urlpatterns
from routing.urls import (
    agency_api_urlpatterns,
    agency_urlpatterns,
    notice_api_urlpatterns,
    statistics_urlpatterns,
)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("agency/", include((agency_urlpatterns, "agency"))),
    path("stats/", include((statistics_urlpatterns, "stats"))),
    path("api/v1/agency/", include((agency_api_urlpatterns, "agency-api"))),
    path("api/v1/", include((notice_api_urlpatterns, "notice-api"))),
    path("api/v1/", include((api_urlpatterns, "api"))),
    path("api/", include((schema_urlpatterns, "api-docs"))),
    path("ispws/", include((ispws_urlpatterns, "ispws"))),
    # The language switcher on the public pages posts here (Django's set_language).
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("intake.urls")),
]

handler404 = "config.views.not_found"
handler500 = "config.views.server_error"
