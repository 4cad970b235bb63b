"""Sites as hosts: the config of a tcp+TLS engine per site, and every Docker resource of a site
created on that site's own engine with that engine's TLS files (program shape, under mocks)."""

from __future__ import annotations

import pytest

from mocked_program import compose  # same directory (pytest rootdir-relative import)
from stacks.config import ConfigError, load
from stacks.providers._base import EngineUnreachable, docker_client, engine_props, register_engines

pytestmark = [pytest.mark.unit, pytest.mark.stack]

_TLS = {"tls_ca_cert": "/etc/municloud/engines/ca.pem", "tls_cert": "/etc/municloud/engines/client-cert.pem",
        "tls_key": "/etc/municloud/engines/client-key.pem"}
_DOCKER_KINDS = ("Container", "Network", "Volume", "Image")


def _two_hosts(raw: dict) -> dict:
    raw["sites"] = {"primary": {"docker_host": "tcp://192.0.2.10:2376", "role": "primary", **_TLS,
                                "wan_subnet": "10.252.1.0/24"},
                    "dr": {"docker_host": "tcp://198.51.100.20:2376", "role": "dr", **_TLS,
                           "wan_subnet": "10.252.2.0/24"}}
    return raw


def test_the_engine_socket_is_a_path_on_the_site_host(dev_raw):
    """engine_socket: absolute; for a unix:// engine it can only be the docker_host's own path."""
    cfg = load("dev", _two_hosts(dev_raw))
    assert cfg.sites["primary"].socket_on_host() == "/var/run/docker.sock"
    raw = _two_hosts(dev_raw)
    raw["sites"]["primary"]["engine_socket"] = "run/docker.sock"
    with pytest.raises(ConfigError, match="engine_socket must be an absolute path"):
        load("dev", raw)
    one = dev_raw | {"sites": {"primary": {"docker_host": "unix:///srv/engine.sock", "role": "primary"},
                               "dr": {"docker_host": "unix:///srv/engine.sock", "role": "dr",
                                      "engine_socket": "/var/run/docker.sock"}}}
    with pytest.raises(ConfigError, match="a unix:// engine's socket is its docker_host's path"):
        load("dev", one)
    del one["sites"]["dr"]["engine_socket"]
    assert load("dev", one).sites["dr"].socket_on_host() == "/srv/engine.sock"


def test_tcp_engines_with_tls_files_are_accepted(dev_raw):
    cfg = load("dev", _two_hosts(dev_raw))
    assert cfg.sites["dr"].docker_host == "tcp://198.51.100.20:2376"
    assert cfg.sites["dr"].tls() == {"ca_cert": _TLS["tls_ca_cert"], "cert": _TLS["tls_cert"], "key": _TLS["tls_key"]}
    assert load("dev", dev_raw | {"sites": None}).sites["primary"].tls() == {}  # unix:// default: no TLS


@pytest.mark.parametrize("site, reason", [
    ({"docker_host": "tcp://192.0.2.10:2376", "role": "dr"}, "missing tls_ca_cert, tls_cert, tls_key"),
    ({"docker_host": "tcp://192.0.2.10:2376", "role": "dr", **_TLS, "tls_key": ""}, "missing tls_key"),
    ({"docker_host": "unix:///var/run/docker.sock", "role": "dr", **_TLS}, "tcp:// engines only"),
    ({"docker_host": "tcp://192.0.2.10:2376", "role": "dr", **_TLS, "tls_cert": "client.pem"}, "absolute path"),
    ({"docker_host": "192.0.2.10:2376", "role": "dr"}, "must start with unix://, ssh:// or tcp://"),
])
def test_bad_engine_config_names_the_site(dev_raw, site, reason):
    raw = _two_hosts(dev_raw)
    raw["sites"]["dr"] = site
    with pytest.raises(ConfigError) as exc:
        load("dev", raw)
    assert exc.value.key == "municloud:sites.dr"
    assert reason in str(exc.value)


def test_a_tcp_engine_without_tls_files_is_refused_before_connecting(tmp_path):
    with pytest.raises(EngineUnreachable, match="reached over TLS only"):
        docker_client({"docker_host": "tcp://192.0.2.10:2376"})
    tls = {"ca_cert": str(tmp_path / "ca.pem"), "cert": str(tmp_path / "c.pem"), "key": str(tmp_path / "k.pem")}
    with pytest.raises(EngineUnreachable, match="tls_ca_cert file .*ca.pem.* does not exist"):
        docker_client({"docker_host": "tcp://192.0.2.10:2376", "docker_tls": tls})


