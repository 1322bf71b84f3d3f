//! The environment: the [`Environment`] trait that makes it an input, the
//! name of every variable the chain reads (`ENV_*`), the snapshot the
//! providers read them from, and the environment provider
//! (`ALIBABA_CLOUD_ACCESS_KEY_ID`, `..._SECRET`, `..._SECURITY_TOKEN`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use ecs_sign::Credentials;

use crate::error::Error;
use crate::provider::{CredentialsFuture, CredentialsProvider};

/// Environment variable: access key id.
pub const ENV_ACCESS_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
/// Environment variable: access key secret.
pub const ENV_ACCESS_KEY_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
/// Environment variable: STS security token.
pub const ENV_SECURITY_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";

/// A read-only view of environment variables, so `from_env` can be tested
/// without touching the process environment.
pub trait Environment {
    /// The value of `name`, `None` when unset. Empty values count as unset.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Environment for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl Environment for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl<E: Environment + ?Sized> Environment for &E {
    fn var(&self, name: &str) -> Option<String> {
        (**self).var(name)
    }
}

/// `ALIBABA_CLOUD_PROFILE`: the profile of both the CLI config and the ini file.
pub const ENV_PROFILE: &str = "ALIBABA_CLOUD_PROFILE";
/// `ALIBABA_CLOUD_CREDENTIALS_FILE`: the ini file path.
pub const ENV_CREDENTIALS_FILE: &str = "ALIBABA_CLOUD_CREDENTIALS_FILE";
/// `ALIBABA_CLOUD_CLI_PROFILE_DISABLED`: `true` skips `~/.aliyun/config.json`.
pub const ENV_CLI_PROFILE_DISABLED: &str = "ALIBABA_CLOUD_CLI_PROFILE_DISABLED";
/// `ALIBABA_CLOUD_ECS_METADATA`: the RAM role name of the instance.
pub const ENV_ECS_METADATA: &str = "ALIBABA_CLOUD_ECS_METADATA";
/// `ALIBABA_CLOUD_ECS_METADATA_DISABLED`: `true` drops the ECS RAM role.
pub const ENV_ECS_METADATA_DISABLED: &str = "ALIBABA_CLOUD_ECS_METADATA_DISABLED";
/// `ALIBABA_CLOUD_IMDSV1_DISABLED`: `true` requires the IMDSv2 token.
pub const ENV_IMDSV1_DISABLED: &str = "ALIBABA_CLOUD_IMDSV1_DISABLED";
/// `ALIBABA_CLOUD_ROLE_ARN`: the role of the OIDC provider.
pub const ENV_ROLE_ARN: &str = "ALIBABA_CLOUD_ROLE_ARN";
/// `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`.
pub const ENV_OIDC_PROVIDER_ARN: &str = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN";
/// `ALIBABA_CLOUD_OIDC_TOKEN_FILE`.
pub const ENV_OIDC_TOKEN_FILE: &str = "ALIBABA_CLOUD_OIDC_TOKEN_FILE";
/// `ALIBABA_CLOUD_ROLE_SESSION_NAME`.
pub const ENV_ROLE_SESSION_NAME: &str = "ALIBABA_CLOUD_ROLE_SESSION_NAME";
/// `ALIBABA_CLOUD_CREDENTIALS_URI`.
pub const ENV_CREDENTIALS_URI: &str = "ALIBABA_CLOUD_CREDENTIALS_URI";
/// `ALIBABA_CLOUD_STS_REGION`: the region of the STS endpoint.
pub const ENV_STS_REGION: &str = "ALIBABA_CLOUD_STS_REGION";
/// `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED`: `true` uses `sts-vpc.<region>`.
pub const ENV_VPC_ENDPOINT_ENABLED: &str = "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED";
/// `ECS_ASSIST_OAUTH_SIGN_IN_URL`: the OAuth service of every OAuth profile
/// (`scheme://host[:port]`), instead of the site type's (ours, not the
/// official library's: for tests and private deployments).
pub const ENV_OAUTH_SIGN_IN_URL: &str = "ECS_ASSIST_OAUTH_SIGN_IN_URL";
/// `ECS_ASSIST_STS_ENDPOINT`: the STS endpoint URL (`scheme://host[:port]`)
/// of every STS call, instead of `https://sts[-vpc].<region>.aliyuncs.com`
/// (ours, not the official library's, which has no such variable: for
/// tests, emulators and private deployments).
pub const ENV_STS_ENDPOINT: &str = "ECS_ASSIST_STS_ENDPOINT";
/// `ECS_ASSIST_METADATA_ENDPOINT`: the metadata service's URL instead of
/// `http://100.100.100.200` (ours, not the official library's: for tests
/// and emulators).
pub const ENV_METADATA_ENDPOINT: &str = "ECS_ASSIST_METADATA_ENDPOINT";

