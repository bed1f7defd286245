#!/usr/bin/env python3
"""Independent verifier for a Countersign Periodic Review Report.

Written from docs/package-format.md section 12 and docs/signature-format.md alone, with the
Python standard library and the `cryptography` package (through verify_dsse.py, the
independent envelope verifier beside it): it shares no code with the Rust implementation.

Input is the folder the report's attachments were extracted into (e.g. with pdfdetach), each
at its attachment name. Prints "verified" and one line per signature, or "failed" and every
problem; exits 0 only when verified, 1 otherwise, 2 for usage errors.

Usage:
    verify_review_report.py FOLDER
"""

import base64
import hashlib
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from package_paths import safe  # noqa: E402
from verify_dsse import Outcome, canonical, key_id, verify  # noqa: E402

SCHEMA = "countersign.review-report-manifest/v1"
FINDINGS_SCHEMA = "countersign.state-findings/v1"
MEMBERS = {
    "schema", "report_id", "title", "system", "period", "created_at", "utc_offset", "demo",
    "findings_sha256", "files",
}
ROLES = {
    "state-findings": re.compile(r"^findings\.json$"),
    "signature": re.compile(r"^signatures/[0-9]{3,}\.dsse\.json$"),
    "public-key": re.compile(r"^keys/[0-9a-f]{32}\.json$"),
    "assessment-record": re.compile(r"^assessments/[0-9]{3,}\.json$"),
    "assessment-signature": re.compile(r"^assessments/[0-9]{3,}\.dsse\.json$"),
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main() -> int:
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    root = sys.argv[1]
    problems = []
    lines = []

    def read(path: str) -> bytes:
        with open(os.path.join(root, *path.split("/")), "rb") as f:
            return f.read()

    manifest_bytes = read("manifest.json")
    manifest = json.loads(manifest_bytes)
    if set(manifest) != MEMBERS or manifest["schema"] != SCHEMA:
        print("failed\nmanifest.json is not a " + SCHEMA + " document")
        return 1
    if canonical(manifest) != manifest_bytes:
        problems.append("manifest.json is not canonical JSON")
    # The report id derives from created_at and the findings' digest (package-format §12.3).
    digits = "".join(c for c in manifest["created_at"] if c.isdigit())[:8]
    derived = "PRR-" + digits + "-" + hashlib.sha256(
        b"countersign/review-report-id/v1\x00" + manifest["created_at"].encode("utf-8")
        + b"\x00" + manifest["findings_sha256"].encode("ascii")).hexdigest()[:12]
    if derived != manifest["report_id"]:
        problems.append(f"report_id {manifest['report_id']} does not derive from created_at and findings_sha256 (they give {derived})")
    lines.append(f"manifest sha256 {sha256(manifest_bytes)}")

    # Every listed file, and nothing else.
    listed = {}
    paths = [f["path"] for f in manifest["files"]]
    if paths != sorted(paths, key=lambda p: p.encode("utf-8")) or len(set(paths)) != len(paths):
        problems.append("files are not sorted by path, or a path repeats")
    for f in manifest["files"]:
        path, role = f["path"], f["role"]
        if not safe(path) or role not in ROLES or not ROLES[role].match(path):
            problems.append(f"{path}: not a safe path for a {role} file")
            continue
        data = read(path)
        if len(data) != f["size"] or sha256(data) != f["sha256"]:
            problems.append(f"{path}: size or SHA-256 differs from the manifest")
        listed[path] = (role, data)
    for dirpath, _, names in os.walk(root):
        for name in names:
            rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
            if rel != "manifest.json" and rel not in listed:
                problems.append(f"{rel}: present but not listed in the manifest")

    # The findings: the signed document.
    findings_bytes = listed.get("findings.json", (None, b""))[1]
    findings_sha = sha256(findings_bytes)
    if findings_sha != manifest["findings_sha256"]:
        problems.append("findings.json does not have the manifest's findings_sha256")
    findings = json.loads(findings_bytes)
    if findings.get("schema") != FINDINGS_SCHEMA or canonical(findings) != findings_bytes:
        problems.append("findings.json is not a canonical " + FINDINGS_SCHEMA + " document")
    if findings.get("system") != manifest["system"]:
        problems.append("the findings are about another system")
    period = manifest["period"]
    if findings["period"]["to"] != period["to"] or not (
        period["from"] <= findings["period"]["from"] <= period["to"]
    ):
        problems.append("the findings cover another period than the one reviewed")

    # Keys: the key id derives from the key, and names the file.
    keys = {}
    for path, (role, data) in listed.items():
        if role != "public-key":
            continue
        k = json.loads(data)
        public_key = base64.standard_b64decode(k["public_key"])
        if len(public_key) != 32 or key_id(public_key) != k["key_id"] or path != f"keys/{k['key_id']}.json":
            problems.append(f"{path}: the key id does not derive from the key or name the file")
        keys[k["key_id"]] = (public_key, k)

    def check(envelope: bytes, name: str, digest: str, meaning: str, where: str):
        env = json.loads(envelope)
        kid = env["signatures"][0]["keyid"] if env.get("signatures") else None
        if kid not in keys:
            problems.append(f"{where}: signed with key {kid}, which the report does not carry")
            return None
        public_key, enrolled = keys[kid]
        try:
            verify(envelope, public_key, name, digest)
        except Outcome as o:
            problems.append(f"{where}: {o.code}: {o.detail}")
            return None
        predicate = json.loads(base64.standard_b64decode(env["payload"]))["predicate"]
        if predicate["meaning"] != meaning:
            problems.append(f"{where}: means {predicate['meaning']}, not {meaning}")
        if predicate["iam_arn"] != enrolled["iam_arn"] or predicate["printed_name"] != enrolled["printed_name"]:
            problems.append(f"{where}: the signer is not the person the key is enrolled to")
        return predicate

    # Review signatures, in order, each following those before it.
    subject = f"periodic-review:{manifest['system']}/{period['from']}..{period['to']}"
    reviews = sorted(p for p, (r, _) in listed.items() if r == "signature")
    if not reviews:
        problems.append("no periodic-review signature")
    earlier = []
    for i, path in enumerate(reviews, 1):
        if path != f"signatures/{i:03d}.dsse.json":
            problems.append(f"{path}: out of sequence")
        envelope = listed[path][1]
        p = check(envelope, subject, findings_sha, "PeriodicallyReviewed", path)
        if p is not None:
            if p["follows"] != earlier:
                problems.append(f"{path}: does not follow exactly the signatures before it")
            lines.append(f"{path}: valid PeriodicallyReviewed by {p['printed_name']} at {p['signed_at']} ({p['utc_offset']})")
        earlier.append(sha256(envelope))

    # Assessments: each one the findings count is carried, signed, and equal.
    carried = {}
    records = sorted(p for p, (r, _) in listed.items() if r == "assessment-record")
    for path in records:
        envelope_path = path[: -len(".json")] + ".dsse.json"
        if envelope_path not in listed:
            problems.append(f"{path}: no signature {envelope_path}")
            continue
        record_bytes = listed[path][1]
        record = json.loads(record_bytes)
        name = f"change-assessment:{record['system']}/{record['change']}"
        envelope = listed[envelope_path][1]
        p = check(envelope, name, sha256(record_bytes), "Assessed", envelope_path)
        if p is not None:
            carried[sha256(envelope)] = (record, p)
    for a in findings["assessments"]:
        got = carried.pop(a["envelope_sha256"], None)
        if got is None:
            problems.append(f"assessment {a['envelope_sha256']}: counted by the findings, not carried")
            continue
        record, p = got
        same = (
            record["change"] == a["change"] and record["impact"] == a["impact"]
            and record.get("reference") == a["reference"] and p["reason"] == a["reason"]
            and p["printed_name"] == a["printed_name"] and p["iam_arn"] == a["iam_arn"]
            and p["signed_at"] == a["signed_at"]
        )
        if not same:
            problems.append(f"assessment {a['envelope_sha256']}: not what the findings say")
    for sha in carried:
        problems.append(f"assessment {sha}: carried but not counted by the findings")

    if problems:
        print("failed")
        print(lines[0])
        for p in problems:
            print(p)
        return 1
    print("verified")
    print(f"{manifest['report_id']}: {manifest['system']} {period['from']}..{period['to']}: {findings['verdict']['text']}")
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