def test_engine_props_only_for_registered_tls_engines():
    register_engines({"tcp://192.0.2.10:2376": {"ca_cert": "/a", "cert": "/b", "key": "/c"},
                      "unix:///var/run/docker.sock": {}})
    try:
        assert engine_props("tcp://192.0.2.10:2376") == {"docker_tls": {"ca_cert": "/a", "cert": "/b", "key": "/c"}}
        assert engine_props("unix:///var/run/docker.sock") == {}
        assert engine_props("tcp://203.0.113.1:2376") == {}
    finally:
        register_engines({})


def test_every_docker_resource_is_on_its_own_sites_engine_with_its_tls_files(dev_raw):
    made = compose(_two_hosts(dev_raw))
    cfg = made.cfg
    docker_objects = [(k, i) for k, _n, i in made.created if k in _DOCKER_KINDS]
    sites_seen = set()
    for kind, inputs in docker_objects:
        site = inputs["labels"]["municloud.site"] if "labels" in inputs else None
        if site is None:  # images carry no labels: the site is in the resource name
            site = next(s for s in cfg.sites if inputs["docker_host"] == cfg.sites[s].docker_host)
        sites_seen.add(site)
        assert inputs["docker_host"] == cfg.sites[site].docker_host, (kind, inputs.get("name"))
        assert inputs["docker_tls"] == cfg.sites[site].tls(), (kind, inputs.get("name"))
    assert sites_seen == {"primary", "dr"}
    per_site = {s: sum(1 for _k, i in docker_objects if i["docker_host"] == cfg.sites[s].docker_host)
                for s in cfg.sites}
    assert per_site["primary"] > 20 and per_site["dr"] > 20, per_site


def test_on_one_unix_engine_no_resource_carries_tls(dev_raw):
    made = compose(dev_raw)
    docker_objects = [i for k, _n, i in made.created if k in _DOCKER_KINDS]
    assert docker_objects and not [i for i in docker_objects if "docker_tls" in i]


def test_sites_on_engines_of_their_own_need_each_hosts_routed_block(dev_raw):
    assert not load("dev", dev_raw).routed_wan  # one engine: the WAN is a bridge on it
    raw = _two_hosts(dict(dev_raw))
    del raw["sites"]["dr"]["wan_subnet"]
    with pytest.raises(ConfigError, match=r"sites\.dr\.wan_subnet: sites on engines of their own"):
        load("dev", raw)
    raw["sites"]["dr"]["wan_subnet"] = "10.252.1.0/24"  # the primary host's block
    with pytest.raises(ConfigError, match="a wan_subnet of its own"):
        load("dev", raw)
    raw["sites"]["dr"]["wan_subnet"] = "10.252.2.0/25"
    with pytest.raises(ConfigError, match="must be a private /24"):
        load("dev", raw)
    one_engine = dev_raw | {"sites": {"primary": {"docker_host": "unix:///var/run/docker.sock", "role": "primary",
                                                  "wan_subnet": "10.252.1.0/24"},
                                      "dr": {"docker_host": "unix:///var/run/docker.sock", "role": "dr"}}}
    with pytest.raises(ConfigError, match="wan_subnet applies to sites on engines of their own"):
        load("dev", one_engine)
    # the twin: both blocks given, distinct
    cfg = load("dev", _two_hosts(dev_raw))
    assert cfg.routed_wan and cfg.wan_address("dr", 1) == "10.252.2.11"
    assert cfg.wan_address("primary", "gateway") == "10.252.1.242"
    assert cfg.wan_host_address("primary") == "10.252.1.1"  # the host's own: its WAN bridge's address


def _by_name(mocks, kind: str) -> dict[str, dict]:
    return {i["name"]: i for k, _n, i in mocks.created if k == kind and "name" in i}


