"""The stack's configuration: one typed model, validated once, before any resource is touched.

A consortium (一部事務組合 / 協議会) is one stack. Its ``Pulumi.<stack>.yaml`` lists the member
municipalities (official 6-digit 地方公共団体コード, name, population, per-municipality
parameters validated by ``municloud.params.MunicipalityParams``), the sites (one Docker engine
each) and the SLA targets. Every key is described in ``Pulumi.yaml``; every default lives in
``DEFAULTS`` below and nowhere else. Errors name the key (``municloud:municipalities[1].lgcode``).
"""

from __future__ import annotations

import ipaddress
import itertools
import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

NAMESPACE = "municloud"
SERVICES = ("residents_registry", "tax", "nhi")
#: ``municloud:sites: site-hosts``: the sites are this machine's site hosts, as the set-up wrote
#: them (tools/bootstrap/site-hosts.sh: $MC_STATE/sites/sites.yaml; decision 0045)
SITE_HOSTS = "site-hosts"

#: The one table of defaults (config key -> value).
DEFAULTS: dict[str, Any] = {
    "sites": {"primary": {"docker_host": "unix:///var/run/docker.sock", "role": "primary"},
              "dr": {"docker_host": "unix:///var/run/docker.sock", "role": "dr"}},
    "environment": "development",
    "network_base": "10.201.0.0/16",
    "frontdoor_port": 8443,
    "gateway_rate_per_second": 200,
    "gateway_burst": 400,
    "health_timeout_s": 180,
    "edge_cert_validity_days": 30,
    "edge_cert_renew_before_days": 10,
    "placeholder_services": [],
    "tenant_egress": [],
    # networks made from now on hold no host address, existing ones keep theirs
    # (stacks.providers.network.host_isolation); true: every network, enforced; false: none
    "engine_host_isolation": "new-networks",
    "test_stack": False,
    "sla": {"availability_percent": 99.5, "rto_seconds": 60, "rpo_seconds": 0,
            "replication_mode": "synchronous", "dr_services": "pilot_light", "max_lag_seconds": 5,
            "local_recovery_seconds": 30,
            "backup_retention_full": 2, "backup_retention_diff": 6, "backup_full_every_hours": 168,
            "backup_diff_every_hours": 24, "concurrent_users": 200,
            "p95_ms": 500, "max_failure_ratio": 0.01, "min_rps": 100},
    # Cost sharing (docs/cost.md): illustrative figures, our design, not any consortium's budget.
    "cost": {"fixed_annual_yen": 0,
             "unit_prices": {"cpu_core_hour": 10, "memory_gib_hour": 2, "storage_gib_month": 20,
                             "dr_network_gib": 10, "million_requests": 1000},
             "weights": {"equal": 0.2, "population": 0.5, "usage": 0.3}},
}


