from typing import Any

from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_delete, post_save


def forget_routing_table(**kwargs: Any) -> None:
    from routing.selectors import loaded_routing_table

    # Now (this transaction's own routing sees its change) and again after the commit: a
    # reload in another thread meanwhile read the table as it was.
    loaded_routing_table.forget()
    transaction.on_commit(loaded_routing_table.forget)


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        from routing import checks  # noqa: F401 (registers the routing table's checks)
        from routing.models import Agency, RoutingRule

        for model in (Agency, RoutingRule):
            for signal in (post_save, post_delete):
                signal.connect(forget_routing_table, sender=model, dispatch_uid=f"forget-{model}")
