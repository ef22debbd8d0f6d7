fn main() -> std::process::ExitCode {
    tokenscope::cli::main()
}