def test_sites_on_hosts_of_their_own_reach_each_other_across_the_routed_wan(dev_raw):
    """Per host a WAN network in its routed block (no masquerade), fixed addresses, the other site's
    names in /etc/hosts, pg_hba naming the exact peer, the DR gateway reached across the WAN."""
    made = compose(_two_hosts(dev_raw))
    cfg = made.cfg
    s, lg = cfg.stack, cfg.municipalities[0].lgcode

    nets, cons = _by_name(made, "Network"), _by_name(made, "Container")
    assert f"mc-{s}-wan" not in nets  # no bridge on one engine
    for site, block in (("primary", "10.252.1.0/24"), ("dr", "10.252.2.0/24")):
        wan = nets[f"mc-{s}-{site}-wan"]
        assert (wan["subnet"], wan["internal"], wan["docker_host"]) == (block, False, cfg.sites[site].docker_host)
        assert wan["options"] == {"com.docker.network.bridge.enable_ip_masquerade": "false"}
    primary, standby = cons[f"mc-{s}-primary-{lg}-postgres"], cons[f"mc-{s}-dr-{lg}-postgres"]
    assert {"name": f"mc-{s}-primary-wan", "aliases": [], "ipv4_address": "10.252.1.11"} in primary["networks"]
    assert {"name": f"mc-{s}-dr-wan", "aliases": [], "ipv4_address": "10.252.2.11"} in standby["networks"]
    assert primary["extra_hosts"] == {f"mc-{s}-dr-{lg}-postgres": "10.252.2.11",
                                      f"mc-{s}-dr-backup-repo": "10.252.2.241"}
    assert standby["extra_hosts"] == {f"mc-{s}-primary-{lg}-postgres": "10.252.1.11"}  # the repository: DNS
    assert primary["env"]["MC_PG_REPLICATION_NETWORKS"] == "10.252.2.11/32"
    assert standby["env"]["MC_PG_REPLICATION_NETWORKS"] == "10.252.1.11/32"
    hub = cons[f"mc-{s}-primary-hub-postgres"]
    assert hub["extra_hosts"][f"mc-{s}-dr-hub-postgres"] == "10.252.2.240"
    repo = cons[f"mc-{s}-dr-backup-repo"]
    assert repo["networks"] == [{"name": f"mc-{s}-dr-wan", "aliases": [], "ipv4_address": "10.252.2.241"}]
    assert set(repo["extra_hosts"]) == {f"mc-{s}-primary-{m.lgcode}-postgres" for m in cfg.municipalities} | {
        f"mc-{s}-primary-hub-postgres"}
    # the frontdoor on the primary host's network: it listens on that host's WAN address (not its
    # loopback) and reaches the DR gateway across the WAN from that address, the one it believes
    fd = cons[f"mc-{s}-frontdoor"]
    assert (fd["network_mode"], fd["networks"], fd["ports"]) == ("host", [], [])
    assert fd["docker_host"] == cfg.sites["primary"].docker_host
    assert fd["env"] == {"FRONTDOOR_LISTEN": f"10.252.1.1:{cfg.frontdoor_port}"}
    dr_gw = cons[f"mc-{s}-dr-gateway"]
    assert {"name": f"mc-{s}-dr-wan", "aliases": [], "ipv4_address": "10.252.2.242"} in dr_gw["networks"]
    fd_cfg = next(i for k, n, i in made.created if k == "RenderedConfig" and n == "frontdoor-config")
    assert fd_cfg["variables"]["frontdoor_bind_address"] == "10.252.1.1"
    assert [(b["name"], b["host"], b["source"], b["backup"]) for b in fd_cfg["variables"]["frontdoor_backends"]] == [
        ("primary", cfg.gateway_address("primary"), cfg.edge_bridge_address("primary"), False),
        ("dr", "10.252.2.242", "10.252.1.1", True)]
    gw_cfg = {n: i["variables"] for k, n, i in made.created if k == "RenderedConfig" and n.endswith("gateway-config")}
    assert gw_cfg["dr-gateway-config"]["gateway_real_ip_from"] == ["10.252.1.1/32"]
    assert gw_cfg["primary-gateway-config"]["gateway_real_ip_from"] == [f"{cfg.edge_bridge_address('primary')}/32"]
    # a supervisor per site, on its own engine, mounting that engine's socket on its own host
    # (Docker's default path there: the site config names none)
    sup = {c["labels"]["municloud.site"]: c for c in cons.values() if c["labels"]["municloud.component"] == "supervisor"}
    assert {site: (c["docker_host"], c["engine_socket"]) for site, c in sup.items()} == {
        "primary": ("tcp://192.0.2.10:2376", "/var/run/docker.sock"), "dr": ("tcp://198.51.100.20:2376", "/var/run/docker.sock")}
    # the status page: the DR prober also on its host's WAN network at .243, scraped there by
    # Prometheus at .244 of the primary's; only the primary's gateway routes /status (decision 0047)
    import json

    prober, prom = cons[f"mc-{s}-dr-prober"], cons[f"mc-{s}-primary-prometheus"]
    assert prober["docker_host"] == "tcp://198.51.100.20:2376" and prober["engine_socket"] == "/var/run/docker.sock"
    assert prober["networks"] == [{"name": f"mc-{s}-dr-monitoring", "aliases": []},
                                  {"name": f"mc-{s}-dr-wan", "aliases": [], "ipv4_address": "10.252.2.243"}]
    assert prom["networks"] == [{"name": f"mc-{s}-primary-monitoring", "aliases": []},
                                {"name": f"mc-{s}-primary-wan", "aliases": [], "ipv4_address": "10.252.1.244"}]
    [prom_cfg] = [f for f in prom["files"] if f["path"] == "/etc/municloud/prometheus.yml"]
    scraped = {c["labels"]["prober_site"]: c["targets"][0]
               for c in json.loads(prom_cfg["content"])["scrape_configs"][0]["static_configs"]}
    assert scraped == {"primary": f"mc-{s}-primary-prober:9100", "dr": "10.252.2.243:9100"}
    assert gw_cfg["primary-gateway-config"]["gateway_status"] == {"host": f"mc-{s}-primary-status", "port": 8000}
    assert gw_cfg["dr-gateway-config"]["gateway_status"] == {}
    named = _two_hosts(dev_raw)
    named["sites"]["dr"]["engine_socket"] = "/run/engine-dr/docker.sock"
    again = compose(named)
    assert {i["labels"]["municloud.site"]: i["engine_socket"] for k, _n, i in again.created if k == "Container"
            and i["labels"]["municloud.component"] == "supervisor"}["dr"] == "/run/engine-dr/docker.sock"


