"""`municloud opendata publish`: fetch a member's open data through the frontdoor without a token,
as any reader would, write the files and validate them. Operator tooling."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from municloud.opendata import definition
from municloud_ops.opendata.validate import Report, validate

CATALOG, CKAN = "catalog.jsonld", "ckan.json"


@dataclass(frozen=True)
class Frontdoor:
    url: str
    ca_file: Path


def default_dir(stack: str, lgcode: str, as_of: date) -> Path:
    from municloud_ops.images import STATE_DIR

    return STATE_DIR / "opendata" / stack / lgcode / as_of.isoformat()


def publish(frontdoor: Frontdoor, lgcode: str, as_of: date, out_dir: Path, *,
            min_count: int = 3) -> list[str]:
    """Download every dataset, the DCAT catalog and the CKAN packages; validate; sentences."""
    import httpx

    out_dir.mkdir(parents=True, exist_ok=True)
    params = {"as_of": as_of.isoformat()}
    sentences = []
    with httpx.Client(base_url=frontdoor.url, verify=str(frontdoor.ca_file), timeout=30) as client:
        for name in (*[definition.load(d).file_name for d in definition.DATASETS], CATALOG, CKAN):
            r = client.get(f"/{lgcode}/opendata/{name}", params=params)  # no Authorization header
            if r.status_code != 200:
                raise RuntimeError(f"GET /{lgcode}/opendata/{name}: HTTP {r.status_code} {r.text[:200]}")
            (out_dir / name).write_bytes(r.content)
            sentences.append(f"fetched {name} for {lgcode} as of {as_of} ({len(r.content)} bytes, no token)")
    reports = validate_dir(out_dir, lgcode, as_of, min_count=min_count)
    sentences += [r.sentence() for r in reports]
    if not all(r.ok for r in reports):
        raise ValueError("; ".join(r.sentence() for r in reports if not r.ok))
    return sentences


def validate_dir(out_dir: Path, lgcode: str, as_of: date, *, min_count: int = 3) -> list[Report]:
    """Validate the published CSVs in a directory and check that the catalog names them."""
    import hashlib

    reports = []
    catalog_path = out_dir / CATALOG
    checksums = {}
    if catalog_path.is_file():
        catalog = json.loads(catalog_path.read_text(encoding="utf-8"))
        for ds in catalog.get("dcat:dataset", []):
            for dist in ds.get("dcat:distribution", []):
                checksums[dist["dct:title"]] = dist["spdx:checksum"]["spdx:checksumValue"]
    for dataset_id in definition.DATASETS:
        d = definition.load(dataset_id)
        path = out_dir / d.file_name
        if not path.is_file():
            report = Report(d.file_name)
            report.problems.append(f"missing file {path}")
            reports.append(report)
            continue
        data = path.read_bytes()
        report = validate(d, data, lgcode=lgcode, as_of=as_of, min_count=min_count)
        if catalog_path.is_file() and checksums.get(d.file_name) != hashlib.sha256(data).hexdigest():
            report.problems.append(f"{CATALOG} does not carry this file's sha256")
        reports.append(report)
    return reports
