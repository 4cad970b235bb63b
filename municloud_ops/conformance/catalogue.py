"""The checks of the conformance kit: stable ids, what each one sends, what the endpoint must do,
and the public documentation section (docs/*.md anchor) that states the requirement.

A full check id is the unit prefix + the check's id, e.g. ``RR-MSG-001`` (residents_registry),
``TX-LAY-004`` (tax), ``NH-API-002`` (nhi). Ids never change meaning; a new check gets a new id.
Every check is proven able to fail by a mutant vendor endpoint that breaks exactly its
requirement (tests/conformance/test_mutants.py).
"""

from __future__ import annotations

from dataclasses import dataclass

PLATFORM = "docs/platform.md"
LAYOUT = "docs/layout.md"
SERVICES = "docs/services.md"
CONFORMANCE = "docs/conformance.md"
UNIT_SERVICES = ("residents_registry", "tax", "nhi")
HUB = ("platform_hub",)


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    requirement: str  # docs section anchors, e.g. "docs/platform.md#signature"
    # Conditional checks run only when the option they need is given; otherwise "not run".
    needs: str | None = None
    # "positive": a conforming request must be accepted; "negative": a bad one must be refused.
    side: str = "negative"
    # The endpoints the check is for: the business units' inboxes and layout endpoints, or the
    # hub's POST /api/v1/messages (the kit as a sender against a hub).
    units: tuple[str, ...] = UNIT_SERVICES
    # What the kit plays: "sender" (it sends to the endpoint: `conformance run`) or "receiver"
    # (it is a receiving unit registered behind a hub: `conformance receive`).
    kit_role: str = "sender"


