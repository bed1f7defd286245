#!/usr/bin/env python3
"""Independent verifier for a Countersign validation package.

Written from docs/package-format.md (sections 1-9, 11, 13 and 15) and docs/signature-format.md
alone, with the Python standard library and the `cryptography` package (through
verify_dsse.py, the independent envelope verifier beside it), and pypdf to read a PDF's
embedded files for `--pdf`: it shares no code with the Rust
implementation, so agreement between the two shows that the documents are enough to verify a
package.

Input is a folder holding the package's files at their manifest paths: a bundle folder (its
root holds `manifest.json`, at most one `*.pdf` and the files), or the attachments of a package
PDF extracted into a folder (e.g. with `pdfdetach -savefile NAME -o FOLDER/NAME`). A folder with
no PDF at its root and none of the manifest's evidence files is read as a PDF's attachments:
evidence travels in the bundle, not in the PDF, so its absence is reported, not failed. Give
`--bundle` to require the evidence files whatever the folder holds.

Checks (package-format §9), each reporting every problem it finds: `manifest`, `files`,
`records`, `keys`, `signatures` (with the re-open rules of §13 and signature-format §15) and
`order`. Not done, and said so in the output:
  - `trust`: this verifier takes no trusted-keys list, so the signatures are checked with the
    public keys the package carries (the `keys_not_checked` limit always applies);
  - `policy`: the replay follows docs/policy.md, which this verifier was not written from; it
    only checks that a package with signatures carries `policy.json` and lists which
    signatures were made under it. The policy is not replayed by this verifier;
  - `rendered`: the PDF is not parsed (run this verifier on its extracted attachments instead);
  - the verdict's per-run state (approved, reviewed, ...): docs/policy.md "States" derives it,
    and this verifier was not written from that document.
The audit-trail excerpt is informative (§7): its digest is checked with the files, and each
entry's hash is re-derived with docs/ledger-format.md's encoding and reported as a notice.
Zip bundles are not read: unpack them into a folder first.

Prints "verified", the manifest digest, one line per signature ("...: valid Reviewed by Dana
Whitfield (...) at ... (+01:00)") and the notices, or "failed" followed by every problem, each
line as "<check>: <problem>", then the notices. Exits 0 only when verified, 1 otherwise, 2 for
usage errors.

With `--pdf FILE.pdf` (no folder), the package PDF itself is read: its package approvals
(§15) from the file's bytes as §15.2 says, the draft (the bytes before the first approval) with
pypdf, whose embedded files are verified as a PDF's attachments above, then each approval as
§15.3 (without the policy replay, for the reason given for `policy`). The output adds
"package: draft|reviewed|approved" and one line per approval.

Usage:
    verify_package.py [--bundle] FOLDER
    verify_package.py --pdf FILE.pdf
"""

import base64
import binascii
import hashlib
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from package_paths import safe  # noqa: E402
from verify_dsse import Outcome, canonical, key_id, verify  # noqa: E402

MANIFEST_SCHEMA = "countersign.package-manifest/v1"
REVIEW_REPORT_SCHEMA = "countersign.review-report-manifest/v1"
RUN_DATA_SCHEMA = "countersign.run-data/v1"
RECORD_V1 = "countersign.run-record/v1"
RECORD_V2 = "countersign.run-record/v2"
PUBLIC_KEY_FORMAT = "countersign.public-key/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"

MANIFEST_MEMBERS = {
    "schema", "package_id", "title", "systems", "phases", "stacks", "created_at", "utc_offset",
    "demo", "runs", "files",
}
RUN_MEMBERS = {"run", "record", "record_sha256", "data", "status", "totals"}
TOTALS_MEMBERS = {"tests", "passed", "failed", "errored", "skipped"}
FILE_MEMBERS = {"path", "role", "size", "sha256"}
STATUSES = {"passed", "failed", "incomplete"}
PHASES = ["IQ", "OQ", "PQ"]
RECORD_MEMBERS = {
    RECORD_V1: {"schema", "run", "files", "dispositions"},
    RECORD_V2: {"schema", "run", "files", "dispositions", "run_data"},
}
RECORD_FILE_MEMBERS = {"path", "sha256", "uri", "version_id"}
DISPOSITION_MEMBERS = {"case_id", "kind", "ref", "reason", "by_arn", "at"}
RUN_DATA_REF_MEMBERS = {"schema", "parser", "sha256"}
RUN_DATA_MEMBERS = {
    "schema", "run", "status", "totals", "executed_at", "executor_name", "executor_arn",
    "protocol", "cases", "traceability", "dispositions", "problems",
}
KEY_MEMBERS = {
    "enrolled_at", "format", "iam_arn", "key_id", "printed_name", "public_key", "revoked_at",
}
STATEMENT_MEMBERS = {"_type", "subject", "predicateType", "predicate"}
PREDICATE_MEMBERS = {
    "meaning", "reason", "printed_name", "iam_arn", "key_id", "signed_at", "utc_offset", "sts",
    "policy", "follows",
}
STS_MEMBERS = {"mfa_serial", "session_expires_at", "server_time"}
POLICY_REF_MEMBERS = {"version", "sha256"}

