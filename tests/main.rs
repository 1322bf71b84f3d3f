//! The end-to-end test binary: one module per topic.

mod emulator;
mod support;
mod tidy;