class ConfigError(ValueError):
    """The stack config is invalid; ``key`` is the full config key, the message says why."""

    def __init__(self, key: str, reason: str) -> None:
        self.key, self.reason = key, reason
        super().__init__(f"{key}: {reason}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteNode(_Strict):
    """One engine host of a site with several (a swarm node; docs/operator-guide.md "Nodes and swarms")."""

    name: str = Field(pattern=r"^[a-z][a-z0-9]{0,9}$", description="the node's name (its municloud.node label)")
    docker_host: str = Field(description="the node's own engine (same scheme and TLS files as the site's)")


class SiteConfig(_Strict):
    """One site = one Docker engine (a host of its own: docs/operator-guide.md "Site hosts")."""

    docker_host: str = Field(description="Docker engine address of the site: unix://, ssh:// or tcp:// "
                             "(tcp needs the three tls_* files: TLS with a client certificate)")
    role: Literal["primary", "dr"] = Field(description="primary serves traffic; dr holds standbys")
    tls_ca_cert: str = Field("", description="tcp://: CA certificate (PEM file) the engine's certificate must chain to")
    tls_cert: str = Field("", description="tcp://: the operator's client certificate (PEM file)")
    tls_key: str = Field("", description="tcp://: the client certificate's private key (PEM file, kept outside the state)")
    wan_subnet: str = Field("", description="sites on engines of their own: the site host's routed /24 for its "
                            "WAN-facing network (no masquerade, fixed addresses from the address plan)")

    engine_socket: str = Field("", description="the engine's unix socket on the site host itself, mounted into "
                               "the site's supervisor (it watches that engine); default: the docker_host's path "
                               "for unix://, else /var/run/docker.sock (Docker's own default on a host)")

    nodes: list[SiteNode] = Field(default_factory=list, description="a site of several engine hosts: its nodes, "
                                  "one swarm (tools/bootstrap/site-hosts.sh swarm); the first is the manager and "
                                  "its docker_host is the site's. Empty: the site is one host, plain containers")

    @model_validator(mode="after")
    def _engine(self) -> "SiteConfig":
        scheme = self.docker_host.partition("://")[0]
        tls = {k: getattr(self, k) for k in ("tls_ca_cert", "tls_cert", "tls_key")}
        if scheme not in ("unix", "ssh", "tcp") or "://" not in self.docker_host:
            raise ValueError(f"docker_host {self.docker_host!r}: must start with unix://, ssh:// or tcp://")
        if scheme == "tcp":
            missing = [k for k, v in tls.items() if not v]
            if missing:
                raise ValueError(f"docker_host {self.docker_host}: a tcp:// engine is reached over TLS with a "
                                 f"client certificate; missing {', '.join(missing)}")
        elif any(tls.values()):
            raise ValueError(f"tls_* apply to tcp:// engines only, not {scheme}://")
        for key, path in tls.items():
            if path and not path.startswith("/"):
                raise ValueError(f"{key} must be an absolute path, got {path!r}")
        if self.wan_subnet:
            try:
                net = ipaddress.IPv4Network(self.wan_subnet)
            except ValueError:
                raise ValueError(f"wan_subnet {self.wan_subnet!r} is not an IPv4 network") from None
            if net.prefixlen != 24 or not net.is_private:
                raise ValueError(f"wan_subnet {self.wan_subnet}: must be a private /24 (the site host's routed block)")
        if self.engine_socket and not self.engine_socket.startswith("/"):
            raise ValueError(f"engine_socket must be an absolute path on the site host, got {self.engine_socket!r}")
        if self.engine_socket and scheme == "unix" and self.engine_socket != self.docker_host.removeprefix("unix://"):
            raise ValueError(f"engine_socket {self.engine_socket!r}: a unix:// engine's socket is its docker_host's "
                             f"path ({self.docker_host.removeprefix('unix://')}); leave it out")
        if self.nodes:
            names = [n.name for n in self.nodes]
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"nodes: node {twice[0]!r} named twice")
            if self.nodes[0].docker_host != self.docker_host:
                raise ValueError(f"nodes[0].docker_host {self.nodes[0].docker_host!r}: the first node is the swarm's "
                                 f"manager, where the site's objects are made: it must be docker_host "
                                 f"{self.docker_host!r}")
            hosts = [n.docker_host for n in self.nodes]
            if len(set(hosts)) != len(hosts):
                raise ValueError("nodes: every node is an engine of its own (a docker_host named twice)")
            if any(h.partition("://")[0] != scheme for h in hosts):
                raise ValueError(f"nodes: every node's docker_host is {scheme}:// like the site's (same TLS files)")
        return self

    def socket_mount(self) -> bool | str:
        """The Container provider's ``engine_socket`` for a unit that watches this site's engine:
        ``True`` for a unix:// engine (its own socket, the state of existing stacks unchanged),
        else the socket's path on the site host."""
        return True if self.docker_host.startswith("unix://") else self.socket_on_host()

    def socket_on_host(self) -> str:
        """The engine's unix socket as a path on the site host (``engine_socket``, or its default)."""
        if self.docker_host.startswith("unix://"):
            return self.docker_host.removeprefix("unix://")
        return self.engine_socket or "/var/run/docker.sock"

    def tls(self) -> dict[str, str]:
        """The engine's TLS files (empty for unix:// and ssh://)."""
        if not self.tls_ca_cert:
            return {}
        return {"ca_cert": self.tls_ca_cert, "cert": self.tls_cert, "key": self.tls_key}


