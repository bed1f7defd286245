#!/usr/bin/env python3
"""Deterministic benchmark workloads, written as a bucket's folder tree.

    workload.py sync  DIR   2,020 objects / ~164 MiB: 20 runs of run.json + a JUnit report
                            (500 cases) + 99 evidence files of 4 KiB-1 MiB
    workload.py many  DIR   100,000 objects: 1,000 runs of run.json + a JUnit report
                            (20 cases) + 98 evidence files of 1-4 KiB
    workload.py many  DIR N the same 100,000 objects spread over N folders DIR/many-00 ...
                            (run k in folder k mod N), each served as its own bucket

The same arguments give the same bytes on every machine (a seeded generator, fixed dates), so
figures from two runs compare. DIR is created; it must not exist yet (with N, the bucket
folders must not). Every run folder lies under DIR/<system>/<phase>/<run-id>/ (with N,
DIR/many-NN/many/<system>/<phase>/<run-id>/), as Countersign's layout convention expects.
"""

import hashlib
import json
import os
import random
import sys

SYSTEMS = ["LIMS", "ELN", "ERP", "MES", "QMS"]
PHASES = ["IQ", "OQ", "PQ"]


def evidence_sizes_sync(rng, n):
    # Mixed 4 KiB - 1 MiB, most of them small (log-uniform with a bias to the low end).
    return [int(4096 * 256 ** (rng.random() ** 2.7)) for _ in range(n)]


def evidence_sizes_many(rng, n):
    return [rng.randint(1024, 4096) for _ in range(n)]


def junit(system, phase, run_id, cases, rng):
    failed = {i for i in range(cases) if i % 23 == 7}
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuite name="{system}-{phase}" tests="{cases}" failures="{len(failed)}" errors="0" time="{cases * 0.2:.1f}">',
    ]
    for i in range(cases):
        name = f"test_{system.lower()}_{phase.lower()}_{i:04d}_requirement_holds"
        out.append(
            f'  <testcase classname="qual.{system}.{phase}" name="{name}" time="{rng.random():.3f}">'
        )
        out.append(f'    <properties><property name="requirement" value="URS-{system}-{i % 40:03d}"/></properties>')
        if i in failed:
            out.append(
                f'    <failure message="expected state {i} but found {i + 1}">'
                f"AssertionError: resource {run_id}/{i} drifted from the approved baseline</failure>"
            )
        out.append("  </testcase>")
    out.append("</testsuite>")
    return ("\n".join(out) + "\n").encode()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def bucket_of(r, buckets):
    """The bucket folder of run r when a workload is spread over buckets."""
    return f"many-{r % buckets:02d}"


def generate(kind, root, buckets=0):
    if kind == "sync":
        runs, cases, evidence, sizes = 20, 500, 99, evidence_sizes_sync
    elif kind == "many":
        runs, cases, evidence, sizes = 1000, 20, 98, evidence_sizes_many
    else:
        raise SystemExit(f"unknown workload {kind!r}: use sync or many")
    if buckets and kind != "many":
        raise SystemExit("only the many workload is spread over buckets")
    folders = [os.path.join(root, bucket_of(b, buckets)) for b in range(buckets)] or [root]
    for folder in folders:
        if os.path.exists(folder):
            raise SystemExit(f"{folder} already exists; the workload is written into a new folder")
    rng = random.Random(f"countersign-bench-{kind}")
    objects = total = 0
    for r in range(runs):
        system = SYSTEMS[r % len(SYSTEMS)]
        phase = PHASES[(r // len(SYSTEMS)) % len(PHASES)]
        run_id = f"2026-11-{1 + r % 28:02d}-{phase.lower()}-{r + 1}"
        top = os.path.join(root, bucket_of(r, buckets), "many") if buckets else root
        base = os.path.join(top, system, phase, run_id)
        files = {"reports/junit.xml": junit(system, phase, run_id, cases, rng)}
        for i, size in enumerate(sizes(rng, evidence)):
            ext = ".png" if i % 3 == 0 else ".json" if i % 3 == 1 else ".log"
            files[f"evidence/E-{i:03d}{ext}"] = rng.randbytes(size) if ext == ".png" else (
                (f"evidence {run_id} {i}\n" * (size // 24 + 1)).encode()[:size]
            )
        manifest = {
            "schema": "countersign.run/v1",
            "system": system,
            "phase": phase,
            "run_id": run_id,
            "protocol": {"id": f"{system}-{phase}-001", "version": "1.0"},
            "executed_at": f"2026-11-{1 + r % 28:02d}T09:00:00Z",
            # The report's digest is declared, as a qualification pipeline would.
            "files": {
                "reports/junit.xml": {"sha256": hashlib.sha256(files["reports/junit.xml"]).hexdigest()}
            },
        }
        files["run.json"] = (json.dumps(manifest, indent=2) + "\n").encode()
        for rel, data in files.items():
            write(os.path.join(base, rel), data)
            objects += 1
            total += len(data)
    print(f"{objects} objects, {total} bytes, {runs} runs in {root}")


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    n = int(sys.argv[3]) if len(sys.argv) == 4 else 0
    if len(sys.argv) == 4 and not 1 <= n <= 100:
        raise SystemExit("N must be between 1 and 100")
    generate(sys.argv[1], sys.argv[2], n)
