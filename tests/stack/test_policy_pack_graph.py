"""Every guardrail rule over the whole dev program, run under Pulumi mocks (all values known, as
`pulumi up` analyzes them): the committed config passes every rule; config edits that break a
rule are refused by it. The certificates, keys and passwords come from the real providers."""

from __future__ import annotations

import hashlib

import pulumi
import pytest

from policies.guardrails import Ctx, Res
from policies.rules import RULES
from stacks.providers._base import integral
from stacks.providers.pki import CertificateAuthorityProvider, CertificateProvider
from stacks.providers.secrets import Ed25519KeyPairProvider, RandomPasswordProvider

pytestmark = [pytest.mark.unit, pytest.mark.stack]

_GENERATED = {"RandomPassword": RandomPasswordProvider, "Ed25519KeyPair": Ed25519KeyPairProvider,
              "CertificateAuthority": CertificateAuthorityProvider, "Certificate": CertificateProvider}


def _plain(value):
    from pulumi.runtime import rpc

    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return _plain(value["value"])
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class GraphMocks(pulumi.runtime.Mocks):
    """Records every municloud resource as the pack sees it: inputs, plus outputs once known."""

    def __init__(self) -> None:
        self.resources: list[Res] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        kind = args.typ.rsplit(":", 1)[-1] if args.typ.startswith("pulumi-python:dynamic/municloud:") else ""
        inputs = integral(_plain({k: v for k, v in args.inputs.items() if k != "__provider"}))
        outs = dict(inputs)
        if kind in _GENERATED:
            outs = _GENERATED[kind]().create(inputs).outs
        elif kind == "Image":  # municloud_ops.images tags by the build context's hash
            outs["ref"] = f"municloud/{inputs['image']}:{hashlib.sha256(inputs['image'].encode()).hexdigest()[:12]}"
        elif kind == "RenderedConfig":  # the role's own output is tested in tests/stack/test_roles.py
            outs["files"] = {n: f"# {n}" for n in ("nginx.conf", "haproxy.cfg", "postgresql.conf", "pg_hba.conf",
                                                   "pgbackrest.conf", "schedule.conf")}
        if kind:
            self.resources.append(Res(kind, args.name, {**inputs, **{k: v for k, v in outs.items()
                                                                      if inputs.get(k) is None}}))
        return f"{args.name}-id", outs

    def call(self, args):
        return {}


def _violations(dev_raw, stack="dev", **overrides) -> tuple[dict[str, list[str]], list[Res]]:
    """Run the dev program with config overrides under mocks, then every rule over what it made:
    {rule name: messages} of the rules that fail, and the resources."""
    from stacks.config import load
    from stacks.consortium import Consortium, ConsortiumArgs

    cfg = load(stack, {**dev_raw, **overrides})
    mocks = GraphMocks()
    pulumi.runtime.set_mocks(mocks, project="municloud", stack=stack, preview=False)

    @pulumi.runtime.test  # returns once every registration of the program has been answered
    def build():
        Consortium("consortium", ConsortiumArgs(config=cfg, built_services=frozenset()))

    build()
    ctx = Ctx(stack=stack, config=cfg)
    result: dict[str, list[str]] = {}
    for rule in RULES:
        if rule.stack:
            msgs = [m for _r, m in rule.check(mocks.resources, ctx)]
        else:
            msgs = [m for r in mocks.resources if r.kind in rule.kinds for m in rule.check(r, ctx)]
        if msgs:
            result[rule.name] = msgs
    return result, mocks.resources


def test_the_dev_program_passes_every_rule(dev_raw):
    violations, resources = _violations(dev_raw)
    kinds = {r.kind for r in resources}
    assert {"Container", "Network", "Volume", "RenderedConfig", "Certificate", "CertificateAuthority"} <= kinds
    assert violations == {}


def test_the_akita_program_passes_every_rule(akita_raw):
    violations, resources = _violations(akita_raw, stack="akita")
    assert len([r for r in resources if r.kind == "Container" and r.component == "standby"]) == 12
    assert violations == {}


def test_a_member_named_in_tenant_egress_is_refused_at_both_sites(dev_raw):
    violations, _ = _violations(dev_raw, tenant_egress=["053279"])
    assert set(violations) == {"tenant-network-internal"}
    msgs = violations["tenant-network-internal"]
    assert len(msgs) == 2 and all("tenant network of municipality 053279 and must be internal" in m for m in msgs)
    assert {"mc-dev-primary-053279", "mc-dev-dr-053279"} == {m.split("(")[1].split(")")[0] for m in msgs}


def test_rpo_zero_with_asynchronous_replication_is_refused_for_every_paired_postgres(dev_raw):
    violations, resources = _violations(dev_raw, sla={**dev_raw["sla"], "replication_mode": "asynchronous"})
    assert set(violations) == {"replication-matches-rpo"}
    # the primaries and their DR standbys (which name the primary for after a failback): 3 members + hub
    paired = [r for r in resources if r.kind == "Container" and r.component in ("postgres", "hub_postgres", "standby")]
    assert len(violations["replication-matches-rpo"]) == len(paired) == 8


def test_asynchronous_replication_within_the_rpo_passes(dev_raw):
    sla = {**dev_raw["sla"], "replication_mode": "asynchronous", "rpo_seconds": 10, "max_lag_seconds": 5}
    violations, _ = _violations(dev_raw, sla=sla)
    assert violations == {}


def test_the_warm_dr_slice_of_the_live_suite_passes(dev_raw):
    # the drhub1 stack of tests/dr/stacks/test_hub_standby_warm.py: one member, warm DR services
    one = dev_raw["municipalities"][:1]
    violations, resources = _violations(dev_raw, municipalities=one, sla={**dev_raw["sla"], "dr_services": "warm"})
    assert violations == {}
    dr_services = [r for r in resources if r.kind == "Container" and r.site == "dr" and r.component == "tax"]
    assert [r.props["start"] for r in dr_services] == [True]


def test_the_two_site_program_passes_every_rule(dev_raw):
    """Sites on hosts of their own (decision 0034): the frontdoor on the primary host's network
    listens on that host's planned WAN address, which frontdoor-published-address accepts there."""
    tls = {"tls_ca_cert": "/ca.pem", "tls_cert": "/c.pem", "tls_key": "/k.pem"}
    sites = {"primary": {"docker_host": "tcp://192.0.2.10:2376", "role": "primary", **tls, "wan_subnet": "10.252.1.0/24"},
             "dr": {"docker_host": "tcp://198.51.100.20:2376", "role": "dr", **tls, "wan_subnet": "10.252.2.0/24"}}
    violations, resources = _violations(dev_raw, sites=sites)
    fd = next(r for r in resources if r.kind == "RenderedConfig" and r.props.get("role") == "frontdoor")
    assert fd.props["variables"]["frontdoor_bind_address"] == "10.252.1.1"
    assert violations == {}
    # the twin: the same address on a single-engine stack is not a planned address, and is refused
    from policies import publishing
    from stacks.config import load

    assert publishing.check(fd, Ctx("dev", load("dev", dev_raw))) != []
