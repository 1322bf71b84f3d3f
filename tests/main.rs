//! The end-to-end test binary: one module per topic.

mod tidy;