class SlaConfig(_Strict):
    """SLA targets the consortium promises (policy Guideline 6)."""

    @model_validator(mode="after")
    def _backup_schedule(self) -> "SlaConfig":
        if self.backup_full_every_hours and self.backup_diff_every_hours >= self.backup_full_every_hours:
            raise ValueError("sla.backup_diff_every_hours must be below sla.backup_full_every_hours "
                             f"({self.backup_diff_every_hours} >= {self.backup_full_every_hours})")
        return self

    availability_percent: float = Field(ge=90, le=100, description="promised availability")
    rto_seconds: int = Field(gt=0, description="recovery time objective")
    rpo_seconds: int = Field(ge=0, description="recovery point objective (0 = no committed write lost)")
    replication_mode: Literal["synchronous", "asynchronous"] = Field(description="standby replication")
    dr_services: Literal["pilot_light", "warm"] = Field(description="DR service containers stopped or running")
    max_lag_seconds: float = Field(gt=0, le=3600, description="asynchronous replication: bound on the "
                                   "standby's lag = the writes (in seconds) a site failure may lose")
    local_recovery_seconds: float = Field(gt=0, le=600, description="a crashed (kill -9) container is back "
                                          "and healthy within this (restart policy)")
    backup_retention_full: int = Field(ge=1, description="full backups kept (generations)")
    backup_retention_diff: int = Field(ge=0, description="differential backups kept")
    backup_full_every_hours: int = Field(ge=0, le=24 * 366, description="a full backup when the last full is "
                                         "older than this (hours); 0 = no schedule (operators run backups)")
    backup_diff_every_hours: int = Field(ge=0, le=24 * 366, description="a differential backup when the last "
                                         "backup is older than this (hours); 0 = fulls only")
    concurrent_users: int = Field(gt=0, description="normal concurrent users of the consortium")
    p95_ms: float = Field(gt=0, description="load gate: 95th percentile response time limit (ms)")
    max_failure_ratio: float = Field(ge=0, lt=1, description="load gate: failed / all requests limit (0.01 = 1 %)")
    min_rps: float = Field(ge=0, description="load gate: requests/s the whole consortium must reach (absolute)")


#: The address plan (one /24 of ``network_base`` per project network): member slot s has .s at the
#: primary site and .(100+s) at the DR site; .248/.249 the status page's monitoring networks,
#: .250/.251 the edges, .252/.253 the hubs, .254 the WAN.
SLOTS = range(1, 100)
_DR_OFFSET = 100
_RESERVED_THIRD = {"monitoring": 248, "edge": 250, "hub": 252, "wan": 254}
#: Sites on engines of their own: fixed host numbers on a site's routed WAN network (its host's
#: ``wan_subnet``): member slot s's PostgreSQL at .(10+s), the shared units above them.
_WAN_MEMBER_OFFSET = 10
_WAN_UNITS = {"hub_postgres": 240, "backup_repo": 241, "gateway": 242, "prober": 243, "prometheus": 244}
#: A bridge network's own address on its engine's host: Docker gives the bridge the first address of
#: the subnet when the network names no gateway (none of ours does), with or without an ip_range.
_BRIDGE_HOST = 1
#: The gateway's fixed address on its site's edge network (the upper half: outside the dynamic range).
_EDGE_GATEWAY = 240
#: Sites on one engine: the WAN is one segment per pair (stacks/wan.py ``WanSegments``), a /29 each
#: from the thirds .200-.203 of ``network_base`` (free in the plan above): the hub's pair at the
#: first, member slot s's at the s-th; in each the primary, its DR standby and the repository at
#: fixed host numbers (.1 is the bridge's, which holds no address there).
_SEGMENT_THIRD = 200
_SEGMENT_PREFIX = 29
_SEGMENT_HOSTS = {"primary": 2, "standby": 3, "backup_repo": 4}


def free_slots(taken) -> list[int]:
    """The address slots no member holds (for a new member's ``address_slot``)."""
    taken = set(taken)
    return [s for s in SLOTS if s not in taken]


