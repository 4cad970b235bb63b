"""PlatformClient against a mock hub transport: Ack returned, Fault raised as FaultError."""

import httpx
import pytest

from municloud.platform import (
    FaultError, PlatformClient, SigningKey, build_message, make_ack, make_fault, parse_message,
)
from municloud.platform.samples import sample_move_notice

pytestmark = pytest.mark.unit


def _message():
    return build_message(sample_move_notice("053031"), sender_unit="residents_registry", sender_lgcode="053031",
                         receiver_unit="platform_hub", receiver_lgcode="053031")


async def test_publish_returns_the_hubs_ack(keys):
    residents, _, registry = keys
    hub = SigningKey.generate("platform_hub-1")
    registry.add_signing_key(hub, lgcode="*", unit="platform_hub")

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/messages"
        if request.headers["content-type"] == "application/json":
            from municloud.platform.json_binding import parse_message_json

            received, _ = parse_message_json(request.content, registry=registry)
        else:
            received = parse_message(request.content, registry=registry)
        return httpx.Response(202, content=make_ack(received, hub, unit="platform_hub", lgcode="053031", status="accepted"))

    async with PlatformClient("http://hub", registry=registry, transport=httpx.MockTransport(handler)) as client:
        message = _message()
        ack = await client.publish(message, residents)
        assert ack.acknowledged_message_id == message.header.message_id
        assert ack.status.value == "accepted"
        ack = await client.publish_json(message, residents)
        assert ack.acknowledged_message_id == message.header.message_id


async def test_publish_raises_the_hubs_fault(keys):
    residents, _, registry = keys
    hub = SigningKey.generate("platform_hub-1")

    def handler(request: httpx.Request) -> httpx.Response:
        received = parse_message(request.content)
        return httpx.Response(403, content=make_fault("route-unauthorised", "no route", key=hub, unit="platform_hub",
                                                      lgcode="053031", path="/Envelope/Header/MessageType",
                                                      in_reply_to=received))

    async with PlatformClient("http://hub", transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(FaultError) as err:
            await client.publish(_message(), residents)
    assert err.value.code == "route-unauthorised" and err.value.status_code == 403
    assert err.value.fault.path == "/Envelope/Header/MessageType"
