from django.urls import path

from routing import api

agency_api_urlpatterns = [
    path("referrals", api.AgencyReferralListApi.as_view(), name="referrals"),
    path("referrals/<int:referral_id>", api.AgencyReferralApi.as_view(), name="referral"),
    path(
        "referrals/<int:referral_id>/acknowledge",
        api.AgencyAcknowledgeApi.as_view(),
        name="acknowledge",
    ),
    path("referrals/<int:referral_id>/status", api.AgencyCaseStatusApi.as_view(), name="status"),
    path("referrals/<int:referral_id>/notes", api.AgencyNoteApi.as_view(), name="notes"),
    path("referrals/<int:referral_id>/refer-on", api.AgencyReferOnApi.as_view(), name="refer-on"),
]
