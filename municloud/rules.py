"""Cross-field rules of the API's requests, each stated once: the validator that enforces it raises
it, and the OpenAPI states it (docs/services.md, "The contract").

A rule JSON Schema can state (exactly one of two fields, a value one flag requires, an element an
array must hold once) carries that ``schema``: it is added to its model's JSON Schema as an
``allOf`` entry marked ``x-municloud-rule: <id>``. A rule JSON Schema cannot state (one date not
before another; at least one of several query parameters) carries a ``check`` instead, a
machine-readable form in the ``x-municloud-rules`` extension of the schema (or of the operation,
for query parameters), so a client generator reading the document alone knows it. Either way the
refusal is a 422 naming the rule's field and its id: ``"<field>: <sentence> (rule <id>)"``.

A model lists its rules in ``rules: ClassVar[tuple[Rule, ...]]`` and sets
``json_schema_extra=state_rules``; a route states an operation's rules with
``openapi_extra=operation_rules(...)``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

#: vendor extension (on a schema or an operation) listing the rules JSON Schema cannot state
EXTENSION = "x-municloud-rules"
#: marks the ``allOf`` entry of a schema that states one rule in JSON Schema
MARKER = "x-municloud-rule"
#: the kinds of ``check`` a rule in the extension may have (docs/services.md, "The contract")
CHECK_KINDS = {
    "date-not-before": "the date in `field` is not before the date in `than`",
    "at-least-one-of": "at least one of the parameters `of` (in `in`) is given and not empty",
}


_FIELD_PREFIX = re.compile(r"^([a-z_][a-z0-9_.]*): (.+)$", re.S)


def named_field(message: str) -> tuple[str | None, str]:
    """``(field, reason)`` of a validator's ``"<field>: <reason>"`` message (``Rule.broken`` and the
    models' other checks name their field so), ``(None, message)`` for any other."""
    match = _FIELD_PREFIX.match(message)
    return (match[1], match[2]) if match else (None, message)


@dataclass(frozen=True)
class Rule:
    id: str
    """Stable id, named in the document and in the refusal."""
    field: str
    """The field (or parameter) the refusal names."""
    sentence: str
    """What the rule says, in the document and in the refusal."""
    schema: dict[str, Any] | None = None
    """JSON Schema stating the rule, when JSON Schema can."""
    check: dict[str, Any] | None = field(default=None)
    """The machine-readable form in the extension, when JSON Schema cannot (a kind of CHECK_KINDS)."""

    def __post_init__(self) -> None:
        if (self.schema is None) == (self.check is None):
            raise ValueError(f"rule {self.id}: give exactly one of schema, check")
        if self.check is not None and self.check.get("kind") not in CHECK_KINDS:
            raise ValueError(f"rule {self.id}: unknown check kind {self.check.get('kind')!r}")

    @property
    def message(self) -> str:
        return f"{self.field}: {self.sentence} (rule {self.id})"

    def broken(self) -> ValueError:
        """The error a validator raises (municloud/service/errors.py reads the "field: " prefix)."""
        return ValueError(self.message)

    def documented(self) -> dict[str, Any]:
        """The rule's entry in the extension."""
        return {"id": self.id, "field": self.field, "rule": self.sentence, **(self.check or {})}


def state_rules(schema: dict[str, Any], cls: type) -> None:
    """``json_schema_extra`` of a model: its ``rules`` stated in its JSON Schema."""
    rules = getattr(cls, "rules", ())
    for rule in rules:
        if rule.schema is not None:
            schema.setdefault("allOf", []).append(
                {MARKER: rule.id, "description": f"rule {rule.id}: {rule.sentence}", **rule.schema})
    extension = [rule.documented() for rule in rules if rule.check is not None]
    if extension:
        schema[EXTENSION] = extension


def operation_rules(*rules: Rule) -> dict[str, Any]:
    """``openapi_extra`` of a route whose parameters have rules (only checks: parameters have no
    common JSON Schema)."""
    assert all(rule.check is not None for rule in rules)
    return {EXTENSION: [rule.documented() for rule in rules]}
