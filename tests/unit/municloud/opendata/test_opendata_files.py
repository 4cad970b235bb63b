"""Published files against the column definition: UTF-8 with BOM, the definition's header, valid
codes and dates, counts or the suppression marker; DCAT and CKAN descriptions that name the file."""

from __future__ import annotations

import hashlib
import re
from datetime import date

import pytest

from municloud.opendata import definition, render, suppression, table
from municloud_ops.opendata.validate import validate

pytestmark = pytest.mark.unit

AS_OF = date(2026, 4, 1)
POP = definition.load("population_by_area_age")
COUNTS = {"字上町": {"0-4歳男性": 4, "30-34歳女性": 9}, "字中町": {"0-4歳男性": 3, "65-69歳女性": 12, "70-74歳女性": 1}}


def good() -> bytes:
    t = table.build(POP, COUNTS)
    suppression.suppress(t)
    return render.to_csv(t, "053031", "小坂町", AS_OF)


def test_a_published_file_validates_and_starts_with_a_bom():
    data = good()
    assert data.startswith(b"\xef\xbb\xbf")
    header = data.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[:9] == ["全国地方公共団体コード", "ID", "地方公共団体名", "調査年月日", "地域コード",
                          "地域名", "総数", "男性", "女性"]
    report = validate(POP, data, lgcode="053031", as_of=AS_OF)
    assert report.ok, report.problems
    assert report.rows == 3 and "valid" in report.sentence()


@pytest.mark.parametrize("tamper,expected", [
    (lambda b: b[3:], "byte order mark"),
    (lambda b: b.replace("総数".encode(), "人口".encode(), 1), "header"),
    (lambda b: b.replace(b"053031,", b"053032,", 1), "check digit"),
    (lambda b: b.replace(b"2026-04-01", b"2026/04/01", 1), "YYYY-MM-DD"),
    (lambda b: b.replace(b",X", b",2", 1), "below 3"),
    (lambda b: b.replace(b",X", b",-", 1), "neither a count"),
])
def test_twin_broken_files_are_refused_naming_the_problem(tamper, expected):
    data = tamper(good())
    assert data != good()
    report = validate(POP, data, lgcode="053031", as_of=AS_OF)
    assert not report.ok
    assert expected in report.sentence(), report.sentence()


def test_dcat_and_ckan_describe_the_file_with_its_checksum():
    data = good()
    files = {POP: data}
    catalog = render.dcat(files, "053031", "小坂町", AS_OF, "https://example.test/053031/opendata")
    dist = catalog["dcat:dataset"][0]["dcat:distribution"][0]
    assert dist["spdx:checksum"]["spdx:checksumValue"] == hashlib.sha256(data).hexdigest()
    assert dist["dcat:downloadURL"]["@id"].endswith("population_by_area_age.csv?as_of=2026-04-01")
    assert catalog["@context"]["dcat"] == "http://www.w3.org/ns/dcat#"
    [package] = render.ckan_packages(files, "053031", "小坂町", AS_OF, "https://example.test/053031/opendata")
    assert re.fullmatch(r"[a-z0-9_-]{2,100}", package["name"])
    assert package["resources"][0]["size"] == len(data) and package["license_id"] == "cc-by-4.0"


def test_unknown_dataset_is_named():
    with pytest.raises(ValueError, match="unknown open dataset 'nope'"):
        definition.load("nope")