def test_on_one_engine_the_wan_is_a_segment_per_pair_with_fixed_addresses(dev_raw):
    """The twin: a single-engine stack's WAN is one internal segment per pair (a member's primary,
    its DR standby, the repository; the hub's likewise) without a host address, DNS names, no
    /etc/hosts; pg_hba names the peer's exact address on the segment (stacks/wan.py WanSegments)."""
    made = compose(dev_raw)
    cfg = made.cfg
    s, codes = cfg.stack, [m.lgcode for m in cfg.municipalities]

    nets, cons = _by_name(made, "Network"), _by_name(made, "Container")
    assert f"mc-{s}-wan" not in nets  # no flat WAN any more
    pairs = {f"mc-{s}-{p}-wan": p for p in ("hub", *codes)}
    assert {n for n, i in nets.items() if i["labels"]["municloud.component"] == "wan"} == set(pairs)
    for name, pair in pairs.items():
        unit = "hub" if pair == "hub" else cfg.member(pair).address_slot
        assert (nets[name]["internal"], nets[name]["subnet"]) == (True, cfg.wan_segment(unit))
        assert nets[name]["options"] == {"com.docker.network.bridge.inhibit_ipv4": "true"}
        members = {c["name"]: n.get("ipv4_address") for c in cons.values() for n in c["networks"] if n["name"] == name}
        db = (lambda site: f"mc-{s}-{site}-hub-postgres") if pair == "hub" else (
            lambda site: f"mc-{s}-{site}-{pair}-postgres")
        assert members == {db("primary"): cfg.wan_segment_address(unit, "primary"),
                           db("dr"): cfg.wan_segment_address(unit, "standby"),
                           f"mc-{s}-dr-backup-repo": cfg.wan_segment_address(unit, "backup_repo")}
        # the env keeps the WAN block the server was made with (a changed env replaces a database)
        assert cons[db("primary")]["env"]["MC_PG_REPLICATION_NETWORKS"] == cfg.subnet("primary", kind="wan")
    # the repository's first network (its network mode) is the hub's segment: a member joining or
    # leaving changes only the others, in place
    assert cons[f"mc-{s}-dr-backup-repo"]["networks"][0]["name"] == f"mc-{s}-hub-wan"
    assert not [c for c in cons.values() if "extra_hosts" in c]
    # the segments are /29s apart from every /24 of the plan
    assert len({cfg.wan_segment(u) for u in ("hub", *range(1, 100))}) == 100


