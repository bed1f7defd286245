#!/usr/bin/env python3
"""What a validation team scripts today: the package's tables rendered with reportlab platypus.

    reportlab_package.py RUN.json OUT.pdf

RUN.json is `countersign --json show RUN`. The PDF gets what Countersign's package prints for
that run: a title, the traceability matrix, every test result (with the message of a failure),
the deviations, and the evidence index (path, source, SHA-256, size, integrity), as LongTables
that break across pages and repeat their header, in DejaVu Sans (the font Countersign embeds,
so odd Unicode renders alike). No machine-readable record, no signatures, no verification:
the comparison is table layout and PDF writing alone.
"""

import json
import sys
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
MAX_DETAIL = 600


def para(text, style):
    return Paragraph(escape(text or "").replace("\n", "<br/>"), style)


def table(title, widths, header, rows, styles):
    flow = [Paragraph(escape(title), styles["h"]), Spacer(1, 2 * mm)]
    data = [[para(h, styles["th"]) for h in header]]
    data += [[para(c, styles["td"]) for c in row] for row in rows]
    t = LongTable(data, colWidths=[w * mm for w in widths], repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    flow += [t, Spacer(1, 6 * mm)]
    return flow


def main(src, out):
    pdfmetrics.registerFont(TTFont("DejaVuSans", FONT))
    styles = {
        "h": ParagraphStyle("h", fontName="DejaVuSans", fontSize=13, leading=16),
        "th": ParagraphStyle("th", fontName="DejaVuSans", fontSize=7, leading=8.5),
        "td": ParagraphStyle("td", fontName="DejaVuSans", fontSize=7, leading=8.5),
    }
    with open(src, encoding="utf-8") as f:
        view = json.load(f)
    run = view["summary"]["id"]
    cases = view["run"]["cases"]
    trace = view["run"]["traceability"]
    story = [Paragraph(escape(f"{run} qualification package"), styles["h"]), Spacer(1, 6 * mm)]

    rows = []
    for req in trace.get("requirements", []):
        listed = "\n".join(f'{c["case_id"]} ({c["status"]})' for c in req["cases"]) or "none"
        title = f'{req["id"]} — {req["title"]}' if req.get("title") else req["id"]
        rows.append([run, title, listed, req.get("status") or "NOT COVERED", "\n".join(req["evidence"]) or "none"])
    for case in trace.get("untraced_cases", []):
        rows.append([run, "(no requirement)", case, "", ""])
    story += table("Traceability matrix", [25, 35, 60, 20, 40], ["Run", "Requirement", "Cases", "Result", "Evidence"], rows, styles)

    rows = []
    for c in cases:
        detail = ""
        if c["status"] in ("failed", "errored"):
            text = "\n".join(x for x in (c.get("message"), c.get("detail")) if x)
            if len(text) > MAX_DETAIL:
                text = text[:MAX_DETAIL] + "… (cut here; the full text is in the run data attachment)"
            detail = f"{text}\nDisposition: NO DISPOSITION"
        elif c["status"] == "skipped":
            detail = c.get("message") or ""
        rows.append([run, c["id"], c["status"], detail])
    story += table("Test results", [25, 55, 18, 82], ["Run", "Case", "Result", "Message and disposition"], rows, styles)

    rows = [[run, c["id"], c["status"], "NONE", "", "", ""] for c in cases if c["status"] in ("failed", "errored")]
    story += table("Deviations and dispositions", [22, 40, 16, 18, 18, 34, 32], ["Run", "Case", "Result", "Disposition", "Reference", "Reason", "By, at"], rows, styles)

    rows = []
    for f in view["run"]["files"]:
        origin = f["origin"]
        uri = origin["uri"] + (f'\nversion {origin["version_id"]}' if origin.get("version_id") else "")
        integrity = f["integrity"] if isinstance(f["integrity"], str) else next(iter(f["integrity"]))
        rows.append([run, f["path"], uri, f.get("sha256") or "", str(f["size"]), integrity])
    story += table("Evidence index", [22, 34, 44, 44, 14, 22], ["Run", "File", "Source (S3 URI, version)", "SHA-256", "Bytes", "Integrity"], rows, styles)

    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=14 * mm, bottomMargin=14 * mm)
    doc.build(story)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
