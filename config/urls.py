from django.contrib import admin
from django.urls import include, path

from config.views import healthz
from intake.urls import api_urlpatterns as intake_api

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((intake_api, "api"))),
    path("", include("intake.urls")),
]
