"""Each guardrail rule (policies/) on hand-made resources: a deny case that must name the problem
and its allowed twin that must pass. The same functions run inside the pack (policies/rules.py);
tests/stack/test_policy_pack_graph.py runs them over the whole mocked dev program and
tests/integration/toolchain/test_policy_pack.py through the real CLI."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from policies import backup, dr_coverage, images, labels, postgres_hba, publishing, replication, secrets_in_env, \
    tenant_network, tls
from policies.guardrails import REPO_ROOT, UNKNOWN, Ctx, Res, plain
from policies.rules import RULES

pytestmark = pytest.mark.unit


def _dev_config(**overrides):
    from stacks.config import load

    doc = yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text())
    raw = json.loads(json.dumps({k.split(":", 1)[1]: v for k, v in doc["config"].items()}))
    for key, value in overrides.items():
        before = raw.get(key)
        raw[key] = {**before, **value} if isinstance(value, dict) and isinstance(before, dict) else value
    return load("dev", raw, engines=False)


@pytest.fixture(scope="module")
def ctx() -> Ctx:
    return Ctx(stack="dev", config=_dev_config())


def _labels(component, lgcode="shared", site="primary", stack="dev"):
    return {"municloud.stack": stack, "municloud.site": site, "municloud.lgcode": lgcode,
            "municloud.component": component}


def net(code="053031", site="primary", internal=True, component="network", name=None):
    return Res("Network", f"{site}-{code}-net", {"name": name or f"mc-dev-{site}-{code}", "internal": internal,
                                                  "labels": _labels(component, code, site)},
               urn=f"urn:net:{site}:{code}:{component}")


def container(component, code="shared", site="primary", stack="dev", **props):
    base = {"name": f"mc-{stack}-{site}-{code}-{component}", "labels": _labels(component, code, site, stack), "env": {},
            "networks": [], "ports": [], "image": "municloud/python:0123456789ab"}
    return Res("Container", f"{site}-{code}-{component}", {**base, **props}, urn=f"urn:c:{site}:{code}:{component}")


def test_the_pack_has_one_uniquely_named_rule_per_module_and_a_level_each():
    names = [r.name for r in RULES]
    assert len(names) == len(set(names)) == 11
    assert {r.enforcement for r in RULES} == {"mandatory", "advisory"}


# -- tenant-network-internal ------------------------------------------------------------------------

def test_a_tenant_network_with_a_route_out_is_refused(ctx):
    egress = Ctx("dev", _dev_config(tenant_egress=["053031"]))
    [msg] = tenant_network.check_internal(net(internal=False), egress)
    assert "is a tenant network of municipality 053031 and must be internal" in msg
    assert "remove 053031 from municloud:tenant_egress" in msg


def test_an_internal_tenant_network_passes(ctx):
    assert tenant_network.check_internal(net(internal=True), ctx) == []
    assert tenant_network.check_internal(net(internal=UNKNOWN), ctx) == []  # decided by `up`


def test_a_frontdoor_network_with_a_route_out_is_refused_too(ctx):
    """The frontdoor runs on the host network (decision 0019): no network of its own may route out."""
    [msg] = tenant_network.check_internal(net("shared", internal=False, component="frontdoor"), ctx)
    assert "must be internal" in msg


def test_a_shared_network_with_a_route_out_is_refused_too(ctx):
    [msg] = tenant_network.check_internal(net("shared", internal=False, component="edge"), ctx)
    assert "must be internal" in msg


def test_a_routed_wan_network_passes_only_without_masquerade(ctx):
    routed = net("shared", internal=False, component="wan")
    routed.props["options"] = {"com.docker.network.bridge.enable_ip_masquerade": "false"}
    assert tenant_network.check_internal(routed, ctx) == []
    # the twin: a WAN network that masquerades (a route out to anywhere) is refused
    routed.props["options"] = {}
    [msg] = tenant_network.check_internal(routed, ctx)
    assert "must be internal" in msg


# -- tenant-network-attachments ---------------------------------------------------------------------

def _attached(c, *nets):
    c.props["networks"] = [{"name": n.props["name"], "aliases": []} for n in nets]
    return c


def test_a_container_on_another_municipalitys_network_is_refused(ctx):
    a, b = net("053031"), net("053279")
    intruder = _attached(container("tax", "053279"), a)
    [(res, msg)] = tenant_network.check_attachments([a, b, intruder], ctx)
    assert res is intruder and "tenant network of municipality 053031" in msg


def test_own_services_and_the_gateway_on_tenant_networks_pass(ctx):
    a, b, edge = net("053031"), net("053279"), net("shared", component="edge")
    own = _attached(container("tax", "053031"), a)
    gateway = _attached(container("gateway"), edge, a, b)
    assert tenant_network.check_attachments([a, b, edge, own, gateway], ctx) == []


def test_attachments_are_read_from_the_graph_when_names_are_unknown(ctx):
    a = net("053031")
    hub = container("hub", networks=[{"name": UNKNOWN, "aliases": []}])
    hub.deps = {"networks": [a.urn]}
    [(res, msg)] = tenant_network.check_attachments([a, hub], ctx)
    assert res is hub and "only that municipality's containers and the gateway" in msg
    hub.deps = {"networks": []}
    assert tenant_network.check_attachments([a, hub], ctx) == []


def test_a_gateway_on_the_other_sites_tenant_network_is_refused(ctx):
    a = net("053031", site="dr")
    gateway = _attached(container("gateway", site="primary"), a)
    [(_res, msg)] = tenant_network.check_attachments([a, gateway], ctx)
    assert "tenant network of site dr" in msg


# -- no-secrets-in-env -------------------------------------------------------------------------------

@pytest.mark.parametrize("env, expected", [
    ({"DB_PASSWORD": "s3cret"}, "DB_PASSWORD looks like a secret"),
    ({"PGBACKREST_REPO1_CIPHER_PASS": "x", "API_KEY": "k"}, "API_KEY looks like a secret"),
    ({"KEY": "-----BEGIN PRIVATE KEY-----\nMII..."}, "a PEM private key"),
    ({"DATABASE_URL": "postgresql://tax:hunter2@db:5432/tax"}, "a URL with a password"),
    ({"AUTH": "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIwNTMwMzEifQ.c2ln"}, "a signed token (JWT)"),
])
def test_secret_looking_env_is_refused(ctx, env, expected):
    msgs = secrets_in_env.check(container("tax", "053031", env=env), ctx)
    assert any(expected in m for m in msgs), msgs


def test_secret_files_public_keys_and_plain_settings_pass(ctx):
    env = {"DB_PASSWORD_FILE": "/run/secrets/db/password", "TOKEN_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----\nMCo=",
           "PLATFORM_SIGNING_KEY_FILE": "/run/secrets/platform/x.key", "HUB_URL": "https://mc-dev-gateway:8443/hub",
           "MC_PG_SYNCHRONOUS_STANDBY_NAMES": '"mc-dev-dr-053031-standby"'}
    assert secrets_in_env.check(container("tax", "053031", env=env), ctx) == []
    assert secrets_in_env.check(container("tax", "053031", env=UNKNOWN), ctx) == []


# -- tls-consortium-ca -------------------------------------------------------------------------------

def _pki():
    ca = Res("CertificateAuthority", "consortium-ca", {"cert_pem": "CA-PEM"}, urn="urn:ca")
    cert = Res("Certificate", "pg-cert", {"ca_cert_pem": "CA-PEM", "cert_pem": "PG-PEM"}, urn="urn:cert")
    pg = container("postgres", "053031", files=[{"path": "/run/secrets/postgres-tls/server.crt", "content": "PG-PEM"}])
    return ca, cert, pg


def test_a_listener_without_a_server_certificate_is_refused(ctx):
    ca, cert, pg = _pki()
    pg.props["files"] = [{"path": "/etc/postgresql/postgresql.conf", "content": "ssl = off"}]
    [(res, msg)] = tls.check([ca, cert, pg], ctx)
    assert res is pg and "handed no server certificate" in msg


def test_a_certificate_of_another_issuer_is_refused(ctx):
    ca, cert, pg = _pki()
    cert.props["ca_cert_pem"] = "SELF-SIGNED"
    msgs = [m for _r, m in tls.check([ca, cert, pg], ctx)]
    assert any("is not issued by the consortium CA" in m for m in msgs)
    assert any("which the consortium CA consortium-ca did not issue" in m for m in msgs)
    second = Res("CertificateAuthority", "rogue-ca", {"cert_pem": "X"}, urn="urn:ca2")
    assert "2 certificate authorities" in tls.check([ca, second, cert, pg], ctx)[0][1]


def test_a_listener_with_a_consortium_certificate_passes_by_value_and_by_graph(ctx):
    ca, cert, pg = _pki()
    assert tls.check([ca, cert, pg], ctx) == []
    cert.props["ca_cert_pem"], cert.deps = UNKNOWN, {"ca_cert_pem": [ca.urn]}
    pg.props["files"], pg.deps = UNKNOWN, {"files": [cert.urn]}
    assert tls.check([ca, cert, pg], ctx) == []
    # the list known, a content not yet (preview): judged by the graph as well
    pg.props["files"] = [{"path": "/run/secrets/postgres-tls/server.crt", "content": UNKNOWN}]
    assert tls.check([ca, cert, pg], ctx) == []
    pg.deps = {"files": []}
    assert "handed no server certificate" in tls.check([ca, cert, pg], ctx)[0][1]


def test_gateway_listeners_must_speak_tls():
    assert tls.gateway_listeners_without_tls("server {\n listen 8444 ssl proxy_protocol;\n listen 8443 ssl;\n}") == []
    assert tls.gateway_listeners_without_tls("server {\n listen 8080;\n}") == ["8080"]


# -- postgres-hba-reject-last ------------------------------------------------------------------------

GOOD_HBA = """local all postgres peer
hostssl tax tax 10.1.1.0/24 scram-sha-256
local all all reject
host all all all reject
"""


@pytest.mark.parametrize("hba, expected", [
    (GOOD_HBA.replace("scram-sha-256", "trust"), "admits without a password (trust)"),
    (GOOD_HBA.replace("host all all all reject\n", ""), "the last line must reject everything else"),
    (GOOD_HBA + "hostssl tax tax 10.9.9.0/24 scram-sha-256\n", "the last line must reject everything else"),
    (GOOD_HBA.replace("hostssl tax", "host tax"), "without TLS"),
    (GOOD_HBA.replace("10.1.1.0/24", "0.0.0.0/0"), "accepts any address"),
    (GOOD_HBA.replace("scram-sha-256", "md5"), "uses md5"),
])
def test_unsafe_pg_hba_is_refused(hba, expected):
    assert any(expected in p for p in postgres_hba.check_hba(hba)), postgres_hba.check_hba(hba)


def test_the_rendered_role_passes_and_an_open_network_variable_is_refused(ctx):
    variables = {"postgres_databases": ["tax"], "postgres_allowed_networks": ["10.201.1.0/24"],
                 "postgres_replication_networks": ["10.201.254.0/24"], "postgres_memory_mb": 300.0}
    cfg = Res("RenderedConfig", "pg-config", {"role": "postgres", "variables": variables})
    assert postgres_hba.check_hba(GOOD_HBA) == []
    assert postgres_hba.check(cfg, ctx) == []
    cfg.props["variables"] = {**variables, "postgres_allowed_networks": ["all"]}
    assert "accepts any address" in postgres_hba.check(cfg, ctx)[0]


# -- replication-matches-rpo -------------------------------------------------------------------------

def _pg(names):
    return container("postgres", "053031", env={"MC_PG_MODE": "primary", "MC_PG_SYNCHRONOUS_STANDBY_NAMES": names})


def test_rpo_zero_with_asynchronous_replication_is_refused(ctx):
    [msg] = replication.check(_pg(""), ctx)
    assert "promises RPO 0" in msg and "replication_mode to synchronous" in msg


def test_rpo_zero_with_synchronous_replication_passes(ctx):
    assert replication.check(_pg('"mc-dev-dr-053031-standby"'), ctx) == []


def test_asynchronous_replication_needs_a_lag_bound_within_the_rpo():
    loose = Ctx("dev", _dev_config(sla={"rpo_seconds": 3, "replication_mode": "asynchronous", "max_lag_seconds": 5}))
    tight = Ctx("dev", _dev_config(sla={"rpo_seconds": 10, "replication_mode": "asynchronous", "max_lag_seconds": 5}))
    assert "may lose 5.0 s of writes" in replication.check(_pg(""), loose)[0]
    assert replication.check(_pg(""), tight) == []


# -- backup-encrypted-retention ----------------------------------------------------------------------

def _repo_config(full, diff=6):
    return Res("RenderedConfig", "backup-repo-config", {"role": "pgbackrest", "variables": {
        "pgbackrest_stanzas": [{"name": "mc-dev-053031", "hosts": ["mc-dev-primary-053031-postgres"], "port": 5432}],
        "pgbackrest_retention_full": float(full), "pgbackrest_retention_diff": float(diff)}})


def test_fewer_generations_than_the_sla_are_refused(ctx):
    [msg] = backup.check(_repo_config(1), ctx)
    assert "repo1-retention-full=1 keeps fewer generations than the SLA's backup_retention_full=2" in msg


def test_the_slas_generations_pass(ctx):
    assert backup.check(_repo_config(2), ctx) == []
    assert backup.check(_repo_config(4, 10), ctx) == []


def test_an_unencrypted_repository_is_refused():
    conf = "[global]\nrepo1-path=/r\nrepo1-retention-full=2\nrepo1-retention-diff=6\n"
    assert "unencrypted" in backup.check_conf(conf, 2, 6)[0]
    assert "unencrypted" in backup.check_conf(conf.replace("[global]\n", "[global]\nrepo1-cipher-type=none\n"), 2, 6)[0]
    assert backup.check_conf(conf.replace("[global]\n", "[global]\nrepo1-cipher-type=aes-256-cbc\n"), 2, 6) == []


# -- frontdoor-published-address ---------------------------------------------------------------------

def test_a_frontdoor_on_all_addresses_and_a_published_service_are_refused(ctx):
    fd = container("frontdoor", ports=[{"container_port": 8443, "host_port": 8443, "host_ip": "0.0.0.0"}])
    assert "on 0.0.0.0: only loopback" in publishing.check(fd, ctx)[0]
    svc = container("tax", "053031", ports=[{"container_port": 8000, "host_port": 18000}])
    assert "only the frontdoor may publish" in publishing.check(svc, ctx)[0]


def test_a_frontdoor_on_loopback_or_a_configured_address_passes(ctx):
    fd = container("frontdoor", ports=[{"container_port": 8443, "host_port": 8443}])
    assert publishing.check(fd, ctx) == []
    lan = container("frontdoor", ports=[{"container_port": 8443, "host_port": 8443, "host_ip": "192.0.2.10"}])
    assert publishing.check(lan, ctx) != []
    assert publishing.check(lan, Ctx("dev", ctx.config, {"allowed_addresses": ["192.0.2.10"]})) == []


def test_only_the_frontdoor_runs_on_the_host_network(ctx):
    svc = container("tax", "053031", networks=[], network_mode="host")
    assert "runs on the host network: only the frontdoor may" in publishing.check(svc, ctx)[0]
    assert publishing.check(container("frontdoor", networks=[], network_mode="host"), ctx) == []  # the twin


def _frontdoor_config(bind):
    return Res("RenderedConfig", "frontdoor-config", {"role": "frontdoor", "instance": "dev-frontdoor",
                                                       "variables": {"frontdoor_bind_address": bind}})


@pytest.mark.parametrize("bind", ["", "0.0.0.0", "192.0.2.10", "10.252.1.1"])
def test_a_frontdoor_listening_beyond_loopback_is_refused(ctx, bind):
    [msg] = publishing.check(_frontdoor_config(bind), ctx)
    assert f"the frontdoor listens on {bind or 'every address of the host'}" in msg


def test_a_frontdoor_on_loopback_a_configured_address_or_its_hosts_wan_address_passes(ctx):
    assert publishing.check(_frontdoor_config("127.0.0.1"), ctx) == []
    assert publishing.check(_frontdoor_config("192.0.2.10"),
                            Ctx("dev", ctx.config, {"allowed_addresses": ["192.0.2.10"]})) == []
    tls = {"tls_ca_cert": "/ca.pem", "tls_cert": "/c.pem", "tls_key": "/k.pem"}
    two_hosts = _dev_config(sites={"primary": {"docker_host": "tcp://192.0.2.1:2376", "role": "primary", **tls,
                                               "wan_subnet": "10.252.1.0/24"},
                                   "dr": {"docker_host": "tcp://192.0.2.2:2376", "role": "dr", **tls,
                                          "wan_subnet": "10.252.2.0/24"}})
    assert publishing.check(_frontdoor_config("10.252.1.1"), Ctx("dev", two_hosts)) == []
    assert publishing.check(_frontdoor_config("10.252.2.1"), Ctx("dev", two_hosts)) != []  # the DR host's: no


# -- image-content-addressed -------------------------------------------------------------------------

@pytest.mark.parametrize("ref", ["postgres:latest", "municloud/python", "municloud/python:1.2", "nginx:stable"])
def test_floating_image_references_are_refused(ctx, ref):
    assert "a floating reference" in images.check(container("tax", "053031", image=ref), ctx)[0]


@pytest.mark.parametrize("ref", ["municloud/python:0123456789ab", "postgres@sha256:" + "a" * 64, UNKNOWN])
def test_content_addressed_image_references_pass(ctx, ref):
    assert images.check(container("tax", "053031", image=ref), ctx) == []


# -- labels-stack-site-municipality ------------------------------------------------------------------

def test_missing_or_wrong_labels_are_reported(ctx):
    c = container("tax", "053031")
    del c.props["labels"]["municloud.lgcode"]
    assert "lacks label municloud.lgcode" in labels.check(c, ctx)[0]
    other = container("tax", "999999", site="elsewhere", stack="akita")
    msgs = labels.check(other, ctx)
    assert any("belongs to stack dev" in m for m in msgs)
    assert any("municloud.site=elsewhere" in m for m in msgs)
    assert any("municloud.lgcode=999999" in m for m in msgs)


def test_complete_labels_pass(ctx):
    assert labels.check(container("tax", "053031"), ctx) == []
    assert labels.check(container("gateway", site="dr"), ctx) == []


# -- dr-standby-per-member ---------------------------------------------------------------------------

def _dr_graph(cfg, skip=None):
    out = [container("hub_postgres", site="dr")]
    for m in cfg.municipalities:
        if m.lgcode != skip:
            out.append(container("standby", m.lgcode, site="dr"))
        out += [container(svc, m.lgcode, site="dr", start=False) for svc in dr_coverage.SERVICES]
    return out


def test_a_member_without_a_dr_standby_is_refused(ctx):
    msgs = [m for _r, m in dr_coverage.check(_dr_graph(ctx.config, skip="053279"), ctx)]
    assert msgs == [f"municipality 053279 (上小阿仁村) has no PostgreSQL standby at the DR site dr: the SLA's RTO "
                    f"of {ctx.config.sla.rto_seconds} s after the loss of the primary site cannot be kept"]


def test_every_member_with_a_dr_standby_passes_and_warm_needs_running_services(ctx):
    assert dr_coverage.check(_dr_graph(ctx.config), ctx) == []
    warm = Ctx("dev", _dev_config(sla={"dr_services": "warm"}))
    assert any("is warm but tax is not running" in m for _r, m in dr_coverage.check(_dr_graph(warm.config), warm))
    graph = _dr_graph(warm.config)
    for c in graph:
        c.props["start"] = True
    assert dr_coverage.check(graph, warm) == []


# -- the proxies pulumi-policy hands the rules ---------------------------------------------------------

def test_plain_unwraps_pulumi_policy_proxies_and_marks_unknowns():
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

    props = unknown_checking_proxy({"env": UNKNOWN_STRING_VALUE, "labels": {"a": "b"}, "ports": [{"x": 1}],
                                    "__provider": "pickled"})
    assert plain(props) == {"env": UNKNOWN, "labels": {"a": "b"}, "ports": [{"x": 1}]}
    assert copy.deepcopy(plain(props))["labels"] == {"a": "b"}
