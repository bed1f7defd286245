"""Reads a downloaded copy of a published audit trail with DuckDB, as Athena reads the bucket.

Usage: query_trail.py ROOT

ROOT holds the objects under their keys below PREFIX/audit-trail/
(ledger=<id>/date=<YYYY-MM-DD>/<first>-<last>.jsonl). The columns and their types are those of
the Athena table in docs/audit-trail-publish.md; `ledger` and `date` come from the folder names,
as partition projection gives them to Athena. Prints every row, in sequence order, as one JSON
array on standard output.
"""

import json
import sys

import duckdb

COLUMNS = {
    "format": "VARCHAR",
    "seq": "BIGINT",
    "time_utc": "VARCHAR",
    "utc_offset": "VARCHAR",
    "actor": "STRUCT(arn VARCHAR, printed_name VARCHAR)",
    "action": "VARCHAR",
    "object_kind": "VARCHAR",
    "object_id": "VARCHAR",
    "before": "VARCHAR",
    "after": "VARCHAR",
    "reason": "VARCHAR",
    "prev_hash": "VARCHAR",
    "hash": "VARCHAR",
}


def main() -> int:
    root = sys.argv[1]
    con = duckdb.connect()
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in COLUMNS.items())
    rel = con.execute(
        "SELECT * FROM read_json(?, format = 'newline_delimited', columns = {"
        + columns
        + "}, hive_partitioning = true, hive_types_autocast = false) ORDER BY ledger, seq",
        [f"{root}/ledger=*/date=*/*.jsonl"],
    )
    names = [d[0] for d in rel.description]
    rows = [dict(zip(names, r)) for r in rel.fetchall()]
    json.dump(rows, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
