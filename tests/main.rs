//! The end-to-end test binary: one module per topic.

// Everything in this binary is test code: a panic is a test failure with a
// location, which is what unwrap and expect give.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod client;
mod emulator;
mod emulator_abuse;
mod faults;
mod load;
mod oss;
mod support;
mod tidy;
