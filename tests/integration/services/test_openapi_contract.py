"""Schemathesis against each service's own OpenAPI: bounded examples per operation, every check,
positive and negative data, with a valid staff token of the municipality and the platform keys a
deployed unit has, on a real PostgreSQL. Zero failures: the document says what the API does.

The OpenAPI names what a JSON Schema cannot state (docs/services.md, "The contract"): identifier
formats (`atena-number`, `my-number`, ...: check digit, municipality prefix), dates not after today,
the signed XML of the platform inbox, integers as JSON integer literals, and the cross-field rules
of the `x-municloud-rules` extension (one date not before another, at least one of several query
parameters). This test generates those from the project's own code (municloud.ids,
municloud.platform) and honours the extension by its rule kinds, as a client generator would.

Schemathesis' pytest plugin does not load under this pytest, so the operations are run through
its Python API (one Hypothesis run per operation and generation mode) and the failures collected
per operation. The twins below show the run can fail."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml

from municloud import ids
from municloud.rules import CHECK_KINDS, EXTENSION, MARKER
from municloud.service.types import DATE_NOT_AFTER_TODAY, IDENTIFIER_FORMATS
from support.asgi import serve as serve_app

pytestmark = pytest.mark.integration

EXAMPLES_PER_OPERATION = 20
PURPOSE = {"residents_registry": "resident_record", "tax": "tax_assessment", "nhi": "nhi_administration"}
A, B = "053031", "053279"
JST = ZoneInfo("Asia/Tokyo")


def format_strategies(lgcode: str) -> dict:
    """A strategy per named format of the OpenAPI, from municloud.ids (the one implementation of
    the check digits): mostly this municipality's numbers, some of any valid 地方公共団体コード."""
    from hypothesis import strategies as st

    any_lgcode = st.builds(lambda pref, mun: f"{pref:02d}{mun:03d}", st.integers(1, 47), st.integers(0, 999)
                           ).map(lambda first5: first5 + str(ids.lgcode_check_digit(first5)))
    lgcode_st = st.one_of(st.just(lgcode), any_lgcode)
    serial = st.integers(1, 10**9 - 1)
    strategies = {
        "my-number": st.randoms(use_true_random=False).map(ids.generate_my_number),
        "lgcode": lgcode_st,
        "atena-number": st.builds(ids.new_atena_number, lgcode_st, serial),
        "household-number": st.builds(ids.new_household_number, lgcode_st, serial),
        "resident-record-code": st.builds(ids.resident_record_code_for_serial, lgcode_st,
                                          st.integers(0, 10**6 - 1)),
        DATE_NOT_AFTER_TODAY: st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.datetime.now(JST).date()
                                       ).map(dt.date.isoformat),
    }
    assert set(IDENTIFIER_FORMATS) <= set(strategies), "every identifier format has a strategy"
    return strategies


