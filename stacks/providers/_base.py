"""Shared mechanics of the dynamic providers: validation, diffing, unknowns, Docker clients."""

from __future__ import annotations

from typing import Any, Iterable

from pulumi.dynamic import CheckFailure, CheckResult, DiffResult, ResourceProvider
from pulumi.runtime import rpc

PROVIDER_KEY = "__provider"
UNKNOWN = rpc.UNKNOWN


def is_unknown(value: Any) -> bool:
    """True when ``value`` (or anything inside it) is not known yet (during preview)."""
    from pulumi.output import Unknown

    if isinstance(value, Unknown):
        return True
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, dict):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_unknown(v) for v in value)
    return False


#: the TLS files of each tcp:// engine the program uses, by engine address (``engine_props``)
_ENGINE_TLS: dict[str, dict[str, str]] = {}


def register_engines(tls_by_host: dict[str, dict[str, str]]) -> None:
    """Record the TLS files of the stack's engines (from ``sites.<name>.tls_*``), once per program
    run, before any resource is declared; every Docker resource then carries its engine's files."""
    _ENGINE_TLS.clear()
    _ENGINE_TLS.update({host: dict(tls) for host, tls in tls_by_host.items() if tls})


def engine_props(docker_host: Any) -> dict[str, Any]:
    """``{"docker_tls": {...}}`` for a resource on a TLS engine, else nothing (so the state of
    resources on unix:// engines stays as it was)."""
    tls = _ENGINE_TLS.get(docker_host) if isinstance(docker_host, str) else None
    return {"docker_tls": dict(tls)} if tls else {}


class EngineUnreachable(RuntimeError):
    """A site's engine cannot be reached as configured; the message names the engine and why."""


def docker_client(props: dict[str, Any], timeout: int = 120):
    """A Docker client for the engine of the resource's site (created per call, never cached).

    A tcp:// engine is reached over TLS: its certificate must chain to ``docker_tls.ca_cert`` and
    we present the client certificate. The requests session does not read the environment:
    REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE would otherwise replace the engine's CA (and proxy
    variables would send the engine API through a proxy)."""
    return engine_client(props["docker_host"], props.get("docker_tls"), timeout)


def engine_client(docker_host: str, tls: dict[str, str] | None = None, timeout: int = 120):
    """A Docker client for ``docker_host`` (see ``docker_client``)."""
    import os

    import docker
    from docker.tls import TLSConfig

    if not docker_host.startswith("tcp://"):
        return docker.DockerClient(base_url=docker_host, timeout=timeout)
    if not tls:
        raise EngineUnreachable(f"engine {docker_host}: tcp:// engines are reached over TLS only; "
                                f"set sites.<name>.tls_ca_cert, tls_cert and tls_key")
    for key in ("ca_cert", "cert", "key"):
        if not os.path.isfile(tls.get(key, "")):
            raise EngineUnreachable(f"engine {docker_host}: tls_{key} file {tls.get(key)!r} does not exist")
    import requests

    url = docker_host.replace("tcp://", "https://", 1)
    # the API version asked first with a session of our own: docker-py's own probe in its
    # constructor would run before trust_env can be switched off
    with requests.Session() as probe:
        probe.trust_env = False
        try:
            answer = probe.get(f"{url}/version", cert=(tls["cert"], tls["key"]), verify=tls["ca_cert"],
                               timeout=min(timeout, 15))
            answer.raise_for_status()
        except requests.RequestException as exc:
            raise EngineUnreachable(f"engine {docker_host}: {exc}") from None
    client = docker.DockerClient(base_url=url, timeout=timeout, version=answer.json()["ApiVersion"],
                                 tls=TLSConfig(client_cert=(tls["cert"], tls["key"]), ca_cert=tls["ca_cert"],
                                               verify=True))
    client.api.trust_env = False
    return client


