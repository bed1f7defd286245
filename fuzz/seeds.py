#!/usr/bin/env python3
"""Writes the seed corpora of fuzz/corpus/<target>/ from the project's own test data and small
hand-made examples of each format. Run from the repository root: python3 fuzz/seeds.py.
Seeds are committed; the fuzzer's own finds go to the corpus beside them."""
import gzip, hashlib, io, json, os, pathlib, re, sys, zipfile

root = pathlib.Path(__file__).resolve().parent.parent
out = root / "fuzz" / "corpus"

def put(target, name, data):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / name).write_bytes(data)

def read(rel):
    return (root / rel).read_bytes()

demo = root / "demo"
junits = sorted(demo.rglob("*.xml")) + sorted((root / "crates/core/testdata").glob("*.xml"))
for p in junits:
    put("junit", p.name + "-" + hashlib.sha256(p.read_bytes()).hexdigest()[:8], p.read_bytes())
put("junit", "declared-mismatch", b'<testsuites tests="3" failures="1"><testsuite name="s"><testcase name="a"/><testcase name="b"/></testsuite></testsuites>')
put("junit", "doctype", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><testsuite/>')
cukes = [p for p in sorted(demo.rglob("*.json")) if p.name != "run.json"] + [root / "crates/core/testdata/cucumber-js.json"]
for p in cukes:
    put("cucumber", p.name + "-" + hashlib.sha256(p.read_bytes()).hexdigest()[:8], p.read_bytes())
put("cucumber", "no-steps", b'[{"name":"F","elements":[{"name":"S","type":"scenario","steps":[]}]}]')
put("cucumber", "bad-base64", b'[{"name":"F","elements":[{"name":"S","steps":[{"keyword":"Then ","name":"x","result":{"status":"passed"},"embeddings":[{"data":"*","mime_type":"image/png"}]}]}]}]')
manifests = sorted(demo.rglob("run.json"))
for p in manifests:
    put("run_manifest", p.parent.name, p.read_bytes())
put("run_manifest", "duplicate-path", b'{"schema":"countersign.run/v1","files":{"a.xml":{"sha256":"' + b"0" * 64 + b'"},"a.xml":{"sha256":"' + b"1" * 64 + b'"}}}')
for p in manifests:
    reports = sorted(p.parent.rglob("*.xml"))
    cuke = sorted(x for x in p.parent.rglob("*.json") if x.name != "run.json")
    parts = [p.read_bytes(), reports[0].read_bytes() if reports else b"", cuke[0].read_bytes() if cuke else b""]
    put("run_folder", p.parent.name, b"\0".join(parts))

log = {"Records": [{"eventVersion": "1.08", "eventTime": "2026-11-01T08:00:00Z", "eventSource": "cloudformation.amazonaws.com",
        "eventName": "CreateStack", "awsRegion": "us-east-1", "sourceIPAddress": "10.0.0.1",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/dana"},
        "requestParameters": {"stackName": "lims-qual"}, "responseElements": None, "eventID": "e1"}]}
log_json = json.dumps(log).encode()
put("cloudtrail_log", "log.json.gz", gzip.compress(log_json, mtime=0))
put("cloudtrail_log", "log.json", log_json)
digest = {"awsAccountId": "123456789012", "digestStartTime": "2026-11-01T08:00:00Z", "digestEndTime": "2026-11-01T09:00:00Z",
          "digestS3Bucket": "b", "digestS3Object": "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/01/d.json.gz",
          "digestPublicKeyFingerprint": "0" * 32, "digestSignatureAlgorithm": "SHA256withRSA",
          "newestEventTime": "2026-11-01T08:30:00Z", "oldestEventTime": "2026-11-01T08:00:00Z",
          "previousDigestS3Bucket": None, "previousDigestS3Object": None, "previousDigestHashValue": None,
          "previousDigestHashAlgorithm": None, "previousDigestSignature": None,
          "logFiles": [{"s3Bucket": "b", "s3Object": "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/01/l.json.gz",
                        "hashValue": hashlib.sha256(log_json).hexdigest(), "hashAlgorithm": "SHA-256",
                        "newestEventTime": "2026-11-01T08:30:00Z", "oldestEventTime": "2026-11-01T08:00:00Z"}]}
put("cloudtrail_digest", "digest.json.gz", gzip.compress(json.dumps(digest).encode(), mtime=0))
put("cloudtrail_digest", "log.json.gz", gzip.compress(log_json, mtime=0))
seedwork = pathlib.Path(os.environ.get("SEEDWORK", "/tmp/seedwork"))
if (seedwork / "pub.pem").exists():
    pem = (seedwork / "pub.pem").read_bytes()
    der = (seedwork / "pub.der").read_bytes()
    put("trail_public_key", "pub.pem", pem)
    put("trail_public_key", "pub.der", der)
    import base64
    put("trail_public_key", "list-public-keys.json", json.dumps({"PublicKeyList": [{"Value": base64.b64encode(der).decode(),
        "ValidityStartTime": "2026-01-01T00:00:00Z", "ValidityEndTime": "2027-01-01T00:00:00Z", "Fingerprint": "0" * 32}]}))
config = {"fileVersion": "1.0", "configurationItems": [{"configurationItemVersion": "1.3", "configurationItemCaptureTime": "2026-11-01T08:00:00Z",
          "configurationItemStatus": "OK", "resourceType": "AWS::S3::Bucket", "resourceId": "b", "resourceName": "b",
          "awsRegion": "us-east-1", "tags": {"aws:cloudformation:stack-name": "lims-qual"}, "relationships": []}]}
put("config_file", "config.json", json.dumps(config))
put("config_file", "config.json.gz", gzip.compress(json.dumps(config).encode(), mtime=0))

golden = root / "tests/golden/package-v1/bundle"
for p in sorted(golden.rglob("*.dsse.json")):
    put("dsse_envelope", p.name, p.read_bytes())
for p in [golden / "manifest.json"] + sorted((golden / "keys").glob("*.json")) + sorted((golden / "runs").rglob("*.json")):
    put("package_manifest", p.parent.name + "-" + p.name, p.read_bytes())
# The run record in version 2 (binding its run data), from the second golden package.
golden_v2 = root / "tests/golden/package-v1-record-v2/bundle"
for p in sorted((golden_v2 / "runs").rglob("record.json")):
    put("package_manifest", p.parent.name + "-record-v2.json", p.read_bytes())
sig = sorted(golden.rglob("*.dsse.json"))
record = sorted((golden / "runs").rglob("record.json"))
results = sorted((golden / "runs").rglob("results.json"))
keys = sorted((golden / "keys").glob("*.json"))
put("package_files", "golden", b"\0".join([(golden / "manifest.json").read_bytes(), record[0].read_bytes(), results[0].read_bytes(),
                                           sig[0].read_bytes(), (golden / "policy.json").read_bytes(), keys[0].read_bytes()]))

# A small PDF with one embedded file, in the shape the reader expects (the real package PDFs
# embed ~750 KB of fonts, too large to mutate quickly).
def small_pdf(attachment, name=b"manifest.json"):
    objs = []
    objs.append(b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(" + name + b") 4 0 R] >> >> >>")
    objs.append(b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>")
    objs.append(b"<< /Type /Filespec /F (" + name + b") /UF (" + name + b") /EF << /F 5 0 R >> >>")
    objs.append(b"<< /Type /EmbeddedFile /Length " + str(len(attachment)).encode() + b" >>\nstream\n" + attachment + b"\nendstream")
    objs.append(b"<< /Subject (package-0001) /Keywords (sha256:" + hashlib.sha256(attachment).hexdigest().encode() + b") >>")
    body = b"%PDF-1.7\n"
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(body))
        body += str(i).encode() + b" 0 obj\n" + o + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 " + str(len(objs) + 1).encode() + b"\n0000000000 65535 f \n"
    for off in offsets:
        body += b"%010d 00000 n \n" % off
    body += b"trailer\n<< /Size " + str(len(objs) + 1).encode() + b" /Root 1 0 R /Info 6 0 R /ID [<00112233445566778899aabbccddeeff> <00112233445566778899aabbccddeeff>] >>\nstartxref\n" + str(xref).encode() + b"\n%%EOF\n"
    return body
put("package_pdf", "small-manifest.pdf", small_pdf((golden / "manifest.json").read_bytes()))
put("package_pdf", "small-record.pdf", small_pdf(record[0].read_bytes(), b"runs/LIMS/OQ/2026-11-03-oq-1/record.json"))

def with_approval(prev, envelope=b'{"payload":"","payloadType":"application/vnd.in-toto+json","signatures":[]}'):
    # An approval revision laid out as docs/package-format.md §15.1 writes it (a small
    # /Contents, an envelope that does not verify): what the byte-range reader reads first.
    head = (b"\n9 0 obj\n<</Type/Sig/Filter/Countersign.DSSE/SubFilter/countersign.package-approval.v1"
            b"/Countersign.Prev " + str(len(prev)).encode() + b"/Countersign.PublicKey<7b7d>/ByteRange[0 ")
    placeholder = b"9999999999 9999999999 9999999999]"
    body = prev + head + placeholder + b"/Contents<"
    start = len(body) - 1
    body += envelope.hex().encode() + b"0" * 64 + b">"
    end = len(body)
    body += b">>\nendobj\nstartxref\n0\n%%EOF"
    rng = (str(start) + " " + str(end) + " " + str(len(body) - end)).encode()
    rng = rng + b" " * (len(placeholder) - 1 - len(rng)) + b"]"
    at = len(prev) + len(head)
    return body[:at] + rng + body[at + len(placeholder):]
put("package_pdf", "small-approved.pdf", with_approval(with_approval(small_pdf((golden / "manifest.json").read_bytes()))))

def zip_of(entries, method=zipfile.ZIP_DEFLATED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method) as z:
        for n, d in entries:
            z.writestr(zipfile.ZipInfo(n, (2026, 11, 1, 0, 0, 0)), d)
    return b.getvalue()
put("zip_archive", "run.zip", zip_of([("LIMS/OQ/r1/run.json", manifests[0].read_bytes()), ("LIMS/OQ/r1/junit.xml", junits[0].read_bytes())]))
put("zip_archive", "stored.zip", zip_of([("a.xml", b"<testsuite/>"), ("b/c.txt", b"x" * 100)], zipfile.ZIP_STORED))
dup = bytearray(zip_of([("LIMS/OQ/r1/junit.xml", b"fail"), ("LIMS/OQ/r1/junit.xmm", b"pass")], zipfile.ZIP_STORED))
put("zip_archive", "duplicate.zip", bytes(dup).replace(b"junit.xmm", b"junit.xml"))
put("zip_archive", "bundle.zip", zip_of([("manifest.json", (golden / "manifest.json").read_bytes()), ("policy.json", (golden / "policy.json").read_bytes())]))

put("ledger_event", "created", "2026-03-01T09:30:00.000Z\n+01:00\n\n\nledger.created\nledger\nledger\n\nschema 2\n")
put("ledger_event", "two", "2026-03-01T09:30:00.000Z\n+01:00\narn:aws:iam::1:user/a\nAlice Müller\nobject.rejected\nobject\ns3://b/k\n\n{\"x\":1}\ndigest differs\n\n2026-03-01T09:30:01.000Z\n-05:30\n\n\nnote\nrun\nLIMS/OQ/r1\nbefore\nafter\nwhy")
put("checkpoint", "published.json", json.dumps({"format": "countersign-ledger-checkpoint/v1", "seq": 12, "head_hash": "ab" * 32,
    "time_utc": "2026-03-01T10:00:00.000Z", "public_key": "cd" * 32, "signature": "ef" * 64}))
keydir = seedwork / "home" / "keys"
if keydir.exists():
    for p in sorted(keydir.glob("*.key")):
        put("key_file", "key-v1.json", p.read_bytes())
src = (root / "crates/core/src/stack_snapshot.rs").read_text()
m = re.search(r'const GOLDEN: &str = r#"(.*?)"#;', src, re.S)
put("stack_snapshot", "golden.json", m.group(1))
print("seeds written to", out)
