"""What every guardrail rule works on: the consortium's resources as plain data, and the stack.

The Pulumi program creates Docker objects through dynamic resources (stacks/providers/); the
analyzer sees each one with the type ``pulumi-python:dynamic/municloud:<Kind>`` and its inputs.
A rule is a pure function over :class:`Res` (one resource) or a list of them (the whole graph)
and a :class:`Ctx` (the stack's name and validated config, the policy's own config); it returns
the violation messages. ``policies/__main__.py`` hands the rules to pulumi-policy; the tests call
the same functions on hand-made and on mocked-program resources.

During a preview many inputs are not known yet (an image's tag, a network's engine name). A rule
decides what it can from known values and from the graph (``deps``: which resources an input
came from); what stays unknown is decided again by ``pulumi up``, which analyzes every resource
with its real inputs before it is created.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

REPO_ROOT = Path(__file__).resolve().parents[1]
TYPE_PREFIX = "pulumi-python:dynamic/municloud:"
LABELS = ("municloud.stack", "municloud.site", "municloud.lgcode", "municloud.component")
SHARED = "shared"  # stacks/naming.py: the lgcode label of shared objects


class _Unknown:
    """A value the engine does not know yet (preview)."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()


def is_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(is_unknown(v) for v in value)
    return False


@dataclass
class Res:
    """One resource as a rule sees it."""

    kind: str
    """Container, Network, Volume, Image, RenderedConfig, Certificate, ...; "" when not ours"""
    name: str
    """Pulumi resource name"""
    props: dict[str, Any]
    """inputs; unknown values are UNKNOWN; secrets are plain values here"""
    urn: str = ""
    deps: dict[str, list[str]] = field(default_factory=dict)
    """input name -> URNs of the resources its value came from (stack rules only)"""

    @property
    def labels(self) -> dict[str, Any]:
        value = self.props.get("labels")
        return value if isinstance(value, dict) else {}

    def label(self, key: str) -> Any:
        return self.labels.get(key)

    @property
    def component(self) -> Any:
        return self.label("municloud.component")

    @property
    def lgcode(self) -> Any:
        return self.label("municloud.lgcode")

    @property
    def site(self) -> Any:
        return self.label("municloud.site")

    def __str__(self) -> str:
        docker = self.props.get("name")
        return f"{self.kind} {self.name}" + (f" ({docker})" if isinstance(docker, str) else "")


def kind_of(resource_type: str) -> str:
    return resource_type[len(TYPE_PREFIX):] if resource_type.startswith(TYPE_PREFIX) else ""


@dataclass(frozen=True)
class Ctx:
    """The stack the resources belong to and the policy's own config."""

    stack: str
    config: Any
    """stacks.config.StackConfig, or None when the stack config could not be validated"""
    policy_config: dict[str, Any] = field(default_factory=dict)


# -- turning pulumi-policy's views into Res ------------------------------------------------------

_SENTINELS = {
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9", "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58", "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
}  # pulumi_policy.proxy UNKNOWN_*_VALUE: reading them through its proxy raises, so we read raw


def plain(value: Any) -> Any:
    """pulumi-policy's unknown-checking proxies -> plain dicts/lists with UNKNOWN for unknowns."""
    try:
        target = value["__target"]  # the proxies hand out what they wrap under this key
    except (TypeError, KeyError, IndexError):
        target = value
    if isinstance(target, dict):
        return {k: plain(v) for k, v in target.items() if k != "__provider"}
    if isinstance(target, (list, tuple)):
        return [plain(v) for v in target]
    if isinstance(target, str) and target in _SENTINELS:
        return UNKNOWN
    if isinstance(target, float) and target.is_integer():  # the engine carries every number as a float
        return int(target)
    return target


def from_policy_resource(r: Any) -> Res:
    deps = {k: [d.urn for d in v] for k, v in (getattr(r, "property_dependencies", None) or {}).items()}
    return Res(kind_of(r.resource_type), r.name, plain(r.props), r.urn, deps)


# -- the stack's config --------------------------------------------------------------------------

def load_stack_config() -> Any:
    """The running stack's StackConfig (the pack gets the config the program gets), or None."""
    import pulumi

    from stacks.config import ConfigError, from_pulumi

    try:
        pulumi.get_stack()
    except Exception:  # noqa: BLE001 - not started by the engine (no stack settings)
        return None
    try:
        return from_pulumi()
    except ConfigError:
        return None  # the program itself stops on it, naming the key


# -- roles' templates, rendered the way the RenderedConfig provider's role renders them ----------

@functools.lru_cache(maxsize=None)
def _role_file(role: str, kind: str) -> dict[str, Any]:
    """``roles/<role>/<kind>/main.yml`` (kind: defaults or vars), {} when the role has none."""
    import yaml

    path = REPO_ROOT / "roles" / role / kind / "main.yml"
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.exists() else {}


def render_role_template(role: str, template: str, variables: dict[str, Any],
                         source: str | None = None) -> str:
    """Render ``roles/<role>/templates/<template>`` (or ``source``) with the role's defaults and
    ``variables``, as Ansible's template module does (trim_blocks)."""
    import jinja2

    env = jinja2.Environment(trim_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    env.filters["comment"] = lambda text: "\n".join(f"# {line}" for line in str(text).splitlines())
    if source is None:
        source = (REPO_ROOT / "roles" / role / "templates" / template).read_text(encoding="utf-8")
    from stacks.providers._base import integral  # the engine's floats, as the provider hands them to the role

    # Ansible's precedence: role defaults < the host's variables < role vars (the role's internals)
    values = {**_role_file(role, "defaults"), **integral(variables), **_role_file(role, "vars"),
              "ansible_managed": "rendered by the guardrail pack"}
    return env.from_string(source).render(**values)


# -- small shared checks ---------------------------------------------------------------------------

def networks_named(value: Any) -> list[Any]:
    """Network names of a container's ``networks`` input (UNKNOWN where not known yet)."""
    if not isinstance(value, list):
        return [UNKNOWN] if value is UNKNOWN else []
    return [(n.get("name", UNKNOWN) if isinstance(n, dict) else UNKNOWN) for n in value]


def is_ip(text: Any) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def is_loopback(text: Any) -> bool:
    return is_ip(text) and ipaddress.ip_address(text).is_loopback


def by_kind(resources: Iterable[Res], kind: str) -> list[Res]:
    return [r for r in resources if r.kind == kind]


# -- the rule table --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """One consortium rule = one policy of the pack."""

    name: str
    description: str
    enforcement: str
    """"mandatory" (refuses the preview/update) or "advisory" (warns)"""
    check: Callable[..., list]
    """resource rules: (Res, Ctx) -> [message]; stack rules: ([Res], Ctx) -> [(Res | None, message)]"""
    stack: bool = False
    needs_config: bool = False
    kinds: tuple[str, ...] = ()
    """resource rules: the kinds they look at (others are not applicable)"""
    config_schema: dict[str, Any] | None = None


NAME_RE = re.compile(r"^[a-z0-9-]+$")
