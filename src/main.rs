//! The `ligature` command: a thin client of `ligature::api`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(cli::main());
}
