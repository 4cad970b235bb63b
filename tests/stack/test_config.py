"""Config validation at the edge: each bad config is rejected naming the key; the good one passes."""

import secrets

import pytest

from stacks.config import ConfigError, load

pytestmark = pytest.mark.unit


def test_dev_and_akita_configs_are_accepted(dev_raw, akita_raw):
    dev = load("dev", dev_raw)
    assert [m.lgcode for m in dev.municipalities] == ["053031", "053279", "053465"]
    akita = load("akita", akita_raw)
    assert len(akita.municipalities) == 12
    assert sum(m.population for m in akita.municipalities) == 106_045


def test_bad_check_digit_names_the_key(dev_raw):
    dev_raw["municipalities"][1]["lgcode"] = "053270"
    with pytest.raises(ConfigError) as exc:
        load("dev", dev_raw)
    assert exc.value.key == "municloud:municipalities[1].lgcode"
    assert "check digit" in str(exc.value)


def test_duplicate_code_names_the_key(dev_raw):
    dev_raw["municipalities"][2]["lgcode"] = "053031"
    with pytest.raises(ConfigError) as exc:
        load("dev", dev_raw)
    assert exc.value.key == "municloud:municipalities[2].lgcode"
    assert "duplicate" in str(exc.value)


def test_unknown_site_names_the_key(dev_raw):
    dev_raw["municipalities"][0]["sites"] = ["primary", "tokyo"]
    with pytest.raises(ConfigError) as exc:
        load("dev", dev_raw)
    assert exc.value.key == "municloud:municipalities[0].sites[1]"


def test_known_sites_are_accepted(dev_raw):
    dev_raw["municipalities"][0]["sites"] = ["primary", "dr"]
    assert load("dev", dev_raw).municipalities[0].lgcode == "053031"


def test_missing_rate_names_the_key(dev_raw):
    del dev_raw["municipalities"][0]["nhi"]["2025"]["medical"]["income_rate_bp"]
    with pytest.raises(ConfigError) as exc:
        load("dev", dev_raw)
    assert exc.value.key == "municloud:municipalities[0].nhi.2025.medical.income_rate_bp"


def test_missing_nhi_table_names_the_key(dev_raw):
    del dev_raw["municipalities"][0]["nhi"]
    with pytest.raises(ConfigError) as exc:
        load("dev", dev_raw)
    assert exc.value.key == "municloud:municipalities[0].nhi"


def test_sites_need_one_primary_and_one_dr(dev_raw):
    dev_raw["sites"] = {"a": {"docker_host": "unix:///x", "role": "primary"},
                        "b": {"docker_host": "unix:///x", "role": "primary"}}
    with pytest.raises(ConfigError) as exc:
        load("dev", dev_raw)
    assert exc.value.key.startswith("municloud:")
    assert "exactly one" in str(exc.value)


def test_unknown_key_is_rejected(dev_raw):
    dev_raw["frontdor_port"] = 9443
    with pytest.raises(ConfigError) as exc:
        load("dev", dev_raw)
    assert exc.value.key == "municloud:frontdor_port"


def test_subnets_do_not_overlap(dev_raw):
    import ipaddress

    cfg = load("dev", dev_raw)
    nets = [cfg.subnet(s, m.address_slot) for s in cfg.sites for m in cfg.municipalities]
    nets += [cfg.subnet(s, kind=k) for s in cfg.sites for k in ("edge", "hub")] + [cfg.subnet("primary", kind="wan")]
    parsed = [ipaddress.ip_network(n) for n in nets]
    assert len(set(parsed)) == len(parsed)
    assert not any(a.overlaps(b) for i, a in enumerate(parsed) for b in parsed[i + 1:])


def test_pulumi_yaml_describes_every_key_with_the_defaults_table():
    from pathlib import Path

    import yaml

    from stacks.config import DEFAULTS

    project = yaml.safe_load((Path(__file__).resolve().parents[2] / "Pulumi.yaml").read_text())
    declared = project["config"]
    assert set(declared) == {f"municloud:{k}" for k in ("municipalities", *DEFAULTS)}
    assert all(v.get("description") for v in declared.values())
    for key, value in DEFAULTS.items():
        assert declared[f"municloud:{key}"]["default"] == value, key


def _assert_sla_value_refused(raw, key, value, words):
    """``sla.<key> = value`` stops the config with a message naming the key and saying ``words``."""
    raw["sla"] = {**(raw.get("sla") or {}), key: value}
    with pytest.raises(ConfigError) as exc:
        load("dev", raw)
    assert exc.value.key == f"municloud:sla.{key}"
    assert words in exc.value.reason


