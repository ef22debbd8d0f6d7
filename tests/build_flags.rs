//! How the dependencies were built, where a lost setting would not show in any behaviour
//! test, only as lost speed. Owns checks of build-time switches; it must not test features
//! (the other suites do) nor time anything (BENCHMARKS.md does).
//!
//! aws-lc (the crypto behind rustls, jsonwebtoken and rcgen) must be built with
//! `AWS_LC_SYS_NO_JITTER_ENTROPY=1` (.cargo/config.toml explains the trade-off). Without it,
//! the first random number of every process runs aws-lc's CPU-jitter entropy collector:
//! ~60 ms of CPU before the first TLS byte of every `tokenscope call` (issue 12).

/// aws-lc's own answer: `FIPS_is_entropy_cpu_jitter()` (through aws-lc-rs, which the same
/// build links) is 1 when the jitter collector seeds its generator.
#[test]
fn aws_lc_does_not_seed_from_cpu_jitter() {
    let jitter = aws_lc_rs::try_fips_cpu_jitter_entropy().is_ok();
    assert!(
        !jitter,
        "aws-lc was built WITH its CPU-jitter entropy source, which costs ~60 ms of CPU in \
         every process that does TLS. The build lost AWS_LC_SYS_NO_JITTER_ENTROPY=1: it comes \
         from .cargo/config.toml's [env], so build from inside the repository, and do not set \
         AWS_LC_SYS_NO_JITTER_ENTROPY to anything else in the environment (an environment \
         variable wins over [env])."
    );
}

/// The same from the linker's side, independent of the machine the test runs on (aws-lc also
/// skips jitter at run time on VMs with /dev/sysgenid, which would hide a lost switch from
/// the test above): with the switch the jitter library is not compiled at all, so no `jent_*`
/// symbol is in this test binary's symbol table. Unstripped test binaries are cargo's
/// default; a stripped one is reported rather than passed.
#[test]
fn no_jitter_collector_is_linked() {
    let exe = std::env::current_exe().expect("the test binary's path");
    let bytes = std::fs::read(&exe).expect("the test binary is readable");
    // Built at run time: written out whole, the names would be in this binary's own data
    // and always be found.
    let control = ["FIPS_is_entropy", "_cpu_jitter"].concat();
    let collector = ["jent", "_entropy_init"].concat();
    let has = |name: &str| bytes.windows(name.len()).any(|w| w == name.as_bytes());
    assert!(
        has(&control),
        "{} has no symbol table (stripped?), so this check cannot read it",
        exe.display()
    );
    assert!(
        !has(&collector),
        "aws-lc's CPU-jitter collector ({collector}) is linked into {}: the build lost \
         AWS_LC_SYS_NO_JITTER_ENTROPY=1 from .cargo/config.toml's [env] (an environment \
         variable of another value wins over it)",
        exe.display()
    );
}
