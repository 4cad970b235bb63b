"""What every locustfile of loadtests/ shares: the run plan (``--mc-plan``), per-municipality
tokens, the population split of users and the test data of the seeded residents.

The plan is a JSON file written by ``municloud loadtest`` (municloud_ops/loadtest/runner.py) or a
test: the target (base URL on 127.0.0.1, municipalities, SLA, key files), the data manifest
path, the shape and its parameters, think time and where to write the gate summary.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from locust import events

from municloud.auth import issue_token
from municloud_ops.loadtest.client_tls import consortium_tls_factory
from municloud_ops.loadtest.split import PopulationSplit
from municloud_ops.loadtest.targets import LoadTarget

JST = timezone(timedelta(hours=9))
TOKEN_TTL_S = 900
TOKEN_REFRESH_S = 120  # renew this long before expiry so no request carries a stale token


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    parser.add_argument("--mc-plan", type=str, default="", include_in_web_ui=False,
                        help="municloud run plan (JSON written by `municloud loadtest`)")


class Plan:
    def __init__(self, raw: dict) -> None:
        self.raw = raw
        self.target = LoadTarget.from_json(json.dumps(raw["target"]))
        self.shape = raw["shape"]
        self.think_s = tuple(raw.get("think_s", (0.5, 1.5)))
        self.summary_path = raw.get("summary")
        self.check_throughput = bool(raw.get("check_throughput", True))
        manifest = raw.get("data")
        self.data = TestData(json.loads(Path(manifest).read_text(encoding="utf-8"))) \
            if manifest else TestData({})


@lru_cache(maxsize=1)
def _load_plan(path: str) -> Plan:
    if not path:
        raise SystemExit("--mc-plan is required (run through `municloud loadtest run`)")
    return Plan(json.loads(Path(path).read_text(encoding="utf-8")))


def plan_of(environment) -> Plan:
    return _load_plan(environment.parsed_options.mc_plan)


class TestData:
    """Residents loaded from the seed generator, per municipality (every request stays valid)."""

    __test__ = False

    def __init__(self, manifest: dict) -> None:
        self._by_lgcode = manifest

    def residents(self, lgcode: str) -> list[dict]:
        return self._by_lgcode.get(lgcode, {}).get("residents", [])

    def households(self, lgcode: str) -> list[dict]:
        return self._by_lgcode.get(lgcode, {}).get("households", [])

    def fiscal_year(self, lgcode: str) -> int:
        return self._by_lgcode[lgcode]["fiscal_year"]

    def resident(self, lgcode: str, rng: random.Random) -> dict:
        return rng.choice(self.residents(lgcode))

    def household(self, lgcode: str, rng: random.Random) -> dict:
        return rng.choice(self.households(lgcode))

    def taxpayer(self, lgcode: str, rng: random.Random) -> dict:
        """A resident with a 申告 for the seed's fiscal year (so an assessment exists)."""
        return rng.choice(self._by_lgcode[lgcode]["taxpayers"])

    def nhi_member(self, lgcode: str, rng: random.Random) -> dict:
        return rng.choice(self._cached(lgcode, "nhi_members", lambda: [
            r for r in self.residents(lgcode) if r["insurance"] == "nhi"]))

    def nhi_household(self, lgcode: str, rng: random.Random) -> dict:
        return rng.choice(self._cached(lgcode, "nhi_households", lambda: [
            h for h in self.households(lgcode) if h["nhi"]]))

    def _cached(self, lgcode: str, name: str, build) -> list:
        entry = self._by_lgcode[lgcode]
        if name not in entry:
            entry[name] = build()
        return entry[name]


class TokenBook:
    """Short-lived staff tokens signed with each municipality's own key, renewed before expiry."""

    def __init__(self, key_files: dict[str, str], staff_id: str) -> None:
        self._keys = {code: Path(path).read_text(encoding="ascii") for code, path in key_files.items()}
        self._staff = staff_id
        self._cache: dict[tuple[str, str, str], tuple[str, float]] = {}

    def header(self, lgcode: str, audience: str, purpose: str) -> dict[str, str]:
        key = (lgcode, audience, purpose)
        token, expires = self._cache.get(key, ("", 0.0))
        if time.time() > expires - TOKEN_REFRESH_S:
            token = issue_token(self._keys[lgcode], lgcode, self._staff, purpose, audience,
                                ttl_s=TOKEN_TTL_S)
            self._cache[key] = (token, time.time() + TOKEN_TTL_S)
        return {"Authorization": f"Bearer {token}"}


_splits: dict[str, PopulationSplit] = {}
_serial = itertools.count(1)


def next_municipality(plan: Plan, role: str) -> str:
    """The municipality of the next user of ``role``: a population-weighted round robin, so each
    role's users are split across the consortium in proportion to population."""
    split = _splits.get(role)
    if split is None:
        split = _splits[role] = PopulationSplit(plan.target.populations)
    return split.next()


def verify_tls(user, plan: Plan) -> None:
    """Before FastHttpUser.__init__: verify the frontdoor's certificate against the consortium
    CA, like a real client (plain http targets need nothing)."""
    ca_file = plan.target.verify_tls
    if isinstance(ca_file, str):
        user.insecure = False
        user.ssl_context_factory = consortium_tls_factory(ca_file)


def unique_suffix() -> str:
    """A value no other request of this run uses (new addresses for 転居 etc.)."""
    return f"{int(time.time() * 1000) % 10**9}-{random.getrandbits(24):06x}-{next(_serial)}"


def today_jst() -> str:
    return datetime.now(JST).date().isoformat()


def api(plan: Plan, lgcode: str, service: str, path: str) -> str:
    """URL path of a service API below the target's base URL (through the gateway:
    /<lgcode>/<service>/api/v1/...)."""
    return plan.target.prefix(lgcode, service) + "/api/v1" + path


def grouped(lgcode_free_path: str, service: str) -> str:
    """The ``name=`` under which Locust groups a URL: municipality and ids replaced by [..]."""
    return f"/[lgcode]/{service}/api/v1{lgcode_free_path}"
