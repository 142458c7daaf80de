"""The provider JSON API. Field names mirror the CyberTipline XML element names."""

from typing import Any

from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from intake.models import IncidentType, IpCaptureEvent, Provider, Report
from intake.selectors import report_get_for_provider
from intake.services import IpCaptureEventData, ReportData, report_finish, report_open
from intake.validators import validate_country_code, validate_not_in_future


class IsProvider(BasePermission):
    message = "This API is for electronic service providers."

    def has_permission(self, request: Request, view: APIView) -> bool:
        provider = getattr(request.user, "provider", None)
        return isinstance(provider, Provider) and provider.is_active


def request_provider(request: Request) -> Provider:
    return request.user.provider  # type: ignore[union-attr]


class ProviderApi(APIView):
    permission_classes = [IsAuthenticated, IsProvider]


class ReportStatusSerializer(serializers.Serializer):
    reportId = serializers.IntegerField(source="pk")
    status = serializers.CharField()


class IpCaptureEventSerializer(serializers.Serializer):
    ipAddress = serializers.IPAddressField()
    eventName = serializers.ChoiceField(choices=IpCaptureEvent.EventName.choices, required=False)
    dateTime = serializers.DateTimeField(required=False)
    possibleProxy = serializers.BooleanField(required=False)
    port = serializers.IntegerField(min_value=0, max_value=65535, required=False)


class EstimatedLocationSerializer(serializers.Serializer):
    countryCode = serializers.CharField(
        min_length=2, max_length=2, validators=[validate_country_code]
    )


class PersonOrUserReportedSerializer(serializers.Serializer):
    ipCaptureEvent = serializers.ListField(
        child=IpCaptureEventSerializer(), required=False, max_length=1000
    )
    estimatedLocation = EstimatedLocationSerializer(required=False)


class IncidentSummarySerializer(serializers.Serializer):
    incidentType = serializers.ChoiceField(choices=IncidentType.choices)
    incidentDateTime = serializers.DateTimeField(validators=[validate_not_in_future])
    incidentDateTimeDescription = serializers.CharField(
        required=False, allow_blank=True, max_length=3000
    )


class ReportDocumentSerializer(serializers.Serializer):
    """A CyberTipline report, in the sections and element names of its XML schema."""

    incidentSummary = IncidentSummarySerializer()
    personOrUserReported = PersonOrUserReportedSerializer(required=False)
    additionalInfo = serializers.CharField(required=False, allow_blank=True, max_length=50_000)


class ReportOpenApi(ProviderApi):
    InputSerializer = ReportDocumentSerializer

    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = report_open(
            data=report_data(serializer.validated_data), provider=request_provider(request)
        )
        return Response(ReportStatusSerializer(report).data, status=status.HTTP_201_CREATED)


def report_data(document: dict[str, Any]) -> ReportData:
    """The service's input from a validated CyberTipline-shaped document."""
    summary = document["incidentSummary"]
    person = document.get("personOrUserReported", {})
    return ReportData(
        incident_type=summary["incidentType"],
        incident_datetime=summary["incidentDateTime"],
        incident_datetime_description=summary.get("incidentDateTimeDescription", ""),
        description=document.get("additionalInfo", ""),
        stated_country=person.get("estimatedLocation", {}).get("countryCode", ""),
        ip_capture_events=[
            IpCaptureEventData(
                ip_address=event["ipAddress"],
                event_name=event.get("eventName", ""),
                date_time=event.get("dateTime"),
                possible_proxy=event.get("possibleProxy"),
                port=event.get("port"),
            )
            for event in person.get("ipCaptureEvent", [])
        ],
    )


class ReportFinishApi(ProviderApi):
    def post(self, request: Request, report_id: int) -> Response:
        report = report_get_for_provider(provider=request_provider(request), report_id=report_id)
        report = report_finish(report=report)
        return Response(ReportStatusSerializer(report).data)


class ReportDetailApi(ProviderApi):
    class OutputSerializer(serializers.Serializer):
        reportId = serializers.IntegerField(source="pk")
        status = serializers.CharField()
        incidentSummary = serializers.SerializerMethodField()
        receivedAt = serializers.DateTimeField(source="received_at")
        finishedAt = serializers.DateTimeField(source="finished_at")

        def get_incidentSummary(self, report: Report) -> dict[str, Any]:
            return {
                "incidentType": report.incident_type,
                "incidentDateTime": serializers.DateTimeField().to_representation(
                    report.incident_datetime
                ),
            }

    def get(self, request: Request, report_id: int) -> Response:
        report = report_get_for_provider(provider=request_provider(request), report_id=report_id)
        return Response(self.OutputSerializer(report).data)
