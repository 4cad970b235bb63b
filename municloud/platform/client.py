"""Publishing to the hub: POST signed XML to /api/v1/messages, get an Ack or a FaultError."""

from __future__ import annotations

import httpx

from municloud.platform.envelope import parse_message, sign_message
from municloud.platform.errors import FaultError, PlatformError
from municloud.platform.models import Ack, Fault, Message
from municloud.platform.signing import KeyRegistry, SigningKey

CONTENT_TYPE = "application/xml"
MESSAGES_PATH = "/api/v1/messages"
INBOX_PATH = "/api/v1/platform/inbox"


def delivery_headers(attempt: int) -> dict[str, str]:
    """The headers of the hub's POST to a subscriber's inbox, besides Host and Content-Length:
    no Authorization (the signature authenticates; docs/platform.md "Authentication of
    deliveries"). The hub's delivery worker and the conformance kit (MSG-008) both use this."""
    return {"Content-Type": CONTENT_TYPE, "X-Municloud-Delivery-Attempt": str(attempt)}


class PlatformClient:
    """Async client of the platform hub. Use as `async with PlatformClient(url) as client`."""

    def __init__(
        self,
        hub_url: str,
        *,
        timeout: float = 5.0,
        registry: KeyRegistry | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        # With a registry, the hub's Ack/Fault signature is verified too.
        self._registry = registry
        self._http = httpx.AsyncClient(base_url=hub_url.rstrip("/"), timeout=timeout, transport=transport)

    async def __aenter__(self) -> "PlatformClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def publish(self, message: Message, key: SigningKey) -> Ack:
        return await self.publish_bytes(sign_message(message, key))

    async def publish_json(self, message: Message, key: SigningKey) -> Ack:
        """The same, over the REST/JSON binding (municloud.platform.json_binding)."""
        from municloud.platform.json_binding import sign_message_json

        return await self.publish_bytes(sign_message_json(message, key), content_type="application/json")

    async def publish_bytes(self, signed: bytes, content_type: str = CONTENT_TYPE) -> Ack:
        response = await self._http.post(MESSAGES_PATH, content=signed, headers={"Content-Type": content_type})
        try:
            if response.headers.get("content-type", "").startswith("application/json"):
                from municloud.platform.json_binding import parse_message_json

                reply, _ = parse_message_json(response.content, registry=self._registry)
            else:
                reply = parse_message(response.content, registry=self._registry)
        except PlatformError as exc:
            raise PlatformError(f"hub answered HTTP {response.status_code} with an unreadable reply: {exc}") from exc
        if isinstance(reply.body, Fault):
            raise FaultError(reply.body, response.status_code)
        if not isinstance(reply.body, Ack) or response.status_code >= 300:
            raise PlatformError(f"hub answered HTTP {response.status_code} with {reply.header.message_type}")
        return reply.body