def _ranges(slots: list[int]) -> str:
    out, start = [], None
    for i, s in enumerate(slots):
        start = s if start is None else start
        if i + 1 == len(slots) or slots[i + 1] != s + 1:
            out.append(f"{start}" if start == s else f"{start}-{s}")
            start = None
    return ", ".join(out) or "none"


class UnitPrices(_Strict):
    """Yen per unit of each metered resource (municloud cost usage measures the quantities)."""

    cpu_core_hour: float = Field(ge=0, description="yen per CPU core-hour")
    memory_gib_hour: float = Field(ge=0, description="yen per GiB-hour of memory in use")
    storage_gib_month: float = Field(ge=0, description="yen per GiB-month stored (database, WAL, backups)")
    dr_network_gib: float = Field(ge=0, description="yen per GiB sent to the DR site")
    million_requests: float = Field(ge=0, description="yen per million requests served")


class CostWeights(_Strict):
    """The consortium's formula: 均等割 + 人口割 + 利用量割, weights summing to exactly 1."""

    equal: float = Field(ge=0, le=1, description="均等割: the same amount for every member")
    population: float = Field(ge=0, le=1, description="人口割: in proportion to population")
    usage: float = Field(ge=0, le=1, description="利用量割: in proportion to the member's metered usage in yen")

    @model_validator(mode="after")
    def _sum_to_one(self) -> "CostWeights":
        from fractions import Fraction

        total = sum(Fraction(str(w)) for w in (self.equal, self.population, self.usage))
        if total != 1:
            raise ValueError(f"cost.weights: equal + population + usage must be exactly 1 "
                             f"(got {self.equal} + {self.population} + {self.usage} = {float(total)})")
        return self


class CostConfig(_Strict):
    """What the shared environment costs and how the members share it (指針1, 4; docs/cost.md)."""

    fixed_annual_yen: int = Field(ge=0, description="fixed annual cost of the shared environment (yen)")
    unit_prices: UnitPrices = Field(description="yen per unit of each metered resource")
    weights: CostWeights = Field(description="均等割 / 人口割 / 利用量割 weights (sum 1)")


