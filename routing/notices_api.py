"""The provider API's notices: what staff ask a provider to take down or act on, and the
provider's answer. A provider sees only its own notices; another's answers exactly like
one that does not exist."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.errors import ApplicationError
from intake.api import ERRORS, ProviderApi, request_provider
from routing.models import Notice
from routing.notices import (
    notice_answer,
    notice_get_for_provider,
    notice_payload,
    notices_for_provider,
)

PAGE_SIZE = 50


class NoticeSerializer(serializers.Serializer):
    """Documents the shape of notice_payload."""

    noticeId = serializers.IntegerField()
    reportId = serializers.IntegerField(
        allow_null=True,
        help_text="Your report the notice is about; null when the notice is about content "
        "you host that another provider or a member of the public reported.",
    )
    noticeType = serializers.ChoiceField(choices=Notice.Type.choices)
    targets = serializers.ListField(child=serializers.CharField())
    reason = serializers.CharField()
    requestedAction = serializers.ChoiceField(choices=Notice.RequestedAction.choices)
    status = serializers.ChoiceField(choices=Notice.Status.choices)
    sentAt = serializers.DateTimeField()
    deadlineAt = serializers.DateTimeField()
    remindersSent = serializers.IntegerField()
    answer = serializers.ChoiceField(choices=Notice.Answer.choices, allow_null=True)
    answerReason = serializers.CharField(allow_null=True)
    answeredAt = serializers.DateTimeField(allow_null=True)
    closedAt = serializers.DateTimeField(allow_null=True)


class NoticePageSerializer(serializers.Serializer):
    notices = NoticeSerializer(many=True)
    nextPage = serializers.IntegerField(allow_null=True)


class NoticeListApi(ProviderApi):
    @extend_schema(
        operation_id="notices",
        parameters=[
            OpenApiParameter("page", int, description="1 (the default) or nextPage"),
        ],
        responses={200: NoticePageSerializer, **ERRORS},
        summary="Your notices: open first, then answered, then closed; oldest first",
    )
    def get(self, request: Request) -> Response:
        raw_page = request.query_params.get("page", "1")
        if not raw_page.isdecimal() or not 1 <= int(raw_page) <= 1_000_000:
            raise ApplicationError(
                "The page is a whole number from 1.",
                code="invalid_page",
                fields={"page": ["Use 1 or the nextPage of the previous page."]},
            )
        page = int(raw_page)
        start = (page - 1) * PAGE_SIZE
        notices = list(
            notices_for_provider(provider=request_provider(request))[start : start + PAGE_SIZE + 1]
        )
        return Response(
            {
                "notices": [notice_payload(notice) for notice in notices[:PAGE_SIZE]],
                "nextPage": page + 1 if len(notices) > PAGE_SIZE else None,
            }
        )


class NoticeDetailApi(ProviderApi):
    @extend_schema(
        operation_id="notice",
        responses={200: NoticeSerializer, **ERRORS},
        summary="One of your notices",
    )
    def get(self, request: Request, notice_id: int) -> Response:
        notice = notice_get_for_provider(provider=request_provider(request), notice_id=notice_id)
        return Response(notice_payload(notice))


class NoticeAnswerApi(ProviderApi):
    class NoticeAnswerInputSerializer(serializers.Serializer):
        answer = serializers.ChoiceField(choices=Notice.Answer.choices)
        reason = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=3000,
            help_text="Why; required when the answer is disputed.",
        )

    @extend_schema(
        operation_id="notice_answer",
        request=NoticeAnswerInputSerializer,
        responses={200: NoticeSerializer, **ERRORS},
        summary="Answer a notice: removed, account actioned, not found, or disputed",
    )
    def post(self, request: Request, notice_id: int) -> Response:
        serializer = self.NoticeAnswerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        notice = notice_answer(
            provider=request_provider(request),
            notice_id=notice_id,
            answer=serializer.validated_data["answer"],
            reason=serializer.validated_data.get("reason", ""),
        )
        return Response(notice_payload(notice))
