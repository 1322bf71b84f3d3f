//! Shared by the credentials tests: a provider configuration with an
//! injected environment, files and clock, and a bounded ask.

#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ecs_credentials::{CredentialsProvider, FileSystem, ProviderConfig};
use ecs_sign::test_util::{FixedNonceSource, ManualTimeSource};
use time::macros::datetime;

/// The time every test starts at.
pub const T0: time::OffsetDateTime = datetime!(2026-01-01 00:00:00 UTC);

/// The longest any one ask may take.
pub const LIMIT: Duration = Duration::from_secs(20);

/// `env` (with `HOME=/home/u` unless it names one), `fs`, the clock `time`
/// and a fixed nonce.
pub fn config_at(
    env: &[(&str, &str)],
    fs: impl FileSystem + 'static,
    time: Arc<ManualTimeSource>,
) -> ProviderConfig {
    let mut vars: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    vars.entry("HOME".into())
        .or_insert_with(|| "/home/u".into());
    ProviderConfig::new()
        .environment(&vars)
        .file_system(fs)
        .time_source(time)
        .nonce_source(FixedNonceSource::new("nonce-1"))
}

/// [`config_at`] with a clock standing at [`T0`].
pub fn config(env: &[(&str, &str)], fs: impl FileSystem + 'static) -> ProviderConfig {
    config_at(env, fs, Arc::new(ManualTimeSource::new(T0)))
}

/// The provider's credentials, failing the test past [`LIMIT`].
pub async fn get(
    p: &dyn CredentialsProvider,
) -> Result<ecs_sign::Credentials, ecs_credentials::Error> {
    tokio::time::timeout(LIMIT, p.provide_credentials())
        .await
        .expect("bounded")
}
