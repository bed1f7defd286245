"""Package approvals of a Countersign package PDF, read and verified from
docs/package-format.md §15 alone (with docs/signature-format.md for the envelope, through
verify_dsse.py, and docs/policy.md "Packages" only for the meanings' order).

No PDF parser is needed to find the approvals: §15.2 reads them from the bytes. The draft
(bytes before the first approval) is returned for the caller to read its embedded files.
"""

import base64
import hashlib
import json
import re

from verify_dsse import Outcome, canonical, key_id, verify

MARKER = b"/countersign.package-approval.v1"
WHITE = b"\x00\t\n\x0c\r "
KEY_MEMBERS = {
    "enrolled_at", "format", "iam_arn", "key_id", "printed_name", "public_key", "revoked_at",
}


class Malformed(Exception):
    pass


class Cursor:
    def __init__(self, data: bytes, at: int):
        self.data = data
        self.at = at

    def white(self):
        while self.at < len(self.data) and self.data[self.at] in WHITE:
            self.at += 1

    def token(self, t: bytes):
        self.white()
        if not self.data.startswith(t, self.at):
            raise Malformed(f"expected {t.decode()} at byte {self.at}")
        self.at += len(t)

    def integer(self) -> int:
        self.white()
        m = re.compile(rb"[0-9]{1,12}(?![0-9])").match(self.data, self.at)
        if not m:
            raise Malformed(f"expected an integer at byte {self.at}")
        self.at = m.end()
        return int(m.group())

    def hex_string(self):
        self.white()
        start = self.at
        m = re.compile(rb"<([0-9A-Fa-f]*)>").match(self.data, self.at)
        if not m or len(m.group(1)) % 2:
            raise Malformed(f"expected a hex string at byte {start}")
        self.at = m.end()
        return start, m.end(), bytes.fromhex(m.group(1).decode())


def ends_revision(data: bytes, end: int) -> bool:
    head = data[:end]
    for eol in (b"\r\n", b"\n", b"\r"):
        if head.endswith(eol):
            head = head[: -len(eol)]
            break
    return head.endswith(b"%%EOF")


def read(data: bytes):
    """The approvals (§15.2), each a dict, and the draft's length. Raises Malformed."""
    approvals = []
    at = 0
    while True:
        found = data.find(MARKER, at)
        if found < 0:
            break
        n = len(approvals) + 1
        try:
            c = Cursor(data, found + len(MARKER))
            c.token(b"/Countersign.Prev")
            prev = c.integer()
            c.token(b"/Countersign.PublicKey")
            _, _, public_key = c.hex_string()
            c.token(b"/ByteRange")
            c.token(b"[")
            zero, a, b, length = c.integer(), c.integer(), c.integer(), c.integer()
            c.token(b"]")
            c.token(b"/Contents")
            start, stop, contents = c.hex_string()
        except Malformed as e:
            raise Malformed(f"approval {n}: {e}")
        if zero != 0 or a != start or b != stop:
            raise Malformed(f"approval {n}: its /ByteRange does not leave out exactly its /Contents")
        end = b + length
        if end > len(data) or not ends_revision(data, end):
            raise Malformed(f"approval {n}: its signed range does not end a revision")
        if approvals:
            if prev != approvals[-1]["end"]:
                raise Malformed(f"approval {n}: not appended where approval {n - 1} ended")
        elif prev >= found or not ends_revision(data, prev):
            raise Malformed(f"approval {n}: the draft it names does not end a revision")
        if found < prev or end <= stop:
            raise Malformed(f"approval {n}: its dictionary is not inside its own revision")
        envelope = contents.rstrip(b"\x00")
        signed = hashlib.sha256(data[:a] + data[b:end]).hexdigest()
        approvals.append({
            "number": n, "prev": prev, "end": end, "public_key": public_key,
            "envelope": envelope, "signed_sha256": signed,
        })
        at = end
    if approvals and approvals[-1]["end"] != len(data):
        raise Malformed(
            f"{len(data) - approvals[-1]['end']} byte(s) after approval {approvals[-1]['number']} are covered by no signature"
        )
    draft_len = approvals[0]["prev"] if approvals else len(data)
    return approvals, draft_len


def check(approvals, package_id: str, package_keys: dict):
    """§15.3 without the policy replay: (problems, lines, state). `package_keys` maps key id to
    (public key bytes, iam_arn) for the package's own keys."""
    problems, lines, digests = [], [], []
    state = "draft"
    for ap in approvals:
        n = ap["number"]
        keys = dict(package_keys)
        try:
            doc = json.loads(ap["public_key"])
            if not isinstance(doc, dict) or set(doc) != KEY_MEMBERS:
                raise ValueError("not a countersign.public-key/v1 document")
            if canonical(doc) != ap["public_key"]:
                raise ValueError("not in canonical form")
            raw = base64.b64decode(doc["public_key"], validate=True)
            if len(raw) != 32 or key_id(raw) != doc["key_id"]:
                raise ValueError("its key id is not derived from its key")
            keys[doc["key_id"]] = (raw, doc["iam_arn"])
        except (ValueError, KeyError, TypeError) as e:
            problems.append(f"approvals: approval {n}: its public key document: {e}")
            continue
        try:
            env = json.loads(ap["envelope"])
            kid = env["signatures"][0]["keyid"]
            if kid not in keys:
                raise Outcome("unknown_key", f"no public key {kid}")
            raw, arn = keys[kid]
            verify(ap["envelope"], raw, f"package:{package_id}", ap["signed_sha256"])
            statement = json.loads(base64.b64decode(env["payload"]))
            p = statement["predicate"]
            if p["iam_arn"] != arn:
                raise Outcome("signer_not_enrolled", f"key {kid} is enrolled to {arn}")
        except Outcome as o:
            problems.append(f"approvals: approval {n}: {o.code}: {o.detail}")
            continue
        except (ValueError, KeyError, TypeError, IndexError) as e:
            problems.append(f"approvals: approval {n}: malformed: {e}")
            continue
        if p["meaning"] not in ("Reviewed", "Approved"):
            problems.append(f"approvals: approval {n}: meaning {p['meaning']} is not a package approval")
        if p["follows"] != digests:
            problems.append(f"approvals: approval {n}: follows does not list exactly the approvals before it")
        digests.append(hashlib.sha256(canonical(env)).hexdigest())
        if p["meaning"] == "Reviewed" and state == "draft":
            state = "reviewed"
        elif p["meaning"] == "Approved":
            state = "approved"
        lines.append(
            f"approval {n}: valid {p['meaning']} by {p['printed_name']} ({p['iam_arn']}) at {p['signed_at']} ({p['utc_offset']}), file up to byte {ap['end']}"
        )
    if problems:
        state = "draft"
    return problems, lines, state