CHECKS: dict[str, Check] = {c.id: c for c in (
    Check("API-001", "OpenAPI document served at /openapi.json (OpenAPI 3.x)",
          f"{CONFORMANCE}#what-the-vendor-prepares", side="positive"),
    Check("API-002", "Required operations present: inbox, layout export/import, healthz, readyz",
          f"{PLATFORM}#inbox-contract; {LAYOUT}#http-contract-every-unit", side="positive"),
    Check("API-003", "Successful responses carry a documented status and match the documented "
                     "JSON schema", f"{SERVICES}#errors", side="positive"),
    Check("API-004", "Requests without a valid token are refused (401) with the standard JSON "
                     "error body; the same request with the token succeeds",
          f"{SERVICES}#auth-staff-tokens; {SERVICES}#errors"),
    Check("MSG-001", "A schema-valid signed message is accepted: 200 and a signed, schema-valid "
                     "Ack with Status processed, acknowledging its id, correlated, addressed back "
                     "to the sender", f"{PLATFORM}#replies-ack-and-fault", side="positive"),
    Check("MSG-002", "A duplicate message id with identical content is handled once: the second "
                     "delivery is acknowledged again, never faulted or applied twice",
          f"{PLATFORM}#freshness-and-replay", side="positive"),
    Check("MSG-003", "A signed message that breaks the XSD is refused: HTTP 400, Fault "
                     "schema-invalid whose Path is in the documented form and names the element",
          f"{PLATFORM}#fault-path-format; {PLATFORM}#fault-codes-and-http-status"),
    Check("MSG-004", "Unsafe XML (DTD / entity expansion) is refused: HTTP 400, Fault code unsafe",
          f"{PLATFORM}#limits-size-depth-dtd"),
    Check("MSG-005", "Bytes that are not well-formed XML are refused: HTTP 400, Fault code "
                     "malformed", f"{PLATFORM}#fault-codes-and-http-status"),
    Check("MSG-006", "A forged signature is refused: HTTP 403, Fault code signature-invalid",
          f"{PLATFORM}#signature"),
    Check("MSG-007", "A message addressed to another municipality is refused: HTTP 400, Fault "
                     "code wrong-addressee", f"{PLATFORM}#fault-codes-and-http-status"),
    Check("MSG-008", "A delivery exactly as the hub sends it (Content-Type application/xml, "
                     "X-Municloud-Delivery-Attempt, no Authorization header) is accepted with an "
                     "Ack", f"{PLATFORM}#authentication-of-deliveries", side="positive"),
    Check("MSG-009", "An unsigned message is refused: HTTP 403, Fault signature-invalid",
          f"{PLATFORM}#signature; {PLATFORM}#authentication-of-deliveries"),
    Check("MSG-010", "A message signed with a registered key of another municipality than the "
                     "header's SenderLgcode is refused: HTTP 403, Fault signature-invalid",
          f"{PLATFORM}#signature"),
    Check("MSG-011", "A message signed with a registered key of another unit than the header's "
                     "SenderUnit is refused: HTTP 403, Fault signature-invalid",
          f"{PLATFORM}#signature"),
    Check("MSG-012", "A replay (a processed message id again, with an altered body) is refused: "
                     "HTTP 409, Fault duplicate-message-id", f"{PLATFORM}#freshness-and-replay"),
    Check("MSG-013", "A message whose Timestamp is outside the freshness window (over 24 h old, "
                     "or over 5 min ahead) is refused: HTTP 400, Fault stale-message",
          f"{PLATFORM}#freshness-and-replay"),
    Check("MSG-014", "A message over the size limit (1 MiB) is refused: HTTP 413, Fault unsafe",
          f"{PLATFORM}#limits-size-depth-dtd"),
    Check("MSG-015", "A document nested deeper than the depth limit (16) is refused: HTTP 400, "
                     "Fault unsafe", f"{PLATFORM}#limits-size-depth-dtd"),
    Check("MSG-016", "A refused message whose header could be read gets a Fault addressed to its "
                     "sender, with FaultedMessageId and CorrelationId = its MessageId",
          f"{PLATFORM}#replies-ack-and-fault"),
    Check("MSG-017", "A 個人番号 on a route that may not carry one (nhi: tax's 所得照会 answer) is "
                     "refused: HTTP 403, Fault individual-number-not-allowed; not applicable to "
                     "units every route to which may carry one",
          f"{PLATFORM}#individual-numbers-on-routes"),
    Check("LAY-001", "Layout export in UTF-8 is a valid layout file of the unit's area",
          f"{LAYOUT}#file-format; {LAYOUT}#item-reference-generated", side="positive"),
    Check("LAY-002", "Layout export in Shift_JIS (cp932) is a valid layout file with the same rows",
          f"{LAYOUT}#file-format", side="positive"),
    Check("LAY-003", "Layout export is byte-deterministic: two exports are identical",
          f"{LAYOUT}#file-format", side="positive"),
    Check("LAY-004", "A file with one bad 数字 cell (type rule) is refused whole: HTTP 422 with a "
                     "report naming line and item; data unchanged",
          f"{LAYOUT}#validation-every-problem-nothing-imported"),
    Check("LAY-005", "Round trip: export → import into an empty municipality → export is "
                     "byte-identical in UTF-8 and cp932", f"{LAYOUT}#http-contract-every-unit",
          needs="import_base_url", side="positive"),
    Check("LAY-006", "A valid file imported into a municipality that holds data is refused: "
                     "HTTP 409 not_empty; data unchanged", f"{LAYOUT}#http-contract-every-unit"),
    Check("LAY-007", "The export's X-Layout-Rows header equals its data rows (UTF-8 and cp932)",
          f"{LAYOUT}#http-contract-every-unit", side="positive"),
    Check("LAY-008", "An import whose X-Layout-Rows header differs from the file's data rows is "
                     "refused: HTTP 422; data unchanged", f"{LAYOUT}#http-contract-every-unit"),
    Check("LAY-009", "A 個人番号 with a wrong check digit is refused: 422 naming line and item",
          f"{LAYOUT}#validation-every-problem-nothing-imported"),
    Check("LAY-010", "A 文字 cell longer than its length is refused: 422 naming line and item",
          f"{LAYOUT}#item-reference-generated"),
    Check("LAY-011", "A コード cell outside its code table is refused: 422 naming line and item",
          f"{LAYOUT}#item-reference-generated"),
    Check("LAY-012", "An impossible 和暦 date is refused: 422 naming line and item",
          f"{LAYOUT}#file-format"),
    Check("LAY-013", "An empty required item is refused: 422 naming line and item",
          f"{LAYOUT}#item-reference-generated"),
    Check("LAY-014", "A byte that is not valid in the declared encoding is refused: 422 naming "
                     "line and item", f"{LAYOUT}#validation-every-problem-nothing-imported"),
    Check("HUB-001", "A routable signed message is stored: HTTP 202 and a signed Ack with Status "
                     "accepted from platform_hub, acknowledging and correlated with its id, "
                     "addressed to the sender", f"{PLATFORM}#hub-servicesplatform_hub",
          side="positive", units=HUB),
    Check("HUB-002", "An unsigned message is refused: HTTP 403, Fault signature-invalid",
          f"{PLATFORM}#signature", units=HUB),
    Check("HUB-003", "A message signed with a registered key of another municipality than the "
                     "header's sender is refused: HTTP 403, Fault signature-invalid",
          f"{PLATFORM}#signature", units=HUB),
    Check("HUB-004", "The same message id with other bytes is refused (HTTP 409, Fault "
                     "duplicate-message-id); the identical bytes again are accepted (202)",
          f"{PLATFORM}#hub-servicesplatform_hub", units=HUB),
    Check("HUB-005", "A message outside the freshness window is refused: HTTP 400, Fault "
                     "stale-message", f"{PLATFORM}#freshness-and-replay", units=HUB),
    Check("HUB-006", "A message on no route (住民異動通知 addressed straight to tax) is refused: "
                     "HTTP 403, Fault route-unauthorised", f"{PLATFORM}#hub-servicesplatform_hub",
          units=HUB),
    Check("HUB-007", "A 個人番号 on a route that may not carry one (tax's 所得照会 answer) is refused: "
                     "HTTP 403, Fault individual-number-not-allowed",
          f"{PLATFORM}#individual-numbers-on-routes", units=HUB),
    # The kit as a receiving unit (tax and nhi of --lgcode) registered behind a hub: it publishes
    # through the hub and checks what the hub delivers to its inbox addresses.
    Check("RCV-001", "A delivery arrives in the documented shape: POST to the registered inbox "
                     "address with Content-Type application/xml and X-Municloud-Delivery-Attempt "
                     "1, no Authorization, Cookie or other credential header",
          f"{PLATFORM}#authentication-of-deliveries", side="positive", units=HUB,
          kit_role="receiver"),
    Check("RCV-002", "The delivered bytes are the sender's signed message unchanged (byte-"
                     "identical: MessageId, CorrelationId and 個人番号 kept) and verify with the "
                     "sender's registered key, not re-signed by the hub",
          f"{PLATFORM}#signature", side="positive", units=HUB, kit_role="receiver"),
    Check("RCV-003", "Every subscriber of the route gets the message at its own address "
                     "(住民異動通知: tax and nhi of the municipality), and no other address does",
          f"{PLATFORM}#hub-servicesplatform_hub", side="positive", units=HUB,
          kit_role="receiver"),
    Check("RCV-004", "An Ack (HTTP 200) ends the delivery: no second POST, and GET "
                     "/api/v1/messages/{id}/deliveries shows it delivered after 1 attempt",
          f"{PLATFORM}#hub-servicesplatform_hub", side="positive", units=HUB,
          kit_role="receiver"),
    Check("RCV-005", "A delivery answered with HTTP 503 is retried: the same bytes again with "
                     "X-Municloud-Delivery-Attempt 2", f"{PLATFORM}#hub-servicesplatform_hub",
          side="positive", units=HUB, kit_role="receiver"),
    Check("RCV-006", "A Fault (HTTP 4xx) is final: the hub does not deliver again and shows the "
                     "delivery dead after 1 attempt", f"{PLATFORM}#fault-codes-and-http-status",
          units=HUB, kit_role="receiver"),
    Check("RCV-007", "Messages the hub must refuse (unsigned, signed with a key not registered "
                     "to the header's sender, outside the freshness window) never reach the "
                     "receiver",
          f"{PLATFORM}#signature; {PLATFORM}#freshness-and-replay", units=HUB,
          kit_role="receiver"),
    Check("RCV-008", "A 個人番号 on a route that may not carry one (tax's 所得照会 answer) never "
                     "reaches nhi; the same answer without one does",
          f"{PLATFORM}#individual-numbers-on-routes", needs="responder_key", units=HUB,
          kit_role="receiver"),
    Check("RCV-009", "The same message published again (identical bytes, after its delivery) "
                     "starts no second delivery", f"{PLATFORM}#hub-servicesplatform_hub",
          units=HUB, kit_role="receiver"),
)}


def checks_for(unit: str, kit_role: str = "sender") -> list[Check]:
    """The checks that apply to an endpoint of `unit` with the kit in `kit_role`, in catalogue
    order."""
    return [c for c in CHECKS.values() if unit in c.units and c.kit_role == kit_role]
