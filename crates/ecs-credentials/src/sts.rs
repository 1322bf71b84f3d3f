//! STS role assumption: `AssumeRole` signed with V1 by source credentials
//! (the RamRoleArn flows) and the anonymous `AssumeRoleWithOIDC` (the OIDC
//! flows), both cached and refreshed before they expire.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use ecs_sign::{encode_query, format_timestamp, rpc_v1};
use serde_json::Value;

use crate::cache::{CredentialsCache, Expiring, Fetch, FetchFuture};
use crate::env::{ENV_ROLE_SESSION_NAME, ENV_STS_REGION, ENV_VPC_ENDPOINT_ENABLED};
use crate::error::Error;
use crate::http::{send, session_from_object};
use crate::provider::{CredentialsFuture, CredentialsProvider, SharedCredentialsProvider};
use crate::provider_config::{HTTP_TIMEOUT, ProviderConfig};

/// The STS API version.
const STS_VERSION: &str = "2015-04-01";
/// The default and minimum `DurationSeconds`.
const DEFAULT_DURATION: Duration = Duration::from_secs(3600);
const MIN_DURATION: Duration = Duration::from_secs(900);

/// What both flows send besides their own fields.
#[derive(Clone)]
struct Session {
    role_arn: String,
    session_name: Option<String>,
    duration: Duration,
    policy: Option<String>,
    sts_region: Option<String>,
    vpc: bool,
}

/// Session settings read from a credentials file; `None` keeps the
/// provider's default.
#[derive(Debug, Default)]
pub(crate) struct SessionOptions<'a> {
    pub(crate) session_name: Option<&'a str>,
    pub(crate) duration: Option<Duration>,
    pub(crate) policy: Option<&'a str>,
    pub(crate) sts_region: Option<&'a str>,
    pub(crate) vpc: Option<bool>,
}

impl Session {
    fn apply(&mut self, options: SessionOptions<'_>) {
        if let Some(name) = options.session_name {
            self.session_name = Some(name.to_owned());
        }
        if let Some(duration) = options.duration {
            self.duration = duration;
        }
        if let Some(policy) = options.policy {
            self.policy = Some(policy.to_owned());
        }
        if let Some(region) = options.sts_region {
            self.sts_region = Some(region.to_owned());
        }
        if let Some(vpc) = options.vpc {
            self.vpc = vpc;
        }
    }

    fn new(config: &ProviderConfig, role_arn: String) -> Self {
        Self {
            role_arn,
            session_name: config.env.get(ENV_ROLE_SESSION_NAME).map(str::to_owned),
            duration: DEFAULT_DURATION,
            policy: None,
            sts_region: config.env.get(ENV_STS_REGION).map(str::to_owned),
            vpc: config.env.is_true(ENV_VPC_ENDPOINT_ENABLED),
        }
    }

    /// The common form parameters, checked.
    fn params(&self, config: &ProviderConfig) -> Result<Vec<(&'static str, String)>, Error> {
        if self.role_arn.trim().is_empty() {
            return Err(Error::new("the role ARN to assume is empty"));
        }
        if self.duration < MIN_DURATION {
            return Err(Error::new(format!(
                "the session duration of {} s is below the STS minimum of 900 s",
                self.duration.as_secs()
            )));
        }
        let name = self
            .session_name
            .clone()
            .unwrap_or_else(|| format!("ecs-assist-{}", config.time.now().unix_timestamp()));
        let mut params = vec![
            ("DurationSeconds", self.duration.as_secs().to_string()),
            ("RoleArn", self.role_arn.clone()),
            ("RoleSessionName", name),
        ];
        if let Some(policy) = &self.policy {
            params.push(("Policy", policy.clone()));
        }
        Ok(params)
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("duration", &self.duration)
            .field("sts_region", &self.sts_region)
            .field("vpc", &self.vpc)
            .finish_non_exhaustive()
    }
}

