#!/usr/bin/env python3
"""Independent verifier for Countersign signature envelopes.

Written from docs/signature-format.md alone, with nothing but the Python standard library and
the `cryptography` package: it shares no code with the Rust implementation, so agreement
between the two shows that the document is enough to verify a signature.

Usage:
    verify_dsse.py ENVELOPE.json --public-key HEX --record-name NAME --record-sha256 HEX

Prints one outcome word (valid, bad_signature, unknown_key, malformed, unsupported_version,
signature_moved, record_changed) and a detail line; exits 0 only for "valid", 1 for any other
outcome, 2 for usage errors.
"""

import argparse
import base64
import binascii
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPES = {
    # Version 1: the meanings of a run or package signature.
    "https://countersign.dev/signature/v1": {"Authored", "Reviewed", "Approved", "Rejected"},
    # Version 2 (§14): version 1's members, with the meanings of a qualified state added.
    "https://countersign.dev/signature/v2": {
        "Authored", "Reviewed", "Approved", "Rejected", "Assessed", "PeriodicallyReviewed",
    },
    # Version 3 (§15): version 2's meanings, with the formal re-open of a signed run added.
    "https://countersign.dev/signature/v3": {
        "Authored", "Reviewed", "Approved", "Rejected", "Assessed", "PeriodicallyReviewed",
        "Reopened",
    },
}
KEY_ID_DOMAIN = b"countersign/key-id/v1\x00"


class Outcome(Exception):
    def __init__(self, code, detail):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(KEY_ID_DOMAIN + public_key).digest()[:16].hex()


def pae(payload_type: str, payload: bytes) -> bytes:
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def b64(text: str, what: str) -> bytes:
    # Standard or URL-safe alphabet, padded (signature-format §1). `validate=True` refuses a
    # character outside the alphabet instead of dropping it, so a URL-safe text is not
    # silently misread as a standard one.
    try:
        raw = text.encode("ascii")
    except (UnicodeEncodeError, AttributeError):
        raise Outcome("malformed", f"{what} is not base64") from None
    for alphabet in (None, b"-_"):
        try:
            return base64.b64decode(raw, altchars=alphabet, validate=True)
        except (binascii.Error, ValueError):
            continue
    raise Outcome("malformed", f"{what} is not base64")


def canonical(value) -> bytes:
    # RFC 8785 for the value space of a v1 statement (strings, integers, arrays, objects with
    # ASCII keys): sorted keys, no insignificant white space, UTF-8, minimal string escapes.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def verify(envelope_bytes: bytes, public_key: bytes, record_name: str, record_sha256: str) -> str:
    try:
        env = json.loads(envelope_bytes)
    except ValueError as e:
        raise Outcome("malformed", f"not JSON: {e}")
    if not isinstance(env, dict) or set(env) != {"payloadType", "payload", "signatures"}:
        raise Outcome("malformed", "not a DSSE envelope")
    if env["payloadType"] != PAYLOAD_TYPE:
        raise Outcome("unsupported_version", env["payloadType"])
    sigs = env["signatures"]
    if not isinstance(sigs, list) or len(sigs) != 1:
        raise Outcome("malformed", "exactly one signature expected")
    sig_entry = sigs[0]
    if sig_entry.get("keyid") != key_id(public_key):
        raise Outcome("unknown_key", f"envelope keyid {sig_entry.get('keyid')!r} is not this key's id")
    payload = b64(env["payload"], "payload")
    sig = b64(sig_entry["sig"], "sig")
    if len(sig) != 64:
        raise Outcome("malformed", "an ed25519 signature is 64 bytes")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(sig, pae(env["payloadType"], payload))
    except InvalidSignature:
        raise Outcome("bad_signature", "the signature does not verify over the PAE")

    try:
        statement = json.loads(payload)
    except ValueError as e:
        raise Outcome("malformed", f"payload is not JSON: {e}")
    if statement.get("_type") != STATEMENT_TYPE:
        raise Outcome("unsupported_version", str(statement.get("_type")))
    meanings = PREDICATE_TYPES.get(statement.get("predicateType"))
    if meanings is None:
        raise Outcome("unsupported_version", str(statement.get("predicateType")))
    if canonical(statement) != payload:
        raise Outcome("malformed", "payload is not canonical JSON")
    predicate = statement["predicate"]
    if predicate.get("meaning") not in meanings:
        raise Outcome("malformed", f"meaning {predicate.get('meaning')!r} is not one of {statement['predicateType']}")
    if predicate.get("key_id") != sig_entry["keyid"]:
        raise Outcome("malformed", "predicate key_id differs from the envelope keyid")
    subjects = statement["subject"]
    if len(subjects) != 1:
        raise Outcome("malformed", "exactly one subject expected")
    subject = subjects[0]
    if subject["name"] != record_name:
        raise Outcome("signature_moved", f"signed for {subject['name']}")
    if subject["digest"].get("sha256") != record_sha256:
        raise Outcome("record_changed", f"signed {subject['digest'].get('sha256')}")
    return f"{predicate['printed_name']} ({predicate['iam_arn']}) {predicate['meaning']} at {predicate['signed_at']} ({predicate['utc_offset']})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("envelope")
    ap.add_argument("--public-key", required=True, help="32-byte ed25519 public key, hex")
    ap.add_argument("--record-name", required=True)
    ap.add_argument("--record-sha256", required=True)
    args = ap.parse_args()
    try:
        public_key = bytes.fromhex(args.public_key)
        if len(public_key) != 32:
            raise ValueError
    except ValueError:
        print("usage: --public-key must be 64 hex characters", file=sys.stderr)
        return 2
    with open(args.envelope, "rb") as f:
        data = f.read()
    try:
        detail = verify(data, public_key, args.record_name, args.record_sha256.lower())
    except Outcome as o:
        print(o.code)
        print(o.detail)
        return 1
    except (KeyError, TypeError, AttributeError) as e:
        print("malformed")
        print(f"missing or mistyped field: {e}")
        return 1
    print("valid")
    print(detail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
