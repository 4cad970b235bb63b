"""Flow 2 — a move between two consortium municipalities: 転出 at 053031 → 転出証明書情報 via the
hub (the one cross-tenant route) → 053279's residents_registry completes the 転入 with the data."""

from __future__ import annotations

import time

import pytest
from e2e_support import A, B, C, fresh_household, move_in, move_in_from_certificate, poll, report, sql

pytestmark = [pytest.mark.live, pytest.mark.e2e]

NEW_ADDRESS = "秋田県北秋田郡上小阿仁村小沢田字向川原118番地"


def _received(stack, lgcode: str, atena: str) -> list[dict]:
    """転出証明書情報 rows received by `lgcode`'s registry that name the person `atena`."""
    return sql(stack, lgcode, "residents_registry",
               "SELECT certificate_number, sender_lgcode, payload FROM incoming_move_out_certificates"
               f" WHERE payload->'members' @> '[{{\"atena_number\": \"{atena}\"}}]'::jsonb")


def _delivery_state(stack, atena: str) -> str:
    """Where the certificate got stuck: A's outbox row and the hub's deliveries of it."""
    sent = sql(stack, A, "residents_registry",
               "SELECT message_id, sent_at, attempts, last_error FROM outbox"
               " WHERE message_type = 'MoveOutCertificate'"
               f" AND payload->'members' @> '[{{\"atena_number\": \"{atena}\"}}]'::jsonb")
    if not sent or not sent[0]["message_id"]:
        return f"{A}'s outbox: {sent}"
    rows = sql(stack, "shared", "platform_hub",
               "SELECT subscriber_lgcode, subscriber_unit, status, attempts, last_error"
               f" FROM deliveries WHERE message_id = '{sent[0]['message_id']}'")
    return f"{A}'s outbox: {sent}; hub deliveries: {rows}"


def test_move_out_certificate_reaches_the_destination_which_completes_the_move_in(frontdoor, e2e_stack):
    household = fresh_household(A)
    atenas = [m["atena_number"] for m in move_in(frontdoor, household)["movements"]]

    r = frontdoor.post(A, "residents_registry", "/api/v1/movements", purpose="resident_record",
                       json={"kind": "move_out", "event_date": "2025-06-01",
                             "notification_date": "2025-05-20", "atena_numbers": atenas,
                             "next_address": NEW_ADDRESS, "next_lgcode": B})
    assert r.status_code == 201, r.text
    t0 = time.monotonic()
    try:
        (certificate,), waited = poll(lambda: _received(e2e_stack, B, atenas[0]),
                                      f"転出証明書情報 for {atenas[0]} at {B}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; {_delivery_state(e2e_stack, atenas[0])}") from None
    report("2 転出→転入", f"転出証明書情報 {A}→{B} stored at the destination {waited:.2f} s after "
                        "the 転出's 201")
    assert certificate["sender_lgcode"] == A
    payload = certificate["payload"]
    assert payload["new_address"] == NEW_ADDRESS and payload["planned_move_date"] == "2025-06-01"
    by_atena = {p["atena_number"]: p for p in payload["members"]}
    assert sorted(by_atena) == sorted(atenas)
    # guarding twin: the route names A and B only — 053465 received nothing
    assert _received(e2e_stack, C, atenas[0]) == []

    # 053279's clerk completes the 転入 from the certificate's data alone
    arrived = move_in_from_certificate(frontdoor, B, certificate, [by_atena[a] for a in atenas],
                                       household.address, A)
    report("2 転出→転入", f"転入 of {len(arrived)} persons at {B} completed "
                        f"{time.monotonic() - t0:.2f} s after the 転出")
    for new_atena, original in zip(arrived, household.members):
        assert new_atena.startswith(B)
        resident = frontdoor.get(B, "residents_registry", f"/api/v1/residents/{new_atena}",
                                 purpose="resident_record").json()
        assert (resident["family_name"], resident["given_name"], resident["birth_date"],
                resident["resident_record_code"], resident["previous_address"],
                resident["address"], resident["status"]) == (
            original["family_name"], original["given_name"], original["birth_date"],
            original["resident_record_code"], household.address, NEW_ADDRESS, "active")
    # ... while 053031 keeps them as 転出者 pointing at 053279
    left = frontdoor.get(A, "residents_registry", f"/api/v1/residents/{atenas[0]}",
                         purpose="resident_record").json()
    assert (left["status"], left["status_date"], left["next_address"]) == (
        "moved_out", "2025-06-01", NEW_ADDRESS)
