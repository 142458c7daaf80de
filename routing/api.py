"""The agency API (token): an agency's new referrals by priority, one referral with the
report as the agency receives it, and what the agency does with it: acknowledge, set the
case status, add a note, refer on. Another agency's referral, and one this agency has
referred on, answer exactly like one that does not exist (except for what the agency wrote
itself on a referral it referred on, and the fact that it did)."""

import base64
import binascii
import json
from typing import Any

from django.db.models import F, Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import ApplicationError
from intake.api import ERRORS, LimitedJSONParser
from routing.delivery import referral_payload
from routing.models import Agency, CaseStatus, Referral, ReferralNote
from routing.services import (
    referral_acknowledge,
    referral_case_status_set,
    referral_not_found,
    referral_note_add,
    referral_refer_on,
)

PAGE_SIZE = 50
NEW_STATUSES = [Referral.Status.DELIVERED]


class IsAgencyMember(BasePermission):
    message = "This API is for law-enforcement agencies."

    def has_permission(self, request: Request, view: APIView) -> bool:
        member = getattr(request.user, "agency_member", None)
        return member is not None and member.agency.is_active


def request_agency(request: Request) -> Agency:
    return request.user.agency_member.agency  # type: ignore[union-attr]


REFERRAL_STATE = inline_serializer(
    "AgencyReferralState",
    {"referralId": serializers.IntegerField(), "status": serializers.CharField()},
)
CASE_STATUS_STATE = inline_serializer(
    "AgencyCaseStatusState",
    {"referralId": serializers.IntegerField(), "caseStatus": serializers.CharField()},
)
NOTE = inline_serializer(
    "AgencyNote",
    {
        "noteId": serializers.IntegerField(),
        "by": serializers.CharField(allow_null=True),
        "at": serializers.DateTimeField(),
        "text": serializers.CharField(),
    },
)
REFERRED_ON = inline_serializer(
    "AgencyReferredOn",
    {
        "referralId": serializers.IntegerField(),
        "status": serializers.CharField(),
        "referredTo": serializers.CharField(),
    },
)


class AgencyApi(APIView):
    permission_classes = [IsAuthenticated, IsAgencyMember]
    parser_classes = [LimitedJSONParser]


def note_data(note: ReferralNote) -> dict[str, Any]:
    return {
        "noteId": note.pk,
        "by": note.author.get_username() if note.author else None,
        "at": note.created_at.isoformat(),
        "text": note.text,
    }


def summary(referral: Referral) -> dict[str, Any]:
    report = referral.report
    return {
        "referralId": referral.pk,
        "reportId": report.pk,
        "priority": report.priority or None,
        "incidentType": report.incident_type,
        "country": report.resolved_country or None,
        "status": referral.status,
        "caseStatus": referral.case_status,
        "referredAt": referral.created_at.isoformat(),
        "deliveredAt": referral.delivered_at.isoformat() if referral.delivered_at else None,
    }


# Keyset pagination: by priority, then age, then id; the cursor is where a page ended.


def encode_cursor(referral: Referral) -> str:
    key = [referral.report.priority, referral.created_at.isoformat(), referral.pk]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def after_cursor(queryset: QuerySet[Any], cursor: str) -> QuerySet[Any]:
    try:
        priority, created_at, pk = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not (isinstance(priority, str) and isinstance(created_at, str) and isinstance(pk, int)):
            raise ValueError
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApplicationError(
            "The cursor is not one this API gave.",
            code="invalid_cursor",
            fields={"cursor": ["Use the nextCursor of the previous page."]},
        ) from None
    return queryset.filter(
        Q(priority_key__gt=priority)
        | Q(priority_key=priority, created_at__gt=created_at)
        | Q(priority_key=priority, created_at=created_at, pk__gt=pk)
    )


class AgencyReferralListApi(AgencyApi):
    @extend_schema(
        operation_id="agency_referrals",
        parameters=[
            OpenApiParameter("cursor", str, description="nextCursor from the previous page"),
            OpenApiParameter(
                "status",
                str,
                enum=["new", "open"],
                description="new: delivered, not yet acknowledged (the default); open: also "
                "acknowledged",
            ),
        ],
        responses={
            200: inline_serializer(
                "AgencyReferralPage",
                {
                    "referrals": serializers.ListField(child=serializers.DictField()),
                    "nextCursor": serializers.CharField(allow_null=True),
                },
            ),
            **ERRORS,
        },
        summary="The agency's referrals, most urgent first",
    )
    def get(self, request: Request) -> Response:
        which = request.query_params.get("status", "new")
        if which not in ("new", "open"):
            raise ApplicationError(
                f"{which!r} is not a list: use new or open.",
                code="invalid_choice",
                fields={"status": ["new or open"]},
            )
        referrals = (
            Referral.objects.filter(
                agency=request_agency(request),
                status__in=NEW_STATUSES if which == "new" else Referral.HELD_STATUSES,
            )
            .select_related("report")
            .annotate(priority_key=F("report__priority"))
            .order_by("priority_key", "created_at", "pk")
        )
        cursor = request.query_params.get("cursor")
        if cursor:
            referrals = after_cursor(referrals, cursor)
        page = list(referrals[: PAGE_SIZE + 1])
        more = len(page) > PAGE_SIZE
        page = page[:PAGE_SIZE]
        return Response(
            {
                "referrals": [summary(referral) for referral in page],
                "nextCursor": encode_cursor(page[-1]) if more else None,
            }
        )


