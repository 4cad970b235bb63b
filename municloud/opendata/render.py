"""The published forms: CSV (UTF-8 with BOM, as the guide asks), DCAT metadata (JSON-LD) and a
CKAN-compatible package description; and the CSV read back (for validation and the audit)."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date

from municloud.opendata.definition import Definition
from municloud.opendata.table import Table

LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"  # 政府標準利用規約 2.0 compatible
CKAN_LICENSE_ID = "cc-by-4.0"


def to_csv(table: Table, lgcode: str, municipality: str, as_of: date) -> bytes:
    d = table.definition
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.name for c in d.columns])
    for r, ((code, name), values) in enumerate(zip(table.areas, table.values, strict=True)):
        ident = [lgcode, f"{lgcode}-{as_of:%Y%m%d}-{code}", municipality, as_of.isoformat(), code, name]
        counts = [d.suppressed_marker if (r, c) in table.suppressed else str(values[c])
                  for c in d.count_columns]
        writer.writerow(ident + counts)
    return out.getvalue().encode(d.encoding)


def read_csv(definition: Definition, data: bytes) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a published file (the BOM is required: ValueError without it)."""
    if definition.encoding == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf"):
        raise ValueError(f"{definition.file_name}: no UTF-8 byte order mark (the guide asks for one)")
    text = data.decode(definition.encoding)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        raise ValueError(f"{definition.file_name}: empty file")
    return rows[0], rows[1:]


def dataset_slug(definition: Definition, lgcode: str, as_of: date) -> str:
    """CKAN package name: lower-case ASCII, digits, '-' and '_' only, 2..100 characters."""
    return f"{lgcode}-{definition.id.replace('_', '-')}-{as_of:%Y%m%d}"


def _download(base_url: str, definition: Definition, as_of: date) -> str:
    return f"{base_url.rstrip('/')}/{definition.file_name}?as_of={as_of.isoformat()}"


def dcat(files: dict[Definition, bytes], lgcode: str, municipality: str, as_of: date,
         base_url: str) -> dict:
    """A dcat:Catalog of the municipality's datasets as of the date (DCAT 2, JSON-LD)."""
    publisher = {"@type": "foaf:Organization", "foaf:name": municipality, "dct:identifier": lgcode}
    datasets = []
    for d, data in files.items():
        url = _download(base_url, d, as_of)
        datasets.append({
            "@type": "dcat:Dataset",
            "@id": f"{base_url.rstrip('/')}/catalog.jsonld#{dataset_slug(d, lgcode, as_of)}",
            "dct:identifier": dataset_slug(d, lgcode, as_of),
            "dct:title": f"{municipality} {d.title} ({as_of.isoformat()})",
            "dct:description": d.description,
            "dct:publisher": publisher,
            "dct:issued": {"@value": as_of.isoformat(), "@type": "xsd:date"},
            "dct:temporal": {"@type": "dct:PeriodOfTime",
                             "dcat:endDate": {"@value": as_of.isoformat(), "@type": "xsd:date"}},
            "dct:spatial": {"@type": "dct:Location", "dct:identifier": lgcode},
            "dct:license": {"@id": LICENSE_URL},
            "dct:conformsTo": {"dct:title": f"自治体標準オープンデータセット {d.title}"},
            "dcat:keyword": ["人口", "住民基本台帳", d.title],
            "dcat:distribution": [{
                "@type": "dcat:Distribution",
                "dct:title": d.file_name,
                "dcat:downloadURL": {"@id": url},
                "dcat:accessURL": {"@id": url},
                "dcat:mediaType": "text/csv",
                "dct:format": "CSV",
                "dcat:byteSize": {"@value": str(len(data)), "@type": "xsd:decimal"},
                "spdx:checksum": {"@type": "spdx:Checksum", "spdx:algorithm": "spdx:checksumAlgorithm_sha256",
                                  "spdx:checksumValue": hashlib.sha256(data).hexdigest()},
                "dct:license": {"@id": LICENSE_URL},
            }],
        })
    return {
        "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
                     "foaf": "http://xmlns.com/foaf/0.1/", "xsd": "http://www.w3.org/2001/XMLSchema#",
                     "spdx": "http://spdx.org/rdf/terms#"},
        "@type": "dcat:Catalog",
        "@id": f"{base_url.rstrip('/')}/catalog.jsonld",
        "dct:title": f"{municipality} オープンデータ",
        "dct:publisher": publisher,
        "dcat:dataset": datasets,
    }


def ckan_packages(files: dict[Definition, bytes], lgcode: str, municipality: str, as_of: date,
                  base_url: str) -> list[dict]:
    """One CKAN package (the body `package_create` takes) per dataset."""
    packages = []
    for d, data in files.items():
        packages.append({
            "name": dataset_slug(d, lgcode, as_of),
            "title": f"{municipality} {d.title} ({as_of.isoformat()})",
            "notes": d.description,
            "license_id": CKAN_LICENSE_ID,
            "owner_org": f"lg-{lgcode}",
            "tags": [{"name": t} for t in ("人口", "住民基本台帳", d.title)],
            "extras": [{"key": "調査年月日", "value": as_of.isoformat()},
                       {"key": "全国地方公共団体コード", "value": lgcode},
                       {"key": "conforms_to", "value": f"自治体標準オープンデータセット {d.title}"}],
            "resources": [{"name": d.file_name, "url": _download(base_url, d, as_of),
                           "format": "CSV", "mimetype": "text/csv", "size": len(data),
                           "hash": f"sha256:{hashlib.sha256(data).hexdigest()}"}],
        })
    return packages
