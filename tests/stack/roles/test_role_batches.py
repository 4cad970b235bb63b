"""Many hosts in one ansible-runner run, the group commit that gathers concurrent renders, and the
controller-side template action the rendering roles use (real ansible-runner runs, no stand-ins)."""

from __future__ import annotations

import os
import threading

import pytest

from municloud_ops.ansible import AnsibleRunError, AnsibleRunner, GroupCommit, RoleRequest

pytestmark = [pytest.mark.integration, pytest.mark.stack]

BASE = {"postgres_databases": ["residents_registry", "tax", "nhi"], "postgres_allowed_networks": ["10.201.1.0/24"],
        "postgres_replication_networks": ["10.201.254.0/24"], "postgres_max_connections": 100}
ROUTE = {"lgcode": "053031", "service": "tax", "host": "mc-t-primary-053031-tax", "port": 8000}


def _pg(out, host: str, memory_mb: int) -> RoleRequest:
    return RoleRequest("postgres", host, {**BASE, "postgres_memory_mb": memory_mb,
                                          "postgres_output_dir": str(out / host)})


def _shared_buffers(path) -> str:
    return next(line for line in path.read_text().splitlines() if line.startswith("shared_buffers"))


class CountingRunner(AnsibleRunner):
    """A real runner that also records the hosts of each run it makes."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.runs: list[list[str]] = []
        self._lock = threading.Lock()

    def apply_roles(self, requests):
        with self._lock:
            self.runs.append([r.host for r in requests])
        return super().apply_roles(requests)


def test_one_run_applies_two_roles_to_three_hosts_each_with_its_own_variables(tmp_path):
    runner = AnsibleRunner(tmp_path / "state")
    out = tmp_path / "out"
    requests = [_pg(out, "c1-postgres", 1024), _pg(out, "c2-postgres", 2048),
                RoleRequest("gateway", "gw", {"gateway_routes": [ROUTE], "gateway_output_dir": str(out / "gw")})]
    first = runner.apply_roles(requests)
    assert set(first) == {"c1-postgres", "c2-postgres", "gw"}
    for host, run in first.items():
        assert (run.status, run.rc, run.batch) == ("successful", 0, 3), run.sentence()
        assert set(run.stats) == {host} and run.changed >= 1
        assert "(one run for 3 hosts)" in run.sentence()
    assert first["c1-postgres"].changed == first["c2-postgres"].changed == 2  # postgresql.conf, pg_hba.conf
    # each host rendered from its own variables, not from another's
    assert _shared_buffers(out / "c1-postgres" / "postgresql.conf") == "shared_buffers = '256MB'"
    assert _shared_buffers(out / "c2-postgres" / "postgresql.conf") == "shared_buffers = '512MB'"
    assert "mc-t-primary-053031-tax" in (out / "gw" / "nginx.conf").read_text()
    # one private data dir for the run, and its host variables are gone
    [pdd] = list((tmp_path / "state" / "ansible").iterdir())
    assert not list(pdd.rglob("hosts.json"))

    second = runner.apply_roles(requests)
    assert all((r.status, r.changed) == ("successful", 0) for r in second.values()), \
        [r.sentence() for r in second.values()]


def test_a_host_with_bad_variables_fails_alone_and_names_the_variable(tmp_path):
    runner = AnsibleRunner(tmp_path / "state")
    out = tmp_path / "out"
    bad = RoleRequest("postgres", "bad-postgres", {**BASE, "postgres_memory_mb": 512,
                                                   "postgres_databases": ["Tax;drop"],
                                                   "postgres_output_dir": str(out / "bad")})
    runs = runner.apply_roles([_pg(out, "good-postgres", 512), bad])
    assert runs["good-postgres"].status == "successful" and (out / "good-postgres" / "pg_hba.conf").is_file()
    failed = runs["bad-postgres"]
    assert failed.status == "failed" and failed.rc != 0, failed.sentence()
    assert any("invalid or reserved database name 'Tax;drop'" in f for f in failed.failures), failed.failures
    assert not runs["good-postgres"].failures  # the other host's failure is not reported as its own
    assert not (out / "bad").exists()


def test_a_batch_naming_a_host_twice_or_an_unknown_role_is_refused_before_it_runs(tmp_path):
    runner = AnsibleRunner(tmp_path / "state")
    with pytest.raises(AnsibleRunError, match=r"names a host twice: \['h'\]"):
        runner.apply_roles([_pg(tmp_path, "h", 512), _pg(tmp_path, "h", 1024)])
    with pytest.raises(AnsibleRunError, match="role nosuch: no roles/nosuch/tasks/main.yml"):
        runner.apply_roles([RoleRequest("nosuch", "h", {})])
    with pytest.raises(AnsibleRunError, match="host name 'a b' is not an inventory name"):
        runner.apply_roles([_pg(tmp_path, "a b", 512)])
    assert not (tmp_path / "state" / "ansible").exists()


def test_group_commit_serves_concurrent_callers_with_few_runs(tmp_path):
    runner = CountingRunner(tmp_path / "state")
    group = GroupCommit(runner, max_runs=1)
    out = tmp_path / "out"
    hosts = [f"m{i}-postgres" for i in range(6)]
    start = threading.Barrier(len(hosts))
    results: dict[str, object] = {}

    def call(i: int, host: str) -> None:
        start.wait()
        try:
            results[host] = group.apply("postgres", host, {**BASE, "postgres_memory_mb": 512 + 512 * (i % 2),
                                                           "postgres_output_dir": str(out / host)})
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[host] = exc

    threads = [threading.Thread(target=call, args=(i, h)) for i, h in enumerate(hosts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(not t.is_alive() for t in threads)
    assert all(getattr(results[h], "status", None) == "successful" for h in hosts), results
    # six renders, one run at a time: the first caller's run, then everybody who waited, together
    assert sorted(h for run in runner.runs for h in run) == sorted(hosts)
    assert len(runner.runs) <= 2, runner.runs
    for i, host in enumerate(hosts):  # each caller got the files of its own variables (512 or 1024 MB)
        expected = "128MB" if i % 2 == 0 else "256MB"
        assert _shared_buffers(out / host / "postgresql.conf") == f"shared_buffers = '{expected}'"


def test_group_commit_runs_one_host_asked_twice_in_two_runs_and_refuses_a_bad_request_alone(tmp_path):
    runner = CountingRunner(tmp_path / "state")
    group = GroupCommit(runner, max_runs=2)
    out = tmp_path / "out"
    variables = [{**BASE, "postgres_memory_mb": m, "postgres_output_dir": str(out / "same")} for m in (512, 2048)]
    results = []
    start = threading.Barrier(2)

    def call(v):
        start.wait()
        results.append(group.apply("postgres", "same-postgres", v))

    threads = [threading.Thread(target=call, args=(v,)) for v in variables]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [r.status for r in results] == ["successful", "successful"]
    assert sorted(map(len, runner.runs)) == [1, 1]  # never twice in one inventory
    assert _shared_buffers(out / "same" / "postgresql.conf") in ("shared_buffers = '128MB'",
                                                                  "shared_buffers = '512MB'")
    with pytest.raises(AnsibleRunError, match="role nosuch"):
        group.apply("nosuch", "x", {})
    assert len(runner.runs) == 2  # the bad request started no run


def test_the_controller_template_puts_back_a_changed_file_and_its_mode(tmp_path):
    runner = AnsibleRunner(tmp_path / "state")
    variables = {"gateway_routes": [ROUTE], "gateway_output_dir": str(tmp_path / "o")}
    first = runner.apply_role("gateway", variables)
    conf = tmp_path / "o" / "nginx.conf"
    rendered = conf.read_text()
    assert first.changed == 1 and oct(conf.stat().st_mode & 0o7777) == "0o644"
    conf.write_text(rendered + "# edited by hand\n")
    os.chmod(conf, 0o666)
    again = runner.apply_role("gateway", variables)
    assert (again.status, again.changed) == ("successful", 1), again.sentence()
    assert conf.read_text() == rendered and oct(conf.stat().st_mode & 0o7777) == "0o644"
    os.chmod(conf, 0o600)
    mode_only = runner.apply_role("gateway", variables)
    assert mode_only.changed == 1 and oct(conf.stat().st_mode & 0o7777) == "0o644"
    assert runner.apply_role("gateway", variables).changed == 0
    assert not list((tmp_path / "o").glob(".controller_template.*"))  # no temporary file left


def test_renders_for_new_containers_and_re_renders_have_separate_lanes(tmp_path):
    from municloud_ops.ansible import LANES, shared_group_commit

    create, update = shared_group_commit(tmp_path, "create"), shared_group_commit(tmp_path, "update")
    assert create is not update and create is shared_group_commit(tmp_path / ".", "create")
    assert (create.max_runs, update.max_runs) == (LANES["create"], LANES["update"]) == (2, 1)
    with pytest.raises(ValueError, match="unknown render lane 'urgent'"):
        shared_group_commit(tmp_path, "urgent")
