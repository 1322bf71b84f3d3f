//! The aliyun CLI's `OAuth` mode: STS credentials exchanged for the OAuth
//! access token `aliyun configure --mode OAuth` stored, which is refreshed
//! with the refresh token when it is about to expire.
//!
//! As the official credentials library (and the aliyun CLI) do:
//! - STS credentials already in the profile (`access_key_id`,
//!   `access_key_secret`, `sts_token`, `sts_expiration`) are used while
//!   they are valid;
//! - otherwise, when the access token is missing or expires within 20
//!   minutes, `POST /v1/token` (form: `grant_type=refresh_token`,
//!   `refresh_token`, `client_id`, `Timestamp`) gives a new access token,
//!   refresh token and `expires_in`;
//! - then `POST /v1/exchange` with `Authorization: Bearer <access token>`
//!   gives `AccessKeyId`, `AccessKeySecret`, `SecurityToken` and
//!   `Expiration`;
//! - the new tokens and STS credentials are written back into the profile
//!   in `config.json` (the same fields; the file replaced atomically with
//!   its permissions kept; no other profile touched), so that the aliyun
//!   CLI and ecs-assist keep working side by side.
//!
//! The host is `https://oauth.aliyun.com` for `oauth_site_type` `CN` (the
//! default) and `https://oauth.alibabacloud.com` for `INTL`;
//! [`ENV_OAUTH_SIGN_IN_URL`] overrides it (for tests and private
//! deployments).

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use ecs_sign::{Credentials, encode_query};
use serde_json::Value;
use time::OffsetDateTime;

use crate::cache::{CredentialsCache, Expiring, Fetch, FetchFuture};
use crate::cloud_sso::base_url;
use crate::env::ENV_OAUTH_SIGN_IN_URL;
use crate::error::Error;
use crate::http::{send, session_from_object, snippet};
use crate::provider::{CredentialsFuture, CredentialsProvider};
use crate::provider_config::{HTTP_TIMEOUT, ProviderConfig};

/// The access token is refreshed when it expires within this time.
const REFRESH_AHEAD: time::Duration = time::Duration::minutes(20);

/// The OAuth host and client id of a site type (`CN` or `INTL`, any case).
pub(crate) fn site(site_type: &str) -> Option<(&'static str, &'static str)> {
    match site_type.to_ascii_uppercase().as_str() {
        "CN" => Some(("https://oauth.aliyun.com", "4038181954557748008")),
        "INTL" => Some(("https://oauth.alibabacloud.com", "4103531455503354461")),
        _ => None,
    }
}

/// What an OAuth profile holds.
#[derive(Clone, Default)]
pub struct OAuthProfile {
    /// The profile's name (in errors, and to write the tokens back).
    pub name: String,
    /// `oauth_site_type`: `CN` (default) or `INTL`.
    pub site_type: Option<String>,
    /// `oauth_access_token` (a secret).
    pub access_token: Option<String>,
    /// `oauth_access_token_expire`.
    pub access_token_expire: Option<OffsetDateTime>,
    /// `oauth_refresh_token` (a secret).
    pub refresh_token: Option<String>,
    /// STS credentials from an earlier exchange (`access_key_id`,
    /// `access_key_secret`, `sts_token`) and `sts_expiration`.
    pub sts: Option<(Credentials, OffsetDateTime)>,
}

impl fmt::Debug for OAuthProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthProfile")
            .field("name", &self.name)
            .field("site_type", &self.site_type)
            .field("access_token", &self.access_token.as_ref().map(|_| "***"))
            .field("access_token_expire", &self.access_token_expire)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "***"))
            .field("sts_expiration", &self.sts.as_ref().map(|(_, e)| e))
            .finish()
    }
}

/// Credentials of an OAuth profile of the aliyun CLI.
pub struct OAuthCredentialsProvider {
    fetcher: Arc<OAuthFetcher>,
    cache: CredentialsCache,
}

