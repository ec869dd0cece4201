//! `supervisorctl`: see the library.

fn main() -> std::process::ExitCode {
    let code = supervisorctl::run(std::env::args_os().collect(), "supervisorctl");
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}
