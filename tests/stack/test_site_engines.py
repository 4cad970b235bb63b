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
    raw["sites"] = {"primary": {"docker_host": "tcp://192.0.2.10:2376", "role": "primary", **_TLS},
                    "dr": {"docker_host": "tcp://198.51.100.20:2376", "role": "dr", **_TLS}}
    return raw


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
