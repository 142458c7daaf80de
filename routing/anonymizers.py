"""Addresses of anonymizing services (Tor exit nodes, VPN and proxy ranges): evidence from
them says little about where a person is. Imported with `manage.py import_anonymizers`."""

import ipaddress
import time
from functools import lru_cache

from routing.models import AnonymizerNetwork

RELOAD_SECONDS = 300
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=1)
def _networks(epoch: int) -> tuple[frozenset[IpAddress], tuple[IpNetwork, ...]]:
    """Single addresses in a set, wider networks in a list; reloaded every RELOAD_SECONDS."""
    single: set[IpAddress] = set()
    wider: list[IpNetwork] = []
    for text in AnonymizerNetwork.objects.values_list("network", flat=True):
        network = ipaddress.ip_network(text)
        if network.num_addresses == 1:
            single.add(network.network_address)
        else:
            wider.append(network)
    return frozenset(single), tuple(wider)


def forget_loaded_anonymizers() -> None:
    _networks.cache_clear()


def is_anonymizer(address: IpAddress) -> bool:
    single, wider = _networks(int(time.monotonic() // RELOAD_SECONDS))
    return address in single or any(address in network for network in wider)
