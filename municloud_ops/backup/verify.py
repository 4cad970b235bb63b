"""`backup verify`: repository checksums, then restore the latest backup into a scratch container
and compare every user table with the source (row count + checksum of the ordered rows)."""

from __future__ import annotations

from dataclasses import dataclass

from municloud_ops.backup import pgbackrest as br
from municloud_ops.backup.restore import start_scratch
from municloud_ops.dr import postgres as pg
from municloud_ops.dr.inventory import DR, PRIMARY, Inventory, is_running
from municloud_ops.dr.state import record_verify
from municloud_ops.dr.steps import StepFailed, StepResult, Stopwatch

_TABLES = """SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables
             WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
             ORDER BY 1"""


@dataclass(frozen=True)
class TableDigest:
    database: str
    table: str
    rows: int
    md5: str


def digests(container) -> dict[tuple[str, str], TableDigest]:
    out = {}
    dbs = [r[0] for r in pg.psql(container, "SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1")]
    for db in dbs:
        for (table,) in pg.psql(container, _TABLES, db):
            rows, md5 = pg.psql(container, f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' "
                                           f"ORDER BY t::text), '')) FROM {table} t", db)[0]
            out[(db, table)] = TableDigest(db, table, int(rows), md5)
    return out


def active_primary(inv: Inventory, lgcode: str):
    for site in (PRIMARY, DR):
        db = inv.database(site, lgcode)
        if db is not None and is_running(db) and not pg.in_recovery(db):
            return db
    raise LookupError(f"no running primary for {lgcode} in stack {inv.stack}")


def verify(inv: Inventory, stanza: str, keep: bool = False) -> StepResult:
    """Verify the newest backup of ``stanza`` (a municipality code). Records the result for `dr status`."""
    with Stopwatch() as t:
        try:
            br.verify_repository(inv, stanza)
            source = active_primary(inv, stanza)
            expected = digests(source)
            br.check(inv, stanza)  # WAL up to now archived, so the restore reaches the digest point
            scratch = start_scratch(inv, stanza, f"mc-{inv.stack}-{DR}-{stanza}-verify", [], "verify")
            try:
                got = digests(scratch)
            finally:
                if not keep:
                    scratch.remove(force=True, v=True)
        except (StepFailed, br.BackupError) as e:
            record_verify(inv.stack, stanza, "FAILED", {"reason": str(e)[:500]})
            raise StepFailed(f"verify of {stanza} FAILED: {e}") from e
    differing = sorted(f"{d}:{tb}" for (d, tb) in set(expected) | set(got) if expected.get((d, tb)) != got.get((d, tb)))
    rows = sum(d.rows for d in expected.values())
    if differing:
        record_verify(inv.stack, stanza, "FAILED", {"differing_tables": differing})
        raise StepFailed(f"verify of {stanza} FAILED: {len(differing)} tables differ from the source: "
                         + ", ".join(differing[:10]))
    record_verify(inv.stack, stanza, "passed", {"tables": len(expected), "rows": rows})
    return StepResult(f"verified backup of {stanza}: {len(expected)} tables, {rows} rows identical to the "
                      f"source in {t.seconds:.1f} s", t.seconds)
