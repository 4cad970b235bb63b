"""The kit's receiving units behind a hub (`municloud conformance receive`): one plain-HTTP
listener that plays tax and nhi of one municipality, records every delivery the hub POSTs (path,
headers as sent, bytes, arrival time) and answers as the checks script it — a signed Ack by
default, HTTP 503 to a first attempt, or a final Fault.

Inbox address of a unit: ``<advertise-url>/<lgcode>/<unit>/api/v1/platform/inbox`` (register it
at the hub: our hub's ``INBOX_URLS_FILE``, docs/platform.md "Delivery"). The hub judges a delivery
by its HTTP status; the Acks and Faults are signed with a key made for the run, which the hub
need not know.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from municloud.platform import PlatformError, SigningKey, make_ack, make_fault, parse_message
from municloud.platform.client import INBOX_PATH

RECEIVING_UNITS = ("tax", "nhi")  # the subscribers of 住民異動通知 (docs/platform.md routing table)
MAX_BODY = 2 * 1024 * 1024
XML = "application/xml"

# What the receiver answers to one delivery of a scripted message id.
ACK, UNAVAILABLE_ONCE, FAULT = "ack", "unavailable-once", "fault"


@dataclass(frozen=True)
class Delivery:
    """One POST the hub made to a kit inbox."""

    lgcode: str
    unit: str | None  # None: a path that is no registered inbox address
    path: str
    headers: tuple[tuple[str, str], ...]  # names lower-cased, in the order sent
    body: bytes
    message_id: uuid.UUID | None  # None when not even the header can be read
    at: float  # time.monotonic()
    status: int  # what the kit answered

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)

    @property
    def attempt(self) -> str | None:
        return self.header("x-municloud-delivery-attempt")


def inbox_url(advertise_url: str, lgcode: str, unit: str) -> str:
    return f"{advertise_url.rstrip('/')}/{lgcode}/{unit}{INBOX_PATH}"


def registration(advertise_url: str, lgcode: str) -> dict[str, str]:
    """The lines to add to the hub's INBOX_URLS_FILE ("<lgcode>/<unit>": url)."""
    return {f"{lgcode}/{unit}": inbox_url(advertise_url, lgcode, unit) for unit in RECEIVING_UNITS}


def registration_yaml(advertise_url: str, lgcode: str) -> str:
    return "".join(f'"{key}": {url}\n' for key, url in registration(advertise_url, lgcode).items())


class KitReceiver:
    """``with KitReceiver(lgcode, host, port) as receiver:`` serves until the block ends."""

    def __init__(self, lgcode: str, host: str = "127.0.0.1", port: int = 0,
                 advertise_url: str | None = None) -> None:
        self.lgcode = lgcode
        self.reply_key = SigningKey.generate(f"kit-receiver-{lgcode}")
        self.deliveries: list[Delivery] = []
        self.script: dict[uuid.UUID, str] = {}
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.advertise_url = (advertise_url or f"http://{host}:{self.port}").rstrip("/")
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={
            "poll_interval": 0.1}, name="kit-receiver", daemon=True)

    def __enter__(self) -> "KitReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def addresses(self) -> dict[str, str]:
        return registration(self.advertise_url, self.lgcode)

    # -- what arrived ----------------------------------------------------------------------------
    def of(self, message_id: uuid.UUID, unit: str | None = None) -> list[Delivery]:
        with self._changed:
            return [d for d in self.deliveries
                    if d.message_id == message_id and (unit is None or d.unit == unit)]

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until predicate() (re-tested on every delivery) or timeout; returns its value."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.5))
            return True

    def wait_deliveries(self, message_id: uuid.UUID, unit: str, count: int,
                        timeout: float) -> list[Delivery]:
        """The deliveries of message_id to unit once there are `count` (fewer after timeout)."""
        self.wait_for(lambda: len(self.of(message_id, unit)) >= count, timeout)
        return self.of(message_id, unit)

    # -- answering -------------------------------------------------------------------------------
    def answer(self, unit: str | None, lgcode: str, data: bytes,
               message_id: uuid.UUID | None) -> tuple[int, bytes]:
        """(status, body) for one delivery; called with the delivery not yet recorded."""
        if unit is None:
            return 404, b'{"error": {"code": "not_found", "message": "no inbox at this path"}}'
        try:
            message = parse_message(data, require_signature=False)
        except PlatformError as exc:
            return 400, make_fault(exc.code, exc.reason, key=self.reply_key, unit=unit,
                                   lgcode=lgcode, path=exc.path)
        how = self.script.get(message_id, ACK)
        if how == UNAVAILABLE_ONCE and not self.of(message_id, unit):
            return 503, b"kit receiver: unavailable for this first attempt"
        if how == FAULT:
            return 409, make_fault("duplicate-message-id", "refused by the conformance kit",
                                   key=self.reply_key, unit=unit, lgcode=lgcode,
                                   path="/Envelope/Header/MessageId", in_reply_to=message.header)
        return 200, make_ack(message, self.reply_key, unit=unit, lgcode=lgcode)

    def record(self, delivery: Delivery) -> None:
        with self._changed:
            self.deliveries.append(delivery)
            self._changed.notify_all()


def _message_id(data: bytes) -> uuid.UUID | None:
    try:
        return parse_message(data, max_bytes=MAX_BODY, require_signature=False).header.message_id
    except PlatformError as exc:
        return exc.header.message_id if exc.header is not None else None


def _handler(receiver: KitReceiver) -> type[BaseHTTPRequestHandler]:
    class Inbox(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the hub's delivery client expects
        timeout = 30

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(min(length, MAX_BODY)) if length > 0 else b""
            if length > MAX_BODY:
                self.close_connection = True  # the rest of the body is never read
            parts = self.path.split("?")[0].strip("/").split("/", 2)
            lgcode = parts[0] if parts else ""
            unit = None
            if (len(parts) == 3 and lgcode == receiver.lgcode and parts[1] in RECEIVING_UNITS
                    and "/" + parts[2] == INBOX_PATH):
                unit = parts[1]
            message_id = _message_id(data)
            status, body = receiver.answer(unit, lgcode, data, message_id)
            receiver.record(Delivery(lgcode, unit, self.path,
                                     tuple((k.lower(), v) for k, v in self.headers.items()),
                                     data, message_id, time.monotonic(), status))
            self.send_response(status)
            self.send_header("Content-Type", XML if body.startswith(b"<") else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            body = b'{"status": "ok"}'
            self.send_response(200 if self.path == "/healthz" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:  # quiet: the report says what came
            return

    return Inbox