macro_rules! session_setters {
    () => {
        /// The `RoleSessionName` (default `ALIBABA_CLOUD_ROLE_SESSION_NAME`,
        /// else `ecs-assist-<unix time>`).
        #[must_use]
        pub fn role_session_name(mut self, name: impl Into<String>) -> Self {
            self.spec.session.session_name = Some(name.into());
            self
        }

        /// The `DurationSeconds` of the credentials (default 3600, minimum 900).
        #[must_use]
        pub fn duration(mut self, duration: Duration) -> Self {
            self.spec.session.duration = duration;
            self
        }

        /// A `Policy` that narrows the role's permissions.
        #[must_use]
        pub fn policy(mut self, policy: impl Into<String>) -> Self {
            self.spec.session.policy = Some(policy.into());
            self
        }

        /// The STS region (default `ALIBABA_CLOUD_STS_REGION`, else
        /// `sts.aliyuncs.com`).
        #[must_use]
        pub fn sts_region(mut self, region: impl Into<String>) -> Self {
            self.spec.session.sts_region = Some(region.into());
            self
        }

        /// Uses the VPC endpoint `sts-vpc.<region>.aliyuncs.com` (default
        /// `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED`).
        #[must_use]
        pub fn vpc_endpoint(mut self, vpc: bool) -> Self {
            self.spec.session.vpc = vpc;
            self
        }

        /// Applies the session settings a credentials file gave.
        #[must_use]
        pub(crate) fn session_options(mut self, options: SessionOptions<'_>) -> Self {
            self.spec.session.apply(options);
            self
        }
    };
}

/// STS credentials of a RAM role, from `AssumeRole` signed (V1) with the
/// source provider's credentials; cached and refreshed 15 minutes (at most
/// half their lifetime) before they expire.
pub struct RamRoleArnCredentialsProvider {
    spec: AssumeRole,
    cache: OnceLock<CredentialsCache>,
}

#[derive(Debug, Clone)]
struct AssumeRole {
    config: ProviderConfig,
    source: SharedCredentialsProvider,
    session: Session,
    external_id: Option<String>,
}

impl RamRoleArnCredentialsProvider {
    /// Assumes `role_arn` with the credentials of `source`.
    pub fn new(
        config: &ProviderConfig,
        source: impl CredentialsProvider + 'static,
        role_arn: impl Into<String>,
    ) -> Self {
        Self::from_shared(
            config,
            SharedCredentialsProvider::new(source),
            role_arn.into(),
        )
    }

    pub(crate) fn from_shared(
        config: &ProviderConfig,
        source: SharedCredentialsProvider,
        role_arn: String,
    ) -> Self {
        Self {
            spec: AssumeRole {
                config: config.clone(),
                source,
                session: Session::new(config, role_arn),
                external_id: None,
            },
            cache: OnceLock::new(),
        }
    }

    session_setters!();

    /// The `ExternalId` the role's trust policy requires.
    #[must_use]
    pub fn external_id(mut self, id: impl Into<String>) -> Self {
        self.spec.external_id = Some(id.into());
        self
    }
}

impl fmt::Debug for RamRoleArnCredentialsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RamRoleArnCredentialsProvider")
            .field("session", &self.spec.session)
            .field("source", &self.spec.source)
            .finish_non_exhaustive()
    }
}

impl CredentialsProvider for RamRoleArnCredentialsProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(cached(&self.cache, &self.spec, &self.spec.config).credentials())
    }
}

impl Fetch for AssumeRole {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(async move {
            let source = self.source.provide_credentials().await.map_err(|e| {
                let message = format!("the source credentials of AssumeRole are unavailable: {e}");
                Error::new(message)
                    .unavailable_if(e.is_unavailable())
                    .with_source(e)
            })?;
            let mut form = self.session.params(&self.config)?;
            if let Some(id) = &self.external_id {
                form.push(("ExternalId", id.clone()));
            }
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let nonce = self.config.nonce.nonce().map_err(Error::from)?;
            let request = rpc_v1::RpcV1Request::new("POST", "AssumeRole", STS_VERSION, &[])
                .with_body_params(&form);
            let query = rpc_v1::sign(&request, &source, self.config.time.now(), &nonce)
                .map_err(Error::from)?;
            call(
                &self.config,
                &self.session,
                "AssumeRole",
                &encode_query(&query),
                &encode_query(&form),
            )
            .await
        })
    }
}

/// STS credentials of a RAM role trusted by an OIDC provider, from the
/// anonymous `AssumeRoleWithOIDC` with the token read from its file at
/// every refresh (the cluster rotates it).
pub struct OidcRoleArnCredentialsProvider {
    spec: AssumeRoleWithOidc,
    cache: OnceLock<CredentialsCache>,
}

#[derive(Debug, Clone)]
struct AssumeRoleWithOidc {
    config: ProviderConfig,
    session: Session,
    provider_arn: String,
    token_file: PathBuf,
}

