"""Load targets: SLA figures from the stack config (defaults only for missing keys, named in
the source), loopback only, a key for every municipality."""

import pytest

from municloud_ops.loadtest.sla import SlaTargets
from municloud_ops.loadtest.targets import (LOAD_SLA_DEFAULTS, LoadTarget, Municipality, TargetError,
                                        municipalities_and_sla, sla_from_config)

pytestmark = pytest.mark.unit

SLA = SlaTargets(10, 100, 0.01, 5)
MUNIS = (Municipality("053031", "小坂町", 5864), Municipality("053279", "上小阿仁村", 2697))
KEYS = {"053031": "/k/053031.pem", "053279": "/k/053279.pem"}


def test_stack_values_win_over_defaults():
    sla = sla_from_config(200, {"p95_ms": 80, "max_failure_ratio": 0.0, "min_rps": 300})
    assert (sla.p95_ms, sla.max_failure_ratio, sla.min_rps) == (80.0, 0.0, 300.0)
    assert sla.source == "stack config"


def test_missing_keys_fall_back_to_the_defaults_and_say_so():
    sla = sla_from_config(200, {})
    assert sla.p95_ms == LOAD_SLA_DEFAULTS["p95_ms"]
    assert sla.min_rps == 200 * LOAD_SLA_DEFAULTS["min_rps_per_user"]
    assert sla.source == "stack config; loadtest defaults for p95_ms, max_failure_ratio, min_rps"


def test_dev_stack_config_gives_municipalities_populations_and_users():
    municipalities, sla, port = municipalities_and_sla("dev")
    assert {m.lgcode for m in municipalities} == {"053031", "053279", "053465"}
    assert all(m.population > 0 for m in municipalities)
    assert sla.concurrent_users > 0 and 1024 <= port <= 65535


def test_unknown_stack_is_named():
    with pytest.raises(TargetError, match="Pulumi.nosuch.yaml not found"):
        municipalities_and_sla("nosuch")


def test_loopback_target_is_accepted_and_round_trips():
    target = LoadTarget("dev", "https://127.0.0.1:8443", MUNIS, SLA, KEYS)
    assert LoadTarget.from_json(target.to_json()) == target
    assert target.prefix("053031", "tax") == "/053031/tax"


@pytest.mark.parametrize("where, kwargs", [
    ("base_url", {"base_url": "https://example.org:8443"}),
    ("053031/residents_registry", {"service_urls": {"053031/residents_registry": "http://10.0.0.5:8000"}}),
])
def test_any_other_host_is_refused(where, kwargs):
    values = {"stack": "dev", "base_url": "https://127.0.0.1:8443", "municipalities": MUNIS,
              "sla": SLA, "key_files": KEYS, **kwargs}
    with pytest.raises(TargetError, match=f"{where}: load tests only target 127.0.0.1"):
        LoadTarget(**values)


def test_a_municipality_without_key_is_refused():
    with pytest.raises(TargetError, match="no token-signing key for 053279"):
        LoadTarget("dev", "https://127.0.0.1:8443", MUNIS, SLA, {"053031": "/k/053031.pem"})
