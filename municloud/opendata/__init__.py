"""Open data from the registers (指針7): 自治体標準オープンデータセット 「地域・年齢別人口」 and
「世帯数」 from a municipality's residents registry, with small-cell protection.

Runtime kit (imported by residents_registry): `definition` (the column definitions, one YAML file
per dataset), `table` (the published table and its additive relations), `suppression` (primary and
complementary cell suppression), `render` (CSV with BOM, DCAT JSON-LD, CKAN package).
Operator tooling, not in the images, is municloud_ops.opendata: `audit` (recovers suppressed cells
from the published margins by linear programming), `validate` (checks published files against the
definition) and `publish` (the CLI's fetch through the frontdoor).
"""
