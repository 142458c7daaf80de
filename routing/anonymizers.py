"""Addresses of anonymizing services (Tor exit nodes, VPN and proxy ranges): evidence from
them says little about where a person is. Imported with `manage.py import_anonymizers`."""

import ipaddress

from config.reloading import Reloading
from routing.models import AnonymizerNetwork

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks_from_database() -> tuple[frozenset[IpAddress], tuple[IpNetwork, ...]]:
    """Single addresses in a set, wider networks in a list."""
    single: set[IpAddress] = set()
    wider: list[IpNetwork] = []
    for text in AnonymizerNetwork.objects.values_list("network", flat=True):
        network = ipaddress.ip_network(text)
        if network.num_addresses == 1:
            single.add(network.network_address)
        else:
            wider.append(network)
    return frozenset(single), tuple(wider)


loaded_anonymizers = Reloading(networks_from_database)


def is_anonymizer(address: IpAddress) -> bool:
    single, wider = loaded_anonymizers.get()
    return address in single or any(address in network for network in wider)
