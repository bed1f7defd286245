#!/usr/bin/env python3
"""Every comparison of scripts/bench.sh, run side by side, written as one JSON document.

    measure.py --root REPO --work DIR --out FILE [--quick]

The binaries and examples are expected as scripts/bench.sh builds them (release, in cargo's
target directory), the tools in REPO/.bench. Each comparison runs A and B alternately
(A B A B …) after one discarded warm-up of each, so both see the same machine: medians and
ranges are of the measured rounds only. Servers run on loopback in their own process groups
and are stopped on exit.
"""

import argparse
import atexit
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

RESULTS = {"comparisons": [], "figures": [], "counts": [], "notes": []}
SERVERS = []


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def stop_servers():
    for p in SERVERS:
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


atexit.register(stop_servers)


def serve(cmd, log_path, ready_url, env=None):
    with open(log_path, "wb") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    SERVERS.append(p)
    for _ in range(300):
        if p.poll() is not None:
            raise SystemExit(f"{cmd[0]} exited at start-up; see {log_path}")
        try:
            urllib.request.urlopen(ready_url, timeout=1)
            return p
        except urllib.error.HTTPError:
            return p  # it answers (an S3 error for an anonymous request is an answer)
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{cmd[0]} did not answer on {ready_url}; see {log_path}")


def run(cmd, env, cwd=None, capture=False):
    """Runs a command to completion; a failure stops the benchmark."""
    r = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE if capture else subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} exited {r.returncode}: {r.stderr.decode(errors='replace')[-2000:]}")
    return r.stdout.decode() if capture else None


def timed(cmd, env, cwd=None, shell=False):
    t = time.perf_counter()
    if shell:
        r = subprocess.run(cmd, env=env, cwd=cwd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise SystemExit(f"{cmd} exited {r.returncode}: {r.stderr.decode(errors='replace')[-2000:]}")
    else:
        run(cmd, env, cwd)
    return time.perf_counter() - t


def stats(xs):
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "samples": xs}


def alternate(rounds, a, b, before_a=None, before_b=None, warmup=True):
    """Runs a and b alternately `rounds` times (after one discarded warm-up of each)."""
    sa, sb = [], []
    for i in range(-1 if warmup else 0, rounds):
        if before_a:
            before_a(i)
        ta = a(i)
        if before_b:
            before_b(i)
        tb = b(i)
        if i >= 0:
            sa.append(ta)
            sb.append(tb)
            log(f"  round {i + 1}/{rounds}: {ta:.3f} s vs {tb:.3f} s")
    return stats(sa), stats(sb)


PARTIAL = None


def save_partial():
    """Keeps what is measured so far (OUT.partial), so an interrupted run still leaves figures."""
    if PARTIAL:
        with open(PARTIAL, "w", encoding="utf-8") as f:
            json.dump(RESULTS, f, indent=1)


def compare(cid, what, a_label, a, b_label, b, target, ratio, met, note=""):
    RESULTS["comparisons"].append(
        {"id": cid, "what": what, "a": dict(label=a_label, **a), "b": dict(label=b_label, **b), "target": target, "ratio": ratio, "met": met, "note": note}
    )
    log(f"{cid}: {a_label} {a['median']:.3f} s, {b_label} {b['median']:.3f} s, ratio {ratio:.2f} ({'met' if met else 'NOT met'}: {target})")
    save_partial()


def figure(fid, what, values, unit, target=None, met=None, note=""):
    RESULTS["figures"].append({"id": fid, "what": what, "unit": unit, **stats(values), "target": target, "met": met, "note": note})
    log(f"{fid}: {statistics.median(values):.3f} {unit}")
    save_partial()


def strace_counts(cmd, env, out):
    run(["strace", "-f", "-c", "-o", out, "-e", "trace=connect,fsync,fdatasync,syncfs"] + cmd, env)
    counts = {}
    for line in open(out, encoding="utf-8"):
        parts = line.split()
        if len(parts) >= 5 and parts[-1] in ("connect", "fsync", "fdatasync", "syncfs"):
            counts[parts[-1]] = int(parts[3])
    return counts


