"""The checks of the conformance kit: stable ids and the requirement each one tests.

A full check id is the unit prefix + the check's id, e.g. ``RR-MSG-001`` (residents_registry),
``TX-LAY-004`` (tax), ``NH-API-002`` (nhi). Ids never change meaning; a new check gets a new id.
"""

from __future__ import annotations

from dataclasses import dataclass

PLATFORM = "docs/platform.md"
ISSUE5 = "issue 5 §5 (conformance kit)"
LAYOUT = "docs/layout.md"
SERVICES = "docs/services.md"


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    requirement: str
    # Conditional checks run only when the option they need is given; otherwise "not run".
    needs: str | None = None


CHECKS: dict[str, Check] = {c.id: c for c in (
    Check("API-001", "OpenAPI document served at /openapi.json (OpenAPI 3.x)",
          f"{ISSUE5}: the unit's OpenAPI contract"),
    Check("API-002", "Required operations present: inbox, layout export/import, healthz, readyz",
          f"{ISSUE5}; {PLATFORM} 'How a service publishes and consumes'; {LAYOUT} 'HTTP contract'"),
    Check("API-003", "Successful responses carry a documented status and match the documented "
                     "JSON schema", f"{ISSUE5}: responses validated against the OpenAPI contract"),
    Check("API-004", "Requests without a valid token are refused (401) with the standard JSON "
                     "error body; the same request with the token succeeds",
          f"{SERVICES}: JSON errors {{\"error\": {{code, message}}}}; bearer JWT auth"),
    Check("MSG-001", "A schema-valid signed message is accepted; the reply is a signed, "
                     "schema-valid Ack addressed back to the sender, acknowledging its id",
          f"{ISSUE5}: schema-valid messages in and out, acknowledgement format; {PLATFORM}"),
    Check("MSG-002", "A duplicate message id is handled once: the second delivery is acknowledged "
                     "again for the same id, never faulted or applied twice",
          f"{ISSUE5}: duplicate message id handled once; {PLATFORM} consume_once"),
    Check("MSG-003", "A signed message that breaks the XSD is refused: HTTP 400 with a signed "
                     "Fault, code schema-invalid, naming the path",
          f"{ISSUE5}: invalid messages refused with the standard fault"),
    Check("MSG-004", "Unsafe XML (DTD / entity expansion) is refused: HTTP 400, Fault code unsafe",
          f"{ISSUE5}; issue 5 §1: no external entities, no DTD expansion"),
    Check("MSG-005", "Bytes that are not well-formed XML are refused: HTTP 400, Fault code "
                     "malformed", f"{ISSUE5}: standard fault format"),
    Check("MSG-006", "A forged signature is refused: HTTP 403, Fault code signature-invalid",
          "issue 5 §1-2: messages signed by the sending unit and verified"),
    Check("MSG-007", "A message addressed to another municipality is refused: HTTP 400, Fault "
                     "code wrong-addressee", "issue 5 'Done when': message for the wrong "
                                             "municipality refused with a fault"),
    Check("LAY-001", "Layout export in UTF-8 is a valid layout file of the unit's area",
          f"issue 5 §4; {LAYOUT}"),
    Check("LAY-002", "Layout export in Shift_JIS (cp932) is a valid layout file with the same rows",
          f"issue 5 §4: CSV in UTF-8 or Shift_JIS (cp932); {LAYOUT}"),
    Check("LAY-003", "Layout export is byte-deterministic: two exports are identical",
          f"issue 5 §4: byte-identical round trip; {LAYOUT}"),
    Check("LAY-004", "A file with one broken row is refused whole: HTTP 422 with a report naming "
                     "line and item; data unchanged", "issue 5 §4: validation reports every bad "
                                                       "row and imports nothing from a bad file"),
    Check("LAY-005", "Round trip: export → import into an empty municipality → export is "
                     "byte-identical in UTF-8 and cp932",
          "issue 5 §4 and 'Done when': layout round trip byte-identical in both encodings",
          needs="import_base_url"),
)}