def test_a_wan_segment_is_asked_for_a_unit_outside_the_plan(dev_raw):
    """Bad input: a segment for a slot outside the plan names what is wrong."""
    cfg = load("dev", dev_raw)
    with pytest.raises(ValueError, match="a member's address slot or 'hub'"):
        cfg.wan_segment(100)


def test_engine_host_isolation_takes_the_host_address_off_every_internal_bridge(dev_raw):
    """By default (``engine_host_isolation`` new-networks) and when enforced, the tenant, hub and
    monitoring bridges hold no address (nothing on them reaches the engine host); the edges keep theirs (the frontdoor
    on the host network reaches the gateways through them). The twin: turned off, only the WAN
    segments have none."""
    option = {"com.docker.network.bridge.inhibit_ipv4": "true"}

    def without_host_address(raw) -> set[str]:
        nets = _by_name(compose(raw), "Network")
        return {n for n, i in nets.items() if i.get("options") == option}

    s = "dev"
    assert "engine_host_isolation" not in dev_raw  # Pulumi.dev.yaml leaves it at the default
    isolated = without_host_address(dev_raw)
    off = without_host_address(dev_raw | {"engine_host_isolation": False})
    segments = {n for n in off if n.endswith("-wan")}
    assert off == segments and len(segments) == 4  # the twin: the hub's pair and 3 members'
    cfg = load("dev", dev_raw)
    expected = segments | {f"mc-{s}-{site}-{kind}" for site in ("primary", "dr")
                           for kind in ("hub-net", "monitoring")} | {
        f"mc-{s}-{site}-{m.lgcode}" for site in ("primary", "dr") for m in cfg.municipalities}
    assert isolated == expected
    assert without_host_address(dev_raw | {"engine_host_isolation": True}) == expected
    assert not {n for n in isolated if n.endswith("-edge")}


def test_the_default_isolation_keeps_an_existing_networks_setting_and_true_enforces_it():
    """new-networks (the default): a new network holds no host address and an existing one keeps what it was made with
    (its options are ignored as a change, so upgrading a stack replaces no network and no
    database); true: enforced (a change replaces it); false and a member with egress: off."""
    from stacks.providers.network import NO_HOST_ADDRESS, host_isolation

    assert host_isolation("new-networks") == (NO_HOST_ADDRESS, ["options"])
    assert host_isolation(True) == (NO_HOST_ADDRESS, None)
    assert host_isolation(False) == (None, None)
    assert host_isolation("new-networks", applies=False) == host_isolation(True, applies=False) == (None, None)


def _nodes(*hosts: str) -> list[dict]:
    return [{"name": f"n{i}", "docker_host": h} for i, h in enumerate(hosts, 1)]


def test_a_site_of_several_nodes_is_accepted_with_its_manager_first(dev_raw):
    raw = _two_hosts(dev_raw)
    raw["sites"]["primary"]["nodes"] = _nodes("tcp://192.0.2.10:2376", "tcp://192.0.2.11:2376")
    cfg = load("dev", raw)
    assert [n.name for n in cfg.sites["primary"].nodes] == ["n1", "n2"]
    assert cfg.sites["dr"].nodes == []  # one host: plain containers, as before


@pytest.mark.parametrize("nodes, reason", [
    (_nodes("tcp://192.0.2.11:2376", "tcp://192.0.2.10:2376"), "the first node is the swarm's manager"),
    (_nodes("tcp://192.0.2.10:2376", "tcp://192.0.2.10:2376"), "a docker_host named twice"),
    (_nodes("tcp://192.0.2.10:2376", "ssh://node2"), "tcp:// like the site's"),
    ([{"name": "n1", "docker_host": "tcp://192.0.2.10:2376"}, {"name": "n1", "docker_host": "tcp://192.0.2.11:2376"}],
     "named twice"),
    ([{"name": "Node 1", "docker_host": "tcp://192.0.2.10:2376"}], "name"),
])
def test_bad_nodes_of_a_site_are_refused_naming_the_site(dev_raw, nodes, reason):
    raw = _two_hosts(dev_raw)
    raw["sites"]["primary"]["nodes"] = nodes
    with pytest.raises(ConfigError) as exc:
        load("dev", raw)
    assert exc.value.key.startswith("municloud:sites.primary")
    assert reason in str(exc.value)