HEX64 = re.compile(r"^[0-9a-f]{64}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
UTC = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$")
OFFSET = re.compile(r"^[+-][0-9]{2}:[0-9]{2}$")
RUN = re.compile(r"^[^/]+/[^/]+/[^/]+$")
# Where each role's files sit (package-format §2); the run is the three segments after the
# first folder.
ROLE_PATHS = {
    "run-record": re.compile(r"^runs/([^/]+/[^/]+/[^/]+)/record\.json$"),
    "run-data": re.compile(r"^runs/([^/]+/[^/]+/[^/]+)/results\.json$"),
    "evidence": re.compile(r"^runs/([^/]+/[^/]+/[^/]+)/files/(.+)$"),
    "signature": re.compile(r"^signatures/([^/]+/[^/]+/[^/]+)/([0-9]{3,})\.dsse\.json$"),
    "public-key": re.compile(r"^keys/([0-9a-f]{32})\.json$"),
    "policy": re.compile(r"^policy\.json$"),
    "stack-snapshot": re.compile(r"^stacks/([^/]+)/[^/]+\.json$"),
    "audit-evidence": re.compile(r"^audit-evidence/[^/]+\.json$"),
    "audit-trail": re.compile(r"^audit-trail\.json$"),
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def utf8_key(s: str) -> bytes:
    return s.encode("utf-8", "surrogatepass")


class NotJson(Exception):
    pass


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise NotJson(f"member {k!r} appears twice")
        out[k] = v
    return out


def _no_constant(name):
    raise NotJson(f"{name} is not JSON")


def parse(data: bytes):
    """Strict JSON: UTF-8, no repeated member, no NaN or Infinity."""
    try:
        text = data.decode("utf-8")
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise NotJson("not UTF-8")
    except ValueError as e:
        raise NotJson(str(e))


def is_canonical(value, data: bytes) -> bool:
    try:
        return canonical(value) == data
    except (UnicodeEncodeError, ValueError):
        return False


def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_str(v) -> bool:
    return isinstance(v, str)


def blank(v) -> bool:
    return not isinstance(v, str) or not v.strip()


class Report:
    def __init__(self):
        self.problems = []
        self.lines = []
        self.notes = []

    def fail(self, check: str, problem: str):
        self.problems.append(f"{check}: {problem}")

    def note(self, check: str, text: str):
        self.notes.append(f"{check}: {text}")


def statement_shape(statement) -> str:
    """Step 7 of signature-format §6 beyond what verify_dsse.verify checks: the exact members
    and field rules of §3 and §5. Returns the first problem, or None."""
    if not isinstance(statement, dict) or set(statement) != STATEMENT_MEMBERS:
        return "the statement does not have exactly _type, subject, predicateType, predicate"
    subjects = statement["subject"]
    if not isinstance(subjects, list) or len(subjects) != 1:
        return "the statement does not have exactly one subject"
    s = subjects[0]
    if not isinstance(s, dict) or set(s) != {"name", "digest"} or not is_str(s["name"]):
        return "the subject does not have exactly a name and a digest"
    if not isinstance(s["digest"], dict) or set(s["digest"]) != {"sha256"}:
        return "the subject digest does not have exactly sha256"
    if not is_str(s["digest"]["sha256"]) or not HEX64.match(s["digest"]["sha256"]):
        return "the subject digest is not 64 lowercase hex"
    p = statement["predicate"]
    if not isinstance(p, dict) or set(p) != PREDICATE_MEMBERS:
        return "the predicate does not have exactly the members of signature-format §5"
    if blank(p["reason"]):
        return "the reason is blank"
    if blank(p["printed_name"]):
        return "the printed name is blank"
    if not is_str(p["iam_arn"]) or not p["iam_arn"].startswith("arn:"):
        return "iam_arn is not an ARN"
    if not is_str(p["key_id"]) or not HEX32.match(p["key_id"]):
        return "key_id is not 32 lowercase hex"
    if not is_str(p["signed_at"]) or not UTC.match(p["signed_at"]):
        return "signed_at is not a UTC time with milliseconds"
    if not is_str(p["utc_offset"]) or not OFFSET.match(p["utc_offset"]):
        return "utc_offset is not ±HH:MM"
    sts = p["sts"]
    if not isinstance(sts, dict) or set(sts) != STS_MEMBERS:
        return "sts does not have exactly mfa_serial, session_expires_at, server_time"
    if blank(sts["mfa_serial"]):
        return "sts.mfa_serial is blank"
    if not is_str(sts["session_expires_at"]) or not UTC.match(sts["session_expires_at"]):
        return "sts.session_expires_at is not a UTC time"
    if sts["server_time"] is not None and (
        not is_str(sts["server_time"]) or not UTC.match(sts["server_time"])
    ):
        return "sts.server_time is neither a UTC time nor null"
    pol = p["policy"]
    if not isinstance(pol, dict) or set(pol) != POLICY_REF_MEMBERS:
        return "policy does not have exactly version and sha256"
    if not is_int(pol["version"]) or pol["version"] < 1:
        return "policy.version is not an integer ≥ 1"
    if not is_str(pol["sha256"]) or not HEX64.match(pol["sha256"]):
        return "policy.sha256 is not 64 lowercase hex"
    f = p["follows"]
    if not isinstance(f, list) or not all(is_str(x) and HEX64.match(x) for x in f):
        return "follows is not an array of 64-hex digests"
    if len(set(f)) != len(f):
        return "follows repeats a digest"
    return None


def peek_statement(env):
    """The statement of an envelope, read before it is verified (only to find the re-opens;
    nothing read here is trusted until the envelope verifies)."""
    try:
        payload = env["payload"]
        for decode in (base64.standard_b64decode, base64.urlsafe_b64decode):
            try:
                raw = decode(payload.encode("ascii"))
                break
            except (binascii.Error, ValueError):
                raw = None
        st = parse(raw) if raw is not None else None
        return st if isinstance(st, dict) else None
    except (KeyError, TypeError, AttributeError, UnicodeEncodeError, NotJson):
        return None


def ledger_hash(entry) -> bytes:
    """SHA-256 of a ledger entry's version 1 encoding (docs/ledger-format.md)."""
    def field(b: bytes) -> bytes:
        return len(b).to_bytes(4, "big") + b

    def opt(x) -> bytes:
        return b"\x00" if x is None else b"\x01" + field(x.encode("utf-8"))

    enc = b"countersign/ledger-event/v1\x00"
    enc += field(entry["seq"].to_bytes(8, "big"))
    for name in ("time_utc", "utc_offset"):
        enc += field(entry[name].encode("utf-8"))
    enc += opt(entry["actor_arn"]) + opt(entry["actor_name"])
    for name in ("action", "object_kind", "object_id"):
        enc += field(entry[name].encode("utf-8"))
    enc += opt(entry["before"]) + opt(entry["after"]) + opt(entry["reason"])
    enc += field(bytes.fromhex(entry["prev_hash"]))
    return hashlib.sha256(enc).digest()


def audit_trail_hashes(data: bytes) -> str:
    """Re-derives every entry's hash of the audit-trail excerpt; says how many did."""
    try:
        entries = parse(data)
        bad = [e.get("seq") for e in entries if ledger_hash(e).hex() != e.get("hash")]
    except (NotJson, AttributeError, KeyError, TypeError, ValueError, OverflowError) as e:
        return f"the excerpt could not be read as ledger entries: {e}"
    if bad:
        return f"{len(bad)} of {len(entries)} entries' hashes do not re-derive (informative; seq {bad[:5]})"
    return f"every entry's hash re-derives ({len(entries)} entries; informative)"


def verify_pdf(path: str) -> int:
    """`--pdf`: the approvals read from the bytes, the draft's attachments verified, then
    every approval."""
    import io
    import tempfile

    import package_approvals
    from pypdf import PdfReader

    with open(path, "rb") as f:
        data = f.read()
    r = Report()
    try:
        approvals, draft_len = package_approvals.read(data)
    except package_approvals.Malformed as e:
        print("failed")
        print(f"approvals: {e}")
        return 1
    draft = data[:draft_len]
    with tempfile.TemporaryDirectory() as tmp:
        try:
            attachments = PdfReader(io.BytesIO(draft)).attachments
        except Exception as e:  # pypdf raises many kinds for a damaged file
            print("failed")
            print(f"rendered: the draft's embedded files cannot be read: {e}")
            return 1
        for name, contents in attachments.items():
            if not safe(name) or len(contents) != 1:
                r.fail("manifest", f"{name!r}: not a safe package path, or named twice; refused")
                continue
            full = os.path.join(tmp, *name.split("/"))
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(contents[0])
        outcome = verify_folder(tmp, False, r) if not r.problems else False
        state = "draft"
        lines = []
        if outcome and not r.problems:
            with open(os.path.join(tmp, "manifest.json"), "rb") as f:
                package_id = json.loads(f.read())["package_id"]
            keys = {}
            keys_dir = os.path.join(tmp, "keys")
            for name in sorted(os.listdir(keys_dir)) if os.path.isdir(keys_dir) else []:
                with open(os.path.join(keys_dir, name), "rb") as f:
                    doc = json.loads(f.read())
                keys[doc["key_id"]] = (base64.b64decode(doc["public_key"]), doc["iam_arn"])
            problems, lines, state = package_approvals.check(approvals, package_id, keys)
            r.problems.extend(problems)
    if r.problems or not outcome:
        print("failed")
        for p in r.problems:
            print(p)
        for n in r.notes:
            print(n)
        return 1
    print("verified")
    print(f"package: {state}")
    for line in r.lines + lines:
        print(line)
    for n in r.notes:
        print(n)
    return 0


def main() -> int:
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "--pdf" and os.path.isfile(args[1]):
        return verify_pdf(args[1])
    require_bundle = False
    if args and args[0] == "--bundle":
        require_bundle = True
        args = args[1:]
    if len(args) != 1 or not os.path.isdir(args[0]):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    root = args[0]
    r = Report()
    outcome = verify_folder(root, require_bundle, r)
    if r.problems or not outcome:
        print("failed")
        for p in r.problems:
            print(p)
        for n in r.notes:
            print(n)
        return 1
    print("verified")
    for line in r.lines:
        print(line)
    for n in r.notes:
        print(n)
    return 0


def verify_folder(root: str, require_bundle: bool, r: Report) -> bool:
    # Symbolic links and unsafe names are refused before anything is read (§9).
    present = set()
    pdfs = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in list(dirnames) + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if os.path.islink(full):
                r.fail("manifest", f"{rel}: a symbolic link; refused")
            elif not safe(rel):
                r.fail("manifest", f"{rel!r}: not a safe package path; refused")
            elif name in filenames:
                if not os.path.isfile(full):
                    r.fail("manifest", f"{rel}: not a plain file; refused")
                elif "/" not in rel and rel.lower().endswith(".pdf"):
                    pdfs.append(rel)
                else:
                    present.add(rel)
    if r.problems:
        return False

    def read(path: str) -> bytes:
        with open(os.path.join(root, *path.split("/")), "rb") as f:
            return f.read()

    # ---- manifest -------------------------------------------------------------------------
    if "manifest.json" not in present:
        r.fail("manifest", "manifest.json is not in the folder")
        return False
    present.discard("manifest.json")
    manifest_bytes = read("manifest.json")
    try:
        m = parse(manifest_bytes)
    except NotJson as e:
        r.fail("manifest", f"manifest.json is not JSON: {e}")
        return False
    if isinstance(m, dict) and m.get("schema") == REVIEW_REPORT_SCHEMA:
        r.fail("manifest", "this is a Periodic Review Report (package-format §12): verify it with verify_review_report.py")
        return False
    if not isinstance(m, dict) or m.get("schema") != MANIFEST_SCHEMA:
        r.fail("manifest", f"manifest.json is not a {MANIFEST_SCHEMA} document")
        return False
    if set(m) != MANIFEST_MEMBERS:
        extra = sorted(set(m) - MANIFEST_MEMBERS)
        missing = sorted(MANIFEST_MEMBERS - set(m))
        r.fail("manifest", f"members differ from §3 (unknown {extra}, missing {missing})")
        return False
    if not is_canonical(m, manifest_bytes):
        r.fail("manifest", "manifest.json is not byte-identical to its canonical form (RFC 8785)")
    manifest_sha = sha256(manifest_bytes)
    r.lines.append(f"manifest sha256 {manifest_sha}")

    pid = m["package_id"]
    if not is_str(pid) or not 1 <= len(pid) <= 128:
        r.fail("manifest", "package_id is not a string of 1 to 128 characters")
    if not is_str(m["title"]):
        r.fail("manifest", "title is not a string")
    for member in ("systems", "stacks"):
        v = m[member]
        if not isinstance(v, list) or not all(is_str(x) for x in v):
            r.fail("manifest", f"{member} is not an array of strings")
        elif v != sorted(v, key=utf8_key):
            r.fail("manifest", f"{member} is not sorted")
    ph = m["phases"]
    if not isinstance(ph, list) or not all(is_str(x) and x in PHASES for x in ph) or ph != [
        p for p in PHASES if p in ph
    ] or len(set(ph)) != len(ph):
        r.fail("manifest", "phases are not IQ, OQ, PQ (those covered, in that order)")
    created_at = m["created_at"]
    if not is_str(created_at) or not UTC.match(created_at):
        r.fail("manifest", "created_at is not a UTC time YYYY-MM-DDTHH:MM:SS.mmmZ")
        created_at = created_at if is_str(created_at) else ""
    if not is_str(m["utc_offset"]) or not OFFSET.match(m["utc_offset"]):
        r.fail("manifest", "utc_offset is not ±HH:MM")
    if not isinstance(m["demo"], bool):
        r.fail("manifest", "demo is not a boolean")

    # Files: safe, unique, sorted, each where its role puts it.
    files = {}
    if not isinstance(m["files"], list):
        r.fail("manifest", "files is not an array")
        return False
    paths = []
    for i, f in enumerate(m["files"]):
        if not isinstance(f, dict) or set(f) != FILE_MEMBERS:
            r.fail("manifest", f"files[{i}] does not have exactly path, role, size, sha256")
            continue
        path, role = f["path"], f["role"]
        if not is_str(path) or not safe(path):
            r.fail("manifest", f"files[{i}]: {path!r} is not a safe package path")
            continue
        paths.append(path)
        if not is_int(f["size"]) or f["size"] < 0:
            r.fail("manifest", f"{path}: size is not a non-negative integer")
        if not is_str(f["sha256"]) or not HEX64.match(f["sha256"]):
            r.fail("manifest", f"{path}: sha256 is not 64 lowercase hex")
        if not is_str(role) or role not in ROLE_PATHS:
            r.fail("manifest", f"{path}: unknown role {role!r}")
        elif not ROLE_PATHS[role].match(path):
            r.fail("manifest", f"{path}: not where a {role} file sits (§2)")
        if path == "manifest.json":
            r.fail("manifest", "the manifest lists itself")
        files[path] = f
    if paths != sorted(paths, key=utf8_key):
        r.fail("manifest", "files are not sorted by path (byte order)")
    if len(set(paths)) != len(paths):
        r.fail("manifest", "a path is listed twice")

    def role_of(path):
        f = files.get(path)
        return f["role"] if f else None

    # Runs: sorted, each naming its record (with its digest) and its run data.
    runs = {}
    if not isinstance(m["runs"], list):
        r.fail("manifest", "runs is not an array")
        return False
    names = []
    for i, run in enumerate(m["runs"]):
        if not isinstance(run, dict) or set(run) != RUN_MEMBERS:
            r.fail("manifest", f"runs[{i}] does not have exactly {sorted(RUN_MEMBERS)}")
            continue
        name = run["run"]
        if not is_str(name) or not RUN.match(name) or not safe(name):
            r.fail("manifest", f"runs[{i}]: {name!r} is not SYSTEM/PHASE/RUN-ID")
            continue
        names.append(name)
        runs[name] = run
        rec, data = run["record"], run["data"]
        if rec != f"runs/{name}/record.json" or role_of(rec) != "run-record":
            r.fail("manifest", f"{name}: record {rec!r} is not its run-record file runs/{name}/record.json")
        elif files[rec]["sha256"] != run["record_sha256"]:
            r.fail("manifest", f"{name}: record_sha256 differs from the digest listed for {rec}")
        if not is_str(run["record_sha256"]) or not HEX64.match(run["record_sha256"]):
            r.fail("manifest", f"{name}: record_sha256 is not 64 lowercase hex")
        if data != f"runs/{name}/results.json" or role_of(data) != "run-data":
            r.fail("manifest", f"{name}: data {data!r} is not its run-data file runs/{name}/results.json")
        if run["status"] not in STATUSES:
            r.fail("manifest", f"{name}: status {run['status']!r} is not passed, failed or incomplete")
        t = run["totals"]
        if not isinstance(t, dict) or set(t) != TOTALS_MEMBERS or not all(is_int(v) and v >= 0 for v in t.values()):
            r.fail("manifest", f"{name}: totals do not have exactly {sorted(TOTALS_MEMBERS)} as counts")
    if names != sorted(names, key=utf8_key) or len(set(names)) != len(names):
        r.fail("manifest", "runs are not sorted by run, or a run repeats")
    # Every run-scoped file belongs to one of the manifest's runs (§2: `<run>` is one of the
    # runs the manifest lists).
    for path, f in files.items():
        pattern = ROLE_PATHS.get(f["role"]) if is_str(f["role"]) else None
        mt = pattern.match(path) if pattern else None
        if mt and f["role"] in ("run-record", "run-data", "evidence", "signature"):
            if mt.group(1) not in runs:
                r.fail("manifest", f"{path}: {mt.group(1)} is not one of the manifest's runs")

    # The package id derives from created_at and the records' digests in run order (§4).
    try:
        h = hashlib.sha256(b"countersign/package-id/v1\x00" + created_at.encode("utf-8"))
        for run in m["runs"]:
            h.update(b"\x00" + run["record_sha256"].encode("ascii"))
        derived = "PKG-" + "".join(c for c in created_at if c.isdigit())[:8] + "-" + h.hexdigest()[:12]
        if derived != pid:
            r.fail("manifest", f"package_id {pid} is not the one created_at and the records derive ({derived})")
    except (KeyError, TypeError, AttributeError, UnicodeEncodeError):
        r.fail("manifest", "package_id cannot be derived: the runs' record_sha256 are not all hex strings")
    r.lines.append(f"package {pid}: {len(runs)} run(s), {len(files)} file(s)" + (" (DEMO — NOT FOR GxP USE)" if m["demo"] is True else ""))

    # ---- files ----------------------------------------------------------------------------
    evidence = [p for p, f in files.items() if f["role"] == "evidence"]
    attachments = not require_bundle and not pdfs and not any(p in present for p in evidence)
    if len(pdfs) > 1:
        r.fail("files", f"more than one PDF at the root: {', '.join(sorted(pdfs))}")
    content = {}
    absent_evidence = 0
    for path, f in files.items():
        if path not in present:
            if attachments and f["role"] == "evidence":
                absent_evidence += 1
            else:
                r.fail("files", f"{path}: listed in the manifest ({f['role']}) but missing")
            continue
        data = read(path)
        if len(data) != f["size"]:
            r.fail("files", f"{path}: size {len(data)} differs from the manifest's {f['size']}")
        if sha256(data) != f["sha256"]:
            r.fail("files", f"{path}: SHA-256 {sha256(data)} differs from the manifest's {f['sha256']}")
        content[path] = data
    for path in sorted(present - set(files)):
        r.fail("files", f"{path}: present but not listed in the manifest")
    if attachments and evidence:
        r.note("files", f"{absent_evidence} evidence file(s) absent: read as a PDF's attachments (evidence travels in the bundle, not the PDF)")

    # ---- records --------------------------------------------------------------------------
    record_digest = {}
    versions = set()
    for name, run in runs.items():
        rec_path, data_path = run["record"], run["data"]
        rec_bytes = content.get(rec_path)
        record = None
        if rec_bytes is None:
            r.fail("records", f"{rec_path}: the run record is missing")
        else:
            record_digest[name] = sha256(rec_bytes)
            try:
                record = parse(rec_bytes)
            except NotJson as e:
                r.fail("records", f"{rec_path}: not JSON: {e}")
        if record is not None:
            schema = record.get("schema") if isinstance(record, dict) else None
            if not is_str(schema) or schema not in RECORD_MEMBERS:
                r.fail("records", f"{rec_path}: not a {RECORD_V1} or {RECORD_V2} record (schema {schema!r})")
                record = None
            elif set(record) != RECORD_MEMBERS[schema]:
                r.fail("records", f"{rec_path}: members are not exactly those of {schema} (signature-format §11)")
                record = None
            else:
                versions.add(schema)
        if record is not None:
            if not is_canonical(record, rec_bytes):
                r.fail("records", f"{rec_path}: not byte-identical to its canonical form")
            if record["run"] != name:
                r.fail("records", f"{rec_path}: names run {record['run']!r}, not {name}")
            rec_files = record["files"]
            if not isinstance(rec_files, list) or not all(
                isinstance(x, dict) and set(x) == RECORD_FILE_MEMBERS
                and is_str(x["path"]) and is_str(x["sha256"]) and HEX64.match(x["sha256"])
                and is_str(x["uri"]) and (x["version_id"] is None or is_str(x["version_id"]))
                for x in rec_files
            ):
                r.fail("records", f"{rec_path}: files are not each exactly path, sha256, uri, version_id")
                rec_files = []
            elif [x["path"] for x in rec_files] != sorted((x["path"] for x in rec_files), key=utf8_key):
                r.fail("records", f"{rec_path}: files are not sorted by path")
            disp = record["dispositions"]
            if not isinstance(disp, list) or not all(
                isinstance(d, dict) and set(d) == DISPOSITION_MEMBERS
                and d["kind"] in ("deviation", "accepted") and is_str(d["case_id"])
                and is_str(d["ref"]) and is_str(d["reason"])
                and (d["by_arn"] is None or is_str(d["by_arn"]))
                and is_str(d["at"]) and UTC.match(d["at"])
                for d in disp
            ):
                r.fail("records", f"{rec_path}: dispositions are not each exactly case_id, kind (deviation or accepted), ref, reason, by_arn, at")
                disp = None
            elif [(utf8_key(d["case_id"]), d["at"]) for d in disp] != sorted((utf8_key(d["case_id"]), d["at"]) for d in disp):
                r.fail("records", f"{rec_path}: dispositions are not sorted by case_id then at")
            # Record files <-> evidence entries of the run.
            prefix = f"runs/{name}/files/"
            listed_evidence = {p: f for p, f in files.items() if f["role"] == "evidence" and p.startswith(prefix)}
            for x in rec_files:
                ev = prefix + x["path"]
                if ev not in listed_evidence:
                    r.fail("records", f"{rec_path}: {x['path']} has no evidence entry {ev}")
                elif listed_evidence[ev]["sha256"] != x["sha256"]:
                    r.fail("records", f"{ev}: SHA-256 in the manifest differs from the run record's")
            in_record = {prefix + x["path"] for x in rec_files}
            for ev in sorted(set(listed_evidence) - in_record):
                r.fail("records", f"{ev}: an evidence entry the run record does not name")
        # Run data: parses, canonical, agrees with the manifest (and with the record).
        data_bytes = content.get(data_path)
        run_data = None
        if data_bytes is None:
            r.fail("records", f"{data_path}: the run data is missing")
        else:
            try:
                run_data = parse(data_bytes)
            except NotJson as e:
                r.fail("records", f"{data_path}: not JSON: {e}")
        if run_data is not None:
            if not isinstance(run_data, dict) or run_data.get("schema") != RUN_DATA_SCHEMA:
                r.fail("records", f"{data_path}: not a {RUN_DATA_SCHEMA} document")
                run_data = None
            elif not RUN_DATA_MEMBERS <= set(run_data):
                r.fail("records", f"{data_path}: lacks {sorted(RUN_DATA_MEMBERS - set(run_data))} (§5)")
                run_data = None
        if run_data is not None:
            if not is_canonical(run_data, data_bytes):
                r.fail("records", f"{data_path}: not byte-identical to its canonical form")
            for member in ("run", "status", "totals"):
                if run_data[member] != run[member]:
                    r.fail("records", f"{data_path}: {member} differs from the manifest's entry for {name}")
            if record is not None and run_data["dispositions"] != record["dispositions"]:
                r.fail("records", f"{data_path}: dispositions differ from the run record's")
        # Version 2: the record binds the run data (signature-format §11.1).
        if record is not None and record["schema"] == RECORD_V2:
            ref = record["run_data"]
            if not isinstance(ref, dict) or set(ref) != RUN_DATA_REF_MEMBERS or not all(is_str(v) for v in ref.values()) or not HEX64.match(ref["sha256"]):
                r.fail("records", f"{rec_path}: run_data does not have exactly schema, parser, sha256 (64 hex)")
            else:
                if ref["schema"] != RUN_DATA_SCHEMA or (run_data is not None and ref["schema"] != run_data["schema"]):
                    r.fail("records", f"{rec_path}: run_data.schema {ref['schema']!r} is not the run data's schema")
                if data_bytes is None:
                    r.fail("records", f"{data_path}: missing, so the results the run record signs cannot be shown: the results were changed after they were signed")
                elif sha256(data_bytes) != ref["sha256"]:
                    r.fail("records", f"{data_path}: SHA-256 {sha256(data_bytes)} is not the run record's run_data.sha256 {ref['sha256']}: the results were changed after they were signed")

    # ---- keys -----------------------------------------------------------------------------
    keys = {}
    for path, f in files.items():
        if f["role"] != "public-key" or path not in content:
            continue
        data = content[path]
        try:
            k = parse(data)
        except NotJson as e:
            r.fail("keys", f"{path}: not JSON: {e}")
            continue
        if not isinstance(k, dict) or set(k) != KEY_MEMBERS or k.get("format") != PUBLIC_KEY_FORMAT:
            r.fail("keys", f"{path}: not a {PUBLIC_KEY_FORMAT} document with exactly the members of §6")
            continue
        if not is_canonical(k, data):
            r.fail("keys", f"{path}: not byte-identical to its canonical form")
        try:
            if not is_str(k["public_key"]):
                raise ValueError
            public_key = base64.b64decode(k["public_key"].encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            public_key = b""
        if len(public_key) != 32:
            r.fail("keys", f"{path}: public_key is not a 32-byte ed25519 key in padded standard base64")
            continue
        derived = key_id(public_key)
        if k["key_id"] != derived:
            r.fail("keys", f"{path}: key_id {k['key_id']!r} does not derive from the key ({derived})")
            continue
        if path != f"keys/{derived}.json":
            r.fail("keys", f"{path}: the key {derived} is not at keys/{derived}.json")
            continue
        if blank(k["printed_name"]) or not is_str(k["iam_arn"]):
            r.fail("keys", f"{path}: printed_name or iam_arn is not a string")
            continue
        if not is_str(k["enrolled_at"]) or not UTC.match(k["enrolled_at"]):
            r.fail("keys", f"{path}: enrolled_at is not a UTC time")
        revoked = k["revoked_at"]
        if revoked is not None and (not is_str(revoked) or not UTC.match(revoked)):
            r.fail("keys", f"{path}: revoked_at is neither a UTC time nor null")
        keys[derived] = (public_key, k)
    r.note("trust", "skipped: this verifier takes no trusted-keys list; the signatures are checked with the public keys the package carries (limit keys_not_checked)")

    # ---- signatures and order -------------------------------------------------------------
    by_run = {}
    for path, f in files.items():
        if f["role"] != "signature":
            continue
        mt = ROLE_PATHS["signature"].match(path)
        if not mt:
            continue  # reported by `manifest`
        by_run.setdefault(mt.group(1), []).append((int(mt.group(2)), path))
    policy_bytes = content.get("policy.json")
    policy_sha = sha256(policy_bytes) if policy_bytes is not None else None
    under_policy, other_policy = 0, []
    for name in sorted(by_run, key=utf8_key):
        envs = sorted(by_run[name])
        # order: numbered 001, 002, ... without gaps.
        for i, (n, path) in enumerate(envs, 1):
            if path != f"signatures/{name}/{i:03d}.dsse.json":
                r.fail("order", f"{path}: out of sequence (expected signatures/{name}/{i:03d}.dsse.json)")
        loaded = []
        for n, path in envs:
            data = content.get(path)
            env, st, digest = None, None, None
            if data is not None:
                try:
                    env = parse(data)
                    digest = sha256(canonical(env))
                except (NotJson, UnicodeEncodeError, ValueError):
                    env = None
                if digest is None:
                    digest = sha256(data)
                st = peek_statement(env) if isinstance(env, dict) else None
            loaded.append((path, data, env, st, digest))
        # The re-opens (§13, signature-format §15): envelopes up to and including the last
        # `Reopened` verify against the digest their own statement names.
        def meaning_of(st):
            p = st.get("predicate") if isinstance(st, dict) else None
            return p.get("meaning") if isinstance(p, dict) else None

        reopen_at = [i for i, x in enumerate(loaded) if meaning_of(x[3]) == "Reopened"]
        last_reopen = reopen_at[-1] if reopen_at else -1
        current = record_digest.get(name, runs[name]["record_sha256"] if name in runs else None)
        earlier = []
        for i, (path, data, env, st, digest) in enumerate(loaded):
            history = i <= last_reopen
            reopen = meaning_of(st) == "Reopened"
            superseded_by = None
            if history and not reopen:
                superseded_by = loaded[next(j for j in reopen_at if j > i)][0]
            result = check_envelope(r, path, data, env, st, keys, f"run:{name}", current, history)
            if result is not None:
                p, revoked_since = result
                if p["follows"] != earlier:
                    r.fail("order", f"{path}: follows does not list exactly the envelope digests of the {len(earlier)} signature(s) before it")
                if p["policy"]["sha256"] == policy_sha:
                    under_policy += 1
                else:
                    other_policy.append(path)
                word = "superseded" if superseded_by else "valid"
                line = f"{path}: {word} {p['meaning']} by {p['printed_name']} ({p['iam_arn']}) at {p['signed_at']} ({p['utc_offset']})"
                if superseded_by:
                    line += f", superseded_by {superseded_by}"
                if revoked_since:
                    line += ", key_revoked_since"
                r.lines.append(line)
            earlier.append(digest)

    # ---- policy ---------------------------------------------------------------------------
    signatures = sum(len(v) for v in by_run.values())
    if signatures and policy_bytes is None:
        r.fail("policy", "the package has signatures but no policy.json")
    elif signatures:
        text = f"not replayed by this verifier (docs/policy.md's rules); {under_policy} signature(s) made under the carried policy.json"
        if other_policy:
            text += f"; made under another policy version, not re-checked: {', '.join(other_policy)}"
        r.note("policy", text)
    r.note("rendered", "not checked: this verifier does not parse the PDF" + (f" ({pdfs[0]})" if pdfs else ""))
    # ---- audit-trail excerpt (informative, §7) -------------------------------------------
    # Its digest was checked with the files; its entries' hashes are re-derived here as
    # docs/ledger-format.md "Encoding, version 1" defines them, to show what §7 says: an
    # absent field is null, an empty one "", prev_hash and hash are hex.
    if m.get("files") and any(f.get("path") == "audit-trail.json" for f in m["files"] if isinstance(f, dict)) and "audit-trail.json" in present:
        r.note("audit-trail", audit_trail_hashes(read("audit-trail.json")))
    if runs:
        r.note("runs", "state not derived by this verifier (docs/policy.md \"States\"); the signature lines above are what the signatures establish")
    if versions and not r.problems:
        limit = "document_not_signed" if RECORD_V1 in versions else "validation_pages_not_signed"
        r.note("limits", f"keys_not_checked, {limit}")
    return True


def check_envelope(r, path, data, env, st, keys, name, current, history):
    """One envelope verified as signature-format §6 (with §15 for history): returns the
    predicate and whether its key is revoked since, or None after reporting the outcome."""
    def outcome(code, detail):
        r.fail("signatures", f"{path}: {code}: {detail}")
        return None

    if data is None:
        return None  # reported by `files`
    if not isinstance(env, dict) or set(env) != {"payloadType", "payload", "signatures"}:
        return outcome("malformed", "not a DSSE envelope with exactly payloadType, payload, signatures")
    if env["payloadType"] != PAYLOAD_TYPE:
        return outcome("unsupported_version", f"payloadType {env['payloadType']!r}")
    sigs = env["signatures"]
    if not isinstance(sigs, list) or len(sigs) != 1 or not isinstance(sigs[0], dict) or set(sigs[0]) != {"keyid", "sig"}:
        return outcome("malformed", "not exactly one signature with keyid and sig")
    kid = sigs[0]["keyid"]
    if not is_str(kid) or kid not in keys:
        return outcome("unknown_key", f"key {kid!r} is not among the package's public keys")
    public_key, enrolled = keys[kid]
    revoked = enrolled["revoked_at"] is not None
    if revoked and not history:
        return outcome("revoked_key", f"key {kid} was revoked at {enrolled['revoked_at']}")
    # Steps 5-8 and 10-11 by verify_dsse; a history envelope against its own digest.
    digest = current
    if history:
        try:
            digest = st["subject"][0]["digest"]["sha256"]
        except (KeyError, IndexError, TypeError):
            digest = None
    try:
        verify(data, public_key, name, digest)
        late = None
    except Outcome as o:
        if o.code not in ("signature_moved", "record_changed"):
            return outcome(o.code, o.detail)
        late = o
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as e:
        return outcome("malformed", f"missing or mistyped field: {e}")
    # Step 7 in full, then step 9, before a step 10/11 outcome.
    problem = statement_shape(st)
    if problem:
        return outcome("malformed", problem)
    p = st["predicate"]
    if p["iam_arn"] != enrolled["iam_arn"] or p["printed_name"] != enrolled["printed_name"]:
        return outcome("signer_not_enrolled", f"signed as {p['printed_name']} ({p['iam_arn']}); the key is enrolled to {enrolled['printed_name']} ({enrolled['iam_arn']})")
    if late is not None:
        return outcome(late.code, late.detail)
    if current is None and not history:
        return outcome("record_changed", "the run record is missing")
    return p, revoked


if __name__ == "__main__":
    sys.exit(main())
