"""Run options and the per-run context the checks use (HTTP client, keys, message builders)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from lxml import etree

from municloud_ops.conformance.profiles import PROFILES, UnitProfile
from municloud_ops.conformance.receiver import KitReceiver
from municloud.layout import LayoutDef, load_layout
from municloud.platform import (
    KeyRegistry,
    Message,
    PlatformError,
    SigningKey,
    build_message,
    parse_message,
    sign_message,
)
from municloud.platform.envelope import to_element
from municloud.platform.signing import ALGORITHM, canonical_bytes
from municloud.platform.client import INBOX_PATH as INBOX
from municloud.platform.client import MESSAGES_PATH
from municloud.platform.client import delivery_headers
from municloud.platform.codec import NS


HUB_DELIVERY_HEADERS = delivery_headers(1)
DEFAULT_PEERS = ("053279", "053031")  # --peer-lgcode default: the first that is not --lgcode


@dataclass(frozen=True)
class KitOptions:
    """Everything a run needs; the CLI builds it from its options."""

    unit: str
    base_url: str
    token: str
    signing_key: Path  # the kit's sender key (PKCS#8 PEM) the endpoint trusts
    lgcode: str | None = None  # endpoint municipality; default: the token's lgcode claim
    peer_lgcode: str | None = None  # sender municipality for cross-municipality messages
    key_id: str | None = None
    unit_keys: Path | None = None  # registry with the endpoint's public key (verifies replies)
    import_base_url: str | None = None  # an EMPTY municipality for the layout round trip
    import_token: str | None = None
    # The vendor's own command that empties the import municipality (run before LAY-005, so
    # reruns pass); split like a shell line, run without a shell, must exit 0.
    import_reset_command: str | None = None
    # nhi: a key the endpoint registered as (lgcode, tax), to send tax's 所得照会 answer (MSG-017)
    responder_key: Path | None = None
    verify: bool | str = True
    timeout: float = 30.0
    out_dir: Path = Path("conformance-report")
    seed: int | None = None
    # "sender" (`conformance run`: the kit sends to the endpoint) or "receiver" (`conformance
    # receive`: the kit plays tax and nhi of lgcode behind the hub at base_url).
    kit_role: str = "sender"
    listen: str = "127.0.0.1:0"  # receiver: host:port the kit's inboxes listen on
    advertise_url: str | None = None  # receiver: how the hub reaches them (default http://listen)
    wait_s: float = 60.0  # receiver: longest wait for a delivery the hub owes (retries included)
    quiet_s: float = 5.0  # receiver: how long to watch for a delivery that must not come

    @property
    def profile(self) -> UnitProfile:
        return PROFILES[self.unit]


def token_lgcode(token: str) -> str | None:
    """The lgcode claim of a JWT, read without verifying (only to default --lgcode)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims["lgcode"])
    except (IndexError, KeyError, ValueError):
        return None