def inputs_only(props: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    return {k: props[k] for k in keys if k in props}


class ValidatingProvider(ResourceProvider):
    """A provider whose inputs are described once: required keys, replace keys, update keys.

    ``diff`` compares the old outputs (which echo every input) with the new inputs, so a provider
    never needs anything but its own outputs to decide; ``__provider`` is ignored because a
    changed provider implementation is not a changed resource.
    """

    def __init_subclass__(cls, **kwargs):
        # The engine carries every number as a float (protobuf Struct); give every method ints.
        super().__init_subclass__(**kwargs)
        for method in ("create", "update", "diff", "read", "delete"):
            if method in cls.__dict__:
                setattr(cls, method, _with_integral_props(cls.__dict__[method]))

    #: key -> accepted python type(s)
    REQUIRED: dict[str, type | tuple[type, ...]] = {}
    OPTIONAL: dict[str, type | tuple[type, ...]] = {}
    #: keys whose change replaces the resource; every other known key is updated in place
    REPLACE_ON: tuple[str, ...] = ()
    #: keys only the provider sets (declared as None inputs so the output attribute exists)
    OUTPUTS: tuple[str, ...] = ()
    KIND = "resource"

    def validate(self, news: dict[str, Any]) -> list[CheckFailure]:
        """Extra checks of a subclass; known values only."""
        return []

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        # The engine carries every number as a float; integral ones are ints to us.
        news = {k: (v if k == PROVIDER_KEY else integral(v)) for k, v in news.items()}
        failures: list[CheckFailure] = []
        for key, typ in self.REQUIRED.items():
            if key not in news or news[key] is None:
                failures.append(CheckFailure(key, f"{self.KIND}: '{key}' is required"))
            elif not is_unknown(news[key]) and not isinstance(news[key], typ):
                failures.append(CheckFailure(key, f"{self.KIND}: '{key}' must be {_type_name(typ)}, "
                                                  f"got {type(news[key]).__name__}"))
        for key, typ in self.OPTIONAL.items():
            value = news.get(key)
            if value is not None and not is_unknown(value) and not isinstance(value, typ):
                failures.append(CheckFailure(key, f"{self.KIND}: '{key}' must be {_type_name(typ)}, "
                                                  f"got {type(value).__name__}"))
        known = set(self.REQUIRED) | set(self.OPTIONAL) | set(self.OUTPUTS) | {PROVIDER_KEY}
        for key in sorted(set(news) - known):
            failures.append(CheckFailure(key, f"{self.KIND}: unknown property '{key}'"))
        if not failures:
            failures = self.validate(news)
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = set(self.REQUIRED) | set(self.OPTIONAL)
        changed = sorted(k for k in keys if is_unknown(news.get(k)) or olds.get(k) != news.get(k))
        replaces = [k for k in changed if k in self.REPLACE_ON]
        return DiffResult(changes=bool(changed), replaces=replaces,
                          stables=sorted(keys - set(changed)), delete_before_replace=bool(replaces)
                          and self.delete_before_replace)

    #: Docker names are unique per engine: the old object must go before the new one is created.
    delete_before_replace = True


def _with_integral_props(fn):
    import functools

    @functools.wraps(fn)
    def wrapper(self, *args):
        return fn(self, *[integral(a) if isinstance(a, dict) else a for a in args])

    return wrapper


def integral(value: Any) -> Any:
    """Floats that are whole numbers become ints, recursively."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [integral(v) for v in value]
    return value


def _type_name(typ) -> str:
    if isinstance(typ, tuple):
        return " or ".join(t.__name__ for t in typ)
    return typ.__name__


def check_labels(news: dict[str, Any]) -> list[CheckFailure]:
    """Every Docker object carries the four municloud labels (common brief)."""
    labels = news.get("labels")
    if is_unknown(labels):
        return []
    missing = [k for k in ("municloud.stack", "municloud.site", "municloud.lgcode", "municloud.component")
               if k not in (labels or {})]
    if missing:
        return [CheckFailure("labels", f"labels: missing {', '.join(missing)}")]
    return []