class MunicipalityConfig(BaseModel):
    """A member municipality; ``params`` is its MunicipalityParams (Guideline 5: parameters, not code)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    lgcode: str = Field(description="全国地方公共団体コード, 6 digits with check digit")
    address_slot: int = Field(description="the member's place in the address plan: its networks' /24s, kept "
                                          "whatever happens to the list")
    name: str = Field(description="municipality name (Japanese)")
    population: int = Field(description="population (policy document)")
    params: Any = Field(description="municloud.params.MunicipalityParams built from the entry")


class StackConfig(_Strict):
    """The whole validated configuration of one consortium stack."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    stack: str = Field(description="stack name = consortium name")
    municipalities: tuple[MunicipalityConfig, ...] = Field(description="member municipalities")
    sites: dict[str, SiteConfig] = Field(description="sites by name")
    environment: Literal["development", "production"] = Field(
        description="production refuses the documented development state passphrase")
    network_base: str = Field(description="a /16 from which every project network gets a /24")
    frontdoor_port: int = Field(ge=1024, le=65535, description="the frontdoor's port on 127.0.0.1 of the primary "
                                "site's engine host (sites on hosts of their own: on that host's WAN address)")
    gateway_rate_per_second: int = Field(gt=0, description="gateway requests/s per client address")
    gateway_burst: int = Field(ge=0, description="gateway burst above the rate")
    health_timeout_s: int = Field(gt=0, le=1800, description="container health wait")
    edge_cert_validity_days: int = Field(gt=0, le=366, description="lifetime of the gateways' TLS certificates "
                                         "(short-lived instead of OCSP; Mozilla's profiles allow at most 366)")
    edge_cert_renew_before_days: int = Field(ge=0, description="`up` renews an edge certificate whose remaining "
                                             "lifetime is below this many days")
    placeholder_services: tuple[Literal["residents_registry", "tax", "nhi", "platform_hub"], ...] = Field(
        description="services run as the health-checked placeholder even if their image builds")
    tenant_egress: tuple[str, ...] = Field(
        description="members whose tenant networks get a route out of the engine (internal: false); "
                    "the guardrail policy tenant-network-internal refuses it (docs/security.md)")
    engine_host_isolation: bool | Literal["new-networks"] = Field(
        description="the bridges of the tenant and hub networks hold no address: nothing on them reaches "
                    "the engine host (the edge keeps its: the frontdoor on the host network reaches the "
                    "gateways through it). new-networks: every network made from now on, and a network a "
                    "stack already has keeps what it was made with; true: enforced (a network without it is "
                    "replaced with its containers); false: off (docs/operator-guide.md \"Which network "
                    "reaches what\")")
    test_stack: bool = Field(
        description="a stack for tests and load runs: `municloud loadtest reset` may empty its "
                    "members' data (docs/benchmarks.md \"How to reproduce\"); never a production stack")
    sla: SlaConfig = Field(description="SLA targets")
    cost: CostConfig = Field(description="cost sharing: fixed cost, unit prices, formula weights")

    @field_validator("network_base")
    @classmethod
    def _base(cls, value: str) -> str:
        net = ipaddress.ip_network(value, strict=True)
        if net.prefixlen != 16 or not net.is_private:
            raise ValueError("must be a private /16, e.g. 10.201.0.0/16")
        return value

    @model_validator(mode="after")
    def _sites(self) -> "StackConfig":
        roles = sorted(s.role for s in self.sites.values())
        if roles != ["dr", "primary"]:
            raise ValueError("sites: exactly one site with role primary and one with role dr")
        # the plan's invariant, checked on the result: every network its own /24 inside network_base
        base = ipaddress.ip_network(self.network_base)
        nets = [self.subnet(site, m.address_slot) for site in self.sites for m in self.municipalities]
        nets += [self.subnet(site, kind=k) for site in self.sites for k in ("monitoring", "edge", "hub")]
        nets.append(self.subnet(self.primary_site, kind="wan"))
        nets += [self.wan_segment(u) for u in ("hub", *(m.address_slot for m in self.municipalities))]
        parsed = [ipaddress.ip_network(n) for n in nets]
        overlap = any(a.overlaps(b) for a, b in itertools.combinations(parsed, 2))
        if overlap or not all(n.subnet_of(base) for n in parsed):
            raise ValueError(f"network_base: the address plan does not fit in {base}")
        members = {m.lgcode for m in self.municipalities}
        for code in self.tenant_egress:
            if code not in members:
                raise ValueError(f"tenant_egress: {code!r} is not a member municipality of this stack")
        hosts = {s.docker_host for s in self.sites.values()}
        subnets = [s.wan_subnet for s in self.sites.values() if s.wan_subnet]
        if len(hosts) > 1:
            missing = sorted(n for n, s in self.sites.items() if not s.wan_subnet)
            if missing:
                raise ValueError(f"sites.{missing[0]}.wan_subnet: sites on engines of their own need each host's "
                                 f"routed /24 (tools/bootstrap/wan.sh block <site>)")
            if len(set(subnets)) != len(subnets):
                raise ValueError("sites: every site host needs a wan_subnet of its own")
        elif subnets:
            raise ValueError("sites: wan_subnet applies to sites on engines of their own (here one engine: "
                             "the WAN is a bridge on it)")
        if self.test_stack and self.environment == "production":
            raise ValueError("test_stack: a production stack cannot be marked as a test stack "
                             "(its members' data would be erasable by `municloud loadtest reset`)")
        if self.edge_cert_renew_before_days >= self.edge_cert_validity_days:
            raise ValueError("edge_cert_renew_before_days must be less than edge_cert_validity_days "
                             "(else every up renews)")
        return self

    @property
    def primary_site(self) -> str:
        return next(n for n, s in self.sites.items() if s.role == "primary")

    @property
    def dr_site(self) -> str:
        return next(n for n, s in self.sites.items() if s.role == "dr")

    @property
    def routed_wan(self) -> bool:
        """The sites are on engines of their own: each joins the WAN by a routed network on its host."""
        return len({s.docker_host for s in self.sites.values()}) > 1

    def wan_address(self, site: str, unit: int | str) -> str:
        """A unit's fixed address on ``site``'s routed WAN network: a member's PostgreSQL by its
        ``address_slot`` (int), or ``hub_postgres``, ``backup_repo``, ``gateway``, ``prober`` (a
        site's status prober, scraped across the WAN), ``prometheus`` (the status page's, at the
        primary)."""
        block = ipaddress.IPv4Network(self.sites[site].wan_subnet)
        host = _WAN_MEMBER_OFFSET + unit if isinstance(unit, int) else _WAN_UNITS[unit]
        return str(block.network_address + host)

    def wan_host_address(self, site: str) -> str:
        """Sites on engines of their own: the site host's own address in its routed block (the
        bridge of its WAN-facing network). The frontdoor, on the primary host's network, listens
        there and connects to the DR gateway from there: the one address whose PROXY protocol
        header the DR gateway believes."""
        return str(ipaddress.IPv4Network(self.sites[site].wan_subnet).network_address + _BRIDGE_HOST)

    def wan_segment(self, unit: int | str) -> str:
        """Sites on one engine: the /29 of a pair's WAN segment, by member ``address_slot`` (int) or
        ``hub``: its primary, its DR standby and the backup repository, nothing else."""
        index = 0 if unit == "hub" else unit
        if index != 0 and index not in SLOTS:
            raise ValueError(f"WAN segment of {unit!r}: a member's address slot or 'hub'")
        size = 2 ** (32 - _SEGMENT_PREFIX)
        first = ipaddress.ip_network(self.network_base).network_address + _SEGMENT_THIRD * 256 + index * size
        return f"{first}/{_SEGMENT_PREFIX}"

    def wan_segment_address(self, unit: int | str, role: str) -> str:
        """A fixed address on a pair's WAN segment: ``primary``, ``standby`` or ``backup_repo``."""
        return str(ipaddress.ip_network(self.wan_segment(unit)).network_address + _SEGMENT_HOSTS[role])

    def edge_dynamic_range(self, site: str) -> str:
        """The lower half of a site's edge /24: where Docker assigns addresses on the edge network."""
        edge = ipaddress.ip_network(self.subnet(site, kind="edge"))
        return str(next(edge.subnets(prefixlen_diff=1)))

    def edge_bridge_address(self, site: str) -> str:
        """The host side of a site's edge network (its bridge's address): where the frontdoor, on the
        host network of the site's engine, connects to the gateway from - the one address whose
        PROXY protocol header the site's gateway believes (decision 0019). No container gets it."""
        return str(ipaddress.ip_network(self.subnet(site, kind="edge")).network_address + _BRIDGE_HOST)

    def frontdoor_listen_address(self) -> str:
        """Where the frontdoor listens on the primary site's engine host (decision 0019): 127.0.0.1,
        or with sites on hosts of their own that host's WAN address (nothing routes to its loopback)."""
        return self.wan_host_address(self.primary_site) if self.routed_wan else "127.0.0.1"

    def frontdoor_source(self, site: str) -> str:
        """The host address the frontdoor connects to ``site``'s gateway from, and so the one address
        whose PROXY protocol header that gateway believes: the host side of the gateway's edge network
        on the same engine, or across the WAN the primary host's WAN address (the WAN router forwards
        only between sites' blocks)."""
        if self.routed_wan and site != self.primary_site:
            return self.wan_host_address(self.primary_site)
        return self.edge_bridge_address(site)

    def gateway_address(self, site: str) -> str:
        """The gateway's fixed address on its site's edge network (outside the dynamic range): the
        frontdoor reaches it there (Docker's DNS does not answer on the host network)."""
        return str(ipaddress.ip_network(self.subnet(site, kind="edge")).network_address + _EDGE_GATEWAY)

    def subnet(self, site: str, slot: int | None = None, kind: str = "municipality") -> str:
        """The /24 of a project network (``SLOTS``): a member's by its ``address_slot`` (never by its
        position in the list: removing another member moves nothing), or the site's monitoring / edge /
        hub / WAN network."""
        base = ipaddress.ip_network(self.network_base)
        dr = self.sites[site].role != "primary"
        if kind == "municipality":
            if slot not in SLOTS:
                raise ValueError(f"address slot {slot!r} is outside {SLOTS.start}-{SLOTS.stop - 1}")
            third = slot + (_DR_OFFSET if dr else 0)
        else:
            third = _RESERVED_THIRD[kind] + (1 if dr and kind != "wan" else 0)
        return str(ipaddress.ip_network(f"{base.network_address + third * 256}/24"))

    def member(self, lgcode: str) -> MunicipalityConfig:
        return next(m for m in self.municipalities if m.lgcode == lgcode)


