"""Shared vs standalone: the arithmetic of the comparison (docs/cost.md, "Shared vs standalone").

The benchmark (benchmarks/cost_shared_vs_standalone.py) measures one consortium stack and, for
each member, a standalone stack (that member only, everything else of the config unchanged); this
module derives the standalone configs and turns the measured figures into the saving:

    per stack, per hour:  cpu_core_h  = CPU-seconds of its containers (cgroup) / window seconds
                          memory_gib  = mean memory in use of its containers (cgroup), GiB
                          storage_gib = its volumes + its images (each image once per engine), GiB
    yen per hour          = cpu_core_h × cpu_core_hour + memory_gib × memory_gib_hour
                            + storage_gib × storage_gib_month / hours per month
    saving (resource r)   = 1 − consortium_r / Σ standalone_r
    saving (priced)       = 1 − consortium yen / Σ standalone yen

Prices are the config's `municloud:cost.unit_prices` (exact decimals); hours per month = 365.25 ×
24 / 12. The breakdown per component (gateway, hub, backup repository, ...) shows which parts the
saving comes from: a part that exists once in the consortium and n times standalone.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any

GIB = 1 << 30
HOURS_PER_MONTH = Fraction(36525, 100) * 24 / 12
HOURS_PER_YEAR = Fraction(36525, 100) * 24
RESOURCES = ("cpu", "memory", "storage")


def standalone_config(consortium: dict[str, Any], lgcode: str) -> dict[str, Any]:
    """The stack config of ``lgcode`` on its own: the consortium's config (same SLA, cost, sites,
    environment) with only that member; the program then gives it its own gateway, hub, backup
    repository, DR standby and frontdoor, as it gives every stack."""
    members = consortium.get("municloud:municipalities") or []
    chosen = [m for m in members if str(m.get("lgcode")) == lgcode]
    if not chosen:
        raise ValueError(f"{lgcode} is not a member of the consortium config "
                         f"(members: {[str(m.get('lgcode')) for m in members]})")
    config = copy.deepcopy(consortium)
    config["municloud:municipalities"] = copy.deepcopy(chosen)
    return config


@dataclass
class ContainerFigures:
    name: str
    component: str
    owner: str           # a member's code or `shared`
    cpu_s: float         # CPU-seconds over the window (cgroup cpuacct)
    memory_bytes: float  # mean memory in use over the window (cgroup: usage − inactive file)
    volume_bytes: int    # its volumes (du), each volume counted once in the stack
    image: str           # image id


@dataclass
class StackFigures:
    stack: str
    kind: str                   # consortium | standalone
    members: list[str]
    window_s: float
    containers: list[ContainerFigures]
    image_bytes: dict[str, int]  # image id -> size, once per engine
    meter_yen: float = 0.0       # the existing meter's priced usage of the window (cross-check)
    load: str = ""
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def cpu_core_h_per_h(self) -> Fraction:
        return Fraction(sum(c.cpu_s for c in self.containers)) / Fraction(self.window_s)

    @property
    def memory_gib(self) -> Fraction:
        return Fraction(sum(c.memory_bytes for c in self.containers)) / GIB

    @property
    def storage_gib(self) -> Fraction:
        used = {c.image for c in self.containers}
        images = sum(size for image, size in self.image_bytes.items() if image in used)
        return Fraction(sum(c.volume_bytes for c in self.containers) + images, GIB)

    @property
    def count(self) -> int:
        return len(self.containers)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "StackFigures":
        raw = dict(raw)
        raw["containers"] = [ContainerFigures(**c) for c in raw["containers"]]
        return cls(**raw)


def _price(prices) -> dict[str, Fraction]:
    return {"cpu": Fraction(str(prices.cpu_core_hour)), "memory": Fraction(str(prices.memory_gib_hour)),
            "storage": Fraction(str(prices.storage_gib_month)) / HOURS_PER_MONTH}


def quantities(s: StackFigures) -> dict[str, Fraction]:
    """Per hour: CPU core-hours, GiB of memory held, GiB stored."""
    return {"cpu": s.cpu_core_h_per_h, "memory": s.memory_gib, "storage": s.storage_gib}


def yen_per_hour(s: StackFigures, prices) -> dict[str, Fraction]:
    p = _price(prices)
    q = quantities(s)
    return {r: q[r] * p[r] for r in RESOURCES}


def _saving(shared: Fraction, alone: Fraction) -> Fraction | None:
    return None if alone == 0 else 1 - shared / alone


def _components(s: StackFigures) -> dict[str, dict[str, Fraction]]:
    out: dict[str, dict[str, Fraction]] = {}
    for c in s.containers:
        key = f"{c.component} ({'shared' if c.owner == 'shared' else 'per member'})"
        row = out.setdefault(key, {"cpu": Fraction(0), "memory": Fraction(0), "storage": Fraction(0),
                                   "count": Fraction(0)})
        row["cpu"] += Fraction(c.cpu_s) / Fraction(s.window_s)
        row["memory"] += Fraction(c.memory_bytes) / GIB
        row["storage"] += Fraction(c.volume_bytes, GIB)
        row["count"] += 1
    used = {c.image for c in s.containers}
    images = sum(size for image, size in s.image_bytes.items() if image in used)
    out["images (once per engine)"] = {"cpu": Fraction(0), "memory": Fraction(0),
                                       "storage": Fraction(images, GIB), "count": Fraction(0)}
    return out


@dataclass
class Comparison:
    consortium: dict[str, Fraction]      # quantity per resource (per hour), plus count
    standalone: dict[str, Fraction]      # Σ over the standalone stacks
    consortium_yen: dict[str, Fraction]  # yen per hour per resource
    standalone_yen: dict[str, Fraction]
    saving: dict[str, Fraction | None]   # per resource, and `count`, and `priced`
    components: list[tuple[str, dict[str, Fraction], dict[str, Fraction], Fraction]]
    # (component, consortium quantities, Σ standalone quantities, yen/hour saved by it)

    @property
    def priced_saving(self) -> Fraction | None:
        return self.saving["priced"]


def compare(consortium: StackFigures, standalone: list[StackFigures], prices) -> Comparison:
    """Saving per resource and priced, and the breakdown per component (``prices``: UnitPrices)."""
    if not standalone:
        raise ValueError("no standalone stacks to compare with")
    wanted, got = sorted(consortium.members), sorted(m for s in standalone for m in s.members)
    if wanted != got:
        raise ValueError(f"the standalone stacks cover {got}, the consortium has {wanted}")
    cq = {**quantities(consortium), "count": Fraction(consortium.count)}
    sq = {r: sum((quantities(s)[r] for s in standalone), Fraction(0)) for r in RESOURCES}
    sq["count"] = Fraction(sum(s.count for s in standalone))
    cy = yen_per_hour(consortium, prices)
    sy = {r: sum((yen_per_hour(s, prices)[r] for s in standalone), Fraction(0)) for r in RESOURCES}
    saving: dict[str, Fraction | None] = {r: _saving(cq[r], sq[r]) for r in (*RESOURCES, "count")}
    saving["priced"] = _saving(sum(cy.values()), sum(sy.values()))
    p = _price(prices)
    ccomp = _components(consortium)
    scomp: dict[str, dict[str, Fraction]] = {}
    for s in standalone:
        for key, row in _components(s).items():
            acc = scomp.setdefault(key, {k: Fraction(0) for k in row})
            for k, v in row.items():
                acc[k] += v
    zero = {"cpu": Fraction(0), "memory": Fraction(0), "storage": Fraction(0), "count": Fraction(0)}
    rows = []
    for key in sorted(set(ccomp) | set(scomp)):
        c, a = ccomp.get(key, zero), scomp.get(key, zero)
        saved = sum(((a[r] - c[r]) * p[r] for r in RESOURCES), Fraction(0))
        rows.append((key, c, a, saved))
    rows.sort(key=lambda row: -row[3])
    return Comparison(cq, sq, cy, sy, saving, rows)


def pct(x: Fraction | None) -> str:
    return "n/a" if x is None else f"{float(x) * 100:.1f} %"


def markdown(result: Comparison, consortium: StackFigures, standalone: list[StackFigures]) -> str:
    """The tables of the generated section: totals per resource, then the parts the saving comes from."""
    units = {"cpu": "CPU core-h per h (= cores busy)", "memory": "memory GiB", "storage": "storage GiB",
             "count": "containers"}
    lines = ["| resource | consortium | Σ standalone | saving | consortium yen/year | Σ standalone yen/year |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in (*RESOURCES, "count"):
        cy = f"{float(result.consortium_yen[r] * HOURS_PER_YEAR):,.0f}" if r in RESOURCES else ""
        sy = f"{float(result.standalone_yen[r] * HOURS_PER_YEAR):,.0f}" if r in RESOURCES else ""
        lines.append(f"| {units[r]} | {float(result.consortium[r]):.4f} | {float(result.standalone[r]):.4f} | "
                     f"{pct(result.saving[r])} | {cy} | {sy} |")
    ctot = sum(result.consortium_yen.values()) * HOURS_PER_YEAR
    stot = sum(result.standalone_yen.values()) * HOURS_PER_YEAR
    lines.append(f"| **priced (unit prices)** | | | **{pct(result.priced_saving)}** | {float(ctot):,.0f} | "
                 f"{float(stot):,.0f} |")
    total_saved = sum(row[3] for row in result.components)
    lines += ["", "Where the saving comes from (per component: consortium vs Σ standalone; yen/year saved at "
              "the unit prices; share of the priced saving):", "",
              "| component | containers | CPU cores | memory GiB | storage GiB | yen/year saved | share |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for key, c, a, saved in result.components:
        share = pct(saved / total_saved) if total_saved else "n/a"
        lines.append(f"| {key} | {int(c['count'])} vs {int(a['count'])} | {float(c['cpu']):.4f} vs "
                     f"{float(a['cpu']):.4f} | {float(c['memory']):.3f} vs {float(a['memory']):.3f} | "
                     f"{float(c['storage']):.3f} vs {float(a['storage']):.3f} | "
                     f"{float(saved * HOURS_PER_YEAR):,.0f} | {share} |")
    lines += ["", per_stack([consortium, *standalone])]
    return "\n".join(lines)


def per_stack(stacks: list[StackFigures]) -> str:
    """One row per measured stack (also for a run that did not complete: figures, no saving)."""
    lines = ["Per stack (window, CPU-seconds in the window, mean memory, storage, containers, the existing "
             "meter's priced usage of the window, load average 1/5/15 min at the window's end):", "",
             "| stack | kind | members | window s | CPU-s | memory GiB | storage GiB | containers | meter yen | load |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for s in stacks:
        lines.append(f"| {s.stack} | {s.kind} | {', '.join(s.members)} | {s.window_s:.0f} | "
                     f"{sum(c.cpu_s for c in s.containers):.1f} | {float(s.memory_gib):.3f} | "
                     f"{float(s.storage_gib):.3f} | {s.count} | {s.meter_yen:.4f} | {s.load} |")
    return "\n".join(lines)