@pytest.mark.parametrize("key, value, words", [
    ("p95_ms", 0, "greater than 0"),
    ("p95_ms", "fast", "valid number"),
    ("max_failure_ratio", 1.0, "less than 1"),
    ("max_failure_ratio", -0.01, "greater than or equal to 0"),
    ("min_rps", -5, "greater than or equal to 0"),
])
def test_bad_load_gate_target_names_the_key(dev_raw, key, value, words):
    _assert_sla_value_refused(dev_raw, key, value, words)


def test_load_gate_targets_are_read_from_the_stack_config(dev_raw, akita_raw):
    """The allowed twin: dev and akita carry the three keys the load gate reads, with sane values."""
    from municloud_ops.loadtest.targets import sla_from_config

    for raw, expected in ((dev_raw, (200, 500, 0.01, 100)), (akita_raw, (200, 500, 0.01, 100))):
        sla = load("x", raw).sla
        assert (sla.concurrent_users, sla.p95_ms, sla.max_failure_ratio, sla.min_rps) == expected
        gate = sla_from_config(sla.concurrent_users, raw["sla"])
        assert gate.source == "stack config"
    dev_raw["sla"] = {"p95_ms": 80.5, "max_failure_ratio": 0, "min_rps": 0}
    sla = load("dev", dev_raw).sla
    assert (sla.p95_ms, sla.max_failure_ratio, sla.min_rps, sla.concurrent_users) == (80.5, 0, 0, 200)


# A consortium's own passphrase: generated, so no literal passphrase sits in the repository.
OWN = secrets.token_hex(16)


def test_production_stack_refuses_the_documented_dev_passphrase(akita_raw):
    from stacks.automation import DEV_PASSPHRASE
    from stacks.config import check_secrets_provider

    akita = load("akita", akita_raw)
    assert akita.environment == "production"
    with pytest.raises(ConfigError) as exc:
        check_secrets_provider(akita, {"PULUMI_CONFIG_PASSPHRASE": DEV_PASSPHRASE})
    assert exc.value.key == "municloud:environment"
    assert "passphrase" in exc.value.reason


def test_twin_production_with_its_own_passphrase_and_dev_with_the_documented_one(dev_raw, akita_raw):
    from stacks.automation import DEV_PASSPHRASE
    from stacks.config import check_secrets_provider

    check_secrets_provider(load("akita", akita_raw), {"PULUMI_CONFIG_PASSPHRASE": OWN})
    check_secrets_provider(load("dev", dev_raw), {"PULUMI_CONFIG_PASSPHRASE": DEV_PASSPHRASE})


def test_environment_must_be_known(dev_raw):
    dev_raw["environment"] = "staging"
    with pytest.raises(ConfigError) as exc:
        load("dev", dev_raw)
    assert exc.value.key == "municloud:environment"


@pytest.mark.parametrize("key, value, words", [
    ("max_lag_seconds", 0, "greater than 0"),
    ("max_lag_seconds", 7200, "less than or equal to 3600"),
    ("local_recovery_seconds", -1, "greater than 0"),
    ("local_recovery_seconds", "soon", "valid number"),
])
def test_bad_dr_bound_names_the_key(dev_raw, key, value, words):
    _assert_sla_value_refused(dev_raw, key, value, words)


def test_dr_bounds_are_read_from_the_stack_config_with_defaults(dev_raw):
    assert (load("dev", dev_raw).sla.max_lag_seconds, load("dev", dev_raw).sla.local_recovery_seconds) == (5, 30)
    dev_raw["sla"] = {**(dev_raw.get("sla") or {}), "max_lag_seconds": 2.5, "local_recovery_seconds": 45}
    sla = load("dev", dev_raw).sla
    assert (sla.max_lag_seconds, sla.local_recovery_seconds) == (2.5, 45)


@pytest.mark.unit
def test_edge_certificate_renewal_threshold_must_be_below_the_validity(dev_raw):
    from stacks.config import ConfigError, load

    with pytest.raises(ConfigError, match="edge_cert_renew_before_days must be less than"):
        load("dev", {**dev_raw, "edge_cert_validity_days": 10, "edge_cert_renew_before_days": 10})
    with pytest.raises(ConfigError, match="edge_cert_validity_days"):
        load("dev", {**dev_raw, "edge_cert_validity_days": 400})
    assert load("dev", {**dev_raw, "edge_cert_validity_days": 10, "edge_cert_renew_before_days": 3}
                ).edge_cert_validity_days == 10  # twin