def _integer_literals(value):
    """Whole floats re-spelled as integers: the OpenAPI's numbers are all JSON integer literals
    (strict input, docs/calc.md: 460.0 is refused), which JSON Schema's `integer` cannot say."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integer_literals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integer_literals(v) for v in value]
    return value


def _date_not_before(value: dict, rule: dict) -> bool:
    try:
        return dt.date.fromisoformat(value[rule["field"]]) >= dt.date.fromisoformat(value[rule["than"]])
    except (KeyError, TypeError, ValueError):
        return True  # not both ISO dates: the schema judges them, not this rule


def _at_least_one_of(value: dict, rule: dict) -> bool:
    return any(value.get(name) not in (None, "") for name in rule["of"])


#: how a client honours each kind of rule in the document's extension (municloud/rules.py)
HOLDS = {"date-not-before": _date_not_before, "at-least-one-of": _at_least_one_of}
assert set(HOLDS) == set(CHECK_KINDS), "every kind of rule the document may name is honoured"


def _resolved(document: dict, schema):
    while isinstance(schema, dict) and "$ref" in schema:
        schema = functools.reduce(lambda node, key: node[key], schema["$ref"].removeprefix("#/").split("/"),
                                  document)
    return schema


def broken_rules(document: dict, schema, value) -> list[str]:
    """Ids of the extension's rules ``value`` breaks, walking ``schema`` with it (a discriminated
    union by its mapping)."""
    schema = _resolved(document, schema)
    if not isinstance(schema, dict):
        return []
    broken = []
    if isinstance(value, dict):
        broken += [rule["id"] for rule in schema.get(EXTENSION, ()) if not HOLDS[rule["kind"]](value, rule)]
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                broken += broken_rules(document, sub, value[name])
    elif isinstance(value, list) and "items" in schema:
        for item in value:
            broken += broken_rules(document, schema["items"], item)
    branches = [*schema.get("allOf", ()), *schema.get("oneOf", ()), *schema.get("anyOf", ())]
    if isinstance(value, dict) and (mapping := schema.get("discriminator", {}).get("mapping")):
        tag = value.get(schema["discriminator"]["propertyName"])
        branches = [*schema.get("allOf", ()), *([{"$ref": mapping[tag]}] if tag in mapping else [])]
    for sub in branches:
        broken += broken_rules(document, sub, value)
    return broken


def case_breaks_rules(document: dict, operation: dict, case) -> list[str]:
    """The extension's rules a generated case breaks: the operation's (on its parameters) and its
    JSON body's."""
    places = {"query": case.query, "path": case.path_parameters, "header": case.headers}
    broken = [rule["id"] for rule in operation.get(EXTENSION, ())
              if not HOLDS[rule["kind"]](places.get(rule["in"]) or {}, rule)]
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content and isinstance(case.body, (dict, list)):
        broken += broken_rules(document, content["application/json"].get("schema"), case.body)
    return broken


def without_rules(node):
    """The document as it would be if it stated no cross-field rule (for the twin)."""
    if isinstance(node, list):
        return [without_rules(item) for item in node if not (isinstance(item, dict) and MARKER in item)]
    if isinstance(node, dict):
        return {key: without_rules(value) for key, value in node.items() if key != EXTENSION}
    return node


@contextlib.contextmanager
def registered(formats: dict, xml_messages=None):
    """Register the named formats (and the inbox's signed messages) with schemathesis for one run."""
    import schemathesis
    from schemathesis.specs.openapi import formats as st_formats
    from schemathesis.specs.openapi import media_types

    for name, strategy in formats.items():
        schemathesis.openapi.format(name, strategy)
    if xml_messages is not None:
        schemathesis.openapi.media_type("application/xml", xml_messages)
    try:
        yield
    finally:
        for name in formats:
            st_formats.unregister_string_format(name)
        if xml_messages is not None:
            media_types.unregister_all()


