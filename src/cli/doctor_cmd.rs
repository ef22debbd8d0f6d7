//! `tokenscope doctor`: prints `diagnose::doctor`'s checklist, as text or `--json`. Exit 0
//! when nothing failed, 1 when a check failed.
//!
//! Printing only: the facts and the judgements come from [`crate::diagnose::doctor`].

use serde_json::json;

use super::out::outln;
use super::setup_cmd::SetupAccess;
use super::{Failure, http_client};
use crate::config::Profile;
use crate::diagnose::Severity;
use crate::diagnose::doctor::{self, DoctorReport};
use crate::text::sanitize;

/// Exit code of `doctor` when a check failed.
pub const EXIT_DOCTOR_FAILED: u8 = 1;

pub async fn doctor(
    profile: &Profile,
    city: &str,
    json_out: bool,
    access: &SetupAccess,
) -> Result<(), Failure> {
    let client = http_client(profile)?;
    let report = doctor::run(profile, city, &client, access.for_doctor(profile)).await;
    if json_out {
        let out =
            json!({"profile": report.profile, "ok": !report.failed(), "checks": report.checks});
        outln!("{}", crate::text::inert_json(&out));
    } else {
        print_human(&report);
    }
    if report.failed() {
        return Err(Failure::after_output(
            EXIT_DOCTOR_FAILED,
            "doctor found problems (see above)",
        ));
    }
    Ok(())
}

fn print_human(report: &DoctorReport) {
    outln!(
        "tokenscope doctor — profile {}",
        sanitize(&report.profile, false)
    );
    for c in &report.checks {
        // Details quote servers and tokens: print them inert.
        let detail = sanitize(&c.detail, false);
        outln!("{} {:<10} {detail}", c.severity.mark(), c.stage);
        if let Some(cause) = &c.cause {
            outln!("  {:<10} why: {}", "", sanitize(cause, false));
        }
        if let Some(fix) = &c.fix {
            outln!("  {:<10} fix: {}", "", sanitize(fix, false));
        }
    }
    outln!("{}", verdict(report));
}

/// The last line: failed, passed with warnings (a skewed clock is not "all passed"), or all
/// passed.
fn verdict(report: &DoctorReport) -> String {
    let warnings = report
        .checks
        .iter()
        .filter(|c| c.severity == Severity::Warning)
        .count();
    match (report.failed(), warnings) {
        (true, _) => "some checks failed".into(),
        (false, 0) => "all checks passed".into(),
        (false, 1) => "no check failed; 1 warning (⚠ above)".into(),
        (false, n) => format!("no check failed; {n} warnings (⚠ above)"),
    }
}
