"""The kit's receiving units (`municloud conformance receive`) without a hub: what they record and
answer, the addresses they print, and the CLI's usage errors. That each RCV check passes our hub
and fails its own hub mutant is proven in test_receive_mutants.py (integration)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from support.asgi import free_port

from municloud.platform import SigningKey, build_message, parse_message, sign_message
from municloud.platform.client import INBOX_PATH, delivery_headers
from municloud_ops.conformance.profiles import PROFILES
from municloud_ops.conformance.receiver import FAULT, UNAVAILABLE_ONCE, KitReceiver, registration

pytestmark = pytest.mark.unit
LGCODE = "053031"


def signed_notice() -> bytes:
    import random

    body = PROFILES["platform_hub"].sample_body(LGCODE, random.Random(7))
    message = build_message(body, sender_unit="residents_registry", sender_lgcode=LGCODE,
                            receiver_unit="platform_hub", receiver_lgcode=LGCODE)
    return sign_message(message, SigningKey.generate("sender"))


def kit(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "municloud_ops.cli.main", "conformance",
                           "receive", *args], capture_output=True, text=True, timeout=120)


def test_a_delivery_is_recorded_as_sent_and_acknowledged() -> None:
    data = signed_notice()
    message_id = parse_message(data).header.message_id
    with KitReceiver(LGCODE) as receiver:
        url = receiver.addresses()[f"{LGCODE}/nhi"]
        response = httpx.post(url, content=data, headers=delivery_headers(1))
        assert response.status_code == 200
        ack = parse_message(response.content)
        assert (ack.header.message_type, ack.body.acknowledged_message_id, ack.body.status.value,
                ack.header.sender_unit.value) == ("Ack", message_id, "processed", "nhi")
        [delivery] = receiver.of(message_id)
        assert (delivery.unit, delivery.attempt, delivery.body, delivery.header("content-type"),
                delivery.header("authorization")) == ("nhi", "1", data, "application/xml", None)


def test_scripted_answers_503_once_then_ack_and_a_final_fault() -> None:
    data = signed_notice()
    message_id = parse_message(data).header.message_id
    with KitReceiver(LGCODE) as receiver:
        tax, nhi = receiver.addresses()[f"{LGCODE}/tax"], receiver.addresses()[f"{LGCODE}/nhi"]
        receiver.script[message_id] = UNAVAILABLE_ONCE
        assert [httpx.post(tax, content=data).status_code for _ in range(2)] == [503, 200]
        receiver.script[message_id] = FAULT
        fault = httpx.post(nhi, content=data)
        reply = parse_message(fault.content)
        assert (fault.status_code, reply.body.code, reply.body.faulted_message_id) == (
            409, "duplicate-message-id", message_id)
        assert [d.status for d in receiver.of(message_id)] == [503, 200, 409]


def test_a_path_that_is_no_inbox_is_recorded_as_such() -> None:
    data = signed_notice()
    with KitReceiver(LGCODE) as receiver:
        base = receiver.advertise_url
        for path in (f"/{LGCODE}/residents_registry{INBOX_PATH}", f"/053279/tax{INBOX_PATH}"):
            assert httpx.post(base + path, content=data).status_code == 404
        assert [d.unit for d in receiver.deliveries] == [None, None]
        # the twin: a registered address is an inbox
        assert httpx.post(base + f"/{LGCODE}/tax{INBOX_PATH}", content=data).status_code == 200


def test_registration_names_one_inbox_per_receiving_unit() -> None:
    assert registration("http://kit.example.test:8790/", LGCODE) == {
        f"{LGCODE}/tax": f"http://kit.example.test:8790/{LGCODE}/tax/api/v1/platform/inbox",
        f"{LGCODE}/nhi": f"http://kit.example.test:8790/{LGCODE}/nhi/api/v1/platform/inbox"}


def test_cli_prints_the_registration_and_refuses_bad_usage(tmp_path: Path) -> None:
    printed = kit(["--hub-url", "http://127.0.0.1:9", "--lgcode", LGCODE, "--listen",
                   "0.0.0.0:8790", "--advertise-url", "http://kit.example.test:8790",
                   "--print-registration"])
    assert printed.returncode == 0 and printed.stdout == (
        f'"{LGCODE}/tax": http://kit.example.test:8790/{LGCODE}/tax/api/v1/platform/inbox\n'
        f'"{LGCODE}/nhi": http://kit.example.test:8790/{LGCODE}/nhi/api/v1/platform/inbox\n')
    common = ["--hub-url", "http://127.0.0.1:9", "--lgcode", LGCODE]
    bad_code = kit(["--hub-url", "http://127.0.0.1:9", "--lgcode", "053032",
                    "--print-registration"])
    assert bad_code.returncode == 2 and "--lgcode" in bad_code.stderr, bad_code.stderr
    for extra, message in ((["--listen", "8790"], "--listen must be host:port"),
                           ([], "--signing-key is needed"),
                           (["--signing-key", "k.key", "--listen", "127.0.0.1:0"],
                            "--listen needs a fixed port")):
        result = kit([*common, *extra])
        assert result.returncode == 2 and message in result.stderr, result.stderr


def test_cli_exits_4_when_the_hub_does_not_answer(tmp_path: Path) -> None:
    key = SigningKey.generate(f"kit-{LGCODE}-residents_registry")
    key_file = tmp_path / f"{key.key_id}.key"
    key_file.write_bytes(key.private_pem())
    result = kit(["--hub-url", f"http://127.0.0.1:{free_port()}", "--lgcode", LGCODE,
                  "--signing-key", str(key_file), "--listen", f"127.0.0.1:{free_port()}",
                  "--out", str(tmp_path / "out")])
    assert result.returncode == 4 and "no check was run" in result.stderr, result.stderr
    assert "the hub must deliver to" in result.stdout
