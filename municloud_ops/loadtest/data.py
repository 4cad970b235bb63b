"""Test data for load runs: seed every service of every municipality and write the manifest the
Locust users draw from.

Seeding runs ``municloud.seed.generate(lgcode, population, seed)`` inside each service: on a
deployed stack through ``python -m services.<svc>.seed`` in its container (the frontdoor does not
route the admin API), for services started here through their bulk endpoint
(POST /api/v1/admin/seed) with each municipality's own token. The manifest is built from the same
deterministic generator here, so every request the users make names a resident that exists.
Then the state the clerks' work needs: tax assessments for the seed's fiscal year, and the NHI
households' incomes (所得照会 answered by tax, stored at nhi) so premiums can be computed.

A tenant that already holds data (409) is accepted when sample residents of the expected seed
are found in it (first at the requested population, then at the full population); otherwise
seeding stops with a message naming `municloud loadtest reset` (`reset_stack`: empties every
member's services on a stack marked as a test stack). The manifest holds no 個人番号.
"""

from __future__ import annotations

import json
import ssl
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from municloud.auth import issue_token
from municloud_ops.loadtest.targets import LoadTarget, Municipality
from municloud.params import KNOWN_MUNICIPALITIES

SEED = 0  # the services' default seed, so a stack seeded for demos is reused as is
DECLARATIONS_PER_MUNICIPALITY = 300  # kept in the manifest for re-declarations (size bound)
INQUIRY_BATCH = 100  # 所得照会 subjects per request (the API's maximum)


class DataLoadError(RuntimeError):
    """Seeding failed; the message names the municipality, service and the service's answer."""


@dataclass(frozen=True)
class LoadedData:
    manifest: Path
    residents: int
    households: int
    seconds: float
    notes: tuple[str, ...] = ()

    def sentence(self) -> str:
        return (f"test data ready: {self.households} households / {self.residents} residents in "
                f"{self.seconds:.1f} s ({'; '.join(self.notes)})")


def _town(lgcode: str, fallback: str) -> str:
    known = KNOWN_MUNICIPALITIES.get(lgcode)
    return f"{known.prefecture}{known.district}{known.name}" if known else fallback


