//! The `ligature` command: a thin client of `ligature::api`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;

fn main() {
    std::process::exit(cli::main());
}
