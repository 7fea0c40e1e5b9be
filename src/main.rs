//! The campaignctl binary: parse the command line, run it, exit with its code.

fn main() {
    std::process::exit(campaignctl::cli::run(std::env::args_os()));
}
