//! Synthetic runs for scale and bad-input tests: a folder laid out like the bucket
//! (`<system>/<phase>/<run-id>/…`), ready for `import`.

use std::io::Write as _;
use std::path::Path;

use crate::{HarnessError, Result};

/// Odd text that must survive: right-to-left, combining marks, emoji with joiners, CJK (no
/// glyph in the PDF font), a zero-width space, XML specials.
pub const ODD_TEXT: &str =
    "Grüße ½ ≥ ✓ — עברית ‏مرحبا‏ e\u{301} 👩\u{200d}🔬 漢字 zero\u{200b}width <&> \"quoted\"";

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Writes `SYN/OQ/large-1/` under `root`: one JUnit file with `cases` test cases (every 50th
/// failed, with a long message and odd Unicode; one case with a 400-character name) and
/// `evidence` small evidence files. Returns the run key.
pub fn write_large_run(root: &Path, cases: usize, evidence: usize) -> Result<String> {
    let run = "SYN/OQ/large-1";
    let dir = root.join(run);
    let io = |e: std::io::Error| HarnessError::during("write the synthetic run", &e);
    std::fs::create_dir_all(dir.join("reports")).map_err(io)?;
    std::fs::create_dir_all(dir.join("evidence")).map_err(io)?;
    let failures = cases.div_ceil(50);
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"large\" tests=\"{cases}\" failures=\"{failures}\">\n"
    );
    let long_message = format!("{} ", ODD_TEXT).repeat(80);
    for i in 0..cases {
        let name = if i == 1 {
            format!(
                "URS-SYN-{:03} {}",
                i % 500,
                "very long case name ".repeat(20)
            )
        } else {
            format!(
                "URS-SYN-{:03} case {i} {}",
                i % 500,
                if i % 97 == 0 { ODD_TEXT } else { "" }
            )
        };
        xml.push_str(&format!(
            "  <testcase classname=\"syn.Large\" name=\"{}\" time=\"0.01\">",
            xml_escape(&name)
        ));
        if i % 50 == 0 {
            xml.push_str(&format!(
                "<failure message=\"{}\">{}</failure>",
                xml_escape(&format!("expected {i}, got {} — {ODD_TEXT}", i + 1)),
                xml_escape(&long_message)
            ));
        }
        xml.push_str("</testcase>\n");
    }
    xml.push_str("</testsuite>\n");
    std::fs::write(dir.join("reports/junit-large.xml"), xml).map_err(io)?;
    for i in 0..evidence {
        let mut f =
            std::fs::File::create(dir.join(format!("evidence/URS-SYN-{:03}-e{i:05}.txt", i % 500)))
                .map_err(io)?;
        writeln!(f, "evidence {i} {ODD_TEXT}").map_err(io)?;
        f.write_all(&vec![b'x'; 1024]).map_err(io)?;
    }
    Ok(run.to_owned())
}