impl OAuthCredentialsProvider {
    /// The provider of `profile`; `config_file` is the `config.json` the
    /// new tokens are written back to (`None`: not written).
    ///
    /// # Errors
    /// A credentials error for an unknown site type or an override that is
    /// not an http(s) URL.
    pub fn new(
        config: &ProviderConfig,
        profile: OAuthProfile,
        config_file: Option<PathBuf>,
    ) -> Result<Self, Error> {
        let name = profile.name.clone();
        let site_type = profile.site_type.clone().unwrap_or_else(|| "CN".to_owned());
        let (host, client_id) = site(&site_type).ok_or_else(|| {
            Error::new(format!(
                "profile `{name}`: `oauth_site_type` is `{site_type}`; use CN or INTL"
            ))
        })?;
        let base = match config.env.get(ENV_OAUTH_SIGN_IN_URL) {
            Some(url) => base_url(url).ok_or_else(|| {
                Error::new(format!("{ENV_OAUTH_SIGN_IN_URL} is not an http(s) URL"))
            })?,
            None => host.to_owned(),
        };
        let fetcher = Arc::new(OAuthFetcher {
            config: config.clone(),
            base,
            client_id,
            config_file,
            state: Mutex::new(profile),
        });
        Ok(Self {
            cache: CredentialsCache::new(fetcher.clone(), Arc::clone(&config.time)),
            fetcher,
        })
    }
}

impl fmt::Debug for OAuthCredentialsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthCredentialsProvider")
            .field("base", &self.fetcher.base)
            .field("profile", &*self.fetcher.state())
            .finish_non_exhaustive()
    }
}

impl CredentialsProvider for OAuthCredentialsProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.cache.credentials())
    }
}

#[derive(Debug)]
struct OAuthFetcher {
    config: ProviderConfig,
    base: String,
    client_id: &'static str,
    config_file: Option<PathBuf>,
    state: Mutex<OAuthProfile>,
}

impl OAuthFetcher {
    fn state(&self) -> std::sync::MutexGuard<'_, OAuthProfile> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn error(&self, problem: &str) -> Error {
        Error::new(format!("profile `{}`: {problem}", self.state().name))
    }

    async fn post(
        &self,
        path: &str,
        request: http::request::Builder,
        body: Bytes,
    ) -> Result<Value, Error> {
        let what = format!("OAuth ({}{path})", self.base);
        let request = request
            .method(http::Method::POST)
            .uri(format!("{}{path}", self.base))
            .body(body)
            .map_err(|e| {
                self.error("the OAuth request cannot be built")
                    .with_source(e)
            })?;
        let response = send(&self.config, request, HTTP_TIMEOUT, &what).await?;
        if !response.status().is_success() {
            return Err(self
                .error(&format!(
                    "{what} answered HTTP {}: {}",
                    response.status().as_u16(),
                    snippet(response.body())
                ))
                .unavailable_if(true));
        }
        serde_json::from_slice(response.body()).map_err(|e| {
            self.error(&format!("{what} answered with a body that is not JSON"))
                .with_source(e)
                .unavailable_if(true)
        })
    }

    /// A new access token from the refresh token.
    async fn refresh_access_token(&self, refresh_token: &str) -> Result<(), Error> {
        let now = self.config.time.now();
        let timestamp = ecs_sign::format_timestamp(now).map_err(|e| self.error(&e.to_string()))?;
        let form = encode_query(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", self.client_id),
            ("Timestamp", timestamp.as_str()),
        ]);
        let answer = self
            .post(
                "/v1/token",
                http::Request::builder().header(
                    http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                ),
                Bytes::from(form),
            )
            .await?;
        let text = |name: &str| {
            answer
                .get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let (Some(access), Some(refresh)) = (text("access_token"), text("refresh_token")) else {
            return Err(self
                .error("the OAuth token refresh answered without `access_token` or `refresh_token`; sign in again with `aliyun configure --mode OAuth`")
                .unavailable_if(true));
        };
        let expires_in = answer
            .get("expires_in")
            .and_then(Value::as_i64)
            .unwrap_or(3600);
        let mut state = self.state();
        state.access_token = Some(access.to_owned());
        state.refresh_token = Some(refresh.to_owned());
        state.access_token_expire = now.checked_add(time::Duration::seconds(expires_in));
        Ok(())
    }

    /// Writes the profile's tokens and STS credentials back into
    /// `config.json`: the file is read again, only this profile's fields
    /// change, and the new file replaces the old one atomically.
    fn write_back(&self) -> Result<(), Error> {
        let Some(path) = &self.config_file else {
            return Ok(());
        };
        let state = self.state().clone();
        let text = self.config.read_file(path)?;
        let mut root: Value = serde_json::from_str(&text).map_err(|e| {
            self.error(&format!("{} is no longer valid JSON", path.display()))
                .with_source(e)
        })?;
        let profile = root
            .get_mut("profiles")
            .and_then(Value::as_array_mut)
            .and_then(|profiles| {
                profiles
                    .iter_mut()
                    .find(|p| p.get("name").and_then(Value::as_str) == Some(state.name.as_str()))
            })
            .and_then(Value::as_object_mut)
            .ok_or_else(|| self.error(&format!("is no longer in {}", path.display())))?;
        let epoch = |t: Option<OffsetDateTime>| t.map_or(0, OffsetDateTime::unix_timestamp);
        let mut set = |k: &str, v: Value| {
            profile.insert(k.to_owned(), v);
        };
        set("oauth_access_token", state.access_token.clone().into());
        set("oauth_refresh_token", state.refresh_token.clone().into());
        set(
            "oauth_access_token_expire",
            epoch(state.access_token_expire).into(),
        );
        if let Some((creds, expiration)) = &state.sts {
            set("access_key_id", creds.access_key_id().into());
            set("access_key_secret", creds.access_key_secret().into());
            set(
                "sts_token",
                creds.security_token().unwrap_or_default().into(),
            );
            set("sts_expiration", expiration.unix_timestamp().into());
        }
        let mut bytes = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, formatter);
        serde::Serialize::serialize(&root, &mut serializer).map_err(|e| {
            self.error("the new config.json cannot be written")
                .with_source(e)
        })?;
        self.config.fs.replace(path, &bytes).map_err(|e| {
            self.error(&format!(
                "the new tokens cannot be written to {} ({e})",
                path.display()
            ))
            .with_source(e)
        })
    }
}

