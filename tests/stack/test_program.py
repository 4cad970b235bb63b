"""Shape of the program under pulumi.runtime.set_mocks: isolation of municipalities.

Generated secrets and keys come from the real providers' ``create`` (the mocks call them), so
"no two municipalities share a password or key" is checked on real generated values.
"""

from __future__ import annotations

import collections
import json

import pulumi
import pytest

from mocked_program import Mocks, compose  # same directory (pytest rootdir-relative import)

pytestmark = pytest.mark.unit


@pytest.fixture
def program(dev_raw):
    """Run the consortium composition against mocks; yields (mocks, consortium, config)."""
    from stacks.config import load
    from stacks.consortium import Consortium, ConsortiumArgs

    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="municloud", stack="dev", preview=False)
    cfg = load("dev", dev_raw)
    consortium = Consortium("consortium", ConsortiumArgs(config=cfg, built_services=frozenset()))
    yield mocks, consortium, cfg


def test_each_municipality_joins_only_its_own_network(dev_raw):
    made = compose(dev_raw)
    cfg = made.cfg
    containers = [i for k, _n, i in made.created if k == "Container"]
    codes = [m.lgcode for m in cfg.municipalities]
    own_nets = {(s, c): f"mc-dev-{s}-{c}" for c in codes for s in ("primary", "dr")}
    tenant_containers = [c for c in containers if c["labels"]["municloud.lgcode"] in codes]
    assert len(tenant_containers) == 2 * 3 * 4  # per site: postgres (DR: its standby) + 3 services each
    for c in tenant_containers:
        code, site = c["labels"]["municloud.lgcode"], c["labels"]["municloud.site"]
        nets = {n["name"] for n in c["networks"]}
        db = c["labels"]["municloud.component"] in ("postgres", "standby")
        allowed = {own_nets[site, code]} | ({f"mc-dev-{code}-wan"} if db else set())  # its pair's WAN segment
        assert nets == allowed, (c["name"], nets)
    gateways = {f"mc-dev-{s}-gateway": s for s in ("primary", "dr")}
    for name, site in gateways.items():
        gateway = next(c for c in containers if c["name"] == name)
        # its members' networks, its edge, and its other upstreams' networks: its site's hub, the
        # status page's (the page and the hub are on no network holding the engine host's address)
        assert {n["name"] for n in gateway["networks"]} == \
            {n for (s, _c), n in own_nets.items() if s == site} | {f"mc-dev-{site}-edge", f"mc-dev-{site}-hub-net",
                                                                   "mc-dev-primary-monitoring"}
    # the edge networks are the gateways' alone (the frontdoor reaches them from the host side)
    for site in ("primary", "dr"):
        on_edge = {c["name"] for c in containers if f"mc-dev-{site}-edge" in {n["name"] for n in c["networks"]}}
        assert on_edge == {f"mc-dev-{site}-gateway"}, on_edge
    # the shared containers join no tenant network besides the gateway link
    for c in containers:
        if c["labels"]["municloud.lgcode"] == "shared" and c["name"] not in gateways:
            assert not {n["name"] for n in c["networks"]} & set(own_nets.values()), c["name"]


@pulumi.runtime.test
def test_no_two_municipalities_share_a_database_role_password_or_key(program):
    mocks, consortium, cfg = program
    primary = consortium.sites[cfg.primary_site]
    values = []
    for code, mun in primary.municipalities.items():
        values += [pw.result.apply(lambda v, c=code, r=role: (c, r, v)) for role, pw in mun.passwords.items()]
        values.append(mun.token_key.private_key_pem.apply(lambda v, c=code: (c, "token", v)))
        values.append(mun.cluster.cert.key_pem.apply(lambda v, c=code: (c, "tls", v)))

    def check(items):
        secrets = collections.Counter(v for _c, _r, v in items)
        assert all(n == 1 for n in secrets.values()), "a secret is shared"
        assert len({c for c, _r, _v in items}) == 3
        pg = [i for k, _n, i in mocks.created if k == "Container" and i["labels"]["municloud.component"] == "postgres"]
        # each municipality its own PostgreSQL server; roles/databases live inside it only
        assert len({c["name"] for c in pg}) == 3
        assert all(c["env"]["MC_PG_ALLOWED_NETWORKS"]
                   == cfg.subnet("primary", cfg.member(c["labels"]["municloud.lgcode"]).address_slot)
                   for c in pg)

    return pulumi.Output.all(consortium.frontdoor.container.container_id, *values).apply(lambda v: check(v[1:]))


@pulumi.runtime.test
def test_secrets_reach_containers_only_as_files(program):
    mocks, consortium, cfg = program
    primary = consortium.sites[cfg.primary_site]
    pairs = [pw.result.apply(lambda v, c=code, r=role: (c, r, v))
             for code, mun in primary.municipalities.items() for role, pw in mun.passwords.items()]

    def check(items):
        containers = {i["name"]: i for k, _n, i in mocks.created if k == "Container"}
        for code, role, value in items:
            holders = []
            for name, c in containers.items():
                assert value not in repr(c["env"]) + repr(c["labels"]) + repr(c["command"]), (name, role)
                for f in c["files"]:
                    if f["content"] == value:
                        assert f["mode"] == 0o400, (name, f["path"])
                        holders.append(name)
            expected = {f"mc-dev-{site}-{code}-postgres" for site in ("primary", "dr")}
            if role in ("residents_registry", "tax", "nhi"):
                expected |= {f"mc-dev-{site}-{code}-{role.replace('_', '-')}" for site in ("primary", "dr")}
            # a password is in its own PostgreSQL and its own service (and their DR copies), nowhere else
            assert set(holders) == expected, (code, role, holders)

    return pulumi.Output.all(consortium.frontdoor.container.container_id, *pairs).apply(lambda v: check(v[1:]))


