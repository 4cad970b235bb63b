"""Inbox handlers of tax: 住民異動通知 keep the taxpayer copy current; 所得照会 is answered
through the outbox (IncomeInquiryResponse to the asking unit, correlated to the inquiry)."""

from __future__ import annotations

from municloud.platform.models import IncomeInquiryResponse
from municloud.service import outbox
from municloud.service.person_replica import PersonReplica
from services.tax.assessment import income_records

#: this service's copy of the residents (municloud/service/person_replica.py)
TAXPAYERS = PersonReplica("taxpayers")


async def apply_resident_moves(app, conn, message) -> None:
    for move in message.body.moves:
        await TAXPAYERS.apply_move(conn, move, message.header.message_id)


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