impl OidcRoleArnCredentialsProvider {
    /// Assumes `role_arn` through the OIDC provider `provider_arn` with the
    /// token in `token_file`.
    pub fn new(
        config: &ProviderConfig,
        role_arn: impl Into<String>,
        provider_arn: impl Into<String>,
        token_file: impl Into<PathBuf>,
    ) -> Self {
        Self {
            spec: AssumeRoleWithOidc {
                config: config.clone(),
                session: Session::new(config, role_arn.into()),
                provider_arn: provider_arn.into(),
                token_file: token_file.into(),
            },
            cache: OnceLock::new(),
        }
    }

    session_setters!();
}

impl fmt::Debug for OidcRoleArnCredentialsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcRoleArnCredentialsProvider")
            .field("session", &self.spec.session)
            .field("provider_arn", &self.spec.provider_arn)
            .field("token_file", &self.spec.token_file)
            .finish_non_exhaustive()
    }
}

impl CredentialsProvider for OidcRoleArnCredentialsProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(cached(&self.cache, &self.spec, &self.spec.config).credentials())
    }
}

impl Fetch for AssumeRoleWithOidc {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(async move {
            let file = self.token_file.display();
            let token = self
                .config
                .fs
                .read_to_string(&self.token_file)
                .map_err(|e| {
                    Error::new(format!("the OIDC token file {file} cannot be read ({e})"))
                        .with_source(e)
                })?;
            let token = token.trim();
            if token.is_empty() {
                return Err(Error::new(format!("the OIDC token file {file} is empty")));
            }
            if self.provider_arn.trim().is_empty() {
                return Err(Error::new("the OIDC provider ARN is empty"));
            }
            let mut form = self.session.params(&self.config)?;
            form.push(("OIDCProviderArn", self.provider_arn.clone()));
            form.push(("OIDCToken", token.to_owned()));
            let timestamp = format_timestamp(self.config.time.now()).map_err(Error::from)?;
            // Anonymous: the common parameters without a signature.
            let query = [
                ("Action", "AssumeRoleWithOIDC"),
                ("Format", "JSON"),
                ("Version", STS_VERSION),
                ("Timestamp", timestamp.as_str()),
            ];
            call(
                &self.config,
                &self.session,
                "AssumeRoleWithOIDC",
                &encode_query(&query),
                &encode_query(&form),
            )
            .await
        })
    }
}

/// The cache over a copy of `spec`, made on the first call (so that the
/// provider's setters apply until then).
fn cached<'a, S: Fetch + Clone + 'static>(
    cell: &'a OnceLock<CredentialsCache>,
    spec: &S,
    config: &ProviderConfig,
) -> &'a CredentialsCache {
    cell.get_or_init(|| CredentialsCache::new(Arc::new(spec.clone()), Arc::clone(&config.time)))
}

/// POSTs one STS call and reads its `Credentials`.
async fn call(
    config: &ProviderConfig,
    session: &Session,
    action: &str,
    query: &str,
    form: &str,
) -> Result<Expiring, Error> {
    let base = config.sts_url(session.sts_region.as_deref(), session.vpc);
    let what = format!("STS {action} at {base}");
    let request = http::Request::post(format!("{base}/?{query}"))
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(http::header::ACCEPT, "application/json")
        .body(Bytes::from(form.to_owned()))
        .map_err(|e| {
            Error::new(format!("the STS endpoint `{base}` is not a valid URL")).with_source(e)
        })?;
    let response = send(config, request, HTTP_TIMEOUT, &what).await?;
    let status = response.status();
    if !status.is_success() {
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let error = ecs_model::decode_error(status.as_u16(), content_type, response.body());
        return Err(Error::new(if error.code.is_empty() {
            format!("{what} failed with {error}")
        } else {
            format!(
                "{what} failed with {error}; check the role ARN and that the caller may assume it"
            )
        })
        .unavailable_if(true));
    }
    let value: Option<Value> = serde_json::from_slice(response.body()).ok();
    let object = value.as_ref().and_then(Value::as_object);
    let credentials = object
        .and_then(|o| o.get("Credentials"))
        .and_then(Value::as_object)
        .ok_or_else(|| {
            Error::new(format!("{what} answered without a `Credentials` object"))
                .unavailable_if(true)
        })?;
    session_from_object(credentials, &what)
}
