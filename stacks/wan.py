"""The WAN of the consortium: replication and backup between the sites (docs/dr.md).

On one engine (both sites' ``docker_host`` the same) the WAN is one segment per pair
(``WanSegments``): an internal bridge network holding a member's primary, its DR standby and the
backup repository (the hub's pair likewise), each at a fixed address, so a server reaches its own
peer and the repository and nothing else, and streams to and from its peer's exact address only
(/32 in pg_hba). The bridge holds no address on a segment (``NO_HOST_ADDRESS``): the engine host
is not reachable from it. Docker's DNS names the peers.

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
from stacks.providers.network import NO_HOST_ADDRESS, Network

#: a routed network's bridge must not rewrite source addresses (pg_hba names the exact peer)
NO_MASQUERADE = {"com.docker.network.bridge.enable_ip_masquerade": "false"}
#: the peer of each side of a pair
PEER_ROLE = {"primary": "standby", "standby": "primary"}


@dataclass(frozen=True)
class _Wan:
    """The WAN's networks (by pair or by site) and the address plan on them."""

    config: StackConfig
    """the validated stack config"""
    networks: dict[str, Network]
    """pair (lgcode, or ``hub``) -> its segment; or site -> its host's WAN-facing network"""


def _wan_network(urn: str, name: str, docker_host: str, site_label: tuple[str, str], parent: pulumi.Resource,
                 **props) -> Network:
    stack, site = site_label
    return Network(urn, name=name, docker_host=docker_host, labels=labels(stack, site, "wan"),
                   opts=pulumi.ResourceOptions(parent=parent), **props)


class WanSegments(_Wan):
    """Sites on one engine: the WAN segment of every pair (a member's, the hub's) and its addresses."""

    @classmethod
    def create(cls, config: StackConfig, parent: pulumi.Resource) -> "WanSegments":
        host, label = config.sites[config.primary_site].docker_host, (config.stack, config.primary_site)
        units: dict[str, int | str] = {"hub": "hub", **{m.lgcode: m.address_slot for m in config.municipalities}}
        nets = {pair: _wan_network(urn_name("wan", pair), docker_name(config.stack, None, "wan", pair), host, label,
                                   parent, internal=True, subnet=config.wan_segment(unit), options=NO_HOST_ADDRESS)
                for pair, unit in units.items()}
        return cls(config, nets)

    def _unit(self, lgcode: str | None) -> int | str:
        return self.config.member(lgcode).address_slot if lgcode else "hub"

    def network(self, lgcode: str | None) -> Network:
        """The segment of a pair: a member's (``lgcode``) or the hub's (None)."""
        return self.networks[lgcode or "hub"]

    def endpoint(self, lgcode: str | None, role: str) -> dict:
        """The ``networks`` entry of ``role`` (primary, standby, backup_repo) on a pair's segment."""
        return {"name": self.network(lgcode).name, "aliases": [],
                "ipv4_address": self.config.wan_segment_address(self._unit(lgcode), role)}

    def peer_cidr(self, lgcode: str | None, role: str) -> str:
        """The one address the peer of ``role`` (primary or standby) streams from (pg_hba), as a /32."""
        return f"{self.config.wan_segment_address(self._unit(lgcode), PEER_ROLE[role])}/32"

    def repository_endpoints(self) -> list[dict]:
        """The backup repository's place on every segment, the hub's first."""
        return [self.endpoint(None if pair == "hub" else pair, "backup_repo") for pair in self.networks]


class RoutedWan(_Wan):
    """The WAN-facing network of every site host (sites with ``wan_subnet``) and the address plan on them."""

    @classmethod
    def create(cls, config: StackConfig, parent: pulumi.Resource) -> "RoutedWan":
        nets = {site: _wan_network(urn_name(site, "wan"), docker_name(config.stack, site, "wan"), s.docker_host,
                                   (config.stack, site), parent, internal=False, subnet=s.wan_subnet,
                                   options=NO_MASQUERADE)
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
