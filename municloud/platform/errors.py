"""Error classes of the platform message layer.

Callers branch on the class: hostile or broken bytes (`UnsafeMessageError`,
`MalformedMessageError`) are refused before anything looks at their content; a well-formed
message that breaks the schema or a rule is an `InvalidMessageError` naming the offending path.
Messages never include 個人番号 values, only paths.
"""

from __future__ import annotations


class PlatformError(Exception):
    """Base class; `code` is the Fault code a service or the hub answers with."""

    code = "platform-error"

    def __init__(self, reason: str, *, path: str | None = None, header=None) -> None:
        self.reason = reason
        self.path = path
        # The refused message's header (models.Header) once it could be read: the Fault is then
        # correlated with the message and addressed to its sender (docs/platform.md, "Replies").
        self.header = header
        super().__init__(f"{path}: {reason}" if path else reason)


class UnsafeMessageError(PlatformError):
    """Input refused as hostile: DTD, entity, too large, too deep, not UTF-8."""

    code = "unsafe"


class OversizeMessageError(UnsafeMessageError):
    """Input larger than the size limit (answered with HTTP 413)."""


class MalformedMessageError(PlatformError):
    """Input is not well-formed XML."""

    code = "malformed"


class InvalidMessageError(PlatformError):
    """Well-formed XML that breaks the schema or a message rule; `path` is XPath-ish."""

    code = "schema-invalid"


class SignatureError(PlatformError):
    """Missing, unknown-key or wrong signature, or a key used by someone it does not belong to."""

    code = "signature-invalid"


class AddressError(PlatformError):
    """A message delivered to a unit / municipality it is not addressed to."""

    code = "wrong-addressee"


class StaleMessageError(PlatformError):
    """Header Timestamp outside the freshness window (docs/platform.md, "Freshness and replay")."""

    code = "stale-message"


class ReplayError(PlatformError):
    """A message id already received with other content (same id, altered body)."""

    code = "duplicate-message-id"


class IndividualNumberError(PlatformError):
    """A 個人番号 in a message whose route may not carry one (番号法: minimisation)."""

    code = "individual-number-not-allowed"


class FaultError(PlatformError):
    """The hub (or a receiver) answered with a Fault."""

    def __init__(self, fault, status_code: int) -> None:  # fault: models.Fault
        self.fault = fault
        self.status_code = status_code
        self.code = fault.code
        super().__init__(fault.reason, path=fault.path)