@dataclass
class KitContext:
    """Shared by all checks of one run."""

    options: KitOptions
    client: httpx.Client
    key: SigningKey
    lgcode: str
    peer_lgcode: str
    unit_keys: KeyRegistry | None
    rng: random.Random = field(default_factory=random.Random)
    # What the kit sent that carries a readable MessageId: {"id", "content_sha256", "applied"}.
    # A receiver may check its own database against it (report.json "messages"): every applied
    # entry stored once, nothing of the others.
    ledger: list[dict] = field(default_factory=list)
    receiver: "KitReceiver | None" = None  # `conformance receive`: the kit's inboxes

    def note(self, data: bytes, *, applied: bool) -> None:
        """Record a sent message (skipped when even its id cannot be read)."""
        try:
            message = parse_message(data, max_bytes=len(data) + 1, require_signature=False)
        except PlatformError:
            return
        self.ledger.append({"id": str(message.header.message_id),
                            "content_sha256": message.content_sha256.hex(), "applied": applied})

    @property
    def profile(self) -> UnitProfile:
        return self.options.profile

    @property
    def layout(self) -> LayoutDef:
        return load_layout(self.profile.area)

    @property
    def sender_lgcode(self) -> str:
        return self.peer_lgcode if self.profile.cross_municipality else self.lgcode

    def inbound_message(self, *, receiver_lgcode: str | None = None,
                        sender_lgcode: str | None = None, sender_unit: str | None = None,
                        timestamp: dt.datetime | None = None,
                        individual_number: bool = False) -> Message:
        """A fresh message the endpoint should accept; the keyword arguments break one header
        field on purpose (the body is still made for the kit's own sender)."""
        body = self.profile.sample_body(self.sender_lgcode, self.rng,
                                        individual_number=individual_number)
        return build_message(body, sender_unit=sender_unit or self.profile.sender_unit,
                             sender_lgcode=sender_lgcode or self.sender_lgcode,
                             receiver_unit=self.profile.receiver_unit,
                             receiver_lgcode=receiver_lgcode or self.lgcode, timestamp=timestamp)

    def sign(self, message: Message, key: SigningKey | None = None) -> bytes:
        return sign_message(message, key or self.key)

    def sign_element(self, root: etree._Element) -> bytes:
        """Sign an envelope element as is (used to sign deliberately schema-invalid content)."""
        element = etree.SubElement(root, NS + "Signature", keyId=self.key.key_id,
                                   algorithm=ALGORITHM)
        element.text = base64.b64encode(self.key.sign(canonical_bytes(root))).decode("ascii")
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    def envelope(self, message: Message) -> etree._Element:
        return to_element(message)

    def post_inbox(self, data: bytes, *, applied: bool = False) -> httpx.Response:
        """POST to the inbox; the kit's bearer token rides along (an inbox must ignore it: the
        message's signature authenticates it). MSG-008 sends the hub's exact shape instead.
        `applied`: whether a conforming receiver applies this message (for the ledger)."""
        self.note(data, applied=applied)
        return self.client.post(INBOX, content=data, headers={"Content-Type": "application/xml"})

    def post_as_hub(self, data: bytes) -> httpx.Response:
        """POST exactly what the hub's delivery worker sends (services/platform_hub/delivery.py):
        Content-Type and X-Municloud-Delivery-Attempt, no Authorization header."""
        self.note(data, applied=True)
        url = self.options.base_url.rstrip("/") + INBOX
        with httpx.Client(verify=self.options.verify, timeout=self.options.timeout) as plain:
            request = plain.build_request("POST", url, content=data, headers=HUB_DELIVERY_HEADERS)
            for name in ("accept", "accept-encoding", "user-agent", "connection"):
                request.headers.pop(name, None)  # the hub's lean client sends none of these
            return plain.send(request)

    def publish(self, data: bytes, *, applied: bool = False) -> httpx.Response:
        """POST to a hub's /api/v1/messages (no token: the signature authenticates); `applied`:
        whether a conforming hub stores it (for the ledger)."""
        self.note(data, applied=applied)
        return self.client.post(MESSAGES_PATH, content=data,
                                headers={"Content-Type": "application/xml"})

    def hub_deliveries(self, message_id) -> list[dict]:
        """The hub's GET /api/v1/messages/{id}/deliveries rows (docs/platform.md "Hub")."""
        response = self.client.get(f"{MESSAGES_PATH}/{message_id}/deliveries")
        assert response.status_code == 200, (
            f"GET {MESSAGES_PATH}/{message_id}/deliveries answered HTTP {response.status_code}")
        return response.json()["deliveries"]

    def parse_reply(self, response: httpx.Response) -> Message:
        """Parse a reply as an untrusted message: safe parse, XSD, signature present (and
        verified when the endpoint's public key was given)."""
        return parse_message(response.content, registry=self.unit_keys, require_signature=True)

    def reset_import_target(self) -> str:
        """Run --import-reset-command; returns a sentence for the check's log."""
        import shlex
        import subprocess

        command = shlex.split(self.options.import_reset_command or "")
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(f"--import-reset-command exited {result.returncode}: "
                               f"{(result.stderr or result.stdout)[-300:]}")
        return f"import municipality reset by {command[0]} (exit 0)"

    def import_client(self) -> httpx.Client | None:
        opts = self.options
        if not opts.import_base_url:
            return None
        return httpx.Client(base_url=opts.import_base_url.rstrip("/"), verify=opts.verify,
                            timeout=opts.timeout,
                            headers={"Authorization": f"Bearer {opts.import_token or opts.token}"})


def default_peer(lgcode: str) -> str:
    return next(c for c in DEFAULT_PEERS if c != lgcode)


def open_context(options: KitOptions) -> KitContext:
    lgcode = options.lgcode or token_lgcode(options.token)
    if not lgcode:
        raise ValueError("--lgcode is needed: the token carries no lgcode claim")
    peer = options.peer_lgcode or default_peer(lgcode)
    client = httpx.Client(base_url=options.base_url.rstrip("/"), verify=options.verify,
                          timeout=options.timeout,
                          headers={"Authorization": f"Bearer {options.token}"} if options.token
                          else {})  # a hub takes no token
    registry = KeyRegistry.load(options.unit_keys) if options.unit_keys else None
    return KitContext(options, client, SigningKey.load(options.signing_key, options.key_id),
                      lgcode, peer, registry, random.Random(options.seed))
