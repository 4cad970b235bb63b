"""SLA targets of a stack (from Pulumi.<stack>.yaml through stacks.config, one source) and the
SLA report in the policy's table form (Guideline 6): item, promised grade, measured."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from municloud_ops.images import REPO_ROOT


def load_stack_config(stack: str, *, engines: bool = True):
    """The validated StackConfig of ``stack``, or None when there is no Pulumi.<stack>.yaml
    (``engines``: stacks.config.load's)."""
    from stacks.config import NAMESPACE, load

    path = REPO_ROOT / f"Pulumi.{stack}.yaml"
    if not path.exists():
        return None
    raw = (yaml.safe_load(path.read_text()) or {}).get("config", {})
    prefix = f"{NAMESPACE}:"
    return load(stack, {k[len(prefix):]: v for k, v in raw.items() if k.startswith(prefix)}, engines=engines)


def sla_targets(stack: str):
    """The stack's SlaConfig; a stack without a config file (a test lab) gets the defaults."""
    from stacks.config import DEFAULTS, SlaConfig

    cfg = load_stack_config(stack, engines=False)
    return cfg.sla if cfg is not None else SlaConfig(**DEFAULTS["sla"])


def report_rows(result, sla, backup: dict | None = None) -> list[tuple[str, str, str]]:
    """(item, promised, measured) rows; every measured figure comes from ``result``/``backup``."""
    rpo_promise = ("0 acknowledged writes lost (synchronous replication)" if result.mode == "synchronous"
                   else f"≤ {sla.max_lag_seconds} s of writes (asynchronous, configured lag bound)")
    rows = [
        ("availability", f"{sla.availability_percent} % (policy example 99–99.5 %)",
         f"{result.availability:.2%} of {result.writes_attempted} write probes succeeded during the "
         f"rehearsal window, which contains the injected site failure"),
        ("disaster recovery", "remote backup + DR site; emergency procedure `municloud dr failover`",
         f"site failure injected; failover steps done in {result.failover_seconds} s: "
         + "; ".join(s for s in result.steps[:6])),
        ("mean time to recover (RTO)", f"≤ {sla.rto_seconds} s (policy example about 3 h; national standard 12 h)",
         f"{result.rto_seconds} s from failure to the first acknowledged write at the DR site"),
        ("recovery point (RPO)", rpo_promise,
         f"{result.rpo_lost_writes} of {result.writes_acknowledged} acknowledged writes lost "
         f"({result.rpo_seconds} s of writes)"),
    ]
    if result.failback_seconds is not None:
        rows.append(("failback", "planned switchover back, no write lost",
                     f"{'all' if result.failback_kept_dr_writes else 'NOT all'} {result.dr_writes} DR-site "
                     f"writes present at the primary site after failback ({result.failback_seconds} s)"))
    if backup:
        rows.append(("backup method", "pgBackRest full + differential, continuous WAL archiving, "
                     "aes-256-cbc, repository at the DR site",
                     f"last backup {backup['label']} ({backup['type']}), age {backup['age_seconds']:.0f} s"))
    rows.append(("backup retention", f"{sla.backup_retention_full} full / {sla.backup_retention_diff} "
                 "differential generations", "enforced by pgBackRest expire after each backup "
                 "(repo1-retention-full/diff)"))
    rows.append(("service status check", "online, real time", "`municloud dr status` (replication lag, "
                 "last backup, last verify)"))
    return rows


def render_report(result, sla, backup: dict | None = None) -> str:
    lines = [f"## Rehearsal {result.started_at} — stack `{result.stack}`, municipality {result.lgcode}, "
             f"{result.mode}", "",
             f"Measured by `municloud dr rehearse` (run {result.run_id}): numbered writes every few tens "
             f"of ms through the frontdoor (DR probe `POST /<lgcode>/residents_registry/api/v1/dr-probe`, "
             f"acknowledged by HTTP 201 after COMMIT), SIGKILL of every primary-site container, automatic "
             f"failover. Machine load average {result.host_load_average} at the failure (shared 2-core host).", "",
             "| SLA item | promised | measured |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in report_rows(result, sla, backup)]
    return "\n".join(lines) + "\n"


def append_report(path: Path, text: str) -> Path:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# SLA report (generated)\n\nEach section is appended by `municloud dr rehearse`; "
                        f"first written {dt.date.today().isoformat()}.\n\n")
    with path.open("a") as f:
        f.write("\n" + text)
    return path