def _deep_default(key: str, value: Any) -> Any:
    default = DEFAULTS.get(key)
    if isinstance(default, dict) and isinstance(value, dict) and key != "sites":
        return {**default, **value}
    return default if value is None else value


def site_hosts() -> dict[str, Any]:
    """The ``municloud:sites`` value of a stack on this machine's site hosts (``site-hosts``): the
    file the set-up writes. ConfigError when it is missing or is not such a value."""
    import yaml

    from municloud_ops.images import STATE_DIR

    path = STATE_DIR / "sites" / "sites.yaml"
    key = f"{NAMESPACE}:sites"
    if not path.is_file():
        raise ConfigError(key, f"{SITE_HOSTS!r} names this machine's site hosts, but {path} does not exist: "
                               f"`make setup` (as root) creates them (docs/operator-guide.md \"Site hosts\")")
    value = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(value, dict) or not all(isinstance(v, dict) and "docker_host" in v for v in value.values()):
        raise ConfigError(key, f"{SITE_HOSTS!r}: {path} is not a municloud:sites value (site name -> docker_host, "
                               f"role, ...): run `make setup` again")
    return value


def site_host_of(address: str) -> str | None:
    """Which of this machine's site hosts holds ``address`` in its routed block (the /22 around
    its ``wan_subnet``, tools/bootstrap/wan.sh), or None (an address of this machine, or no site
    hosts here). A frontdoor there is published at this machine's 127.0.0.1 (decision 0045)."""
    import ipaddress

    from municloud_ops.images import STATE_DIR

    if not (STATE_DIR / "sites" / "sites.yaml").is_file():
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    for name, site in site_hosts().items():
        block = site.get("wan_subnet")
        if block and ip in ipaddress.ip_network(block).supernet(new_prefix=22):
            return name
    return None