def test_every_docker_object_carries_the_four_labels(dev_raw):
    made = compose(dev_raw)
    for kind, name, inputs in made.created:
        if kind in ("Container", "Network", "Volume"):
            assert set(inputs["labels"]) == {"municloud.stack", "municloud.site", "municloud.lgcode",
                                             "municloud.component"}, name
            assert inputs["labels"]["municloud.stack"] == "dev"
            assert inputs["name"].startswith("mc-dev-"), inputs["name"]


def test_gateway_routes_each_path_to_its_own_municipality(dev_raw):
    made = compose(dev_raw)
    configs = {n: i for k, n, i in made.created if k == "RenderedConfig"}
    for site in ("primary", "dr"):
        routes = configs[f"{site}-gateway-config"]["variables"]["gateway_routes"]
        assert len(routes) == 9
        for r in routes:
            assert r["host"] == f"mc-dev-{site}-{r['lgcode']}-{r['service'].replace('_', '-')}"
    fd = configs["frontdoor-config"]["variables"]["frontdoor_backends"]
    # on the host network the frontdoor finds each gateway at its planned edge address (no DNS there)
    assert [(b["host"], b["backup"]) for b in fd] == [(made.cfg.gateway_address("primary"), False),
                                                      (made.cfg.gateway_address("dr"), True)]


def test_each_site_has_one_supervisor_with_the_engine_socket_and_no_network(dev_raw):
    """municloud/supervisor.py brings back what `docker kill` leaves down; one per site, no network."""
    made = compose(dev_raw)
    containers = [i for k, _n, i in made.created if k == "Container"]
    supervisors = {c["labels"]["municloud.site"]: c for c in containers
                   if c["labels"]["municloud.component"] == "supervisor"}
    assert sorted(supervisors) == ["dr", "primary"]
    for site, c in supervisors.items():
        assert c["engine_socket"] is True and c["networks"] == [{"name": "none", "aliases": []}], c
        assert c["command"][-4:] == ["--stack", "dev", "--site", site]
        assert c["user"] != "0" and c["read_only"] and c["restart_policy"] == "always"
    # twin: no other container gets the engine's socket but the status probers, which join only
    # their site's monitoring network (stacks/status_page.py)
    others = [c["name"] for c in containers if c.get("engine_socket") and c["labels"]["municloud.component"]
              not in ("supervisor", "prober")]
    assert others == [] and len(containers) > len(supervisors)
    probers = [c for c in containers if c["labels"]["municloud.component"] == "prober"]
    assert sorted(c["labels"]["municloud.site"] for c in probers) == ["dr", "primary"]
    for c in probers:
        assert c["networks"] == [{"name": f"mc-dev-{c['labels']['municloud.site']}-monitoring", "aliases": []}]


def test_gateway_certificates_are_short_lived_and_renewed_other_certificates_unchanged(dev_raw):
    made = compose(dev_raw)
    cfg = made.cfg
    certs = {n: i for k, n, i in made.created if k == "Certificate"}
    edge = {n: i for n, i in certs.items() if n.endswith("gateway-cert")}
    assert sorted(edge) == ["dr-gateway-cert", "primary-gateway-cert"]
    for i in edge.values():
        assert (i["validity_days"], i["renew_before_days"]) == (cfg.edge_cert_validity_days,
                                                                cfg.edge_cert_renew_before_days) == (30, 10)
    # twin: the internal certificates (PostgreSQL, hub...) keep their lifetime and no renewal key
    internal = [i for n, i in certs.items() if n not in edge]
    assert internal and all("renew_before_days" not in i and i["validity_days"] == 825 for i in internal)


def test_status_page_prometheus_keeps_30_days_and_both_gateways_route_status_to_the_page(dev_raw):
    """stacks/status_page.py: Prometheus scrapes both probers and keeps more than 30 days; the page is
    on the primary's monitoring network, which both gateways join, and each gateway's public listener
    routes GET /status to it."""
    made = compose(dev_raw)
    containers = {i["name"]: i for k, _n, i in made.created if k == "Container"}
    prom = containers["mc-dev-primary-prometheus"]
    [cfg_file] = [f for f in prom["files"] if f["path"] == "/etc/municloud/prometheus.yml"]
    targets = json.loads(cfg_file["content"])["scrape_configs"][0]["static_configs"]
    assert sorted(t["targets"][0] for t in targets) == ["mc-dev-dr-prober:9100", "mc-dev-primary-prober:9100"]
    assert [n["name"] for n in prom["networks"]] == ["mc-dev-primary-monitoring", "mc-dev-dr-monitoring"]
    retention = [a for a in prom["command"] if a.startswith("--storage.tsdb.retention.time=")]
    assert retention == ["--storage.tsdb.retention.time=31d"]
    page = containers["mc-dev-primary-status"]
    assert [n["name"] for n in page["networks"]] == ["mc-dev-primary-monitoring"]
    assert not page.get("engine_socket") and page["user"] != "0" and page["read_only"]
    for site in ("primary", "dr"):
        conf = [i for k, n, i in made.created if k == "RenderedConfig" and n == f"{site}-gateway-config"][0]
        assert conf["variables"]["gateway_status"] == {"host": "mc-dev-primary-status", "port": 8000}
