"""Reads a downloaded copy of published state findings with DuckDB, as Athena reads the bucket.

Usage: query_state.py ROOT

ROOT holds the objects under their keys below PREFIX/state/
(system_key=<system>/date=<YYYY-MM-DD>/<checked at>-<digest>.jsonl). The columns and their types
are those of the Athena table in docs/audit-trail-publish.md ("State findings"); `system_key`
and `date` come from the folder names. Prints every row, verdict lines first, then changes by
time and gaps, as one JSON array on standard output.
"""

import json
import sys

import duckdb

COLUMNS = {
    "format": "VARCHAR",
    "kind": "VARCHAR",
    "system": "VARCHAR",
    "checked_at": "VARCHAR",
    "ledger": "VARCHAR",
    "findings_sha256": "VARCHAR",
    "verdict": "VARCHAR",
    "verdict_text": "VARCHAR",
    "approved_at": "VARCHAR",
    "covered_until": "VARCHAR",
    "changes": "INTEGER",
    "open_changes": "INTEGER",
    "gaps": "INTEGER",
    "change_id": "VARCHAR",
    "change_kind": "VARCHAR",
    "time_utc": "VARCHAR",
    "until_utc": "VARCHAR",
    "summary": "VARCHAR",
    "resource_type": "VARCHAR",
    "resource_id": "VARCHAR",
    "who": "VARCHAR",
    "assessed_impact": "VARCHAR",
    "assessed_by": "VARCHAR",
    "assessment_reference": "VARCHAR",
}


def main() -> int:
    root = sys.argv[1]
    con = duckdb.connect()
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in COLUMNS.items())
    rel = con.execute(
        "SELECT * FROM read_json(?, format = 'newline_delimited', columns = {"
        + columns
        + "}, hive_partitioning = true, hive_types_autocast = false)"
        + " ORDER BY system, checked_at, CASE kind WHEN 'verdict' THEN 0 WHEN 'change' THEN 1 ELSE 2 END, time_utc, change_id",
        [f"{root}/system_key=*/date=*/*.jsonl"],
    )
    names = [d[0] for d in rel.description]
    rows = [dict(zip(names, r)) for r in rel.fetchall()]
    json.dump(rows, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
