"""Model <-> XML element codec, driven by the pydantic field declarations of `models.py`.

Each field becomes a child element named in CamelCase (`birth_date` -> `BirthDate`); a list
field becomes repeated elements with the singular name from `LIST_ITEM_NAMES`; `None` fields
are omitted. The XSDs fix order and types; this module only maps values.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
import uuid

from lxml import etree
from pydantic import BaseModel, ValidationError

from municloud.platform.errors import InvalidMessageError
from municloud.platform.models import NAMESPACE

NS = "{" + NAMESPACE + "}"
LIST_ITEM_NAMES = {"moves": "Move", "subjects": "Subject", "records": "Record", "members": "Member"}


def element_name(field: str) -> str:
    return "".join(part.capitalize() for part in field.split("_"))


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("timestamps must carry a timezone")
        return value.isoformat()
    if isinstance(value, (dt.date, uuid.UUID, int, str)):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode_into(parent: etree._Element, model: BaseModel) -> None:
    """Append one child per filled field of `model` to `parent`."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        if value is None:
            continue
        if isinstance(value, list):
            for item in value:
                _encode_value(parent, LIST_ITEM_NAMES[name], item)
        else:
            _encode_value(parent, element_name(name), value)


def _encode_value(parent: etree._Element, tag: str, value) -> None:
    child = etree.SubElement(parent, NS + tag)
    if isinstance(value, BaseModel):
        encode_into(child, value)
    else:
        child.text = _text(value)


def _unwrap(annotation):
    """(base type, is_list) of a field annotation, dropping Optional."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(args[0])
    if origin is list:
        return typing.get_args(annotation)[0], True
    return annotation, False


def _raw(element: etree._Element, annotation):
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return decode_fields(element, annotation)
    text = element.text or ""
    if annotation is bool:
        return text.strip() in ("true", "1")
    return text


def decode_fields(element: etree._Element, model: type[BaseModel]) -> dict:
    """Raw field dict for `model` from the children of `element` (validated by the caller)."""
    children: dict[str, list[etree._Element]] = {}
    for child in element:
        if isinstance(child.tag, str):
            children.setdefault(etree.QName(child).localname, []).append(child)
    data: dict = {}
    for name, info in model.model_fields.items():
        base, is_list = _unwrap(info.annotation)
        if is_list:
            data[name] = [_raw(c, base) for c in children.get(LIST_ITEM_NAMES[name], [])]
        else:
            found = children.get(element_name(name))
            if found:
                data[name] = _raw(found[0], base)
    return data


def build_model(model: type[BaseModel], data: dict, path: str):
    """Validate `data` as `model`; a failure names the XPath-ish path of the first bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidMessageError(first["msg"], path=_xpath(model, path, first["loc"])) from None


def _xpath(model: type[BaseModel], root: str, loc: tuple) -> str:
    parts = [root]
    current = model
    index = 0
    while index < len(loc):
        name = loc[index]
        if not isinstance(name, str) or current is None or name not in current.model_fields:
            break
        base, is_list = _unwrap(current.model_fields[name].annotation)
        if is_list:
            tag = LIST_ITEM_NAMES[name]
            if index + 1 < len(loc) and isinstance(loc[index + 1], int):
                parts.append(f"{tag}[{loc[index + 1] + 1}]")
                index += 1
            else:
                parts.append(tag)
        else:
            parts.append(element_name(name))
        current = base if isinstance(base, type) and issubclass(base, BaseModel) else None
        index += 1
    return "/".join(parts)
