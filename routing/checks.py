"""Misconfiguration of the routing table, found in the database: as Django system checks
(`manage.py check --database default`, and on every migrate) and as warnings at the top
of the admin's index for staff who can see agencies."""

from typing import Any

from django.core import checks
from django.db import connection
from django.db.models import Exists, OuterRef, Q

from routing.models import Agency, Country, DeliveryMode, RoutingRule


def routing_problems() -> list[str]:
    """Each way the routing table cannot deliver a report, in words."""
    problems: list[str] = []
    served = RoutingRule.objects.filter(country=OuterRef("pk"), us_state="", agency__is_active=True)
    unserved = list(
        Country.objects.exclude(Exists(served)).order_by("code").values_list("code", flat=True)
    )
    if unserved:
        problems.append(
            f"{len(unserved)} countr{'y has' if len(unserved) == 1 else 'ies have'} no active "
            f"agency: {', '.join(unserved[:20])}{' …' if len(unserved) > 20 else ''}. Reports "
            "resolving there cannot be referred."
        )
    if not Agency.objects.filter(code=Agency.ANALYST_QUEUE_CODE, is_active=True).exists():
        problems.append(
            "The analyst review queue is missing or inactive: reports with no known country "
            "cannot be referred."
        )
    # (The database refuses both of these too: agency_webhook_needs_url_and_secret.)
    webhook = Agency.objects.filter(delivery_mode=DeliveryMode.WEBHOOK, is_active=True)
    for code in webhook.filter(webhook_url="").values_list("code", flat=True):
        problems.append(f"Agency {code} delivers by webhook but has no URL to deliver to.")
    for code in webhook.filter(Q(webhook_secret="")).values_list("code", flat=True):
        problems.append(f"Agency {code} delivers by webhook but has no signing secret.")
    return problems


@checks.register(checks.Tags.database)
def check_routing_table(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    # `migrate` runs these checks before it migrates: a new database has no table yet.
    if not databases or RoutingRule._meta.db_table not in connection.introspection.table_names():
        return []
    return [
        checks.Warning(problem, id=f"routing.W00{number}")
        for number, problem in enumerate(routing_problems(), start=1)
    ]
