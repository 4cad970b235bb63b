"""Schemathesis against each service's own OpenAPI: bounded examples per operation, every check,
with a valid staff token of the municipality, on a real PostgreSQL. Zero failures means the
document says what the API does; until then KNOWN_GAPS lists what is still wrong (a ratchet).

Schemathesis' pytest plugin does not load under this pytest, so the operations are run through
its Python API (one Hypothesis run per operation) and the failures collected per operation."""

from __future__ import annotations

import pytest

from support.asgi import serve as serve_app

pytestmark = pytest.mark.integration

EXAMPLES_PER_OPERATION = 20
PURPOSE = {"residents_registry": "resident_record", "tax": "tax_assessment", "nhi": "nhi_administration"}


def run_contract(base_url: str, headers: dict[str, str], examples: int = EXAMPLES_PER_OPERATION) -> dict[str, str]:
    """{operation: first failure} for every operation of the OpenAPI served at ``base_url``."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    schema.config.update(base_url=base_url)
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        op = result.ok()

        @given(case=op.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None, derandomize=True)
        def check(case):
            case.call_and_validate(headers=headers)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup: its distinct failures
            found = [e for e in getattr(exc, "exceptions", [exc])]
            failures[op.label] = "; ".join(f"{type(e).__name__}: {str(e).strip().splitlines()[0][:160]}"
                                           for e in found)
    return failures


#: Operations that still break the contract, with the failure kinds allowed for them — a ratchet:
#: a new failing operation or a new kind of failure fails the test, a fixed one must be removed
#: from here. RejectedPositiveData: identifiers whose check digit or municipality prefix a JSON
#: Schema pattern cannot state, and integers sent as 460.0 that pydantic's strict int refuses.
#: The platform inbox answers 503 text/plain here because the harness configures no platform keys.
#: Open data refuses an 調査年月日 after today (JST), which a schema cannot state either.
_IDS = {"RejectedPositiveData"}
_INBOX = {"ServerError", "UndefinedContentType"}
KNOWN_GAPS = {
    "residents_registry": {**{f"GET /api/v1/{p}": _IDS for p in (
        "households/{household_number}", "residents", "residents/{atena_number}",
        "residents/{atena_number}/certificate", "residents/{atena_number}/certificate.html",
        "residents/{atena_number}/movements")},
        "POST /api/v1/dr-probe": _IDS, "POST /api/v1/movements": _IDS, "POST /api/v1/platform/inbox": _INBOX,
        "GET /api/v1/opendata/catalog.jsonld": _IDS, "GET /api/v1/opendata/ckan.json": _IDS},
    "tax": {**{f"GET /api/v1/{p}": _IDS for p in (
        "assessments/{atena_number}/{fiscal_year}", "declarations/{atena_number}/{fiscal_year}",
        "taxpayers/{atena_number}", "taxpayers/{atena_number}/certificate",
        "taxpayers/{atena_number}/certificate.html")},
        **{f"POST /api/v1/{p}": _IDS for p in (
            "assessments/{fiscal_year}", "declarations", "dr-probe", "income-inquiries")},
        "POST /api/v1/platform/inbox": _INBOX},
    "nhi": {**{f"GET /api/v1/{p}": _IDS for p in (
        "insured/{atena_number}", "insured/{atena_number}/certificate",
        "insured/{atena_number}/certificate.html", "premiums/{household_number}/{fiscal_year}")},
        **{f"POST /api/v1/{p}": _IDS for p in (
            "dr-probe", "income-records", "insured/enrolments", "insured/withdrawals",
            "premiums/{household_number}/{fiscal_year}")},
        "POST /api/v1/platform/inbox": _INBOX},
}


def _kinds(reason: str) -> set[str]:
    return {part.split(":", 1)[0].strip() for part in reason.split("; ")}


@pytest.mark.parametrize("svc", ["residents_registry", "tax", "nhi"])
def test_every_operation_keeps_its_contract(harness, svc):
    module = __import__(f"services.{svc}.main", fromlist=["create_app"])
    with serve_app(module.create_app(harness.settings(svc))) as base_url:
        failures = run_contract(base_url, harness.token(svc, PURPOSE[svc]))
    print(f"\n{svc}: {len(failures)} operations failing the contract ({len(KNOWN_GAPS[svc])} known)")
    for label, reason in sorted(failures.items()):
        print(f"  {label}: {reason}")
    new = {op: r for op, r in failures.items() if not _kinds(r) <= KNOWN_GAPS[svc].get(op, set())}
    assert not new, f"{svc}: operations newly breaking their contract: {new}"
    fixed = sorted(set(KNOWN_GAPS[svc]) - set(failures))
    assert not fixed, f"{svc}: now keep their contract, remove them from KNOWN_GAPS: {fixed}"
