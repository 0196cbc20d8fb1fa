fn main() -> std::process::ExitCode {
    remnant::cli::main()
}
