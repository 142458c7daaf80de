from django.urls import path

from routing import api, notices_api, statistics_views, views

agency_urlpatterns = [
    path("", views.queue, name="queue"),
    path("sign-in/", views.sign_in, name="sign-in"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("password/", views.password_change, name="password"),
    path("language/", views.language_set, name="language"),
    path("export.csv", views.export, name="export"),
    path("referrals/<int:referral_id>/", views.referral_page, name="referral"),
    path("referrals/<int:referral_id>/acknowledge", views.acknowledge, name="acknowledge"),
    path("referrals/<int:referral_id>/assign", views.assign, name="assign"),
    path("referrals/<int:referral_id>/status", views.case_status, name="status"),
    path("referrals/<int:referral_id>/notes", views.note_add, name="note"),
    path("referrals/<int:referral_id>/refer-on", views.refer_on, name="refer-on"),
]

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

statistics_urlpatterns = [
    path("", statistics_views.staff_figures, name="staff"),
    path("<slug:slug>.csv", statistics_views.staff_figures_csv, name="staff-csv"),
    path("public/", statistics_views.public_figures, name="public"),
    path("public/<slug:slug>.csv", statistics_views.public_figures_csv, name="public-csv"),
]

notice_api_urlpatterns = [
    path("notices", notices_api.NoticeListApi.as_view(), name="notices"),
    path("notices/<int:notice_id>", notices_api.NoticeDetailApi.as_view(), name="notice"),
    path(
        "notices/<int:notice_id>/answer",
        notices_api.NoticeAnswerApi.as_view(),
        name="notice-answer",
    ),
]