def load(stack: str, raw: dict[str, Any], *, engines: bool = True) -> StackConfig:
    """Validate the raw config values (key without namespace -> parsed YAML value).

    Raises ConfigError naming the first bad key; nothing else of the program runs before this.
    ``engines=False``: for a reader that reaches no engine (load targets, calculation parameters,
    cost shares, a membership edit's check): ``sites: site-hosts`` is then not looked up on this
    machine and stands for the one-engine default, so the members, SLA and prices of a stack on
    site hosts read the same on a machine without them.
    """
    from municloud.ids import IdentifierError, validate_lgcode
    from municloud.params import MunicipalityParams

    known = {"municipalities", *DEFAULTS}
    for key in sorted(set(raw) - known):
        raise ConfigError(f"{NAMESPACE}:{key}", "unknown config key (see Pulumi.yaml for the keys)")
    entries = raw.get("municipalities")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{NAMESPACE}:municipalities", "required: a list of at least one municipality")
    if raw.get("sites") == SITE_HOSTS:
        raw = {**raw, "sites": site_hosts() if engines else DEFAULTS["sites"]}
    sites_raw = raw.get("sites") or DEFAULTS["sites"]
    if len(entries) > len(SLOTS):
        raise ConfigError(f"{NAMESPACE}:municipalities", f"{len(entries)} members; the address plan has "
                          f"{len(SLOTS)} slots (a /24 per member per site in network_base)")
    municipalities: list[MunicipalityConfig] = []
    seen: dict[str, int] = {}
    slots: dict[int, int] = {}
    for i, entry in enumerate(entries):
        where = f"{NAMESPACE}:municipalities[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(where, "must be a mapping with lgcode, name, population and parameters")
        try:
            code = validate_lgcode(entry.get("lgcode"), field="lgcode")
        except IdentifierError as exc:
            raise ConfigError(f"{where}.lgcode", exc.reason) from None
        if code in seen:
            raise ConfigError(f"{where}.lgcode", f"duplicate code {code} (also municipalities[{seen[code]}])")
        seen[code] = i
        site_refs = entry.get("sites")
        if site_refs is not None:
            for j, s in enumerate(site_refs):
                if s not in sites_raw:
                    raise ConfigError(f"{where}.sites[{j}]", f"unknown site {s!r}; known: {sorted(sites_raw)}")
        slot = entry.get("address_slot")
        taken = [e.get("address_slot") for e in entries if isinstance(e, dict)]
        if slot is None:
            raise ConfigError(f"{where}.address_slot", "required: the member's place in the address plan "
                              f"(its /24s, kept whatever happens to the list); free: {_ranges(free_slots(taken))}")
        if isinstance(slot, bool) or not isinstance(slot, int) or slot not in SLOTS:
            raise ConfigError(f"{where}.address_slot", f"must be a whole number {SLOTS.start}-{SLOTS.stop - 1} "
                              f"(got {slot!r}); free: {_ranges(free_slots(taken))}")
        if slot in slots:
            raise ConfigError(f"{where}.address_slot", f"slot {slot} is also municipalities[{slots[slot]}]'s; "
                              f"free: {_ranges(free_slots(taken))}")
        slots[slot] = i
        try:
            params = MunicipalityParams.model_validate({k: v for k, v in entry.items()
                                                        if k not in ("sites", "address_slot")})
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in err["loc"]).replace(".[", "[")
            raise ConfigError(f"{where}.{loc}" if loc else where, err["msg"]) from None
        except IdentifierError as exc:
            raise ConfigError(f"{where}.{exc.field}", exc.reason) from None
        if not params.nhi:
            raise ConfigError(f"{where}.nhi", "missing: NHI rates (medical, support, care) for at least one "
                                              "fiscal year are the municipality's own and have no default")
        municipalities.append(MunicipalityConfig(lgcode=code, address_slot=slot, name=params.name,
                                                 population=params.population, params=params))
    values = {k: _deep_default(k, raw.get(k)) for k in DEFAULTS}
    try:
        return StackConfig(stack=stack, municipalities=tuple(municipalities), **values)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{NAMESPACE}:{loc}", err["msg"]) from None