class _Tenant:
    """HTTP access to one municipality's services with its own tokens."""

    def __init__(self, http: httpx.Client, target: LoadTarget, muni: Municipality) -> None:
        self.http, self.target, self.lgcode = http, target, muni.lgcode
        self.key = Path(target.key_files[muni.lgcode]).read_text(encoding="ascii")

    def call(self, method: str, service: str, path: str, purpose: str, body=None,
             ok=(200, 201)) -> httpx.Response:
        token = issue_token(self.key, self.lgcode, "load-seeder", purpose, service, ttl_s=600)
        try:
            resp = self.http.request(method, self.target.prefix(self.lgcode, service) + "/api/v1"
                                     + path, json=body, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            raise DataLoadError(f"{self.lgcode} {service} {method} {path}: "
                                f"{type(exc).__name__}: {exc}") from None
        if resp.status_code not in ok:
            raise DataLoadError(f"{self.lgcode} {service} {method} {path}: HTTP "
                                f"{resp.status_code} {resp.text[:300]}")
        return resp

    def has_residents(self, data) -> bool:
        step = max(len(data.residents) // 3, 1)
        for resident in data.residents[::step][:3]:
            resp = self.call("GET", "residents_registry", f"/residents/{resident.atena_number}",
                             "resident_record", ok=(200, 404))
            if resp.status_code != 200 or resp.json()["family_name_kana"] != resident.family_name_kana:
                return False
        return True


def _service_container(stack: str, lgcode: str, service: str):
    """The one running primary-site container of a member's service on a deployed stack."""
    import docker

    labels = [f"municloud.stack={stack}", f"municloud.lgcode={lgcode}",
              f"municloud.component={service}", "municloud.site=primary"]
    found = docker.from_env().containers.list(filters={"label": labels})
    if len(found) != 1:
        raise DataLoadError(f"{lgcode}/{service}: expected one running container labelled for "
                            f"stack {stack}, found {len(found)}")
    return found[0]


def _seed_in_container(stack: str, lgcode: str, service: str, population: int) -> bool:
    """Seed one service of a deployed stack from inside its container (the admin API is not
    reachable through the frontdoor). True when seeded now, False when it already held data."""
    container = _service_container(stack, lgcode, service)
    rc, out = container.exec_run(["python", "-m", f"services.{service}.seed",
                                  "--population", str(population), "--seed", str(SEED)])
    text = out.decode(errors="replace").strip()
    if rc == 0:
        return True
    if "already holds data" in text:
        return False
    raise DataLoadError(f"{lgcode}/{service}: seeding in {container.name} failed: {text[-300:]}")


def _seed_command(stack: str, lgcode: str, service: str, flag: str, what: str) -> str:
    """``python -m services.<svc>.seed <flag>`` in one service's container; its last sentence
    (``what`` when it said nothing)."""
    container = _service_container(stack, lgcode, service)
    rc, out = container.exec_run(["python", "-m", f"services.{service}.seed", flag])
    text = out.decode(errors="replace").strip()
    if rc != 0:
        raise DataLoadError(f"{lgcode}/{service}: `seed {flag}` in {container.name} failed: {text[-300:]}")
    return text.splitlines()[-1] if text else what


def _analyze_in_container(stack: str, lgcode: str, service: str) -> str:
    """ANALYZE one service's tables from inside its container, after the data set-up's bulk work
    (seed, assessments, incomes): the load test then starts on planned queries; its sentence."""
    return _seed_command(stack, lgcode, service, "--analyze", "analyzed")


def _reset_in_container(stack: str, lgcode: str, service: str) -> str:
    """Empty one service of a deployed stack from inside its container; the service's sentence."""
    return _seed_command(stack, lgcode, service, "--reset", "emptied")


class NotATestStack(DataLoadError):
    """The stack does not carry the test-stack mark (config key municloud:test_stack)."""


def reset_stack(stack: str, *, root: Path | None = None, reset=_reset_in_container,
                progress=None) -> list[str]:
    """Empty the load-test data of every member's services on ``stack``: one sentence per member.

    Refuses (NotATestStack, before anything is touched) unless the stack's config marks it as a
    test stack (``municloud:test_stack: true``). ``reset(stack, lgcode, service)`` empties one
    service (the in-container ``python -m services.<svc>.seed --reset``)."""
    from municloud_ops.loadtest.targets import REPO_ROOT, read_stack_config, running_services

    root = root or REPO_ROOT
    validated, _ = read_stack_config(stack, root)
    if not validated.test_stack:
        raise NotATestStack(
            f"stack {stack} is not marked as a test stack (municloud:test_stack: true in "
            f"Pulumi.{stack}.yaml); its members' data is left untouched")
    services = running_services(stack, root)
    sentences = []
    for member in validated.municipalities:
        parts = [f"{service}: {reset(stack, member.lgcode, service)}" for service in services]
        sentence = f"{member.lgcode} {member.name}: " + "; ".join(parts)
        sentences.append(sentence)
        if progress is not None:
            progress(sentence)
    return sentences


def _seed_services(tenant: _Tenant, muni: Municipality, population: int):
    from municloud.seed import generate

    seeded = {}
    for service in tenant.target.services:
        if tenant.target.service_urls:  # services started here: their admin API is on loopback
            resp = tenant.call("POST", service, "/admin/seed", "system_operation",
                               {"population": population, "seed": SEED}, ok=(201, 409))
            seeded[service] = resp.status_code == 201
        else:
            seeded[service] = _seed_in_container(tenant.target.stack, muni.lgcode, service, population)
    data = generate(muni.lgcode, population, SEED)
    if all(seeded.values()) or tenant.has_residents(data):
        return data, seeded
    full = generate(muni.lgcode, muni.population, SEED)
    if population != muni.population and tenant.has_residents(full):
        return full, seeded
    raise DataLoadError(f"{muni.lgcode}: the tenant already holds data that is not seed {SEED} "
                        f"at population {population} or {muni.population}; reset it first "
                        f"(municloud loadtest reset --stack {tenant.target.stack}, test stacks only)")


def _has_assessment(tenant: _Tenant, atena_number: str, fiscal_year: int) -> bool:
    """A kept tenant: is the seed's fiscal year already assessed (its 課税証明書 answers)?"""
    return tenant.call("GET", "tax", f"/taxpayers/{atena_number}/certificate?fiscal_year="
                       f"{fiscal_year}", "tax_assessment", ok=(200, 404)).status_code == 200


def _has_incomes(tenant: _Tenant, data, fiscal_year: int) -> bool:
    """A kept tenant: can nhi compute an insured household's premium (incomes on record)?"""
    household = next(r.household_number for r in data.residents if r.insurance == "nhi")
    return tenant.call("POST", "nhi", f"/premiums/{household}/{fiscal_year}",
                       "nhi_administration", {}, ok=(201, 202, 409)).status_code == 201


def _incomes_for_nhi(tenant: _Tenant, data, fiscal_year: int) -> int:
    # Every member of a household with an insured member: the head's income counts for 軽減
    # even when the head is not insured (擬制世帯主).
    nhi_households = {r.household_number for r in data.residents if r.insurance == "nhi"}
    insured = [r.atena_number for r in data.residents if r.household_number in nhi_households]
    for i in range(0, len(insured), INQUIRY_BATCH):
        subjects = [{"atena_number": a} for a in insured[i:i + INQUIRY_BATCH]]
        answer = tenant.call("POST", "tax", "/income-inquiries", "nhi_administration",
                             {"fiscal_year": fiscal_year, "subjects": subjects}).json()
        tenant.call("POST", "nhi", "/income-records", "nhi_administration", answer)
    return len(insured)


def seed_target(target: LoadTarget, out: Path, *, population_cap: int | None = None,
                progress=None) -> LoadedData:
    """Seed every municipality of ``target`` and write the manifest to ``out``.

    ``population_cap`` seeds at most that many residents per municipality (short test runs);
    the population split of the traffic still follows the stack's real populations.
    """
    started = time.monotonic()
    manifest: dict[str, dict] = {}
    notes: list[str] = []
    residents = households = 0
    verify = (ssl.create_default_context(cafile=target.verify_tls)
              if isinstance(target.verify_tls, str) else target.verify_tls)
    with httpx.Client(base_url=target.base_url, verify=verify, timeout=120.0) as http:
        for muni in target.municipalities:
            tenant = _Tenant(http, target, muni)
            population = min(muni.population, population_cap or muni.population)
            if progress is not None:
                progress(f"{muni.lgcode}: seeding {population} residents into "
                         f"{', '.join(target.services)} ...")
            data, seeded = _seed_services(tenant, muni, population)
            fy = data.fiscal_year
            note = f"{muni.lgcode}: " + ", ".join(
                f"{s} {'seeded' if new else 'kept'}" for s, new in seeded.items())
            adults = [r for r in data.residents if r.birth_date.year < fy - 1]
            if "tax" in target.services:
                if seeded["tax"] or not _has_assessment(tenant, adults[0].atena_number, fy):
                    tenant.call("POST", "tax", f"/assessments/{fy}", "tax_assessment", {})
                else:
                    note += ", tax assessments found"
            if "tax" in target.services and "nhi" in target.services:
                if seeded["nhi"] or not _has_incomes(tenant, data, fy):
                    note += (f", incomes of {_incomes_for_nhi(tenant, data, fy)} members of NHI "
                             "households stored at nhi")
                else:
                    note += ", NHI incomes found"
            if not target.service_urls:  # a deployed stack: plan on the data just loaded
                for service in target.services:
                    _analyze_in_container(target.stack, muni.lgcode, service)
                note += ", tables analyzed"
            notes.append(note)
            if progress is not None:
                progress(note)
            by_household: dict[str, list] = {}
            for r in data.residents:
                by_household.setdefault(r.household_number, []).append(r)
            manifest[muni.lgcode] = {
                "fiscal_year": fy,
                "residents": [{"atena_number": r.atena_number, "household_number": r.household_number,
                               "family_name_kana": r.family_name_kana,
                               "birth_date": r.birth_date.isoformat(), "insurance": r.insurance}
                              for r in data.residents],
                "households": [{"household_number": h.household_number,
                                "town": _town(muni.lgcode, h.address),
                                "nhi": any(r.insurance == "nhi"
                                           for r in by_household.get(h.household_number, ()))}
                               for h in data.households],
                "taxpayers": [{"atena_number": r.atena_number,
                               "declaration": data.declaration_for(r.atena_number).model_dump(mode="json")}
                              for r in adults[:DECLARATIONS_PER_MUNICIPALITY]],
            }
            residents += len(data.residents)
            households += len(data.households)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return LoadedData(out, residents, households, time.monotonic() - started, tuple(notes))
