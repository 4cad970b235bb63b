"""Inbox handlers of nhi: 住民異動通知 (enrol / withdraw) and 所得照会 answers from tax."""

from __future__ import annotations

from services.nhi.enrolment import apply_move
from services.nhi.incomes import store_income_records


async def apply_resident_moves(app, conn, message) -> None:
    for move in message.body.moves:
        await apply_move(conn, move, message.header.message_id)


async def receive_income_answer(app, conn, message) -> None:
    await store_income_records(conn, message.body, f"hub:{message.header.message_id}")


HANDLERS = {"ResidentMoveNotice": apply_resident_moves,
            "IncomeInquiryResponse": receive_income_answer}
# Message types whose route may carry a 個人番号 to this unit (services/platform_hub/routes.yaml,
# docs/platform.md "Routing table"); others carrying one are refused.
INDIVIDUAL_NUMBER = frozenset({"ResidentMoveNotice"})
