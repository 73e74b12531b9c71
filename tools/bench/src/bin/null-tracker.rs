//! The do-nothing tracker on its own: `null-tracker [ADDR]` (default 127.0.0.1:26969).
//! The bench starts the same code as `bench --serve-null ADDR`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    if matches!(arg.as_deref(), Some("-h" | "--help")) {
        println!("usage: null-tracker [ADDR]   (UDP and TCP; default 127.0.0.1:26969)");
        return ExitCode::SUCCESS;
    }
    let addr = match arg.as_deref().unwrap_or("127.0.0.1:26969").parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("null-tracker: bad address: {e}");
            return ExitCode::from(2);
        }
    };
    match trackseed_bench::null::run(addr) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("null-tracker: {e}");
            ExitCode::FAILURE
        }
    }
}
