"""Signed Ack and Fault replies (受領通知 / エラー通知)."""

from __future__ import annotations

import datetime as dt
import uuid

from municloud.platform.envelope import build_message, sign_message
from municloud.platform.models import Ack, AckStatus, Fault, Header, Message
from municloud.platform.signing import SigningKey


def make_ack(
    message: Message, key: SigningKey, *, unit: str, lgcode: str, status: AckStatus | str = AckStatus.PROCESSED
) -> bytes:
    """Signed Ack of `message`, sent back to its sender."""
    reply = build_message(
        Ack(
            acknowledged_message_id=message.header.message_id,
            status=AckStatus(status),
            received_at=dt.datetime.now(dt.timezone.utc),
        ),
        sender_unit=unit,
        sender_lgcode=lgcode,
        receiver_unit=message.header.sender_unit.value,
        receiver_lgcode=message.header.sender_lgcode,
        correlation_id=message.header.message_id,
    )
    return sign_message(reply, key)


def make_fault(
    code: str,
    reason: str,
    *,
    key: SigningKey,
    unit: str,
    lgcode: str,
    path: str | None = None,
    in_reply_to: Message | Header | None = None,
    receiver_unit: str | None = None,
    receiver_lgcode: str | None = None,
) -> bytes:
    """Signed Fault. When the faulted message's header could be read (`in_reply_to`: the message
    or its header) the Fault is addressed to its sender and carries its id as FaultedMessageId and
    CorrelationId; otherwise it goes to (`receiver_unit`, `receiver_lgcode`), by default the
    faulting unit itself, uncorrelated (docs/platform.md, "Replies")."""
    header = in_reply_to.header if isinstance(in_reply_to, Message) else in_reply_to
    faulted_id: uuid.UUID | None = header.message_id if header else None
    reply = build_message(
        Fault(code=code, reason=reason[:1000], path=path, faulted_message_id=faulted_id),
        sender_unit=unit,
        sender_lgcode=lgcode,
        receiver_unit=header.sender_unit.value if header else (receiver_unit or unit),
        receiver_lgcode=header.sender_lgcode if header else (receiver_lgcode or lgcode),
        correlation_id=faulted_id,
    )
    return sign_message(reply, key)
