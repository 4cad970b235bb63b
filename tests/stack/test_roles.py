"""Roles through municloud_ops.ansible: a rerun with unchanged inputs reports changed=0."""

import pytest

from municloud_ops.ansible import AnsibleRunner

pytestmark = [pytest.mark.integration, pytest.mark.stack]


@pytest.mark.parametrize("role,variables,output", [
    ("gateway", {"gateway_routes": [{"lgcode": "053031", "service": "tax", "host": "mc-t-primary-053031-tax",
                                     "port": 8000}]}, "nginx.conf"),
    ("frontdoor", {"frontdoor_backends": [{"name": "primary", "host": "10.201.250.240", "port": 8444,
                                           "source": "10.201.250.1", "backup": False},
                                          {"name": "dr", "host": "10.201.251.240", "port": 8444, "backup": True}]},
     "haproxy.cfg"),
    ("docker_host", {}, "daemon.json"),
])
def test_second_run_changes_nothing(tmp_path, role, variables, output):
    runner = AnsibleRunner(tmp_path / "state")
    out = tmp_path / "out"
    first = runner.apply_role(role, {**variables, f"{role}_output_dir": str(out)})
    assert (first.status, first.rc) == ("successful", 0)
    assert first.changed > 0
    second = runner.apply_role(role, {**variables, f"{role}_output_dir": str(out)})
    assert (second.status, second.changed) == ("successful", 0), second.sentence()
    assert "changed=0" in second.sentence()
    assert "Ansible managed" in (out / output).read_text()


def test_bad_route_fails_the_role(tmp_path):
    runner = AnsibleRunner(tmp_path / "state")
    run = runner.apply_role("gateway", {"gateway_output_dir": str(tmp_path / "o"),
                                        "gateway_routes": [{"lgcode": "53031", "service": "tax", "host": "h",
                                                            "port": 8000}]})
    assert run.status == "failed" and run.rc != 0
    assert not (tmp_path / "o" / "nginx.conf").exists()


def test_a_frontdoor_backend_named_by_host_name_fails_the_role(tmp_path):
    """On the host network Docker's DNS does not answer: a gateway is named by its address."""
    runner = AnsibleRunner(tmp_path / "state")
    run = runner.apply_role("frontdoor", {"frontdoor_output_dir": str(tmp_path / "o"), "frontdoor_backends": [
        {"name": "primary", "host": "mc-t-primary-gateway", "port": 8444, "source": "10.201.250.1", "backup": False}]})
    assert run.status == "failed" and run.rc != 0
    assert not (tmp_path / "o" / "haproxy.cfg").exists()


def test_hardening_audit_fails_an_unhardened_container_and_passes_a_hardened_one(tmp_path):
    import secrets

    import docker

    from municloud_ops.images import ensure_image

    client = docker.from_env()
    stack = f"harden{secrets.token_hex(3)}"
    labels = {"municloud.stack": stack, "municloud.site": "primary", "municloud.lgcode": "shared",
              "municloud.component": "gateway"}
    image = ensure_image("nginx")
    runner = AnsibleRunner(tmp_path / "state")
    hardened = client.containers.run(image, ["sleep", "60"], detach=True, labels=labels, user="33",
                                     cap_drop=["ALL"], security_opt=["no-new-privileges:true"], read_only=True,
                                     network_mode="none", entrypoint=[])
    try:
        ok = runner.apply_role("hardening", {"hardening_stack": stack})
        assert (ok.status, ok.changed) == ("successful", 0), ok.sentence()
        loose = client.containers.run(image, ["sleep", "60"], detach=True, labels=labels, user="0",
                                      network_mode="none", entrypoint=[])
        try:
            bad = runner.apply_role("hardening", {"hardening_stack": stack})
            assert bad.status == "failed", bad.sentence()
        finally:
            loose.remove(force=True)
    finally:
        hardened.remove(force=True)