def run_contract(base_url: str, token: str | None, *, formats: dict, xml_messages=None,
                 examples: int = EXAMPLES_PER_OPERATION, operations: set[str] | None = None,
                 edit=None) -> dict[str, str]:
    """{"MODE METHOD path": first failures} for every operation of the OpenAPI at ``base_url``.
    The staff ``token`` is given for the document's ``bearer`` scheme (as ``[auth.openapi.bearer]``
    of the CLI), so a negative case that drops the credentials is sent without them (``None``: an
    API without one). Positive cases keep the rules of the document's extension. ``edit`` changes
    the document before the run (the twins: a document that says less than the API does)."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis.config import SchemathesisConfig
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import negative_data_rejection

    failures: dict[str, str] = {}
    document = httpx.get(f"{base_url}/openapi.json").raise_for_status().json()
    if edit is not None:
        document = edit(document)
    with registered(formats, xml_messages):
        auth = {"auth": {"openapi": {"bearer": {"bearer": token}}}} if token else {}
        schema = schemathesis.openapi.from_dict(document, config=SchemathesisConfig.from_dict(auth))
        schema.config.update(base_url=base_url)

        def positive(case) -> bool:
            return case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE

        @schema.hook("map_case")
        def integer_literals(context, case):
            if positive(case):
                case.body = _integer_literals(case.body)
            return case

        @schema.hook("filter_case")
        def rules_hold(context, case):
            return not positive(case) or not case_breaks_rules(document, context.operation.definition.raw, case)

        for result in schema.get_all_operations():
            op = result.ok()
            if operations is not None and op.label not in operations:
                continue
            # A raw body (the inbox's signed XML) comes from its registered strategy in both modes
            # and is labelled negative even when drawn for a positive run (schemathesis cannot
            # negate bytes): only its positive run means anything, and there every message is valid
            # by construction, so the negative-data check has nothing to judge.
            raw = any(body.media_type == "application/xml" for body in op.body)
            excluded = [negative_data_rejection] if raw else []
            for mode in (GenerationMode.POSITIVE,) if raw else (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                @given(case=op.as_strategy(generation_mode=mode))
                @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
                          database=None, derandomize=True)
                def check(case):
                    case.call_and_validate(excluded_checks=excluded)

                try:
                    check()
                except Unsatisfiable:
                    pass  # nothing to negate (no parameters, no body): the CLI skips these too
                except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup
                    found = [e for e in getattr(exc, "exceptions", [exc])]
                    answer = next((line.strip() for line in str(exc).splitlines() if '{"error"' in line), "")
                    failures[f"{mode.value} {op.label}"] = "; ".join(
                        f"{type(e).__name__}: {str(e).strip().splitlines()[0][:160]}" for e in found
                    ) + (f" ({answer[:300]})" if answer else "")

    return failures


@pytest.fixture
def platform_keys(tmp_path):
    """Signing keys of every unit of both municipalities and the registry a deployed unit loads."""
    from municloud.platform import KeyRegistry, SigningKey

    registry, keys = KeyRegistry(), {}
    for lgcode in (A, B):
        for unit in ("residents_registry", "tax", "nhi"):
            keys[lgcode, unit] = key = SigningKey.generate(f"{lgcode}-{unit}-1")
            registry.add_signing_key(key, lgcode=lgcode, unit=unit)
    (tmp_path / "platform-keys.yaml").write_text(yaml.safe_dump(registry.to_mapping()))
    for (lgcode, unit), key in keys.items():
        (tmp_path / f"{lgcode}-{unit}.key").write_bytes(key.private_pem())
    return keys


def inbox_messages(keys: dict, unit: str):
    """Signed messages the unit's inbox accepts, from the senders its routes name
    (services/platform_hub/routes.yaml), built from municloud.platform's samples (the same messages
    the hub accepts for the unit)."""
    from hypothesis import strategies as st

    from municloud.platform import samples
    from municloud.platform.envelope import build_message, sign_message

    senders = {  # message: (sender unit, sender municipality)
        "residents_registry": [(samples.sample_move_out_certificate, "residents_registry", B)],
        "tax": [(samples.sample_move_notice, "residents_registry", A),
                (samples.sample_income_inquiry, "nhi", A)],
        "nhi": [(samples.sample_move_notice, "residents_registry", A),
                (samples.sample_income_response, "tax", A)],
    }[unit]

    def signed(choice, serial: int) -> bytes:
        body, sender, lgcode = choice
        message = build_message(body(lgcode if body is samples.sample_move_out_certificate else A, serial),
                                sender_unit=sender, sender_lgcode=lgcode, receiver_unit=unit, receiver_lgcode=A)
        return sign_message(message, keys[lgcode, sender])

    return st.builds(signed, st.sampled_from(senders), st.integers(1, 999_999))


def _bearer(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def _serve_service(harness, svc: str, keys, tmp_path):
    module = __import__(f"services.{svc}.main", fromlist=["create_app"])
    return serve_app(module.create_app(harness.settings(
        svc, platform_keys_file=tmp_path / "platform-keys.yaml",
        platform_signing_key_file=tmp_path / f"{A}-{svc}.key", outbox_relay=False)))


@pytest.mark.parametrize("svc", ["residents_registry", "tax", "nhi"])
def test_every_operation_keeps_its_contract(harness, platform_keys, tmp_path, svc):
    with _serve_service(harness, svc, platform_keys, tmp_path) as base_url:
        failures = run_contract(base_url, _bearer(harness.token(svc, PURPOSE[svc])), formats=format_strategies(A),
                                xml_messages=inbox_messages(platform_keys, svc))
    assert not failures, f"{svc}: operations breaking their contract: {failures}"


def test_run_fails_when_the_document_does_not_say_what_the_api_checks(harness, platform_keys, tmp_path):
    """Twin: without the `atena-number` format a client only knows "15 digits", sends numbers
    with a wrong municipality prefix, and the run reports the rejected positive data."""
    formats = {k: v for k, v in format_strategies(A).items() if k != "atena-number"}
    with _serve_service(harness, "tax", platform_keys, tmp_path) as base_url:
        failures = run_contract(base_url, _bearer(harness.token("tax", PURPOSE["tax"])), formats=formats,
                                operations={"GET /api/v1/taxpayers/{atena_number}"})
    assert set(failures) == {"positive GET /api/v1/taxpayers/{atena_number}"}, failures
    assert "RejectedPositiveData" in failures["positive GET /api/v1/taxpayers/{atena_number}"]


@pytest.mark.parametrize("svc, operation", [
    ("residents_registry", "GET /api/v1/residents"),  # a rule of the extension, on query parameters
    ("residents_registry", "POST /api/v1/movements"),  # rules in JSON Schema and in the extension
    ("tax", "POST /api/v1/declarations"),  # rules in JSON Schema
])
def test_run_fails_when_the_document_does_not_state_the_rules(harness, platform_keys, tmp_path, svc, operation):
    """Twin: the same operation against its document with every cross-field rule taken out (the
    `x-municloud-rules` extension and the rules' `allOf` entries): a client then sends bodies the
    API refuses, naming the rule, and the run reports the rejected positive data. (With the rules
    stated the same operations pass: test_every_operation_keeps_its_contract.)"""
    with _serve_service(harness, svc, platform_keys, tmp_path) as base_url:
        failures = run_contract(base_url, _bearer(harness.token(svc, PURPOSE[svc])), formats=format_strategies(A),
                                operations={operation}, edit=without_rules)
    assert set(failures) == {f"positive {operation}"}, failures
    assert "RejectedPositiveData" in failures[f"positive {operation}"]
    assert "(rule " in failures[f"positive {operation}"], failures


def _documented_rules(document: dict) -> set[str]:
    found = set()

    def walk(node):
        if isinstance(node, dict):
            found.update(rule["id"] for rule in node.get(EXTENSION, ()))
            if MARKER in node:
                found.add(node[MARKER])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return found


_HEAD = {"relationship_to_head": "世帯主"}
_DECLARATION = {"age": 40, "salary_income": 5_000_000}
#: for each rule of the documents: (service, method, path, a request breaking it, the same request
#: keeping it) — the first refused naming the rule, the second not refused for it
RULE_CASES = {
    "search-criterion": ("residents_registry", "GET", "/api/v1/residents",
                         {"params": {"family_name": ""}}, {"params": {"family_name": "佐"}}),
    "one-household-target": ("residents_registry", "POST", "/api/v1/movements",
                             {"json": "move_in", "household_number": ids.new_household_number(A, 1)},
                             {"json": "move_in"}),
    "new-household-one-head": ("residents_registry", "POST", "/api/v1/movements",
                               {"json": "move_in", "heads": 2}, {"json": "move_in"}),
    "notification-not-before-event": ("residents_registry", "POST", "/api/v1/movements",
                                      {"json": "move_in", "notification_date": "2025-03-31"},
                                      {"json": "move_out", "notification_date": "2025-03-31"}),
    "founder-is-head": ("residents_registry", "POST", "/api/v1/movements",
                        {"json": "household_change", "relationship_to_head": "子"},
                        {"json": "household_change", "relationship_to_head": "世帯主"}),
    "one-medical-deduction": ("tax", "POST", "/api/v1/declarations",
                              {"json": "declaration", "medical_expenses": {"paid": 200_000},
                               "self_medication": {"paid": 50_000}},
                              {"json": "declaration", "self_medication": {"paid": 50_000}}),
    "one-stop-needs-donations": ("tax", "POST", "/api/v1/declarations",
                                 {"json": "declaration", "one_stop_special_case": True},
                                 {"json": "declaration", "one_stop_special_case": True,
                                  "hometown_donations": 30_000}),
    "widow-or-single-parent": ("tax", "POST", "/api/v1/declarations",
                               {"json": "declaration", "widow": True, "single_parent": "mother"},
                               {"json": "declaration", "widow": True}),
}


def _request(spec: dict, move_in_body) -> dict:
    """httpx keyword arguments of one RULE_CASES request."""
    spec = dict(spec)
    if "params" in spec:
        return {"params": spec["params"]}
    kind = spec.pop("json")
    if kind == "declaration":
        return {"json": {"atena_number": ids.new_atena_number(A, 1), "fiscal_year": 2025,
                         "declaration": {**_DECLARATION, **spec}}}
    if kind == "move_in":
        body = move_in_body(event_date="2025-04-01")
        if spec.pop("heads", 1) == 2:
            body["members"][1] = {**body["members"][1], **_HEAD}
        if "household_number" in spec:  # beside new_household
            body["household_number"] = spec.pop("household_number")
        return {"json": {**body, **spec}}
    base = {"event_date": "2025-04-01", "notification_date": "2025-04-01",
            "atena_number": ids.new_atena_number(A, 1)}
    if kind == "move_out":
        base = {**base, "atena_numbers": [base.pop("atena_number")], "next_address": "東京都千代田区千代田1番1号"}
    if kind == "household_change":
        base = {**base, "new_household": {}}
    return {"json": {"kind": kind, **base, **spec}}


def test_every_stated_rule_is_enforced_by_the_api_naming_it(harness, move_in_body):
    """Each cross-field rule the documents state (JSON Schema or extension) is refused by the API
    with a 422 naming its field and its id; the same request keeping the rule is not refused
    for it (twin). A rule added to a document without a case here fails the test."""
    documented, refused = set(), {}
    for svc in ("residents_registry", "tax", "nhi"):
        with harness.client(svc) as client:
            documented |= _documented_rules(client.get("/openapi.json").json())
            headers = harness.token(svc, PURPOSE[svc])
            for rule_id, (case_svc, method, path, breaking, keeping) in RULE_CASES.items():
                if case_svc != svc:
                    continue
                bad = client.request(method, path, headers=headers, **_request(breaking, move_in_body))
                good = client.request(method, path, headers=headers, **_request(keeping, move_in_body))
                refused[rule_id] = (bad.status_code, bad.json()["error"], good.status_code, good.text)
    assert documented == set(RULE_CASES), "every stated rule has a case, every case a stated rule"
    for rule_id, (status, error, good_status, good_text) in refused.items():
        assert status == 422 and error["message"].endswith(f"(rule {rule_id})"), (rule_id, error)
        assert error["message"].startswith(f"{error['field']}: "), (rule_id, error)
        assert f"(rule {rule_id})" not in good_text, (rule_id, good_status, good_text)


class _HubSubscribers:
    """An in-process inbox for every subscriber of the hub under test: it answers 200 to each
    delivery and counts them, so nothing the hub delivers leaves the process."""

    def __init__(self) -> None:
        self.posts = 0

    @contextlib.contextmanager
    def serve(self):
        from starlette.applications import Starlette
        from starlette.responses import Response
        from starlette.routing import Route

        async def inbox(request):
            await request.body()
            self.posts += 1
            return Response(status_code=200)

        with serve_app(Starlette(routes=[Route("/{lgcode}/{unit}/inbox", inbox, methods=["POST"])]),
                       name="hub-subscribers") as url:
            yield url


@contextlib.contextmanager
def _serve_hub(pg, keys, tmp_path):
    """The platform hub on the session's PostgreSQL (its database emptied), its subscribers'
    inboxes in-process: ``(base_url, subscribers)``."""
    from municloud.platform import SigningKey
    from services.platform_hub.app import create_app
    from services.platform_hub.settings import HubSettings

    pg.exec_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public AUTHORIZATION platform_hub;",
                database="platform_hub")
    (tmp_path / "hub.password").write_text(pg.passwords["platform_hub"])
    (tmp_path / "hub.key").write_bytes(SigningKey.generate("platform_hub-000000-1").private_pem())
    subscribers = _HubSubscribers()
    with subscribers.serve() as inboxes:
        settings = HubSettings(
            environment="test", database_host=pg.host, database_port=pg.port,
            database_sslmode="verify-full", database_sslrootcert=pg.ca_file,
            db_password_file=tmp_path / "hub.password", platform_signing_key_file=tmp_path / "hub.key",
            platform_keys_file=tmp_path / "platform-keys.yaml",
            inbox_url_template=inboxes + "/{lgcode}/{unit}/inbox")
        with serve_app(create_app(settings), name="platform-hub") as base_url:
            yield base_url, subscribers


def _hub_messages(keys):
    """Signed messages of every route the hub carries: what the units' inboxes accept."""
    from hypothesis import strategies as st

    return st.one_of(*(inbox_messages(keys, unit) for unit in ("residents_registry", "tax", "nhi")))


def _deliveries(pg, deadline_s: float = 15.0) -> dict[str, int]:
    """{status: count} of the hub's deliveries once none is pending (or at the deadline)."""
    import time

    end = time.monotonic() + deadline_s
    while True:
        rows = pg.exec_sql("SELECT status, count(*) FROM deliveries GROUP BY status", database="platform_hub")
        counts = {status: int(n) for status, n in (line.split("|") for line in rows.split())}
        if "pending" not in counts or time.monotonic() > end:
            return counts
        time.sleep(0.2)


def test_the_platform_hub_keeps_its_contract(clean_db, platform_keys, tmp_path):
    """The hub's API (POST /api/v1/messages, deliveries, log/verify) under the same run: no staff
    token (a message's signature authenticates its sender; the hub's API is on the gateway's
    internal listener only), XML bodies of every route from municloud.platform's samples, and
    every delivery answered by the in-process subscribers."""
    with _serve_hub(clean_db, platform_keys, tmp_path) as (base_url, subscribers):
        document = httpx.get(f"{base_url}/openapi.json").json()
        failures = run_contract(base_url, None, formats={}, xml_messages=_hub_messages(platform_keys))
        deliveries = _deliveries(clean_db)
    assert {"/api/v1/messages", "/api/v1/messages/{message_id}/deliveries", "/api/v1/log/verify"} <= set(
        document["paths"]) and "securitySchemes" not in document["components"]
    assert not failures, f"platform_hub: operations breaking their contract: {failures}"
    # the run's messages were stored and each delivered in-process, once
    assert set(deliveries) == {"delivered"} and deliveries["delivered"] == subscribers.posts > 0, (
        deliveries, subscribers.posts)


def _without_error_answers(document: dict) -> dict:
    for item in document["paths"].values():
        for op in item.values():
            for status in [s for s in op.get("responses", {}) if s.startswith("4")]:
                del op["responses"][status]
    return document


def test_the_hub_run_fails_when_the_document_omits_an_error_answer(clean_db, platform_keys, tmp_path):
    """Twin: the hub's document as it was without its error answers: the deliveries of an unknown
    message id (404) and a malformed one (422) are reported as undocumented statuses."""
    with _serve_hub(clean_db, platform_keys, tmp_path) as (base_url, _):
        failures = run_contract(base_url, None, formats={}, edit=_without_error_answers,
                                operations={"GET /api/v1/messages/{message_id}/deliveries"})
    assert set(failures) == {"positive GET /api/v1/messages/{message_id}/deliveries",
                             "negative GET /api/v1/messages/{message_id}/deliveries"}, failures
    assert all("UndefinedStatusCode" in reason for reason in failures.values()), failures
