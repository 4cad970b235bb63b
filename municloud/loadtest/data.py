"""Test data for load runs: seed residents into residents_registry and write the manifest the
Locust users draw from.

Every household of ``municloud.seed.generate(lgcode, population, seed)`` is registered by a
real 転入 (POST /movements, kind move_in) through the same base URL the load will use, with the
municipality's own token. Re-running is harmless: a household already registered answers 409
and is kept in the manifest. The manifest holds no 個人番号.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from municloud.auth import issue_token
from municloud.loadtest.targets import LoadTarget
from municloud.params import KNOWN_MUNICIPALITIES

PREVIOUS_ADDRESS = "秋田県秋田市山王一丁目1番1号"  # 従前の住所 of every seeded 転入 (our choice)
SEED = 20240401


class DataLoadError(RuntimeError):
    """Seeding failed; the message names the municipality, household and the service's answer."""


@dataclass(frozen=True)
class LoadedData:
    manifest: Path
    residents: int
    households: int
    seconds: float

    def sentence(self) -> str:
        return (f"seeded {self.households} households / {self.residents} residents in "
                f"{self.seconds:.1f} s (manifest {self.manifest})")


def _town(lgcode: str, fallback: str) -> str:
    known = KNOWN_MUNICIPALITIES.get(lgcode)
    return f"{known.prefecture}{known.district}{known.name}" if known else fallback


def _move_in(household, members, as_of: str) -> dict:
    return {
        "kind": "move_in", "event_date": as_of, "notification_date": as_of,
        "address": household.address, "previous_address": PREVIOUS_ADDRESS,
        "new_household": {"household_number": household.household_number},
        "members": [{
            "atena_number": r.atena_number, "resident_record_code": r.resident_record_code,
            "individual_number": r.my_number, "family_name": r.family_name,
            "given_name": r.given_name, "family_name_kana": r.family_name_kana,
            "given_name_kana": r.given_name_kana, "birth_date": r.birth_date.isoformat(),
            "sex": "1" if r.sex == "male" else "2", "relationship_to_head": r.relationship,
        } for r in members],
    }


def seed_target(target: LoadTarget, out: Path, *, population_cap: int | None = None,
                seed: int = SEED, progress=None, timeout_s: float = 900.0) -> LoadedData:
    """Register the seed population of every municipality of ``target`` and write ``out``.

    ``population_cap`` seeds at most that many residents per municipality (short test runs);
    the population split of the traffic still follows the stack's real populations.
    """
    from municloud.seed import generate

    started = time.monotonic()
    manifest: dict[str, dict] = {}
    residents = households = 0
    with httpx.Client(base_url=target.base_url, verify=target.verify_tls, timeout=30.0) as http:
        for muni in target.municipalities:
            population = min(muni.population, population_cap or muni.population)
            data = generate(muni.lgcode, population, seed)
            key = Path(target.key_files[muni.lgcode]).read_text(encoding="ascii")
            token = issue_token(key, muni.lgcode, "load-seeder", "resident_record",
                                "residents_registry", ttl_s=3600)
            url = target.prefix(muni.lgcode, "residents_registry") + "/api/v1/movements"
            by_atena = {r.atena_number: r for r in data.residents}
            entry = {"residents": [], "households": []}
            for i, household in enumerate(data.households):
                if time.monotonic() - started > timeout_s:
                    raise DataLoadError(f"seeding exceeded {timeout_s:.0f} s at {muni.lgcode}")
                members = [by_atena[a] for a in household.member_atena_numbers]
                resp = http.post(url, json=_move_in(household, members, data.as_of.isoformat()),
                                 headers={"Authorization": f"Bearer {token}"})
                if resp.status_code not in (201, 409):
                    raise DataLoadError(
                        f"{muni.lgcode} household {household.household_number}: HTTP "
                        f"{resp.status_code} {resp.text[:300]}")
                entry["households"].append({"household_number": household.household_number,
                                            "town": _town(muni.lgcode, household.address)})
                entry["residents"].extend({
                    "atena_number": r.atena_number, "household_number": r.household_number,
                    "family_name_kana": r.family_name_kana, "birth_date": r.birth_date.isoformat(),
                    "insurance": r.insurance, "salary_income": r.salary_income,
                    "public_pension_income": r.public_pension_income} for r in members)
                if progress is not None and (i + 1) % 200 == 0:
                    progress(f"{muni.lgcode}: {i + 1}/{len(data.households)} households")
            manifest[muni.lgcode] = entry
            residents += len(entry["residents"])
            households += len(entry["households"])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return LoadedData(out, residents, households, time.monotonic() - started)
