#!/usr/bin/env python3
"""Rewrites the measured section of docs/benchmarks.md from measure.py's results.

    report.py RESULTS.json docs/benchmarks.md

Only the text between the `<!-- bench.sh: begin -->` and `<!-- bench.sh: end -->` markers is
replaced; the reading of the figures around it is written by hand.
"""

import json
import statistics
import subprocess
import sys

BEGIN = "<!-- bench.sh: begin -->"
END = "<!-- bench.sh: end -->"


def sec(x):
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def span(s):
    return f"{sec(s['median'])} ({sec(s['min'])}–{sec(s['max'])})"


def version(cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout.strip().splitlines()[0]
    except OSError:
        return "?"


def render(r, commit):
    m = r["machine"]
    rounds = len(r["comparisons"][0]["a"]["samples"]) if r["comparisons"] else 0
    out = [
        BEGIN,
        "",
        f"Measured by `scripts/bench.sh` at commit `{commit}`{' (quick mode: reduced sizes)' if r.get('quick') else ''}: "
        f"{m['cpu']}, {m['cores']} cores, {m['memory_mib'] // 1024} GiB RAM, {m['filesystem']}, Linux {m['kernel']}; "
        f"load average {m['load_at_start'][0]:.1f} at the start and {m['load_at_end'][0]:.1f} at the end "
        f"(the machine is shared); the whole run took {r['seconds'] / 60:.1f} min.",
        "",
        "Each comparison ran its two sides alternately in one run (A B A B …, after one discarded "
        f"warm-up of each; {rounds}–{rounds + 2} measured rounds), so both saw the same machine: that, not "
        "an idle machine, is what makes the ratios fair here. Times are medians with their range.",
        "",
        "| comparison | Countersign | median (range) | what users would otherwise run | median (range) | ratio | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in r["comparisons"]:
        ratio = f"{c['ratio']:.2f}"
        out.append(
            f"| {c['what']} | {c['a']['label']} | {span(c['a'])} | {c['b']['label']} | {span(c['b'])} | {ratio} | {c['target']} | {'yes' if c['met'] else '**no**'} |"
        )
    out += [
        "",
        "Ratios: for a time to compare (sync, re-sync, package) the other tool's time over Countersign's "
        "(above 1: Countersign is faster), except the re-sync targets, stated as Countersign's time over "
        "the other's (below 1: faster); for a speed to compare (store re-verification, ledger verify, DSSE) "
        "Countersign's speed as a fraction of the other's.",
        "",
    ]
    notes = [c for c in r["comparisons"] if c.get("note")]
    for c in notes:
        out.append(f"- {c['what']}: {c['note']}.")
    for n in r.get("notes", []):
        out.append(f"- {n}")
    if notes or r.get("notes"):
        out.append("")
    if r["figures"]:
        out += ["| figure | median (range) | target | met |", "|---|---|---|---|"]
        for f in r["figures"]:
            note = f" ({f['note']})" if f.get("note") else ""
            met = "" if f.get("met") is None else ("yes" if f["met"] else "**no**")
            out.append(f"| {f['what']}{note} | {span(f)} | {f.get('target') or ''} | {met} |")
        out.append("")
    for c in r["counts"]:
        names = [k for k in c if k not in ("id", "what")]
        calls = sorted({k for n in names for k in c[n]})
        out += [f"{c['what']}:", "", "| | " + " | ".join(calls) + " |", "|---" * (len(calls) + 1) + "|"]
        for n in names:
            out.append(f"| {n} | " + " | ".join(str(c[n].get(k, 0)) for k in calls) + " |")
        out.append("")
    app = r.get("app")
    if app:
        med = lambda xs: statistics.median(xs) if xs else float("nan")
        rng = lambda xs: f"{min(xs):.0f}–{max(xs):.0f}" if xs else ""
        def row(label, key, sub=None, unit="ms", scale=1.0):
            cols = []
            for side in ("baseline", "app"):
                xs = [(s[key][sub] if sub else s[key]) * scale for s in app[side] if s.get(key) is not None]
                cols.append(f"{med(xs):.0f} {unit} ({rng(xs)})" if xs else "—")
            return f"| {label} | {cols[0]} | {cols[1]} |"
        kib = 1 / 1024
        n = len(app["app"])
        out += [
            f"The desktop app ({n} launches of each, alternating; release builds; Xvfb, software rendering):",
            "",
            f"| | empty Tauri window | Countersign with a {app['cases']:,}-case run |",
            "|---|---|---|",
            row("start-up to first screen", "startup_ms"),
            row("RSS at first screen", "at_start", "rss_kib", "MiB", kib),
            row("PSS at first screen", "at_start", "pss_kib", "MiB", kib),
            row(f"open the {app['cases']:,}-case run (Enter to first rows)", "open_run_ms"),
            row("RSS with the run open, scrolled to its end", "run_open", "rss_kib", "MiB", kib),
            row("PSS with the run open, scrolled to its end", "run_open", "pss_kib", "MiB", kib),
        ]
        base_pss = med([s["at_start"]["pss_kib"] for s in app["baseline"]]) / 1024
        open_pss = med([s["run_open"]["pss_kib"] for s in app["app"] if s.get("run_open")]) / 1024
        open_ms = med([s["open_run_ms"] for s in app["app"] if s.get("open_run_ms") is not None])
        out += [
            "",
            f"Opening the run: {open_ms:.0f} ms to first rows (target ≤150 ms: {'met' if open_ms <= 150 else '**not met**'}); "
            f"PSS with the run open {open_pss - base_pss:+.0f} MiB over the empty window (target ≤+25 MiB: "
            f"{'met' if open_pss - base_pss <= 25 else '**not met**'}).",
        ]
        # Where the memory is: PSS by process and kind of mapping (bench_app_start), medians.
        def by_kind(samples, point):
            keys = sorted({k for s in samples if s.get(point) for k in s[point].get("by_kind_kib", {})})
            return {k: med([s[point]["by_kind_kib"].get(k, 0) for s in samples if s.get(point)]) / 1024 for k in keys}
        base_k = by_kind(app["baseline"], "at_start")
        start_k = by_kind(app["app"], "at_start")
        open_k = by_kind(app["app"], "run_open")
        keys = [k for k in sorted(set(base_k) | set(start_k) | set(open_k))
                if max(base_k.get(k, 0), start_k.get(k, 0), open_k.get(k, 0)) >= 0.5]
        if keys:
            out += [
                "",
                "PSS by process and kind of mapping (`/proc/<pid>/smaps`; \"app\" is the window's own process, "
                "the others WebKit's), medians:",
                "",
                "| process: mapping | empty window | Countersign, first screen | Countersign, run open | run open − first screen |",
                "|---|---|---|---|---|",
            ]
            for k in keys:
                b, a, o = base_k.get(k, 0), start_k.get(k, 0), open_k.get(k, 0)
                out.append(f"| {k} | {b:.1f} MiB | {a:.1f} MiB | {o:.1f} MiB | {o - a:+.1f} MiB |")
            out.append("")
        many = app.get("many_runs") or []
        if many:
            xs = [s["runs_screen_ms"] for s in many]
            out.append(
                f"Runs screen of 1,000 runs (100,000 objects), offline chosen to first row: {med(xs):.0f} ms ({rng(xs)}) "
                f"(target ≤500 ms: {'met' if med(xs) <= 500 else '**not met**'})."
            )
        out.append("")
    out.append(END)
    return "\n".join(out)


def main(results, doc):
    r = json.load(open(results, encoding="utf-8"))
    commit = version(["git", "rev-parse", "--short", "HEAD"])
    text = open(doc, encoding="utf-8").read()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{doc} has no {BEGIN} … {END} section to rewrite")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(doc, "w", encoding="utf-8") as f:
        f.write(head + render(r, commit) + tail)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
