"""Shared material of the adversarial suite: the dev consortium's tenants, sample platform
messages, and bounds (time, memory) every refusal must stay within."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass

from municloud import ids
from municloud.platform import (
    IncomeInquiry,
    IncomeInquirySubject,
    MoveKind,
    MoveOutCertificate,
    Person,
    ResidentMove,
    ResidentMoveNotice,
    build_message,
)

# The dev consortium (Pulumi.dev.yaml): 小坂町, 上小阿仁村, 藤里町.
TENANTS = ("053031", "053279", "053465")
SERVICES = ("residents_registry", "tax", "nhi")
ORDERED_PAIRS = [(a, b) for a in TENANTS for b in TENANTS if a != b]

# Every hostile input must be refused within these bounds (measured per attempt).
MAX_SECONDS = 2.0
MAX_PEAK_BYTES = 64 * 1024 * 1024


@dataclass
class Bounds:
    seconds: float = 0.0
    peak_bytes: int = 0


@contextlib.contextmanager
def bounded(max_seconds: float = MAX_SECONDS, max_peak_bytes: int = MAX_PEAK_BYTES) -> Iterator[Bounds]:
    """Measure wall time and Python heap peak (tracemalloc) of the block; assert both bounds.

    lxml allocates in C, outside tracemalloc; its memory is bounded by the input size limit,
    which the XML tests check separately."""
    result = Bounds()
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        yield result
    finally:
        result.seconds = time.perf_counter() - t0
        result.peak_bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert result.seconds < max_seconds, f"refusal took {result.seconds:.2f} s (bound {max_seconds} s)"
    assert result.peak_bytes < max_peak_bytes, (
        f"refusal peaked at {result.peak_bytes / 2**20:.1f} MiB (bound {max_peak_bytes / 2**20:.0f} MiB)")


def person(lgcode: str, serial: int = 1, *, with_my_number: bool = True) -> Person:
    return Person(
        atena_number=ids.new_atena_number(lgcode, serial),
        household_number=ids.new_household_number(lgcode, serial),
        individual_number=ids.my_number_for_serial(lgcode, serial) if with_my_number else None,
        family_name="秋田", given_name="花子", birth_date=dt.date(1980, 4, 1), sex="2",
        relationship_to_head="世帯主", address="秋田県鹿角郡小坂町小坂1番地",
    )


def move_notice(lgcode: str, receiver_lgcode: str | None = None, **header):
    body = ResidentMoveNotice(moves=[ResidentMove(
        kind=MoveKind.MOVE_WITHIN, event_date=dt.date(2026, 4, 1),
        notification_date=dt.date(2026, 4, 2), person=person(lgcode))])
    return build_message(body, sender_unit=header.pop("sender_unit", "residents_registry"),
                         sender_lgcode=lgcode,
                         receiver_unit=header.pop("receiver_unit", "platform_hub"),
                         receiver_lgcode=receiver_lgcode or lgcode, **header)


def income_inquiry(lgcode: str, receiver_lgcode: str | None = None, **header):
    body = IncomeInquiry(fiscal_year=2026, purpose="国民健康保険税の賦課",
                         subjects=[IncomeInquirySubject(atena_number=ids.new_atena_number(lgcode, 1))])
    return build_message(body, sender_unit=header.pop("sender_unit", "nhi"), sender_lgcode=lgcode,
                         receiver_unit=header.pop("receiver_unit", "tax"),
                         receiver_lgcode=receiver_lgcode or lgcode, **header)


def move_out_certificate(lgcode: str, receiver_lgcode: str, **header):
    body = MoveOutCertificate(certificate_number=f"{lgcode}-0001", issued_date=dt.date(2026, 4, 1),
                              planned_move_date=dt.date(2026, 4, 10), new_address="秋田県山本郡藤里町1番地",
                              members=[person(lgcode)])
    return build_message(body, sender_unit=header.pop("sender_unit", "residents_registry"),
                         sender_lgcode=lgcode,
                         receiver_unit=header.pop("receiver_unit", "residents_registry"),
                         receiver_lgcode=receiver_lgcode, **header)


def hostile_xml_cases(valid: bytes) -> dict[str, bytes]:
    """Hostile variants of a valid signed message, by name (used against the hub and the CLI)."""
    envelope_start = valid.index(b"<Envelope")
    decl, rest = valid[:envelope_start], valid[envelope_start:]
    lol = b"".join(b'<!ENTITY l%d "&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;">' % ((i,) + (i - 1,) * 10)
                   for i in range(1, 10))
    cases = {
        "billion-laughs": b'<?xml version="1.0"?><!DOCTYPE Envelope [<!ENTITY l0 "lol">' + lol
                          + b']><Envelope xmlns="urn:municloud:platform:v1">&l9;</Envelope>',
        "xxe-file": b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                    b'<Envelope xmlns="urn:municloud:platform:v1">&x;</Envelope>',
        "xxe-network": b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>'
                       b'<Envelope xmlns="urn:municloud:platform:v1">&x;</Envelope>',
        "parameter-entity": b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'
                            b'<Envelope/>',
        "external-dtd": b'<?xml version="1.0"?><!DOCTYPE Envelope SYSTEM "http://127.0.0.1:9/e.dtd">' + rest,
        "doctype-lowercase-trick": decl + b'<!doctype Envelope []>' + rest,
        "deep-nesting": b"<Envelope xmlns='urn:municloud:platform:v1'>" + b"<a>" * 5000 + b"</a>" * 5000
                        + b"</Envelope>",
        "huge-attribute": rest.replace(b"<Envelope", b'<Envelope x="' + b"A" * 900_000 + b'"', 1),
        "oversized-body-2MiB": rest.replace(b"</Envelope>", b"<!--" + b"x" * (2 << 20) + b"--></Envelope>"),
        "utf16-bom": "\ufeff".encode("utf-16-le") + valid.decode().replace("UTF-8", "UTF-16").encode("utf-16-le"),
        "declared-shift-jis": valid.replace(b"encoding='UTF-8'", b"encoding='Shift_JIS'")
                                   .replace(b'encoding="UTF-8"', b'encoding="Shift_JIS"'),
        "invalid-utf8": valid.replace("秋田".encode(), b"\x8f\x48\xe3\x28", 1),
        "processing-instruction-prolog": decl + b"<?evil cmd?>" + rest,
        "processing-instruction-inside": decl + rest.replace(b"<Body>", b"<Body><?evil cmd?>", 1),
        "not-well-formed": valid[:-20],
        "wrong-root": b'<?xml version="1.0" encoding="UTF-8"?><Foo xmlns="urn:municloud:platform:v1"/>',
        "bad-check-digit": valid.replace(b"<IndividualNumber>", b"<IndividualNumber>9", 1)
                                .replace(b"</IndividualNumber>", b"</IndividualNumber>", 1),
        "empty": b"",
        "json-instead-of-xml": b'{"Envelope": {"Header": {}}}',
    }
    return cases
