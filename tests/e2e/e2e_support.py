"""Helpers of the end-to-end tier: calls through the frontdoor, bounded polling, fresh residents,
SQL on a municipality's PostgreSQL (docker exec) and the run summary."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from municloud import ids
from municloud.params import MunicipalityParams
from municloud.seed import generator as seed

A, B, C = "053031", "053279", "053465"  # 小坂町, 上小阿仁村, 藤里町 (Pulumi.dev.yaml)
PROPAGATION_DEADLINE_S = 30.0
SUMMARY: list[str] = []
_rng = random.SystemRandom()


def report(flow: str, sentence: str) -> None:
    """Record one measured line for the terminal summary (and print it for -s runs)."""
    line = f"{flow}: {sentence}"
    SUMMARY.append(line)
    print(f"[e2e] {line}", flush=True)


class Frontdoor:
    """HTTPS to the stack's frontdoor with the consortium CA; a fresh staff token per call."""

    def __init__(self, stack) -> None:
        self.stack = stack
        self.client = httpx.Client(base_url=stack.frontdoor_url, verify=stack.ssl_context(),
                                   timeout=15.0)

    def __enter__(self) -> "Frontdoor":
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()

    def token(self, lgcode: str, service: str, purpose: str, staff_id: str = "e2e-staff",
              signer: str | None = None) -> str:
        """A token for `lgcode`'s `service`; `signer` signs with another municipality's key."""
        if signer is None or signer == lgcode:
            return self.stack.token(lgcode, service, staff_id=staff_id, purpose=purpose)
        from municloud import auth

        key = self.stack.outputs["token_private_keys"][signer]
        return auth.issue_token(key, lgcode, staff_id, purpose, service, 300)

    def call(self, method: str, lgcode: str, service: str, path: str, *, purpose: str,
             staff_id: str = "e2e-staff", signer: str | None = None, token_lgcode: str | None = None,
             **kwargs) -> httpx.Response:
        """`path` is the service-internal path (/api/v1/...), reached as /<lgcode>/<service>/..."""
        token = self.token(token_lgcode or lgcode, service, purpose, staff_id, signer)
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return self.client.request(method, f"/{lgcode}/{service}{path}", headers=headers, **kwargs)

    def get(self, lgcode: str, service: str, path: str, **kwargs) -> httpx.Response:
        return self.call("GET", lgcode, service, path, **kwargs)

    def post(self, lgcode: str, service: str, path: str, **kwargs) -> httpx.Response:
        return self.call("POST", lgcode, service, path, **kwargs)


def poll(probe: Callable[[], Any], what: str, deadline_s: float = PROPAGATION_DEADLINE_S,
         interval_s: float = 0.05) -> tuple[Any, float]:
    """Call `probe` until it returns something truthy; return (value, seconds waited).

    Bounded in time (deadline) and in count (deadline / interval); fails naming `what`."""
    t0 = time.monotonic()
    last = None
    for _ in range(int(deadline_s / interval_s) + 1):
        last = probe()
        if last:
            return last, time.monotonic() - t0
        if time.monotonic() - t0 > deadline_s:
            break
        time.sleep(interval_s)
    raise AssertionError(f"{what}: not seen within {deadline_s:.0f} s (last probe: {last!r})")


def status_is(expected: int) -> Callable[[httpx.Response], httpx.Response | None]:
    return lambda r: r if r.status_code == expected else None


# --- fresh residents --------------------------------------------------------------------------

def _kana(text: str) -> str:
    return text.replace(" ", "　")


@dataclass
class FreshHousehold:
    """A household drawn from the seed generator, with identifiers no other test uses."""

    lgcode: str
    address: str
    members: list[dict[str, Any]]

    def move_in(self, event_date: str = "2025-04-01", notification_date: str = "2025-04-03",
                previous_address: str = "東京都千代田区千代田1番1号", **extra) -> dict[str, Any]:
        return {"kind": "move_in", "event_date": event_date, "notification_date": notification_date,
                "address": self.address, "previous_address": previous_address,
                "new_household": {}, "members": self.members, **extra}


