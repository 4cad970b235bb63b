"""Routing table and the authorisation decision for one message.

routes.yaml is the route catalogue (which unit may send which message type to which, scope,
個人番号); its ``municipalities`` and ``between`` are the development default used without a stack.
A stack gives the hub its own table (``member_table``: the catalogue's routes for the stack's
members, rendered by stacks/platform_hub.py into ``ROUTES_FILE``), and the running hub re-reads it
when a deploy changes it (``WatchedRoutingTable``): a member joining or leaving is routed without
restarting the hub.

A refusal is a `RouteRefusal` with a stable Fault code: `route-unauthorised` (no route for
sender unit / type / receiver unit), `wrong-municipality` (crossing municipalities where the
route does not name both, or a municipality outside the consortium), `individual-number-not-allowed`.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from municloud import ids
from municloud.platform.errors import PlatformError
from municloud.platform.models import BODY_TYPES, BusinessUnit, Message
from municloud.platform.watched import WatchedFile

DEFAULT_ROUTES_FILE = Path(__file__).with_name("routes.yaml")
#: where a stack puts the hub's table (stacks/platform_hub.py); re-read by the running hub
ROUTES_FILE = Path("/etc/municloud/routes.yaml")


class RouteRefusal(PlatformError):
    def __init__(self, code: str, reason: str, path: str | None = None) -> None:
        super().__init__(reason, path=path)
        self.code = code


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    message_type: str
    sender_unit: BusinessUnit
    receiver_unit: BusinessUnit
    subscribers: tuple[BusinessUnit, ...] = Field(min_length=1)
    scope: Literal["same_municipality", "between_municipalities"]
    between: tuple[tuple[str, str], ...] = ()
    individual_number: bool
    basis: str = ""

    @field_validator("message_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in BODY_TYPES:
            raise ValueError(f"unknown message type {value}")
        return value

    @model_validator(mode="after")
    def _pairs(self) -> "Route":
        if self.scope == "between_municipalities" and not self.between:
            raise ValueError(f"route {self.id}: a between_municipalities route must name its pairs")
        if self.scope == "same_municipality" and self.between:
            raise ValueError(f"route {self.id}: `between` only on between_municipalities routes")
        for pair in self.between:
            for code in pair:
                ids.validate_lgcode(code, f"routes[{self.id}].between")
            if pair[0] == pair[1]:
                raise ValueError(f"route {self.id}: pair {pair} names one municipality twice")
        return self


class RoutingTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    municipalities: tuple[str, ...] = Field(min_length=1)
    routes: tuple[Route, ...]

    @field_validator("municipalities")
    @classmethod
    def _codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            ids.validate_lgcode(code, "municipalities")
        if len(set(value)) != len(value):
            raise ValueError("municipalities must be unique")
        return value

    @model_validator(mode="after")
    def _unique(self) -> "RoutingTable":
        keys = [(r.sender_unit, r.message_type, r.receiver_unit) for r in self.routes]
        if len(set(keys)) != len(keys):
            raise ValueError("two routes for the same (sender unit, message type, receiver unit)")
        members = set(self.municipalities)
        for route in self.routes:
            for pair in route.between:
                if not set(pair) <= members:
                    raise ValueError(f"route {route.id}: pair {pair} names a municipality outside the consortium")
        return self

    @classmethod
    def load(cls, path: str | Path = DEFAULT_ROUTES_FILE) -> "RoutingTable":
        return cls.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), allow_unicode=True, sort_keys=False)

    def authorise(self, message: Message) -> tuple[Route, list[tuple[str, str]]]:
        """The route and its subscribers [(lgcode, unit)], or `RouteRefusal`."""
        h = message.header
        for code, path in ((h.sender_lgcode, "SenderLgcode"), (h.receiver_lgcode, "ReceiverLgcode")):
            if code not in self.municipalities:
                raise RouteRefusal(
                    "wrong-municipality", f"municipality {code} is not in this consortium", f"/Envelope/Header/{path}"
                )
        route = next(
            (
                r for r in self.routes
                if r.sender_unit == h.sender_unit and r.message_type == h.message_type and r.receiver_unit == h.receiver_unit
            ),
            None,
        )
        if route is None:
            raise RouteRefusal(
                "route-unauthorised",
                f"no route lets {h.sender_unit.value} send {h.message_type} to {h.receiver_unit.value}",
                "/Envelope/Header/MessageType",
            )
        if route.scope == "same_municipality" and h.sender_lgcode != h.receiver_lgcode:
            raise RouteRefusal(
                "wrong-municipality",
                f"route {route.id} stays within one municipality; {h.sender_lgcode} may not send to {h.receiver_lgcode}",
                "/Envelope/Header/ReceiverLgcode",
            )
        if route.scope == "between_municipalities" and (h.sender_lgcode, h.receiver_lgcode) not in route.between:
            raise RouteRefusal(
                "wrong-municipality",
                f"route {route.id} does not name {h.sender_lgcode} -> {h.receiver_lgcode}",
                "/Envelope/Header/ReceiverLgcode",
            )
        if message.carries_individual_number() and not route.individual_number:
            # Say where, never the value.
            raise RouteRefusal(
                "individual-number-not-allowed",
                f"route {route.id} may not carry 個人番号 (IndividualNumber)",
                f"/Envelope/Body/{h.message_type}",
            )
        return route, [(h.receiver_lgcode, unit.value) for unit in route.subscribers]


def member_table(members: Sequence[str], catalogue: RoutingTable | None = None,
                 pairs: Sequence[tuple[str, str]] | None = None) -> RoutingTable:
    """The routing table of a consortium: the catalogue's routes (routes.yaml) for ``members``; each
    route between municipalities (転出証明書情報) names ``pairs``, by default every ordered pair of
    two members. Validated like a file (a bad code or a pair outside the members is refused)."""
    catalogue = catalogue or RoutingTable.load()
    pairs = list(pairs) if pairs is not None else list(itertools.permutations(members, 2))
    # a consortium of one has no pair: its routes between municipalities are left out, not refused
    routes = [{**r.model_dump(mode="json"), **({"between": pairs} if r.scope == "between_municipalities" else {})}
              for r in catalogue.routes if r.scope != "between_municipalities" or pairs]
    return RoutingTable.model_validate({"version": catalogue.version, "municipalities": list(members),
                                        "routes": routes})


class WatchedRoutingTable:
    """The routing table of the running hub: its file, read again when it changes.

    A member joining or leaving changes the file (the deploy copies it into the running container,
    services/platform_hub/hot_files.py checks it first); the next message here is authorised with
    the new table. A file that does not load is refused loudly at start; later, the previous table
    stays in force and the error is logged (as municloud.platform.WatchedKeyRegistry does)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._file = WatchedFile(self.path, RoutingTable.load, "routing table")

    @property
    def table(self) -> RoutingTable:
        return self._file.value

    def refresh(self) -> bool:
        """Re-read the file if it changed; True when it did."""
        return self._file.refresh()

    @property
    def municipalities(self) -> tuple[str, ...]:
        return self.table.municipalities

    def authorise(self, message: Message) -> tuple[Route, list[tuple[str, str]]]:
        return self._file.current().authorise(message)
