"""Cross-field rules (municloud/rules.py): one object is the validator's error and the document's
statement, in JSON Schema where it can be, in the `x-municloud-rules` extension where not."""

from __future__ import annotations

from typing import ClassVar

import jsonschema_rs
import pytest
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from municloud.rules import CHECK_KINDS, EXTENSION, MARKER, Rule, named_field, state_rules

pytestmark = pytest.mark.unit

BOTH = Rule("not-both", "b", "a and b exclude each other",
            schema={"not": {"required": ["a", "b"], "properties": {"a": {"const": True}, "b": {"const": True}}}})
ORDER = Rule("b-not-before-a", "b", "b must not be before a", check={"kind": "date-not-before", "than": "a"})


class Pair(BaseModel):
    model_config = ConfigDict(json_schema_extra=state_rules)
    rules: ClassVar[tuple[Rule, ...]] = (BOTH,)
    a: bool = False
    b: bool = False

    @model_validator(mode="after")
    def _rules(self):
        if self.a and self.b:
            raise BOTH.broken()
        return self


def test_a_rule_is_stated_in_json_schema_and_refused_naming_it():
    schema = Pair.model_json_schema()
    stated = [entry for entry in schema["allOf"] if entry.get(MARKER) == "not-both"]
    assert len(stated) == 1 and stated[0]["description"] == "rule not-both: a and b exclude each other"
    validator = jsonschema_rs.validator_for(schema)
    assert not validator.is_valid({"a": True, "b": True})
    with pytest.raises(ValidationError, match=r"b: a and b exclude each other \(rule not-both\)"):
        Pair(a=True, b=True)
    # twin: what the rule allows, the schema and the model both keep
    assert validator.is_valid({"a": True}) and Pair(a=True).a


def test_a_rule_json_schema_cannot_state_goes_in_the_extension():
    class Dates(BaseModel):
        model_config = ConfigDict(json_schema_extra=state_rules)
        rules: ClassVar[tuple[Rule, ...]] = (ORDER,)
        a: str
        b: str

    assert Dates.model_json_schema()[EXTENSION] == [
        {"id": "b-not-before-a", "field": "b", "rule": "b must not be before a", "kind": "date-not-before",
         "than": "a"}]
    assert "allOf" not in Dates.model_json_schema()


def test_a_rule_has_exactly_one_statement_of_a_known_kind():
    with pytest.raises(ValueError, match="exactly one of schema, check"):
        Rule("x", "f", "s")
    with pytest.raises(ValueError, match="exactly one of schema, check"):
        Rule("x", "f", "s", schema={}, check={"kind": "date-not-before"})
    with pytest.raises(ValueError, match="unknown check kind"):
        Rule("x", "f", "s", check={"kind": "sum-below"})
    assert {ORDER.check["kind"]} <= set(CHECK_KINDS)  # twin


def test_the_named_field_of_a_message():
    assert named_field(BOTH.message) == ("b", "a and b exclude each other (rule not-both)")
    assert named_field("no field here") == (None, "no field here")