# -- sites: site-hosts (decision 0045) ---------------------------------------------------------------

def _site_hosts_file(state, primary_block="10.252.4.0/24", dr_block="10.252.8.0/24"):
    (state / "sites").mkdir(parents=True)
    tls = {"tls_ca_cert": "/pki/ca.pem", "tls_cert": "/pki/client-cert.pem", "tls_key": "/pki/client-key.pem"}
    (state / "sites" / "sites.yaml").write_text(
        f"primary: {{docker_host: 'tcp://10.250.0.6:2376', role: primary, wan_subnet: '{primary_block}', "
        f"tls_ca_cert: {tls['tls_ca_cert']}, tls_cert: {tls['tls_cert']}, tls_key: {tls['tls_key']}}}\n"
        f"dr: {{docker_host: 'tcp://10.250.0.10:2376', role: dr, wan_subnet: '{dr_block}', "
        f"tls_ca_cert: {tls['tls_ca_cert']}, tls_cert: {tls['tls_cert']}, tls_key: {tls['tls_key']}}}\n")


def test_site_hosts_are_the_sites_the_set_up_wrote(dev_raw, tmp_path, monkeypatch):
    import municloud_ops.images

    monkeypatch.setattr(municloud_ops.images, "STATE_DIR", tmp_path)
    _site_hosts_file(tmp_path)
    cfg = load("dev", {**dev_raw, "sites": "site-hosts"})
    assert {n: (s.docker_host, s.wan_subnet) for n, s in cfg.sites.items()} == {
        "primary": ("tcp://10.250.0.6:2376", "10.252.4.0/24"), "dr": ("tcp://10.250.0.10:2376", "10.252.8.0/24")}
    assert cfg.routed_wan
    assert cfg.frontdoor_listen_address() == "10.252.4.1"  # what `make up` publishes at 127.0.0.1
    # a reader that reaches no engine reads the same members without the hosts' file
    lean = load("dev", {**dev_raw, "sites": "site-hosts"}, engines=False)
    assert [m.lgcode for m in lean.municipalities] == [m.lgcode for m in cfg.municipalities]
    assert not lean.routed_wan


def test_the_site_host_of_an_address_is_the_one_whose_routed_block_holds_it(tmp_path, monkeypatch):
    import municloud_ops.images
    from stacks.config import site_host_of

    monkeypatch.setattr(municloud_ops.images, "STATE_DIR", tmp_path)
    assert site_host_of("10.252.4.1") is None  # no site hosts on this machine
    _site_hosts_file(tmp_path)
    assert site_host_of("10.252.4.1") == "primary"
    assert site_host_of("10.252.7.200") == "primary"  # the host's /22: the four blocks of wan.sh
    assert site_host_of("10.252.8.1") == "dr"
    assert site_host_of("10.252.12.1") is None and site_host_of("127.0.0.1") is None
    assert site_host_of("not-an-address") is None


def test_twin_site_hosts_without_the_set_up_are_refused_naming_the_key(dev_raw, tmp_path, monkeypatch):
    import municloud_ops.images

    monkeypatch.setattr(municloud_ops.images, "STATE_DIR", tmp_path)
    with pytest.raises(ConfigError, match=r"make setup") as err:
        load("dev", {**dev_raw, "sites": "site-hosts"})
    assert err.value.key == "municloud:sites"
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "sites.yaml").write_text("just text\n")
    with pytest.raises(ConfigError, match=r"not a municloud:sites value"):
        load("dev", {**dev_raw, "sites": "site-hosts"})


def test_scratch_stacks_of_a_file_on_the_site_hosts_run_on_one_engine_unless_they_ask(tmp_path, monkeypatch):
    import stacks.automation
    from stacks.automation import stack_config

    dev = (stacks.automation.REPO_ROOT / "Pulumi.dev.yaml").read_text(encoding="utf-8")
    (tmp_path / "Pulumi.hosted.yaml").write_text(dev.replace("  # municloud:sites: site-hosts",
                                                             "  municloud:sites: site-hosts"), encoding="utf-8")
    monkeypatch.setattr(stacks.automation, "REPO_ROOT", tmp_path)
    assert stack_config("hosted", site_hosts=True)["municloud:sites"] == "site-hosts"
    assert "municloud:sites" not in stack_config("hosted")  # tests and benchmarks: the machine's engine
    assert stack_config("hosted", sites={"x": 1})["municloud:sites"] == {"x": 1}  # given: kept
