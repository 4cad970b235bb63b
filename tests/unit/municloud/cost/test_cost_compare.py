"""Shared vs standalone arithmetic (municloud_ops/cost/compare.py): the saving per resource and
priced, and its breakdown per component, recomputed by hand from given meter figures; the
standalone config derived from the consortium's."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from municloud_ops.cost.compare import (GIB, HOURS_PER_MONTH, ContainerFigures, StackFigures, compare,
                                        markdown, standalone_config)
from stacks.automation import stack_config
from stacks.config import DEFAULTS, UnitPrices

pytestmark = pytest.mark.unit

A, B = "053031", "053279"
HOUR = 3600.0
IMAGES = {"img-hub": GIB, "img-pg": GIB}


def hub() -> ContainerFigures:  # 0.1 core busy, 1 GiB held, no volume
    return ContainerFigures("hub", "hub", "shared", cpu_s=360.0, memory_bytes=GIB, volume_bytes=0, image="img-hub")


def postgres(code: str) -> ContainerFigures:  # 0.2 core busy, 0.5 GiB held, 1 GiB stored
    return ContainerFigures(f"pg-{code}", "postgres", code, cpu_s=720.0, memory_bytes=GIB / 2,
                            volume_bytes=GIB, image="img-pg")


def figures() -> tuple[StackFigures, list[StackFigures]]:
    consortium = StackFigures("c", "consortium", [A, B], HOUR, [hub(), postgres(A), postgres(B)], dict(IMAGES))
    alone = [StackFigures(f"s{code}", "standalone", [code], HOUR, [hub(), postgres(code)], dict(IMAGES))
             for code in (A, B)]
    return consortium, alone


def prices(**over) -> UnitPrices:
    return UnitPrices(**{**DEFAULTS["cost"]["unit_prices"], "cpu_core_hour": 10, "memory_gib_hour": 2,
                         "storage_gib_month": 20, **over})


def test_saving_per_resource_and_priced_by_hand():
    consortium, alone = figures()
    result = compare(consortium, alone, prices())
    # consortium: cpu 0.1 + 0.2 + 0.2 = 0.5, memory 1 + 0.5 + 0.5 = 2, storage 2 volumes + 2 images = 4, 3 containers
    assert result.consortium == {"cpu": Fraction(1, 2), "memory": 2, "storage": 4, "count": 3}
    # standalone, each: cpu 0.3, memory 1.5, storage 1 + 2 images = 3, 2 containers; two of them
    assert result.standalone == {"cpu": Fraction(3, 5), "memory": 3, "storage": 6, "count": 4}
    assert result.saving["cpu"] == Fraction(1, 6)
    assert result.saving["memory"] == result.saving["storage"] == Fraction(1, 3)
    assert result.saving["count"] == Fraction(1, 4)
    # yen/h: 0.5×10 + 2×2 + 4×20/730.5 = 13309/1461 against 0.6×10 + 3×2 + 6×20/730.5 = 17772/1461
    assert HOURS_PER_MONTH == Fraction(1461, 2)
    assert sum(result.consortium_yen.values()) == Fraction(13309, 1461)
    assert sum(result.standalone_yen.values()) == Fraction(17772, 1461)
    assert result.priced_saving == 1 - Fraction(13309, 17772) == Fraction(4463, 17772)


def test_breakdown_names_the_shared_parts_and_sums_to_the_saving():
    consortium, alone = figures()
    result = compare(consortium, alone, prices())
    rows = {key: (c, a, saved) for key, c, a, saved in result.components}
    assert result.components[0][0] == "hub (shared)"                 # the largest part comes first
    assert rows["hub (shared)"][2] == Fraction(1, 10) * 10 + 1 * 2  # one hub instead of two: 3 yen/h
    assert rows["postgres (per member)"][2] == 0                     # every member keeps its database
    assert rows["images (once per engine)"][2] == 2 * 20 / HOURS_PER_MONTH
    assert rows["hub (shared)"][0]["count"] == 1 and rows["hub (shared)"][1]["count"] == 2
    total = sum(saved for *_x, saved in result.components)
    assert total == sum(result.standalone_yen.values()) - sum(result.consortium_yen.values())


def test_the_prices_weight_the_priced_saving():
    consortium, alone = figures()
    only_memory = compare(consortium, alone, prices(cpu_core_hour=0, storage_gib_month=0))
    only_cpu = compare(consortium, alone, prices(memory_gib_hour=0, storage_gib_month=0))
    assert only_memory.priced_saving == only_memory.saving["memory"] == Fraction(1, 3)
    assert only_cpu.priced_saving == only_cpu.saving["cpu"] == Fraction(1, 6)


def test_no_sharing_means_no_saving():
    """Twin of the saving: a consortium that is exactly the standalone stacks side by side saves 0."""
    _c, alone = figures()
    side_by_side = StackFigures("c", "consortium", [A, B], HOUR,
                                [hub(), postgres(A), hub(), postgres(B)], dict(IMAGES))
    side_by_side.image_bytes = {"img-hub": 2 * GIB, "img-pg": 2 * GIB}  # two engines' copies
    result = compare(side_by_side, alone, prices())
    assert all(result.saving[r] == 0 for r in ("cpu", "memory", "storage", "count", "priced"))


def test_standalone_stacks_must_cover_the_members():
    consortium, alone = figures()
    with pytest.raises(ValueError, match=r"cover \['053031'\], the consortium has \['053031', '053279'\]"):
        compare(consortium, alone[:1], prices())
    with pytest.raises(ValueError, match="no standalone stacks"):
        compare(consortium, [], prices())
    assert compare(consortium, alone, prices()).priced_saving is not None  # allowed twin


def test_figures_round_trip_and_render():
    consortium, alone = figures()
    again = StackFigures.from_dict(json.loads(json.dumps(consortium.to_dict())))
    assert again == consortium
    text = markdown(compare(again, alone, prices()), again, alone)
    assert "| **priced (unit prices)** | | | **25.1 %** |" in text  # 4463/17772 = 25.11 %
    assert "| hub (shared) | 1 vs 2 |" in text


def test_standalone_config_is_the_consortium_with_one_member():
    base = stack_config("dev")
    alone = standalone_config(base, B)
    assert [m["lgcode"] for m in alone["municloud:municipalities"]] == [B]
    assert {k: v for k, v in alone.items() if k != "municloud:municipalities"} == \
        {k: v for k, v in base.items() if k != "municloud:municipalities"}  # same SLA, cost, sites
    assert len(base["municloud:municipalities"]) == 3  # the consortium's config is left as it was
    with pytest.raises(ValueError, match="999999 is not a member"):
        standalone_config(base, "999999")
