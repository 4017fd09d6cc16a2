//! `igctl`: the operators' CLI. All logic lives in the library.

fn main() {
    let code = igctl::main_with(std::env::args().collect());
    std::process::exit(code);
}
