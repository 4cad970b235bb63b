"""The versioned XSDs (xsd/v1/) and validation of a parsed envelope against them."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from lxml import etree

from municloud.platform.errors import InvalidMessageError

XSD_DIR = Path(__file__).with_name("xsd")


@functools.cache
def envelope_schema(version: str = "1") -> etree.XMLSchema:
    path = XSD_DIR / f"v{version}" / "envelope.xsd"
    # Our own files, read from the package: includes resolve locally, never over the network.
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(path), parser=parser))


_NS_PREFIX = re.compile(r"\{(?:urn|https?):[^}]*\}")


_VALUE = re.compile(r"[Tt]he value '[^']*'|'[^']*' is not a valid value")


def _redact(message: str) -> str:
    """Drop the offending value from libxml2's text: it may be a 個人番号."""
    return _VALUE.sub(lambda m: "the value" if m.group(0).lower().startswith("the value") else "value is not a valid value", message)


def readable_path(root: etree._Element, raw: str | None) -> str | None:
    """libxml2 gives '/*/*[2]/*[4]' for default-namespace documents: name the elements instead."""
    if not raw:
        return None
    try:
        found = root.getroottree().xpath(raw)
    except etree.XPathError:
        return raw
    if not found or not isinstance(found[0], etree._Element):
        return raw
    parts = []
    node = found[0]
    while node is not None:
        name = etree.QName(node).localname
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if isinstance(c.tag, str) and etree.QName(c).localname == name]
            if len(same) > 1:
                name = f"{name}[{same.index(node) + 1}]"
        parts.append(name)
        node = parent
    return "/" + "/".join(reversed(parts))


def validate_envelope(root: etree._Element, version: str = "1") -> None:
    """Raise `InvalidMessageError` with the XPath-ish path and reason of the first schema error."""
    schema = envelope_schema(version)
    if schema.validate(root):
        return
    error = schema.error_log.filter_from_errors()[0] if schema.error_log.filter_from_errors() else schema.error_log.last_error
    path = readable_path(root, error.path)
    reason = _redact(_NS_PREFIX.sub("", error.message))
    raise InvalidMessageError(reason, path=path)
