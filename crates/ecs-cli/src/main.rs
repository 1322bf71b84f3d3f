//! `ecs-assist`: the command-line tool for ECS Cloud Assistant results.
//!
//! Layer: top (a binary over the `ecs-assist` library).

fn main() -> std::process::ExitCode {
    eprintln!("ecs-assist: the command-line tool is not built yet (issue 9)");
    std::process::ExitCode::from(2)
}
