//! hull-runtime: the runc-compatible command line over `hull_runtime`.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
