"""REST/JSON binding beside the XML one (in the spirit of the Digital Agency's API-first data
linkage). Our design.

A JSON message carries the same header and body as the XML envelope:

    {"header": {...}, "body": {"ResidentMoveNotice": {...}}, "signature": {"keyId": "...",
     "algorithm": "Ed25519", "value": "<base64>"}}

Field names are the models' snake_case names. The signature is the same Ed25519 signature as
in the XML binding, over the canonical XML the codec produces from this header and body, so
one signature is valid in both bindings and the hub can store and forward the message as XML.
"""

from __future__ import annotations

import base64
import json

from pydantic import ValidationError

from municloud.platform import codec
from municloud.platform.envelope import parse_message, sign_message, to_element
from municloud.platform.errors import InvalidMessageError, MalformedMessageError, UnsafeMessageError
from municloud.platform.models import BODY_TYPES, Header, Message
from municloud.platform.safe_xml import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH
from municloud.platform.signing import ALGORITHM, KeyRegistry, SigningKey

from lxml import etree


def message_to_json(message: Message) -> dict:
    data = {
        "header": message.header.model_dump(mode="json", exclude_none=True),
        "body": {message.body.message_type: message.body.model_dump(mode="json", exclude_none=True)},
    }
    if message.signature is not None:
        data["signature"] = {"keyId": message.key_id, "algorithm": ALGORITHM,
                             "value": base64.b64encode(message.signature).decode("ascii")}
    return data


def sign_message_json(message: Message, key: SigningKey) -> bytes:
    """Signed JSON bytes (UTF-8); the signature equals `sign_message`'s."""
    signed = parse_message(sign_message(message, key))
    return json.dumps(message_to_json(signed), ensure_ascii=False).encode("utf-8")


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise MalformedMessageError("duplicate keys in a JSON object")
    return dict(pairs)


def _depth(value, limit: int, level: int = 1) -> None:
    if level > limit:
        raise UnsafeMessageError(f"JSON nesting deeper than {limit}")
    if isinstance(value, dict):
        for item in value.values():
            _depth(item, limit, level + 1)
    elif isinstance(value, list):
        for item in value:
            _depth(item, limit, level + 1)


def parse_message_json(
    data: bytes, *, registry: KeyRegistry | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH,
) -> tuple[Message, bytes]:
    """Decode untrusted JSON; returns the message and its signed XML form (what the hub stores).

    The XML form goes through `parse_message`, so the XSD, the envelope rules and the signature
    are checked exactly as for the XML binding.
    """
    if len(data) > max_bytes:
        raise UnsafeMessageError(f"message is {len(data)} bytes, limit is {max_bytes}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnsafeMessageError(f"encoding must be UTF-8: invalid byte at offset {exc.start}") from None
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise UnsafeMessageError("JSON nesting too deep") from None
    except json.JSONDecodeError as exc:
        raise MalformedMessageError(f"not well-formed JSON: {exc.msg} at offset {exc.pos}") from None
    _depth(document, max_depth)
    if not isinstance(document, dict) or set(document) - {"header", "body", "signature"} or not {"header", "body"} <= set(document):
        raise InvalidMessageError("a message is an object with header, body and optional signature", path="/")
    body_obj = document["body"]
    if not isinstance(body_obj, dict) or len(body_obj) != 1 or next(iter(body_obj)) not in BODY_TYPES:
        raise InvalidMessageError(f"body must be an object with exactly one of {sorted(BODY_TYPES)}", path="/body")
    name, fields = next(iter(body_obj.items()))
    header = _validate(Header, document["header"], "/header")
    body = _validate(BODY_TYPES[name], fields, f"/body/{name}")
    root = to_element(Message(header=header, body=body))
    signature = document.get("signature")
    if signature is not None:
        if not isinstance(signature, dict) or signature.get("algorithm") != ALGORITHM \
                or not isinstance(signature.get("keyId"), str) or not isinstance(signature.get("value"), str):
            raise InvalidMessageError("signature needs keyId, algorithm Ed25519 and value", path="/signature")
        element = etree.SubElement(root, codec.NS + "Signature", keyId=signature["keyId"], algorithm=ALGORITHM)
        element.text = signature["value"]
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return parse_message(xml, registry=registry, max_bytes=max_bytes + 65536, max_depth=max_depth), xml


def _validate(model, value, path: str):
    if not isinstance(value, dict):
        raise InvalidMessageError("must be an object", path=path)
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        return _raise(path, first)


def _raise(path: str, error: dict):
    where = "/".join([path, *(str(p) for p in error["loc"])])
    raise InvalidMessageError(error["msg"], path=where)