def rmtree(path):
    if os.path.exists(path):
        for dirpath, dirnames, filenames in os.walk(path):
            for name in dirnames + filenames:
                try:
                    os.chmod(os.path.join(dirpath, name), 0o700)
                except OSError:
                    pass
        shutil.rmtree(path)


def machine():
    cpu = "unknown"
    for line in open("/proc/cpuinfo", encoding="utf-8"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = 0
    for line in open("/proc/meminfo", encoding="utf-8"):
        if line.startswith("MemTotal"):
            mem = int(line.split()[1]) // 1024
    fs = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "-T", "."], stdout=subprocess.PIPE, text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_mib": mem, "kernel": platform.release(), "filesystem": fs, "load_at_start": os.getloadavg()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--target-dir", required=True)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    global PARTIAL
    PARTIAL = args.out + ".partial"
    root, work = args.root, args.work
    bench = os.path.join(root, ".bench")
    rel = os.path.join(args.target_dir, "release")
    cs = os.path.join(rel, "countersign")
    aws = os.path.join(bench, "pyenv", "bin", "aws")
    py = os.path.join(bench, "pyenv", "bin", "python")
    s3s = os.path.join(bench, "tools", "bin", "s3s-fs")
    moto = os.path.join(root, ".venv", "bin", "moto_server")
    rounds = 2 if args.quick else 3
    RESULTS["machine"] = machine()
    RESULTS["quick"] = args.quick
    started = time.time()

    rmtree(work)
    os.makedirs(work)
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("AWS_"):
            del env[k]
    env.update(
        AWS_ACCESS_KEY_ID="benchkey", AWS_SECRET_ACCESS_KEY="benchsecret", AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        AWS_EC2_METADATA_DISABLED="true",
    )

    # The fast S3: s3s-fs serving a folder; the workloads are written straight into it.
    s3root = os.path.join(work, "s3")
    os.makedirs(os.path.join(s3root, "bench"))
    log("writing the workloads")
    run([sys.executable, os.path.join(root, "scripts/bench/workload.py"), "sync", os.path.join(s3root, "bench", "sync")], env)
    port = free_port()
    ep = f"http://127.0.0.1:{port}"
    serve([s3s, "--host", "127.0.0.1", "--port", str(port), "--access-key", "benchkey", "--secret-key", "benchsecret", s3root], os.path.join(work, "s3s-fs.log"), ep)
    log(f"s3s-fs on {ep}")

    def cs_fetch(home, endpoint, bucket, prefix):
        return [cs, "--home", home, "--endpoint-url", endpoint, "fetch", "--bucket", bucket, "--prefix", prefix]

    def aws_sync(endpoint, src, dest):
        return [aws, "--endpoint-url", endpoint, "s3", "sync", src, dest, "--only-show-errors"]

    # 1. Cold sync of 2,020 objects / 164 MiB.
    homes = lambda i: os.path.join(work, f"cs-cold-{i}")
    dests = lambda i: os.path.join(work, f"aws-cold-{i}")
    log("cold sync: countersign fetch vs aws s3 sync")
    a, b = alternate(
        rounds,
        lambda i: timed(cs_fetch(homes(i), ep, "bench", "sync"), env),
        lambda i: timed(aws_sync(ep, "s3://bench/sync/", dests(i)), env),
        before_a=lambda i: rmtree(homes(i)),
        before_b=lambda i: rmtree(dests(i)),
    )
    speed = b["median"] / a["median"]
    compare("cold_sync", "Cold sync from s3s-fs: 2,020 objects, 164 MiB in 20 runs", "countersign fetch", a, "aws s3 sync", b, "≥3× faster", speed, speed >= 3)
    home, dest = homes(rounds - 1), dests(rounds - 1)

    # What a sync costs the system: connections and flushes (one run each, not timed).
    log("strace counts")
    c_cs = strace_counts(cs_fetch(os.path.join(work, "cs-strace"), ep, "bench", "sync"), env, os.path.join(work, "strace-cs.txt"))
    c_aws = strace_counts(aws_sync(ep, "s3://bench/sync/", os.path.join(work, "aws-strace")), env, os.path.join(work, "strace-aws.txt"))
    RESULTS["counts"].append({"id": "sync_syscalls", "what": "Cold sync of 2,020 objects: system calls (strace -f -c)", "countersign fetch": c_cs, "aws s3 sync": c_aws})
    rmtree(os.path.join(work, "cs-strace"))
    rmtree(os.path.join(work, "aws-strace"))

    # 2. Re-sync with nothing new, listing without ETags or versions (s3s-fs).
    log("re-sync, no ETags: countersign fetch vs aws s3 sync")
    a, b = alternate(rounds + 2, lambda i: timed(cs_fetch(home, ep, "bench", "sync"), env), lambda i: timed(aws_sync(ep, "s3://bench/sync/", dest), env))
    r = a["median"] / b["median"]
    compare("resync_no_etag", "Re-sync with nothing new, listing without ETags or versions (s3s-fs)", "countersign fetch", a, "aws s3 sync", b, "≤0.5× the time", r, r <= 0.5)

    # 3. Store re-verification against sha256sum over the same files.
    objects = os.path.join(home, "store", "objects")
    log("store re-verification: ledger verify --evidence vs sha256sum")
    a, b = alternate(
        rounds + 2,
        lambda i: timed([cs, "--home", home, "ledger", "verify", "--evidence"], env),
        lambda i: timed(f"find {objects} -type f -print0 | xargs -0 sha256sum > /dev/null", env, shell=True),
    )
    r = b["median"] / a["median"]
    compare("store_verify", "Re-hash every stored blob (2,020 objects, 164 MiB, page cache warm)", "countersign ledger verify --evidence", a, "sha256sum", b, "≥0.8× the speed", r, r >= 0.8, "countersign also re-verifies the audit trail in the same command")

    # 4. Re-sync with nothing new against the emulator (versions and ETags in the listing).
    mport = free_port()
    mep = f"http://127.0.0.1:{mport}"
    serve([moto, "-H", "127.0.0.1", "-p", str(mport)], os.path.join(work, "moto.log"), f"{mep}/moto-api/")
    log(f"emulator on {mep}: uploading the workload to a versioned bucket")
    run([aws, "--endpoint-url", mep, "s3api", "create-bucket", "--bucket", "benchv"], env)
    run([aws, "--endpoint-url", mep, "s3api", "put-bucket-versioning", "--bucket", "benchv", "--versioning-configuration", "Status=Enabled"], env)
    run([aws, "--endpoint-url", mep, "s3", "sync", os.path.join(s3root, "bench", "sync"), "s3://benchv/sync/", "--only-show-errors"], env)
    vhome, vdest = os.path.join(work, "cs-versioned"), os.path.join(work, "aws-versioned")
    t_cs = timed(cs_fetch(vhome, mep, "benchv", "sync"), env)
    t_aws = timed(aws_sync(mep, "s3://benchv/sync/", vdest), env)
    RESULTS["notes"].append(f"Cold sync from the emulator (bound by its ~100 GETs/s, not measured as a comparison): countersign fetch {t_cs:.1f} s, aws s3 sync {t_aws:.1f} s.")
    log("re-sync, versions and ETags: countersign fetch vs aws s3 sync")
    a, b = alternate(rounds, lambda i: timed(cs_fetch(vhome, mep, "benchv", "sync"), env), lambda i: timed(aws_sync(mep, "s3://benchv/sync/", vdest), env))
    r = a["median"] / b["median"]
    compare("resync_versioned", "Re-sync with nothing new, listing with versions and ETags (emulator)", "countersign fetch", a, "aws s3 sync", b, "≤0.5× the time", r, r <= 0.5)
    # Where that time goes: the two listings alone, as each client asks the emulator for them
    # (every page; Countersign lists versions, the AWS CLI lists current objects only).
    lv = [timed([aws, "--endpoint-url", mep, "s3api", "list-object-versions", "--bucket", "benchv", "--prefix", "sync/"], env) for _ in range(rounds)]
    lo = [timed([aws, "--endpoint-url", mep, "s3api", "list-objects-v2", "--bucket", "benchv", "--prefix", "sync/"], env) for _ in range(rounds)]
    figure("emulator_list_versions", "The emulator's version listing of the 2,020 objects alone (`aws s3api list-object-versions`, all pages)", lv, "s")
    figure("emulator_list_objects", "The emulator's object listing of the same objects alone (`aws s3api list-objects-v2`, all pages)", lo, "s")
    rmtree(vhome)
    rmtree(vdest)

    # 5. 100,000 objects in 1,000 runs, spread over buckets of 4,000 objects. s3s-fs answers
    # every listing page by walking and sorting its bucket's whole folder (one blocking task
    # per file), so one bucket of 100,000 objects costs each client 100 walks of 100,000 files
    # per listing (about 10 minutes here); 25 buckets cost both clients alike about 1 s each.
    many_home = None
    if not args.quick:
        buckets = 25
        log(f"writing the 100,000-object workload over {buckets} buckets")
        run([sys.executable, os.path.join(root, "scripts/bench/workload.py"), "many", s3root, str(buckets)], env)
        names = [f"many-{b:02d}" for b in range(buckets)]
        many_home = os.path.join(work, "cs-many")
        many_dest = os.path.join(work, "aws-many")

        def cs_many(i=None):
            return sum(timed(cs_fetch(many_home, ep, n, "many"), env) for n in names)

        def aws_many(i=None):
            return sum(timed(aws_sync(ep, f"s3://{n}/many/", os.path.join(many_dest, n)), env) for n in names)

        t = cs_many()
        figure("many_cold_fetch", f"Cold fetch of 100,000 objects in 1,000 runs (s3s-fs, {buckets} buckets of 4,000, one fetch each)", [t], "s", note="one run; derives and records the 1,000 run summaries too")
        # The AWS CLI's copy in the state a completed sync leaves: same sizes, and each file's
        # time the whole second S3 reports (a sub-second local time makes it download again).
        os.makedirs(many_dest)
        for n in names:
            run(["cp", "-a", os.path.join(s3root, n, "many"), os.path.join(many_dest, n)], env)
        for top, _, files in os.walk(many_dest):
            for f in files:
                p = os.path.join(top, f)
                t = int(os.stat(p).st_mtime)
                os.utime(p, (t, t))
        stale = [n for n in names if run(aws_sync(ep, f"s3://{n}/many/", os.path.join(many_dest, n))[:-1], env, capture=True).strip()]
        if stale:
            RESULTS["notes"].append(f"aws s3 sync did not see {len(stale)} of the copied bucket folders as in sync; its re-sync downloaded objects")
        # What one start of each client costs, paid once per bucket by both.
        starts = [timed([aws, "--endpoint-url", ep, "s3", "ls"], env) for _ in range(rounds)]
        RESULTS["notes"].append(
            f"100,000 objects: each side runs once per bucket ({buckets} times); one start of the AWS CLI listing the buckets "
            f"takes {statistics.median(starts):.2f} s here, paid {buckets} times by its side."
        )
        log("100,000 objects, re-sync with nothing new")
        # Both sides have just run once over this workload: that was the warm-up.
        a, b = alternate(rounds, cs_many, aws_many, warmup=False)
        r = a["median"] / b["median"]
        compare("many_resync", f"100,000 objects / 1,000 runs: re-sync with nothing new (s3s-fs, {buckets} buckets)", "countersign fetch", a, "aws s3 sync", b, "≤ aws s3 sync's time", r, r <= 1)
        runs = [timed([cs, "--home", many_home, "runs"], env) for _ in range(rounds + 2)]
        figure("many_runs", "`countersign runs` with 1,000 runs (100,000 objects)", runs, "s", "≤0.2 s", statistics.median(runs) <= 0.2)
        verify = [timed([cs, "--home", many_home, "ledger", "verify"], env) for _ in range(rounds)]
        events = json.loads(run([cs, "--home", many_home, "--json", "ledger", "verify"], env, capture=True))["events"]
        figure("many_ledger_verify", f"`countersign ledger verify` of a home with 100,000 stored objects ({events:,} entries, every object row cross-checked)", verify, "s")
        rmtree(many_dest)

    # 6. Package of 10,000 cases / 2,000 files against reportlab platypus.
    cases, files = (1000, 200) if args.quick else (10000, 2000)
    pkg = os.path.join(work, "pkg")
    log(f"package: preparing a {cases:,}-case run")
    prep = json.loads(run([os.path.join(rel, "examples", "bench_package"), "prepare", pkg, str(cases), str(files)], env, cwd=root, capture=True).strip().splitlines()[-1])
    run_json = os.path.join(pkg, "run.json")
    with open(run_json, "w", encoding="utf-8") as f:
        f.write(run([cs, "--home", prep["home"], "--json", "show", prep["run"]], env, capture=True))
    out_pdf = lambda i, n: os.path.join(pkg, f"{n}-{i}.pdf")
    a, b = alternate(
        rounds,
        lambda i: timed([cs, "--home", prep["home"], "package", prep["run"], "--out", out_pdf(i, "cs")], env),
        lambda i: timed([py, os.path.join(root, "scripts/bench/reportlab_package.py"), run_json, out_pdf(i, "rl")], env),
        before_a=lambda i: os.path.exists(out_pdf(i, "cs")) and os.remove(out_pdf(i, "cs")),
        before_b=lambda i: os.path.exists(out_pdf(i, "rl")) and os.remove(out_pdf(i, "rl")),
    )
    pages = {}
    for n in ("cs", "rl"):
        info = run(["pdfinfo", out_pdf(rounds - 1, n)], env, capture=True)
        pages[n] = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    r = b["median"] / a["median"]
    compare("package", f"Package of {cases:,} cases / {files + 1:,} files", "countersign package", a, "reportlab platypus (same tables)", b, "faster, and ≤1.0 s", r, r > 1 and a["median"] <= 1.0,
            f"pages: countersign {pages['cs']}, reportlab {pages['rl']}; countersign also re-hashes the evidence, writes the record and embeds it")

    # 7. ledger verify of 1,000,000 events against raw SHA-256 of the same bytes.
    n = 50000 if args.quick else 1000000
    log(f"ledger verify of {n:,} events")
    lines = run([os.path.join(rel, "examples", "bench_verify"), str(n), "events", str(rounds)], env, capture=True).strip().splitlines()
    s = json.loads(lines[-1])
    rounds_v = [json.loads(l) for l in lines[:-1]]
    a = stats([x["verify_s"] for x in rounds_v])
    b = stats([x["sha256_s"] for x in rounds_v])
    r = b["median"] / a["median"]
    compare("ledger_verify", f"ledger verify of {s['events']:,} events ({s['bytes'] / 1e6:.0f} MB encoded)", "verify (read, re-encode, re-hash, links)", a, "raw SHA-256 of the same bytes", b, "≥0.5× the speed", r, r >= 0.5)

    # 8. DSSE verification of 10,000 envelopes against raw ed25519.
    n = 2000 if args.quick else 10000
    lines = run([os.path.join(rel, "examples", "bench_dsse"), str(n), str(rounds + 2)], env, capture=True).strip().splitlines()
    rounds_d = [json.loads(l) for l in lines[:-1]]
    a = stats([x["dsse_s"] for x in rounds_d])
    b = stats([x["raw_ed25519_s"] for x in rounds_d])
    r = b["median"] / a["median"]
    compare("dsse", f"Verify {n:,} signatures", "DSSE envelopes (parse, PAE, ed25519, statement)", a, "raw ed25519 verify_strict", b, "≥0.7× the speed", r, r >= 0.7)

    # 9. The app: opening a 10,000-case run, and the Runs screen of 1,000 runs.
    if not args.quick:
        log("the app: start-up, opening a 10,000-case run, the Runs screen of 1,000 runs")
        cmd = [os.path.join(rel, "examples", "bench_app_start"), str(rounds + 2), "10000"]
        if many_home:
            cmd.append(many_home)
        app_env = dict(env)
        app_env.pop("DISPLAY", None)
        out = run(cmd, app_env, cwd=root, capture=True)
        RESULTS["app"] = json.loads(out.strip().splitlines()[-1])

    RESULTS["machine"]["load_at_end"] = os.getloadavg()
    RESULTS["seconds"] = time.time() - started
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(RESULTS, f, indent=1)
    log(f"done in {RESULTS['seconds'] / 60:.1f} min; results in {args.out}")


if __name__ == "__main__":
    main()
