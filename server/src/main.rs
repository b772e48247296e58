fn main() -> std::process::ExitCode {
    filiere_server::cli::main()
}
