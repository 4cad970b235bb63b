"""Inbox handlers of tax: 住民異動通知 keep the taxpayer copy current; 所得照会 is answered
through the outbox (IncomeInquiryResponse to the asking unit, correlated to the inquiry)."""

from __future__ import annotations

from municloud.platform.models import IncomeInquiryResponse
from municloud.service import outbox
from services.tax.assessment import income_records

STATUS = {"move_out": "moved_out", "death": "deceased"}


async def apply_resident_moves(app, conn, message) -> None:
    for move in message.body.moves:
        p = move.person
        status = STATUS.get(move.kind.value, "active")
        await conn.execute(
            """INSERT INTO taxpayers (atena_number, household_number, individual_number,
                   family_name, given_name, family_name_kana, given_name_kana, birth_date, sex,
                   relationship_to_head, address, status, status_date, last_message_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
               ON CONFLICT (atena_number) DO UPDATE SET
                   household_number = EXCLUDED.household_number,
                   individual_number = coalesce(EXCLUDED.individual_number, taxpayers.individual_number),
                   family_name = EXCLUDED.family_name, given_name = EXCLUDED.given_name,
                   family_name_kana = EXCLUDED.family_name_kana,
                   given_name_kana = EXCLUDED.given_name_kana,
                   relationship_to_head = EXCLUDED.relationship_to_head,
                   address = EXCLUDED.address, status = EXCLUDED.status,
                   status_date = EXCLUDED.status_date, last_message_id = EXCLUDED.last_message_id,
                   updated_at = now()""",
            p.atena_number, p.household_number, p.individual_number, p.family_name, p.given_name,
            p.family_name_kana, p.given_name_kana, p.birth_date, p.sex.value,
            p.relationship_to_head, p.address, status,
            move.event_date if status != "active" else None, message.header.message_id)


async def answer_income_inquiry(app, conn, message) -> None:
    inquiry = message.body
    records = await income_records(conn, app.state.params, inquiry.fiscal_year,
                                   [s.atena_number for s in inquiry.subjects])
    await outbox.enqueue(conn, IncomeInquiryResponse(fiscal_year=inquiry.fiscal_year,
                                                     records=records),
                         receiver_unit=message.header.sender_unit.value,
                         receiver_lgcode=message.header.sender_lgcode,
                         correlation_id=message.header.message_id,
                         source_ref=f"inquiry:{message.header.message_id}")


HANDLERS = {"ResidentMoveNotice": apply_resident_moves, "IncomeInquiry": answer_income_inquiry}
# Message types whose route may carry a 個人番号 to this unit (services/platform_hub/routes.yaml,
# docs/platform.md "Routing table"); others carrying one are refused.
INDIVIDUAL_NUMBER = frozenset({"ResidentMoveNotice", "IncomeInquiry"})
