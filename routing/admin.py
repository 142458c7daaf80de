from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from routing.models import Agency, AnonymizerNetwork, Country, Referral, RoutingRule


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "country", "channel", "is_active"]
    list_filter = ["channel", "is_active"]
    search_fields = ["code", "name", "country__name"]
    autocomplete_fields = ["country"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["country", "us_state", "agency"]
    list_filter = ["agency__channel"]
    search_fields = ["country__code", "country__name", "agency__code"]
    autocomplete_fields = ["country", "agency"]


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    list_display = ["id", "report", "agency", "status", "created_at", "delivered_at"]
    list_filter = ["status", "agency__channel"]
    search_fields = ["=report__id", "agency__code"]
    list_select_related = ["agency"]
    readonly_fields = ["report", "agency", "created_at", "delivered_at", "acknowledged_at"]
    ordering = ["-created_at"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(AnonymizerNetwork)
class AnonymizerNetworkAdmin(admin.ModelAdmin):
    list_display = ["network", "source", "created_at"]
    search_fields = ["network", "source"]
