"""Parse untrusted XML bytes safely.

Rules, checked in this order so hostile input never reaches the XML parser's DTD machinery:
size limit, UTF-8 only (no BOM other than UTF-8's, declaration must say UTF-8), no DTD at all
(`<!DOCTYPE` / `<!ENTITY` anywhere is refused), then a parser with entity resolution, network
and DTD loading off, then a depth limit on the tree.
"""

from __future__ import annotations

import re

from lxml import etree

from municloud.platform.errors import MalformedMessageError, OversizeMessageError, UnsafeMessageError

DEFAULT_MAX_BYTES = 1024 * 1024  # 1 MiB
DEFAULT_MAX_DEPTH = 16  # the deepest legitimate message is 6 levels

_DECLARATION = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_FORBIDDEN = (b"<!DOCTYPE", b"<!ENTITY", b"<!ELEMENT", b"<!ATTLIST")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        collect_ids=False,
    )


def check_bytes(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Refuse oversized, non-UTF-8 or DTD-bearing input before parsing."""
    if len(data) > max_bytes:
        raise OversizeMessageError(f"message is {len(data)} bytes, limit is {max_bytes}")
    if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")):
        raise UnsafeMessageError("encoding must be UTF-8 (found a UTF-16/32 byte order mark)")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    declared = _DECLARATION.match(data)
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise UnsafeMessageError(f"encoding must be UTF-8, declared {declared.group(1).decode('ascii')}")
    try:
        data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise UnsafeMessageError(f"encoding must be UTF-8: invalid byte at offset {exc.start}") from None
    upper = data.upper()
    for marker in _FORBIDDEN:
        if marker in upper:
            raise UnsafeMessageError(f"DTDs are not allowed ({marker.decode()} found)")


def parse_xml(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> etree._Element:
    """Root element of `data`, or `UnsafeMessageError` / `MalformedMessageError`."""
    if not isinstance(data, (bytes, bytearray)):
        raise UnsafeMessageError("message must be given as bytes (UTF-8)")
    data = bytes(data)
    check_bytes(data, max_bytes=max_bytes)
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedMessageError(f"not well-formed XML: {exc.msg}") from None
    if root.getroottree().docinfo.doctype:
        raise UnsafeMessageError("DTDs are not allowed")
    _check_depth(root, max_depth)
    # Processing instructions are refused anywhere in the document, the prolog and the epilogue
    # included: they sit outside the signed envelope and would reach receivers unsigned.
    for node in (*root.itersiblings(preceding=True), *root.iter(), *root.itersiblings()):
        if isinstance(node, (etree._Entity, etree._ProcessingInstruction)):
            raise UnsafeMessageError("entity references and processing instructions are not allowed")
    return root


def _check_depth(root: etree._Element, max_depth: int) -> None:
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise UnsafeMessageError(f"element nesting deeper than {max_depth}")
        stack.extend((child, depth + 1) for child in node)
