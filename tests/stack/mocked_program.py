"""The program composed under Pulumi mocks, shared by the stack tier's shape tests.

Generated secrets and keys come from the real providers' ``create`` (the mocks call them), so
checks over passwords and keys see real generated values. ``compose`` runs the program once per
(stack, config) in a test process and hands each caller its own copy of what every resource was
given: composing the program is most of the cost of these tests, and the same dev config is
asked for by many of them.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass

import pulumi

from stacks.config import StackConfig, load
from stacks.providers._base import integral
from stacks.providers.pki import CertificateAuthorityProvider, CertificateProvider
from stacks.providers.secrets import Ed25519KeyPairProvider, RandomPasswordProvider

_REAL = {"RandomPassword": RandomPasswordProvider, "Ed25519KeyPair": Ed25519KeyPairProvider,
         "CertificateAuthority": CertificateAuthorityProvider, "Certificate": CertificateProvider}


def _unwrap(value):
    """Secret inputs arrive wrapped ({<secret sig>: ..., "value": v}); the tests want the value."""
    from pulumi.runtime import rpc

    if isinstance(value, dict):
        if rpc._special_sig_key in value and value[rpc._special_sig_key] == rpc._special_secret_sig:
            return _unwrap(value["value"])
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


#: files the roles render (roles/gateway, frontdoor, postgres, pgbackrest)
_RENDERED = ("nginx.conf", "haproxy.cfg", "postgresql.conf", "pg_hba.conf", "pgbackrest.conf", "schedule.conf")


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.created: list[tuple[str, str, dict]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        kind = args.typ.rsplit(":", 1)[-1]
        inputs = integral(_unwrap({k: v for k, v in args.inputs.items() if k != "__provider"}))
        self.created.append((kind, args.name, inputs))
        if kind in _REAL:
            result = _REAL[kind]().create(inputs)
            return result.id, result.outs
        if kind == "Image":
            return f"img-{args.name}", {**inputs, "ref": f"municloud/{inputs['image']}:mock"}
        if kind == "RenderedConfig":  # the role itself is tested in tests/stack/test_roles.py
            return f"cfg-{args.name}", {**inputs, "files": {n: f"# mock {n}" for n in _RENDERED}}
        return f"{args.name}-id", inputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


@dataclass(frozen=True)
class Composed:
    """What the program made for one config: ``created`` is (kind, resource name, inputs) in the
    order of registration, as ``Mocks.created``."""

    cfg: StackConfig
    created: list[tuple[str, str, dict]]

    def of_kind(self, kind: str) -> dict[str, dict]:
        """Inputs of every resource of ``kind``, by resource name."""
        return {name: inputs for k, name, inputs in self.created if k == kind}

    def containers(self) -> dict[str, dict]:
        """Inputs of every container, by container name."""
        return {i["name"]: i for k, _n, i in self.created if k == "Container"}


_COMPOSED: dict[tuple[str, str], tuple[StackConfig, list]] = {}


def compose(raw: dict, stack: str = "dev") -> Composed:
    """Run the consortium program for ``raw`` under mocks (once per stack and config in this
    process) and return a copy of everything it registered, once every registration is answered."""
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from stacks.consortium import Consortium, ConsortiumArgs

    key = (stack, json.dumps(raw, sort_keys=True))
    if key not in _COMPOSED:
        mocks = Mocks()
        pulumi.runtime.set_mocks(mocks, project="municloud", stack=stack, preview=False)
        # as pulumi.runtime.test does: no task of an earlier test (and its closed event loop) is awaited
        pulumi.runtime.settings.SETTINGS.rpc_manager.clear()
        pulumi.runtime.settings.SETTINGS.outputs.clear()
        cfg = load(stack, copy.deepcopy(raw))
        _sync_await(run_pulumi_func(
            lambda: Consortium("consortium", ConsortiumArgs(config=cfg, built_services=frozenset()))))
        _COMPOSED[key] = (cfg, mocks.created)
    cfg, created = _COMPOSED[key]
    return Composed(cfg=cfg, created=copy.deepcopy(created))