/// Every variable the credentials chain reads, plus the home directory.
const CHAIN_VARS: &[&str] = &[
    ENV_ACCESS_KEY_ID,
    ENV_ACCESS_KEY_SECRET,
    ENV_SECURITY_TOKEN,
    ENV_PROFILE,
    ENV_CREDENTIALS_FILE,
    ENV_CLI_PROFILE_DISABLED,
    ENV_ECS_METADATA,
    ENV_ECS_METADATA_DISABLED,
    ENV_IMDSV1_DISABLED,
    ENV_ROLE_ARN,
    ENV_OIDC_PROVIDER_ARN,
    ENV_OIDC_TOKEN_FILE,
    ENV_ROLE_SESSION_NAME,
    ENV_CREDENTIALS_URI,
    ENV_STS_REGION,
    ENV_VPC_ENDPOINT_ENABLED,
    ENV_OAUTH_SIGN_IN_URL,
    ENV_STS_ENDPOINT,
    ENV_METADATA_ENDPOINT,
    "HOME",
    "USERPROFILE",
];

/// The chain's variables, read once (as the official SDKs read them when
/// the provider is built). Values are trimmed; empty ones count as unset.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct EnvSnapshot(BTreeMap<&'static str, String>);

impl EnvSnapshot {
    pub(crate) fn capture(env: &dyn Environment) -> Self {
        Self(
            CHAIN_VARS
                .iter()
                .filter_map(|&name| {
                    let value = env.var(name)?;
                    let value = value.trim();
                    (!value.is_empty()).then(|| (name, value.to_owned()))
                })
                .collect(),
        )
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Whether `name` is `true` (any case).
    pub(crate) fn is_true(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

impl fmt::Debug for EnvSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names only: the values include the secret and the token.
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// Credentials from `ALIBABA_CLOUD_ACCESS_KEY_ID`,
/// `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and (optionally)
/// `ALIBABA_CLOUD_SECURITY_TOKEN`, read when the provider is created.
///
/// ```
/// use std::collections::HashMap;
/// use ecs_credentials::{CredentialsProvider, EnvironmentCredentialsProvider};
/// let env: HashMap<String, String> = HashMap::new();
/// let provider = EnvironmentCredentialsProvider::new(&env);
/// let err = futures::executor::block_on(provider.provide_credentials()).unwrap_err();
/// assert_eq!(err.to_string(), "ALIBABA_CLOUD_ACCESS_KEY_ID is not set");
/// ```
#[derive(Clone)]
pub struct EnvironmentCredentialsProvider {
    result: Result<Credentials, String>,
}

impl EnvironmentCredentialsProvider {
    /// Reads the variables from `env` now.
    pub fn new(env: &dyn Environment) -> Self {
        Self::from_snapshot(&EnvSnapshot::capture(env))
    }

    pub(crate) fn from_snapshot(env: &EnvSnapshot) -> Self {
        let result = match (env.get(ENV_ACCESS_KEY_ID), env.get(ENV_ACCESS_KEY_SECRET)) {
            (None, _) => Err(format!("{ENV_ACCESS_KEY_ID} is not set")),
            (Some(_), None) => Err(format!(
                "{ENV_ACCESS_KEY_ID} is set but {ENV_ACCESS_KEY_SECRET} is not; set both"
            )),
            (Some(id), Some(secret)) => Credentials::new(id, secret)
                .and_then(|c| match env.get(ENV_SECURITY_TOKEN) {
                    Some(token) => c.with_security_token(token),
                    None => Ok(c),
                })
                .map_err(|e| format!("{ENV_ACCESS_KEY_ID}/{ENV_ACCESS_KEY_SECRET}: {e}")),
        };
        Self { result }
    }

    pub(crate) fn credentials(&self) -> Result<Credentials, Error> {
        self.result.clone().map_err(Error::new)
    }
}

impl fmt::Debug for EnvironmentCredentialsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("EnvironmentCredentialsProvider");
        match &self.result {
            Ok(c) => d
                .field("access_key_id", &c.access_key_id())
                .field("sts", &c.security_token().is_some()),
            Err(e) => d.field("error", e),
        };
        d.finish()
    }
}

impl CredentialsProvider for EnvironmentCredentialsProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(std::future::ready(self.credentials()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn table_of_environments() {
        type Case<'a> = (
            &'a [(&'a str, &'a str)],
            Result<(&'a str, Option<&'a str>), &'a str>,
        );
        let cases: &[Case<'_>] = &[
            (&[], Err("ALIBABA_CLOUD_ACCESS_KEY_ID is not set")),
            (
                &[(ENV_ACCESS_KEY_ID, "  ")],
                Err("ALIBABA_CLOUD_ACCESS_KEY_ID is not set"),
            ),
            (
                &[(ENV_ACCESS_KEY_ID, "AK")],
                Err(
                    "ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET is not; set both",
                ),
            ),
            (
                &[(ENV_ACCESS_KEY_ID, "AK"), (ENV_ACCESS_KEY_SECRET, "SK")],
                Ok(("AK", None)),
            ),
            (
                &[
                    (ENV_ACCESS_KEY_ID, "AK"),
                    (ENV_ACCESS_KEY_SECRET, "SK"),
                    (ENV_SECURITY_TOKEN, "TOK"),
                ],
                Ok(("AK", Some("TOK"))),
            ),
        ];
        for (vars, want) in cases {
            let p = EnvironmentCredentialsProvider::new(&env(vars));
            let got = futures::executor::block_on(p.provide_credentials());
            match (got, want) {
                (Ok(c), Ok((id, token))) => {
                    assert_eq!(c.access_key_id(), *id);
                    assert_eq!(c.security_token(), *token);
                }
                (Err(e), Err(msg)) => {
                    assert_eq!(e.to_string(), *msg);
                    assert_eq!(e.kind(), crate::ErrorKind::Configuration);
                }
                (got, want) => panic!("{vars:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn debug_never_shows_secrets() {
        let e = env(&[
            (ENV_ACCESS_KEY_ID, "AK"),
            (ENV_ACCESS_KEY_SECRET, "SUPERSECRET"),
            (ENV_SECURITY_TOKEN, "TOKVAL"),
        ]);
        let p = EnvironmentCredentialsProvider::new(&e);
        let snap = EnvSnapshot::capture(&e);
        for text in [format!("{p:?}"), format!("{snap:?}")] {
            assert!(
                !text.contains("SUPERSECRET") && !text.contains("TOKVAL"),
                "{text}"
            );
        }
        assert!(snap.get(ENV_ACCESS_KEY_SECRET).is_some());
    }

    #[test]
    fn booleans_are_case_insensitive_true_only() {
        let snap = EnvSnapshot::capture(&env(&[
            (ENV_ECS_METADATA_DISABLED, "TRUE"),
            (ENV_IMDSV1_DISABLED, "1"),
        ]));
        assert!(snap.is_true(ENV_ECS_METADATA_DISABLED));
        assert!(!snap.is_true(ENV_IMDSV1_DISABLED));
    }
}
