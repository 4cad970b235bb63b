"""The WAN of the consortium: replication and backup between the sites (docs/dr.md).

On one engine (both sites' ``docker_host`` the same) the WAN is one internal bridge network on it,
Docker's DNS names every peer and the WAN's /24 may stream (unchanged stacks keep exactly that).

With sites on engines of their own (``StackConfig.routed_wan``) each site host has a routed /24
(``sites.<name>.wan_subnet``, decision 0026): ``RoutedWan`` makes one WAN-facing network per host
there (a bridge without masquerade, so the other site sees real addresses), gives every unit on it a
fixed address from the address plan (``StackConfig.wan_address``), names the other site's units in
``/etc/hosts`` (``extra_hosts``: no embedded DNS across engines) and lets a server stream only to
and from its peer's exact address (/32 in pg_hba).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from stacks.config import StackConfig
from stacks.naming import docker_name, labels, urn_name
from stacks.providers.network import Network

#: a routed network's bridge must not rewrite source addresses (pg_hba names the exact peer)
NO_MASQUERADE = {"com.docker.network.bridge.enable_ip_masquerade": "false"}


@dataclass(frozen=True)
class RoutedWan:
    """The WAN-facing network of every site host and the address plan on them."""

    config: StackConfig
    """the validated stack config (sites with ``wan_subnet``)"""
    networks: dict[str, Network]
    """site -> its WAN-facing network"""

    @classmethod
    def create(cls, config: StackConfig, parent: pulumi.Resource) -> "RoutedWan":
        nets = {site: Network(urn_name(site, "wan"), name=docker_name(config.stack, site, "wan"),
                              docker_host=s.docker_host, labels=labels(config.stack, site, "wan"), internal=False,
                              subnet=s.wan_subnet, options=NO_MASQUERADE, opts=pulumi.ResourceOptions(parent=parent))
                for site, s in config.sites.items()}
        return cls(config, nets)

    def unit(self, lgcode: str | None) -> int | str:
        """A PostgreSQL cluster's unit in the plan: the member's address slot, or the hub's."""
        return self.config.member(lgcode).address_slot if lgcode else "hub_postgres"

    def address(self, site: str, unit: int | str) -> str:
        return self.config.wan_address(site, unit)

    def endpoint(self, site: str, unit: int | str) -> dict:
        """The ``networks`` entry of a unit at ``site``: its host's WAN network, its fixed address."""
        return {"name": self.networks[site].name, "aliases": [], "ipv4_address": self.address(site, unit)}

    def peer_cidr(self, site: str, unit: int | str) -> str:
        """The one address a peer streams from (pg_hba), as a /32."""
        return f"{self.address(site, unit)}/32"

    def hosts(self, here: str, names: list[tuple[str, str, int | str]]) -> dict[str, str]:
        """``extra_hosts`` of a container at ``here``: each (name, site, unit) at another site."""
        return {name: self.address(site, unit) for name, site, unit in names if site != here}
