//! `tokenscope doctor`: prints `diagnose::doctor`'s checklist, as text or `--json`. Exit 0
//! when nothing failed, 1 when a check failed. `doctor --all` runs it for every profile of
//! the file and prints one summary line each; its exit code is the worst profile's (2 for a
//! profile that does not load).
//!
//! Printing only: the facts and the judgements come from [`crate::diagnose::doctor`].

use serde_json::json;

use super::out::outln;
use super::setup_cmd::SetupAccess;
use super::{EXIT_USAGE, Failure, http_client};
use crate::config::{self, Env, LoadOptions, Profile};
use crate::diagnose::Severity;
use crate::diagnose::doctor::{self, DoctorReport};
use crate::problem::Problem as _;
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

/// One profile's outcome in `doctor --all`.
struct Summary {
    name: String,
    /// The report, or why the profile did not load (config error, exit 2).
    report: Result<DoctorReport, Failure>,
}

impl Summary {
    fn code(&self) -> u8 {
        match &self.report {
            Ok(r) if r.failed() => EXIT_DOCTOR_FAILED,
            Ok(_) => 0,
            Err(f) => f.code,
        }
    }
    /// `✓ console-rw  12 checks, all passed`, `✗ expired-secret  3 of 12 checks failed:
    /// token, setup, …`, `✗ broken  does not load: …`.
    fn line(&self, width: usize) -> String {
        let name = sanitize(&self.name, false);
        let r = match &self.report {
            Err(f) => {
                return format!(
                    "✗ {name:<width$}  does not load: {}",
                    one_line(&f.summary())
                );
            }
            Ok(r) => r,
        };
        let count = |s: Severity| r.checks.iter().filter(|c| c.severity == s).count();
        let (errors, warnings, total) = (
            count(Severity::Error),
            count(Severity::Warning),
            r.checks.len(),
        );
        let mut failed: Vec<&str> = r
            .checks
            .iter()
            .filter(|c| c.severity == Severity::Error)
            .map(|c| c.stage)
            .collect();
        failed.dedup();
        let plural = |n: usize, one: &str, many: &str| {
            if n == 1 {
                one.to_string()
            } else {
                many.to_string()
            }
        };
        match (errors, warnings) {
            (0, 0) => format!("✓ {name:<width$}  {total} checks, all passed"),
            (0, w) => format!(
                "⚠ {name:<width$}  {total} checks, none failed; {w} {}",
                plural(w, "warning", "warnings")
            ),
            (e, _) => format!(
                "✗ {name:<width$}  {e} of {total} checks failed: {}",
                failed.join(", ")
            ),
        }
    }
}

/// A summary that introduces a list ("… Looked at:") without the list's introduction.
fn one_line(summary: &str) -> String {
    let s = sanitize(summary, false);
    match s.strip_suffix(':') {
        Some(head) => match head.rfind(". ") {
            Some(i) => head[..=i].to_string(),
            None => head.to_string(),
        },
        None => s,
    }
}

/// `doctor --all`: every profile of the config file, one after another.
pub async fn doctor_all(
    opts: &LoadOptions,
    env: &Env,
    no_cache: bool,
    city: &str,
    json_out: bool,
) -> Result<(), Failure> {
    if opts.profile.is_some() {
        return Err(Failure::new(
            EXIT_USAGE,
            "usage",
            "usage",
            "--all checks every profile; it does not take --profile",
        )
        .with_hint("drop --profile, or drop --all to check that one profile"));
    }
    let loaded = config::load_file(opts, env)?;
    let names: Vec<String> = loaded.file.profiles.keys().cloned().collect();
    let mut summaries = Vec::with_capacity(names.len());
    for name in names {
        let report = async {
            let profile = config::resolve(&loaded, Some(&name), env)?;
            let access = SetupAccess {
                reader: config::resolve_graph_reader(&loaded, &profile, env),
                no_cache,
            };
            let client = http_client(&profile)?;
            Ok(doctor::run(&profile, city, &client, access.for_doctor(&profile)).await)
        }
        .await;
        summaries.push(Summary { name, report });
    }
    let worst = summaries.iter().map(Summary::code).max().unwrap_or(0);
    if json_out {
        let profiles: Vec<serde_json::Value> = summaries
            .iter()
            .map(|s| match &s.report {
                Ok(r) => json!({"profile": s.name, "ok": !r.failed(), "checks": r.checks}),
                Err(f) => json!({"profile": s.name, "ok": false, "error": f.json["error"]}),
            })
            .collect();
        let out = json!({"ok": worst == 0, "profiles": profiles});
        outln!("{}", crate::text::inert_json(&out));
    } else {
        outln!(
            "tokenscope doctor — every profile of {}",
            loaded.path.display()
        );
        let width = summaries
            .iter()
            .map(|s| s.name.chars().count())
            .max()
            .unwrap_or(0);
        for s in &summaries {
            outln!("{}", s.line(width));
        }
        if worst != 0 {
            outln!("`tokenscope doctor -p NAME` shows a profile's checklist");
        }
    }
    match worst {
        0 => Ok(()),
        code => Err(Failure::after_output(
            code,
            "doctor found problems in some profiles (see above)",
        )),
    }
}
