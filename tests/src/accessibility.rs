//! Accessibility checks of the app's window: axe-core (pinned in `tools/axe/package-lock.json`,
//! installed by `scripts/setup.sh`, never part of `ui/`) is injected into the real WebKit page
//! through WebDriver and run on the screen as it stands. Any violation of impact "serious" or
//! "critical" (colour contrast below WCAG AA among them) fails the check, naming the rule, the
//! elements and axe's own summary.

use fantoccini::Client;
use serde_json::Value;

use crate::emulator::project_root;
use crate::{HarnessError, Result};

/// The impacts that fail a screen.
const FAILING: &[&str] = &["serious", "critical"];

/// The pinned axe-core script, as `scripts/setup.sh` installed it.
pub fn axe_source() -> Result<String> {
    let path = project_root().join("tools/axe/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).map_err(|e| {
        HarnessError::new(format!(
            "cannot read {} ({e}); install the pinned axe-core with scripts/setup.sh \
             (npm ci --prefix tools/axe)",
            path.display()
        ))
    })
}

/// What axe found on one screen.
#[derive(Debug, Clone)]
pub struct AxeReport {
    /// Rules that passed or failed, for the record: how many rules axe applied.
    pub rules_applied: usize,
    /// Violations of impact serious or critical, one line each.
    pub failing: Vec<String>,
    /// Every other violation (minor, moderate), one line each.
    pub other: Vec<String>,
}

/// Runs axe-core on the window as it is now. `screen` names it in messages.
pub async fn check(client: &Client, axe: &str, screen: &str) -> Result<AxeReport> {
    // The app is one page: axe stays loaded across screens once injected.
    let loaded = client
        .execute("return typeof window.axe === 'object';", vec![])
        .await
        .map_err(|e| HarnessError::new(format!("{screen}: ask whether axe is loaded: {e}")))?;
    if loaded != Value::Bool(true) {
        client
            .execute(&format!("{axe}\n;return typeof window.axe;"), vec![])
            .await
            .map_err(|e| HarnessError::new(format!("{screen}: inject axe-core: {e}")))?;
    }
    let result = client
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             axe.run(document, { resultTypes: ['violations'] })\
               .then(r => done({ ok: true, violations: r.violations.map(v => ({\
                   id: v.id, impact: v.impact, help: v.help,\
                   nodes: v.nodes.map(n => ({ target: n.target.join(' '), summary: n.failureSummary }))\
                 })), applied: r.violations.length + r.passes.length + r.incomplete.length + r.inapplicable.length }))\
               .catch(e => done({ ok: false, error: String(e) }));",
            vec![],
        )
        .await
        .map_err(|e| HarnessError::new(format!("{screen}: run axe-core: {e}")))?;
    if result["ok"] != Value::Bool(true) {
        return Err(HarnessError::new(format!(
            "{screen}: axe-core failed: {}",
            result["error"]
        )));
    }
    let mut report = AxeReport {
        rules_applied: result["applied"].as_u64().unwrap_or(0) as usize,
        failing: Vec::new(),
        other: Vec::new(),
    };
    for v in result["violations"].as_array().into_iter().flatten() {
        let impact = v["impact"].as_str().unwrap_or("unknown");
        let nodes: Vec<String> = v["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .take(5)
            .map(|n| {
                format!(
                    "    {}: {}",
                    n["target"].as_str().unwrap_or("?"),
                    n["summary"].as_str().unwrap_or("").replace('\n', " ")
                )
            })
            .collect();
        let line = format!(
            "{impact} {} ({}):\n{}",
            v["id"].as_str().unwrap_or("?"),
            v["help"].as_str().unwrap_or(""),
            nodes.join("\n")
        );
        if FAILING.contains(&impact) {
            report.failing.push(line);
        } else {
            report.other.push(line);
        }
    }
    Ok(report)
}

/// Runs axe-core and fails with every serious or critical violation of `screen`.
pub async fn assert_accessible(client: &Client, axe: &str, screen: &str) -> Result<AxeReport> {
    let report = check(client, axe, screen).await?;
    if report.rules_applied == 0 {
        return Err(HarnessError::new(format!(
            "{screen}: axe-core applied no rule; the check did not run"
        )));
    }
    if !report.failing.is_empty() {
        return Err(HarnessError::new(format!(
            "{screen}: {} serious or critical accessibility violation(s):\n{}",
            report.failing.len(),
            report.failing.join("\n")
        )));
    }
    Ok(report)
}

/// Whether the window renders in the dark scheme (`prefers-color-scheme: dark`).
pub async fn is_dark(client: &Client) -> Result<bool> {
    let v = client
        .execute(
            "return window.matchMedia('(prefers-color-scheme: dark)').matches;",
            vec![],
        )
        .await
        .map_err(|e| HarnessError::new(format!("ask the window's colour scheme: {e}")))?;
    Ok(v == Value::Bool(true))
}