impl Fetch for OAuthFetcher {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(async move {
            let now = self.config.time.now();
            let (sts, access, access_expire, refresh) = {
                let state = self.state();
                (
                    state.sts.clone(),
                    state.access_token.clone(),
                    state.access_token_expire,
                    state.refresh_token.clone(),
                )
            };
            if let Some((credentials, expiration)) = sts
                && expiration > now
            {
                return Ok(Expiring {
                    credentials,
                    expiration: Some(expiration),
                });
            }
            let fresh_enough =
                access.is_some() && access_expire.is_some_and(|e| e - now > REFRESH_AHEAD);
            if !fresh_enough {
                let Some(refresh) = refresh else {
                    return Err(self.error(
                        "the OAuth access token has expired and there is no refresh token; sign in again with `aliyun configure --mode OAuth`",
                    ));
                };
                self.refresh_access_token(&refresh).await?;
            }
            let access = self.state().access_token.clone().unwrap_or_default();
            let answer = self
                .post(
                    "/v1/exchange",
                    http::Request::builder()
                        .header(http::header::CONTENT_TYPE, "application/json")
                        .header(http::header::AUTHORIZATION, format!("Bearer {access}")),
                    Bytes::new(),
                )
                .await?;
            let what = format!("OAuth ({}/v1/exchange)", self.base);
            let object = answer
                .as_object()
                .filter(|o| !o.contains_key("error"))
                .ok_or_else(|| {
                    self.error(&format!(
                        "{what} answered with an error: {}",
                        snippet(answer.to_string().as_bytes())
                    ))
                    .unavailable_if(true)
                })?;
            let parsed = session_from_object(object, &what)?;
            if let Some(expiration) = parsed.expiration {
                self.state().sts = Some((parsed.credentials.clone(), expiration));
            }
            if let Err(e) = self.write_back() {
                // The credentials are good; the aliyun CLI will refresh again.
                tracing::warn!(error = %e, "OAuth tokens not written back to config.json");
            }
            Ok(parsed)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_types_name_their_hosts() {
        assert_eq!(site("cn").unwrap().0, "https://oauth.aliyun.com");
        assert_eq!(site("INTL").unwrap().0, "https://oauth.alibabacloud.com");
        assert_eq!(site("EU"), None);
    }

    #[test]
    fn debug_hides_every_token() {
        let profile = OAuthProfile {
            name: "o".into(),
            access_token: Some("ACCESS-SECRET".into()),
            refresh_token: Some("REFRESH-SECRET".into()),
            ..OAuthProfile::default()
        };
        let p = OAuthCredentialsProvider::new(&ProviderConfig::new(), profile, None).unwrap();
        let text = format!("{p:?}");
        assert!(
            !text.contains("ACCESS-SECRET") && !text.contains("REFRESH-SECRET"),
            "{text}"
        );
    }
}
