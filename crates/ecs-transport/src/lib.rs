//! The HTTP transport trait used by `ecs-assist`.
//!
//! Layer: middle. Without features it holds only the trait and its error.