def fresh_household(lgcode: str, adults_only: bool = True, max_members: int = 3,
                    address_prefix: str | None = None) -> FreshHousehold:
    """A realistic household (names, kana, birth dates, 続柄) from municloud.seed, under 75 and
    (by default) at least 20 years old so that everyone is enrolled in nhi and may declare
    income; new 個人番号 and 住民票コード from municloud.ids so that reruns never collide.
    ``address_prefix`` (都道府県 + 市区町村) for a member outside the seed's known towns."""
    for _ in range(200):
        data = seed.generate(lgcode, 12, seed=_rng.randrange(2**31), address_prefix=address_prefix)
        for household in data.households:
            people = [r for r in data.residents if r.household_number == household.household_number]
            ages = [(data.as_of - r.birth_date).days // 365 for r in people]
            if not 1 < len(people) <= max_members or max(ages) >= 74:
                continue
            if adults_only and min(ages) < 20:
                continue
            members = [{
                "resident_record_code": f"{_rng.randrange(10**11):011d}",
                "individual_number": ids.generate_my_number(_rng),
                "family_name": r.family_name, "given_name": r.given_name,
                "family_name_kana": _kana(r.family_name_kana),
                "given_name_kana": _kana(r.given_name_kana),
                "birth_date": r.birth_date.isoformat(), "sex": "1" if r.sex == "male" else "2",
                "relationship_to_head": r.relationship,
            } for r in people]
            return FreshHousehold(lgcode, household.address, members)
    raise AssertionError("the seed generator gave no household of the wanted shape")


def move_in(fd: Frontdoor, household: FreshHousehold, **extra) -> dict[str, Any]:
    """Record a 転入 at the household's municipality through the frontdoor; the 201 body."""
    r = fd.post(household.lgcode, "residents_registry", "/api/v1/movements",
                purpose="resident_record", json=household.move_in(**extra))
    assert r.status_code == 201, r.text
    return r.json()


def move_in_from_certificate(fd: Frontdoor, destination: str, certificate: dict[str, Any], persons: list[dict],
                             previous_address: str, previous_lgcode: str) -> list[str]:
    """The destination's clerk completes a 転入 from a received 転出証明書情報 alone (``persons``:
    the certificate's members in the order wanted); the new 宛名番号."""
    payload = certificate["payload"]
    members = [{"resident_record_code": p["resident_code"], "individual_number": p["individual_number"],
                "family_name": p["family_name"], "given_name": p["given_name"],
                "family_name_kana": p["family_name_kana"], "given_name_kana": p["given_name_kana"],
                "birth_date": p["birth_date"], "sex": p["sex"], "relationship_to_head": p["relationship_to_head"]}
               for p in persons]
    r = fd.post(destination, "residents_registry", "/api/v1/movements", purpose="resident_record",
                json={"kind": "move_in", "event_date": payload["planned_move_date"],
                      "notification_date": "2025-06-03", "address": payload["new_address"],
                      "previous_address": previous_address, "previous_lgcode": previous_lgcode,
                      "new_household": {}, "members": members,
                      "move_out_certificate_number": certificate["certificate_number"]})
    assert r.status_code == 201, r.text
    return [m["atena_number"] for m in r.json()["movements"]]


def taxpayer(fd: Frontdoor, lgcode: str, atena: str, token_lgcode: str | None = None):
    """tax's copy of a resident (GET /api/v1/taxpayers/{atena})."""
    return fd.get(lgcode, "tax", f"/api/v1/taxpayers/{atena}", purpose="tax_assessment",
                  token_lgcode=token_lgcode)


def insured(fd: Frontdoor, lgcode: str, atena: str, token_lgcode: str | None = None):
    """nhi's enrolment of a resident (GET /api/v1/insured/{atena})."""
    return fd.get(lgcode, "nhi", f"/api/v1/insured/{atena}", purpose="nhi_administration",
                  token_lgcode=token_lgcode)


def wait_propagated(fd: Frontdoor, lgcode: str, atenas: list[str]) -> float:
    """Seconds until every person is known to both tax and nhi of `lgcode` (bounded poll)."""
    t0 = time.monotonic()
    for atena in atenas:
        poll(lambda a=atena: status_is(200)(taxpayer(fd, lgcode, a)), f"taxpayer {atena} in tax")
        poll(lambda a=atena: status_is(200)(insured(fd, lgcode, a)), f"enrolment {atena} in nhi")
    return time.monotonic() - t0


# --- the stack's own data and configuration ---------------------------------------------------

def municipality_params(stack, lgcode: str) -> MunicipalityParams:
    """The parameters the stack deployed for `lgcode`: its config validated by the program's own
    loader (stacks.config.load), so what is a parameter and what is stack-only (sites, address
    slot) is decided in one place."""
    import yaml

    from stacks.config import NAMESPACE, load

    raw = yaml.safe_load((stack.work_dir / f"Pulumi.{stack.name}.yaml").read_text(encoding="utf-8"))["config"]
    prefix = f"{NAMESPACE}:"
    config = load(stack.name, {k[len(prefix):]: v for k, v in raw.items() if k.startswith(prefix)})
    for m in config.municipalities:
        if m.lgcode == lgcode:
            return m.params
    raise LookupError(f"{lgcode} is not in the stack's municloud:municipalities")


def sql(stack, lgcode: str, database: str, query: str) -> list[dict[str, Any]]:
    """Rows of `query` (as JSON objects) run by the postgres superuser in the municipality's
    primary PostgreSQL over its local socket (docker exec) — read-only checks only.
    lgcode "shared" with database platform_hub: the hub's own PostgreSQL."""
    container = stack.container("hub_postgres" if lgcode == "shared" else "postgres", lgcode)
    wrapped = f"SELECT coalesce(json_agg(q), '[]'::json) FROM ({query}) q"
    rc, out = container.exec_run(["psql", "-X", "-qAt", "-d", database, "-c", wrapped],
                                 user="postgres")
    assert rc == 0, f"psql in {container.name} failed: {out.decode(errors='replace')[-500:]}"
    return json.loads(out.decode())