def check_secrets_provider(config: StackConfig, env: Mapping[str, str]) -> None:
    """A production consortium's secrets must not be encrypted with the passphrase everyone can
    read in this repository: refuse it (ConfigError naming the key) before any resource exists."""
    from stacks.automation import DEV_PASSPHRASE  # the one literal (documented in README)

    if config.environment == "production" and env.get("PULUMI_CONFIG_PASSPHRASE") == DEV_PASSPHRASE:
        raise ConfigError(f"{NAMESPACE}:environment",
                          "production stacks refuse the documented development passphrase: set "
                          "PULUMI_CONFIG_PASSPHRASE of your own, or use a KMS secrets provider")


def from_pulumi() -> StackConfig:
    """Read the ``municloud:*`` keys of the current stack and validate them."""
    import pulumi

    cfg = pulumi.Config(NAMESPACE)
    raw: dict[str, Any] = {}
    for key in ("municipalities", *DEFAULTS):
        value = cfg.get(key)
        if value is None:
            continue
        try:  # structured values and numbers arrive as JSON text, plain strings as themselves
            raw[key] = json.loads(value)
        except ValueError:
            raw[key] = value
    return load(pulumi.get_stack(), raw)


def built_services() -> frozenset[str]:
    """Services whose image can be built (``services/<name>/Dockerfile`` exists).

    The one file-system look-up of the program, done at the edge with the config: until a
    service's Dockerfile lands, its containers run a health-checked placeholder.
    """
    from municloud_ops.images import REPO_ROOT

    return frozenset(n for n in (*SERVICES, "platform_hub") if (REPO_ROOT / "services" / n / "Dockerfile").is_file())
