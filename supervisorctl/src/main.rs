//! supervisorctl: the command-line client. The commands arrive with the control plane (gRPC);
//! until then this binary only reports its version.

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "supervisorctl",
    version,
    about = "Control a running supervisord"
)]
struct Cli {}

fn main() {
    let _ = Cli::parse();
    eprintln!("supervisorctl: the control plane is not part of this build yet");
    std::process::exit(2);
}
