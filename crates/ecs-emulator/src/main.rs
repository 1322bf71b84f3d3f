//! `ecs-emulator`: serve the emulated API on a local address.

fn main() -> std::process::ExitCode {
    eprintln!("ecs-emulator: the emulator is not built yet (issue 6)");
    std::process::ExitCode::from(2)
}
