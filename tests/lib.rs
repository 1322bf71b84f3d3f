//! Shared helpers for the cross-crate end-to-end tests in this package.
//!
//! Layer: top (tests only; never published).

use std::path::{Path, PathBuf};

/// The workspace root (the parent of this package's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

/// README.md's Rust examples, compiled and run as doctests so that the
/// README stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// Each crate's README.md, compiled and run as doctests, so that what a
/// reader of a published crate sees stays true.
#[cfg(doctest)]
mod crate_readmes {
    #[doc = include_str!("../crates/ecs-model/README.md")]
    struct EcsModel;
    #[doc = include_str!("../crates/ecs-sign/README.md")]
    struct EcsSign;
    #[doc = include_str!("../crates/ecs-transport/README.md")]
    struct EcsTransport;
    #[doc = include_str!("../crates/ecs-credentials/README.md")]
    struct EcsCredentials;
    #[doc = include_str!("../crates/ecs-assist/README.md")]
    struct EcsAssist;
    #[doc = include_str!("../crates/ecs-emulator/README.md")]
    struct EcsEmulator;
}
