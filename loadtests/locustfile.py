"""Locust scenarios of a consortium's daily traffic, one FastHttpUser per role.

Run through ``municloud loadtest run`` (which writes the plan and picks the shape file), e.g.::

    locust -f loadtests/locustfile.py,loadtests/shape_steady.py --headless --mc-plan PLAN

Each user belongs to one municipality, chosen by a population-weighted round robin over the
stack's municipalities, and uses that municipality's own tokens and seeded residents, so every
request is valid and a failure is the system's. Think time comes from the plan (no sleeps).
"""

from __future__ import annotations

import random

from locust import FastHttpUser, task

import gate  # noqa: F401  (registers the SLA gate's quitting hook)
from common import (TokenBook, api, grouped, next_municipality, plan_of, today_jst,
                    unique_suffix, verify_tls)

def _error_code(resp) -> str:
    """The service's machine-readable error code, or who answered if not a service (so a
    gateway 404/429/502 is told apart from the application's). Groups failures by cause."""
    try:
        return str(resp.json()["error"]["code"])
    except Exception:  # noqa: BLE001 - any non-service body
        server = resp.headers.get("server", "") if resp.headers else ""
        return f"non-service body ({server or 'no server header'})"


class _MunicipalUser(FastHttpUser):
    """A member of staff (or a kiosk) of one municipality."""

    abstract = True
    role = "user"
    services: tuple[str, ...] = ("residents_registry",)

    def __init__(self, environment) -> None:
        verify_tls(self, plan_of(environment))
        super().__init__(environment)

    def on_start(self) -> None:
        self.plan = plan_of(self.environment)
        self.lgcode = next_municipality(self.plan, self.role)
        self.rng = random.Random()
        self.tokens = TokenBook(self.plan.target.key_files, staff_id=f"load-{self.role}")

    def wait_time(self) -> float:
        low, high = self.plan.think_s
        return self.rng.uniform(low, high)

    def _get(self, service: str, purpose: str, path: str, name: str, expect=None) -> None:
        headers = self.tokens.header(self.lgcode, service, purpose)
        with self.client.get(api(self.plan, self.lgcode, service, path), headers=headers,
                             name=grouped(name, service), catch_response=True) as resp:
            self._judge(resp, 200, expect)

    def _post(self, service: str, purpose: str, path: str, name: str, body: dict,
              status: int = 201, expect=None) -> None:
        headers = self.tokens.header(self.lgcode, service, purpose)
        with self.client.post(api(self.plan, self.lgcode, service, path), json=body,
                              headers=headers, name=grouped(name, service),
                              catch_response=True) as resp:
            self._judge(resp, status, expect)

    @staticmethod
    def _judge(resp, status: int, expect) -> None:
        if resp.status_code != status:
            resp.failure(f"HTTP {resp.status_code} (expected {status}): {_error_code(resp)}")
        elif expect is not None and not expect(resp):
            resp.failure("unexpected response body")
        else:
            resp.success()

    def certificate(self) -> None:
        """住民票の写し of a seeded resident (JSON)."""
        person = self.plan.data.resident(self.lgcode, self.rng)
        self._get("residents_registry", "certificate_issuance",
                  f"/residents/{person['atena_number']}/certificate",
                  "/residents/[atena]/certificate",
                  expect=lambda r: r.json()["entries"][0]["name_kana"].startswith(
                      person["family_name_kana"]))

    def tax_certificate(self, purpose: str) -> None:
        """課税証明書 of a taxpayer for the seed's fiscal year."""
        person = self.plan.data.taxpayer(self.lgcode, self.rng)
        fy = self.plan.data.fiscal_year(self.lgcode)
        self._get("tax", purpose,
                  f"/taxpayers/{person['atena_number']}/certificate?fiscal_year={fy}",
                  "/taxpayers/[atena]/certificate?fiscal_year=[fy]",
                  expect=lambda r: r.json()["fiscal_year"] == fy)


class CounterClerk(_MunicipalUser):
    """窓口: search a resident, issue a 住民票の写し, register a 転居."""

    weight = 4
    role = "counter_clerk"

    @task(5)
    def search_resident(self) -> None:
        person = self.plan.data.resident(self.lgcode, self.rng)
        path = (f"/residents?family_name_kana={person['family_name_kana']}"
                f"&birth_date={person['birth_date']}")
        self._get("residents_registry", "resident_record", path,
                  "/residents?family_name_kana=[kana]&birth_date=[date]",
                  expect=lambda r: any(p["atena_number"] == person["atena_number"]
                                       for p in r.json()))

    @task(3)
    def issue_certificate(self) -> None:
        self.certificate()

    @task(1)
    def register_move_within(self) -> None:
        """転居: the whole household moves to a new address in the municipality."""
        household = self.plan.data.household(self.lgcode, self.rng)
        day = today_jst()
        self._post("residents_registry", "resident_record", "/movements", "/movements [転居]", {
            "kind": "move_within", "household_number": household["household_number"],
            "address": f"{household['town']}字負荷試験{unique_suffix()}番地",
            "event_date": day, "notification_date": day})


class ConvenienceStore(_MunicipalUser):
    """コンビニ交付: bursts of certificates from a store kiosk (住民票, 課税証明書 when tax runs)."""

    weight = 3
    role = "convenience_store"

    @task
    def certificate_burst(self) -> None:
        for _ in range(self.rng.randint(1, 3)):
            self.certificate()
        if "tax" in self.plan.target.services:
            self.tax_certificate("certificate_issuance")


class TaxClerk(_MunicipalUser):
    """税務課: income declarations (申告, a new revision each time) and 課税証明書."""

    weight = 2
    role = "tax_clerk"
    services = ("tax",)

    @task(1)
    def declare_income(self) -> None:
        person = self.plan.data.taxpayer(self.lgcode, self.rng)
        fy = self.plan.data.fiscal_year(self.lgcode)
        self._post("tax", "tax_assessment", "/declarations", "/declarations", {
            "atena_number": person["atena_number"], "fiscal_year": fy,
            "declaration": person["declaration"]},
            expect=lambda r: r.json()["revision"] >= 1)

    @task(3)
    def issue_tax_certificate(self) -> None:
        self.tax_certificate("tax_assessment")


class NhiClerk(_MunicipalUser):
    """保険年金課: check a member's 国保 enrolment (資格) and compute a household premium."""

    weight = 1
    role = "nhi_clerk"
    services = ("nhi",)

    @task(3)
    def check_enrolment(self) -> None:
        person = self.plan.data.nhi_member(self.lgcode, self.rng)
        self._get("nhi", "nhi_administration", f"/insured/{person['atena_number']}",
                  "/insured/[atena]", expect=lambda r: r.json()["insured"] is True)

    @task(1)
    def compute_premium(self) -> None:
        household = self.plan.data.nhi_household(self.lgcode, self.rng)
        fy = self.plan.data.fiscal_year(self.lgcode)
        self._post("nhi", "nhi_administration",
                   f"/premiums/{household['household_number']}/{fy}",
                   "/premiums/[household]/[fy]", {}, expect=lambda r: r.json()["total"] >= 0)


ROLES = (CounterClerk, ConvenienceStore, TaxClerk, NhiClerk)
