"""Inbox handlers of residents_registry: 転出証明書情報 from another consortium municipality."""

from __future__ import annotations

import json


async def receive_move_out_certificate(app, conn, message) -> None:
    """Keep the certificate; the 転入 at this municipality references its number."""
    body = message.body
    await conn.execute(
        "INSERT INTO incoming_move_out_certificates (message_id, sender_lgcode, certificate_number,"
        " payload) VALUES ($1, $2, $3, $4) ON CONFLICT (sender_lgcode, certificate_number) DO NOTHING",
        message.header.message_id, message.header.sender_lgcode, body.certificate_number,
        json.dumps(body.model_dump(mode="json"), ensure_ascii=False))


HANDLERS = {"MoveOutCertificate": receive_move_out_certificate}
# Message types whose route may carry a 個人番号 to this unit (services/platform_hub/routes.yaml,
# docs/platform.md "Routing table"); others carrying one are refused.
INDIVIDUAL_NUMBER = frozenset({"MoveOutCertificate"})