class AgencyReferralApi(AgencyApi):
    @extend_schema(
        operation_id="agency_referral",
        # The referral as webhook delivery sends it (routing.delivery.referral_payload),
        # with caseStatus and notes; or, once referred on, only the agency's own part.
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
        summary="One referral: the report as the agency receives it, and its notes",
    )
    def get(self, request: Request, referral_id: int) -> Response:
        agency = request_agency(request)
        referral = (
            Referral.objects.select_related("agency", "referred_to__agency")
            .filter(pk=referral_id, agency=agency)
            .first()
        )
        if referral is None or referral.status in (
            Referral.Status.PENDING,
            Referral.Status.DEAD_LETTERED,
        ):
            raise referral_not_found()
        notes = [note_data(note) for note in referral.notes.select_related("author")]
        if referral.status == Referral.Status.RE_REFERRED:
            # Referred on: what the agency wrote, and that it referred it; not the report.
            onward = getattr(referral, "referred_to", None)
            return Response(
                {
                    "referralId": referral.pk,
                    "status": referral.status,
                    "referredOnAt": referral.closed_at.isoformat() if referral.closed_at else None,
                    "referredTo": onward.agency.code if onward else None,
                    "notes": notes,
                }
            )
        return Response(
            {**referral_payload(referral), "caseStatus": referral.case_status, "notes": notes}
        )


class AgencyAcknowledgeApi(AgencyApi):
    @extend_schema(
        operation_id="agency_referral_acknowledge",
        request=None,
        responses={200: REFERRAL_STATE, **ERRORS},
        summary="Acknowledge a referral: the agency has taken it into its work",
    )
    def post(self, request: Request, referral_id: int) -> Response:
        referral = referral_acknowledge(
            referral_id=referral_id,
            by_agency=request_agency(request),
            by_user=request.user,  # type: ignore[arg-type]
        )
        return Response({"referralId": referral.pk, "status": referral.status})


class CaseStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CaseStatus.choices)


class AgencyCaseStatusApi(AgencyApi):
    @extend_schema(
        operation_id="agency_referral_case_status",
        request=CaseStatusSerializer,
        responses={200: CASE_STATUS_STATE, **ERRORS},
        summary="Set where the agency's case stands",
    )
    def post(self, request: Request, referral_id: int) -> Response:
        data = validated(CaseStatusSerializer, request)
        referral = referral_case_status_set(
            referral_id=referral_id,
            case_status=data["status"],
            by_agency=request_agency(request),
            by_user=request.user,  # type: ignore[arg-type]
        )
        return Response({"referralId": referral.pk, "caseStatus": referral.case_status})


class NoteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=10_000)


class AgencyNoteApi(AgencyApi):
    @extend_schema(
        operation_id="agency_referral_note",
        request=NoteSerializer,
        responses={201: NOTE, **ERRORS},
        summary="Add a note to a referral (it stays with this agency)",
    )
    def post(self, request: Request, referral_id: int) -> Response:
        data = validated(NoteSerializer, request)
        note = referral_note_add(
            referral_id=referral_id,
            text=data["text"],
            by_agency=request_agency(request),
            by_user=request.user,  # type: ignore[arg-type]
        )
        return Response(note_data(note), status=status.HTTP_201_CREATED)


class ReferOnSerializer(serializers.Serializer):
    agency = serializers.CharField(max_length=64, help_text="The code of the agency.")
    reason = serializers.CharField(max_length=2000)


class AgencyReferOnApi(AgencyApi):
    @extend_schema(
        operation_id="agency_referral_refer_on",
        request=ReferOnSerializer,
        responses={201: REFERRED_ON, **ERRORS},
        summary="Refer the report on to another agency, with a reason",
    )
    def post(self, request: Request, referral_id: int) -> Response:
        data = validated(ReferOnSerializer, request)
        to_agency = Agency.objects.filter(code=data["agency"]).first()
        if to_agency is None:
            raise ApplicationError(
                f"There is no agency {data['agency']!r}.",
                code="invalid_agency",
                fields={"agency": ["An agency's code, such as direct-gb."]},
            )
        agency = request_agency(request)
        referral = Referral.objects.filter(pk=referral_id, agency=agency).first()
        if referral is None or referral.status not in Referral.HELD_STATUSES:
            raise referral_not_found()
        new = referral_refer_on(
            referral_id=referral_id,
            to_agency=to_agency,
            reason=data["reason"],
            by_agency=agency,
            by_user=request.user,  # type: ignore[arg-type]
        )
        return Response(
            {
                "referralId": referral_id,
                "status": Referral.Status.RE_REFERRED,
                "referredTo": new.agency.code,
            },
            status=status.HTTP_201_CREATED,
        )


def validated(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
