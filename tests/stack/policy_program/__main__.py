"""A small program of municloud-typed dynamic resources for the guardrail pack's CLI tests
(tests/stack/test_policy_pack_cli.py). Config ``guardcheck:violate``: false builds a compliant
slice of a consortium; true breaks every rule of policies/ once. A preview creates nothing: the
provider below is never asked to create (and would refuse)."""

import pulumi
from pulumi.dynamic import Resource, ResourceProvider

VIOLATE = pulumi.Config("guardcheck").get_bool("violate") or False
STACK = pulumi.get_stack()
MEMBERS = [m["lgcode"] for m in pulumi.Config("municloud").require_object("municipalities")]
IMAGE = "municloud/python:0123456789ab"


class _PreviewOnly(ResourceProvider):
    def create(self, props):
        raise RuntimeError("the guardrail test program is only ever previewed")


def _kind(kind):
    return type(kind, (Resource,), {"__init__": lambda self, name, props, opts=None: Resource.__init__(
        self, _PreviewOnly(), name, props, opts)}, module="municloud", name=kind)


CertificateAuthority, Certificate, Network, Container, Volume, RenderedConfig = (
    _kind(k) for k in ("CertificateAuthority", "Certificate", "Network", "Container", "Volume", "RenderedConfig"))


def labels(component, lgcode="shared", site="primary"):
    return {"municloud.stack": STACK, "municloud.site": site, "municloud.lgcode": lgcode,
            "municloud.component": component}


def container(name, component, lgcode="shared", site="primary", **props):
    base = {"name": f"mc-{STACK}-{site}-{name}", "labels": labels(component, lgcode, site), "env": {},
            "networks": [], "ports": [], "image": IMAGE, "files": []}
    return Container(f"{site}-{name}", {**base, **props})


ca = CertificateAuthority("ca", {"common_name": "guardcheck CA", "cert_pem": None, "key_pem": None})
cert = Certificate("pg-cert", {"ca_cert_pem": ca.cert_pem, "ca_key_pem": ca.key_pem, "common_name": "pg",
                               "cert_pem": None, "key_pem": None})
nets = {code: Network(f"net-{code}", {"name": f"mc-{STACK}-primary-{code}", "labels": labels("network", code),
                                      "internal": not (VIOLATE and code == MEMBERS[0])}) for code in MEMBERS}
first, second = MEMBERS[0], MEMBERS[1]
server_cert = cert.cert_pem.apply(lambda pem: {"path": "/run/secrets/postgres-tls/server.crt", "content": pem})
container(f"{first}-postgres", "postgres", first, networks=[{"name": nets[first].name, "aliases": []}],
          files=[] if VIOLATE else [server_cert],
          env={"MC_PG_MODE": "primary", "MC_PG_SYNCHRONOUS_STANDBY_NAMES": "" if VIOLATE else '"standby"'})
container(f"{first}-tax", "tax", first,
          networks=[{"name": nets[first].name, "aliases": []}]
          + ([{"name": nets[second].name, "aliases": []}] if VIOLATE else []),
          env={"DB_PASSWORD": "hunter2"} if VIOLATE else {"DB_PASSWORD_FILE": "/run/secrets/db/password"},
          image="postgres:latest" if VIOLATE else IMAGE)
container("frontdoor", "frontdoor",
          ports=[{"container_port": 8443, "host_port": 18443, **({"host_ip": "0.0.0.0"} if VIOLATE else {})}])
container("hub-standby", "hub_postgres", site="dr", files=[server_cert])
for code in MEMBERS[1:] if VIOLATE else MEMBERS:
    container(f"{code}-standby", "standby", code, site="dr", files=[server_cert])
Volume("data", {"name": f"mc-{STACK}-data", "labels": {k: v for k, v in labels("postgres", first).items()
                                                        if not (VIOLATE and k == "municloud.lgcode")}})
RenderedConfig("pg-config", {"role": "postgres", "instance": "pg", "output_var": "postgres_output_dir", "variables": {
    "postgres_databases": ["tax"], "postgres_allowed_networks": ["all" if VIOLATE else "10.201.1.0/24"],
    "postgres_replication_networks": ["10.201.254.0/24"]}})
RenderedConfig("repo-config", {"role": "pgbackrest", "instance": "repo", "output_var": "pgbackrest_output_dir",
                               "variables": {"pgbackrest_stanzas": [], "pgbackrest_retention_full": 1 if VIOLATE else 2,
                                             "pgbackrest_retention_diff": 6}})
