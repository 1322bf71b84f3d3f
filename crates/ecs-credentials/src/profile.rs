//! The aliyun CLI's profiles in `~/.aliyun/config.json`: modes AK,
//! StsToken, RamRoleArn, EcsRamRole, ChainableRamRoleArn, OIDC, External,
//! CloudSSO and OAuth, read as the official credentials library reads them.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};

use crate::cloud_sso::{CloudSsoCredentialsProvider, CloudSsoProfile};
use crate::env::{ENV_CLI_PROFILE_DISABLED, ENV_PROFILE};
use crate::error::Error;
use crate::external::ExternalProcessCredentialsProvider;
use crate::imds::EcsRamRoleCredentialsProvider;
use crate::memo::Memo;
use crate::oauth::{OAuthCredentialsProvider, OAuthProfile};
use crate::provider::{
    CredentialsFuture, CredentialsProvider, SharedCredentialsProvider, StaticCredentialsProvider,
};
use crate::provider_config::ProviderConfig;
use crate::sts::{OidcRoleArnCredentialsProvider, RamRoleArnCredentialsProvider, SessionOptions};

/// How deep `source_profile` links may go before they are taken for a loop.
const MAX_CHAIN: usize = 8;

/// Credentials of a profile of the aliyun CLI (`~/.aliyun/config.json`):
/// the profile from [`ProviderConfig::profile`], else
/// `ALIBABA_CLOUD_PROFILE`, else the file's `current`. Skipped when
/// `ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true`. The file is read on first
/// use; the provider it describes is kept (and caches its own credentials).
pub struct CliProfileCredentialsProvider {
    config: ProviderConfig,
    resolved: Memo<SharedCredentialsProvider>,
}

impl CliProfileCredentialsProvider {
    /// A provider reading `~/.aliyun/config.json` under `config`'s home.
    pub fn new(config: &ProviderConfig) -> Self {
        Self {
            config: config.clone(),
            resolved: Memo::new(),
        }
    }

    fn path(&self) -> Option<PathBuf> {
        self.config
            .home_dir()
            .map(|home| home.join(".aliyun").join("config.json"))
    }

    fn resolve(&self) -> Result<SharedCredentialsProvider, Error> {
        if let Some(p) = self.resolved.get() {
            return Ok(p);
        }
        if self.config.env.is_true(ENV_CLI_PROFILE_DISABLED) {
            return Err(Error::new(format!(
                "disabled by {ENV_CLI_PROFILE_DISABLED}=true"
            )));
        }
        let path = self.path().ok_or_else(|| {
            Error::new("no home directory to find .aliyun/config.json in (set HOME)")
        })?;
        let file = path.display().to_string();
        let text = self.config.read_file(&path)?;
        let provider = parse(&self.config, &path, &file, &text)?;
        self.resolved.set(provider.clone());
        Ok(provider)
    }
}

impl fmt::Debug for CliProfileCredentialsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CliProfileCredentialsProvider")
            .field("path", &self.path())
            .field("profile", &self.config.profile)
            .finish_non_exhaustive()
    }
}

impl CredentialsProvider for CliProfileCredentialsProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async move { self.resolve()?.provide_credentials().await })
    }
}

/// The provider the file describes for the chosen profile.
fn parse(
    config: &ProviderConfig,
    path: &Path,
    file: &str,
    text: &str,
) -> Result<SharedCredentialsProvider, Error> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        Error::new(format!(
            "{file} is not valid JSON (line {}, column {}); fix it or run `aliyun configure`",
            e.line(),
            e.column()
        ))
        .with_source(e)
    })?;
    let root = value
        .as_object()
        .ok_or_else(|| Error::new(format!("{file} is not a JSON object")))?;
    let profiles = match root.get("profiles") {
        Some(Value::Array(p)) => p.as_slice(),
        None | Some(Value::Null) => &[],
        Some(_) => {
            return Err(Error::new(format!("{file}: `profiles` is not an array")));
        }
    };
    let name = match (&config.profile, config.env.get(ENV_PROFILE)) {
        (Some(name), _) => name.clone(),
        (None, Some(name)) => name.to_owned(),
        (None, None) => match root.get("current") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
            _ => {
                return Err(Error::new(format!(
                    "{file} names no `current` profile; set {ENV_PROFILE} or pass a profile"
                )));
            }
        },
    };
    let file = Profiles {
        config,
        path,
        file,
        profiles,
    };
    file.provider(&name, 0)
}

struct Profiles<'a> {
    config: &'a ProviderConfig,
    path: &'a Path,
    file: &'a str,
    profiles: &'a [Value],
}

/// One profile's fields, with errors naming the file, profile and field.
struct Fields<'a> {
    file: &'a str,
    name: &'a str,
    map: &'a Map<String, Value>,
}

impl Fields<'_> {
    fn error(&self, field: &str, problem: &str) -> Error {
        Error::new(format!(
            "{}: profile `{}`: field `{field}` {problem}",
            self.file, self.name
        ))
    }

    fn opt(&self, field: &str) -> Result<Option<&str>, Error> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim()).filter(|s| !s.is_empty())),
            Some(_) => Err(self.error(field, "is not a string")),
        }
    }

    fn req(&self, field: &str) -> Result<&str, Error> {
        self.opt(field)?
            .ok_or_else(|| self.error(field, "is missing or empty"))
    }

    fn seconds(&self, field: &str) -> Result<Option<Duration>, Error> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(0) => Ok(None),
                Some(s) => Ok(Some(Duration::from_secs(s))),
                None => Err(self.error(field, "is not a whole number of seconds")),
            },
            Some(_) => Err(self.error(field, "is not a number")),
        }
    }

    /// A time given as seconds since 1970 (a number, or digits as text); 0
    /// or absent is `None`.
    fn epoch(&self, field: &str) -> Result<Option<time::OffsetDateTime>, Error> {
        let seconds = match self.map.get(field) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
            Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
            Some(_) => None,
        }
        .ok_or_else(|| self.error(field, "is not a whole number of seconds since 1970"))?;
        if seconds == 0 {
            return Ok(None);
        }
        time::OffsetDateTime::from_unix_timestamp(seconds)
            .map(Some)
            .map_err(|_| self.error(field, "is not a time"))
    }

    fn flag(&self, field: &str) -> Result<Option<bool>, Error> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.error(field, "is not true or false")),
        }
    }

    fn static_key(&self, with_token: bool) -> Result<StaticCredentialsProvider, Error> {
        let id = self.req("access_key_id")?;
        let secret = self.req("access_key_secret")?;
        let p = StaticCredentialsProvider::new(id, secret).map_err(|e| {
            self.error(
                "access_key_id/access_key_secret",
                &format!("is unusable: {e}"),
            )
        })?;
        if !with_token {
            return Ok(p);
        }
        let token = self.req("sts_token")?;
        p.with_security_token(token)
            .map_err(|e| self.error("sts_token", &format!("is unusable: {e}")))
    }

    /// The session settings of a role profile, its session name in
    /// `name_field` (the CLI names it differently per mode).
    fn session(&self, name_field: &str) -> Result<SessionOptions<'_>, Error> {
        Ok(SessionOptions {
            session_name: self.opt(name_field)?,
            duration: self.seconds("expired_seconds")?,
            policy: self.opt("policy")?,
            sts_region: self.opt("sts_region")?,
            vpc: self.flag("enable_vpc")?,
        })
    }

    fn ram_role(
        &self,
        config: &ProviderConfig,
        source: SharedCredentialsProvider,
    ) -> Result<SharedCredentialsProvider, Error> {
        let mut p = RamRoleArnCredentialsProvider::from_shared(
            config,
            source,
            self.req("ram_role_arn")?.to_owned(),
        );
        p = p.session_options(self.session("ram_session_name")?);
        if let Some(id) = self.opt("external_id")? {
            p = p.external_id(id);
        }
        Ok(SharedCredentialsProvider::new(p))
    }

    fn oidc(&self, config: &ProviderConfig) -> Result<SharedCredentialsProvider, Error> {
        let mut p = OidcRoleArnCredentialsProvider::new(
            config,
            self.req("ram_role_arn")?,
            self.req("oidc_provider_arn")?,
            self.req("oidc_token_file")?,
        );
        p = p.session_options(self.session("role_session_name")?);
        Ok(SharedCredentialsProvider::new(p))
    }
}

impl Profiles<'_> {
    fn find(&self, name: &str) -> Option<&Map<String, Value>> {
        self.profiles
            .iter()
            .filter_map(Value::as_object)
            .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
    }

    fn provider(&self, name: &str, depth: usize) -> Result<SharedCredentialsProvider, Error> {
        let map = self.find(name).ok_or_else(|| {
            Error::new(format!(
                "{}: profile `{name}` is missing; run `aliyun configure --profile {name}` or choose another profile",
                self.file
            ))
        })?;
        let f = Fields {
            file: self.file,
            name,
            map,
        };
        let mode = f.req("mode")?;
        let config = self.config;
        Ok(match mode {
            "AK" => SharedCredentialsProvider::new(f.static_key(false)?),
            "StsToken" => SharedCredentialsProvider::new(f.static_key(true)?),
            "RamRoleArn" => {
                let source = SharedCredentialsProvider::new(f.static_key(false)?);
                f.ram_role(config, source)?
            }
            "EcsRamRole" => {
                let mut p = EcsRamRoleCredentialsProvider::new(config);
                if let Some(role) = f.opt("ram_role_name")? {
                    p = p.role_name(role);
                }
                SharedCredentialsProvider::new(p)
            }
            "ChainableRamRoleArn" => {
                let source_name = f.req("source_profile")?;
                if depth >= MAX_CHAIN {
                    return Err(f.error(
                        "source_profile",
                        &format!("goes more than {MAX_CHAIN} profiles deep (a loop?)"),
                    ));
                }
                let source = self.provider(source_name, depth + 1)?;
                f.ram_role(config, source)?
            }
            "OIDC" => f.oidc(config)?,
            "External" => SharedCredentialsProvider::new(ExternalProcessCredentialsProvider::new(
                config,
                name,
                f.req("process_command")?,
            )?),
            "CloudSSO" => SharedCredentialsProvider::new(CloudSsoCredentialsProvider::new(
                config,
                CloudSsoProfile {
                    name: name.to_owned(),
                    sign_in_url: f.req("cloud_sso_sign_in_url")?.to_owned(),
                    account_id: f.req("cloud_sso_account_id")?.to_owned(),
                    access_config: f.req("cloud_sso_access_config")?.to_owned(),
                    access_token: f.req("access_token")?.to_owned(),
                    access_token_expire: f.epoch("cloud_sso_access_token_expire")?,
                },
            )?),
            "OAuth" => {
                let sts = match (
                    f.opt("access_key_id")?,
                    f.opt("access_key_secret")?,
                    f.opt("sts_token")?,
                    f.epoch("sts_expiration")?,
                ) {
                    (Some(id), Some(secret), Some(token), Some(expiration)) => {
                        ecs_sign::Credentials::new(id, secret)
                            .and_then(|c| c.with_security_token(token))
                            .ok()
                            .map(|c| (c, expiration))
                    }
                    _ => None,
                };
                let profile = OAuthProfile {
                    name: name.to_owned(),
                    site_type: f.opt("oauth_site_type")?.map(str::to_owned),
                    access_token: f.opt("oauth_access_token")?.map(str::to_owned),
                    access_token_expire: f.epoch("oauth_access_token_expire")?,
                    refresh_token: f.opt("oauth_refresh_token")?.map(str::to_owned),
                    sts,
                };
                SharedCredentialsProvider::new(OAuthCredentialsProvider::new(
                    config,
                    profile,
                    Some(self.path.to_path_buf()),
                )?)
            }
            other => {
                return Err(f.error(
                    "mode",
                    &format!(
                        "is `{other}`, which ecs-assist does not read; use AK, StsToken, RamRoleArn, EcsRamRole, ChainableRamRoleArn, OIDC, External, CloudSSO or OAuth"
                    ),
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::InMemoryFileSystem;
    use std::collections::HashMap;

    const PATH: &str = "/home/u/.aliyun/config.json";

    fn provider(json: &str, env: &[(&str, &str)]) -> CliProfileCredentialsProvider {
        let mut vars: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        vars.insert("HOME".into(), "/home/u".into());
        let config = ProviderConfig::new()
            .environment(&vars)
            .file_system(InMemoryFileSystem::new().with_file(PATH, json));
        CliProfileCredentialsProvider::new(&config)
    }

    fn get(p: &CliProfileCredentialsProvider) -> Result<ecs_sign::Credentials, Error> {
        futures::executor::block_on(p.provide_credentials())
    }

    const CONFIG: &str = r#"{
      "current": "dev",
      "profiles": [
        {"name": "dev", "mode": "AK", "access_key_id": "DEVAK", "access_key_secret": "devsecret"},
        {"name": "sts", "mode": "StsToken", "access_key_id": "STSAK", "access_key_secret": "s", "sts_token": "tok"},
        {"name": "notoken", "mode": "StsToken", "access_key_id": "STSAK", "access_key_secret": "s"},
        {"name": "sso", "mode": "CloudSSO"},
        {"name": "magic", "mode": "Magic"},
        {"name": "badtype", "mode": "AK", "access_key_id": 42, "access_key_secret": "s"},
        {"name": "loop", "mode": "ChainableRamRoleArn", "source_profile": "loop", "ram_role_arn": "acs:ram::1:role/x"},
        {"name": "nomode", "access_key_id": "A", "access_key_secret": "s"},
        {"name": "badsecs", "mode": "RamRoleArn", "access_key_id": "A", "access_key_secret": "s", "ram_role_arn": "r", "expired_seconds": "3600"}
      ]
    }"#;

    #[test]
    fn current_profile_and_env_override() {
        let c = get(&provider(CONFIG, &[])).unwrap();
        assert_eq!(c.access_key_id(), "DEVAK");
        let c = get(&provider(CONFIG, &[(ENV_PROFILE, "sts")])).unwrap();
        assert_eq!(
            (c.access_key_id(), c.security_token()),
            ("STSAK", Some("tok"))
        );
    }

    #[test]
    fn explicit_profile_wins_over_env() {
        let mut vars: HashMap<String, String> = HashMap::new();
        vars.insert("HOME".into(), "/home/u".into());
        vars.insert(ENV_PROFILE.into(), "dev".into());
        let config = ProviderConfig::new()
            .environment(&vars)
            .file_system(InMemoryFileSystem::new().with_file(PATH, CONFIG))
            .profile("sts");
        let c = get(&CliProfileCredentialsProvider::new(&config)).unwrap();
        assert_eq!(c.access_key_id(), "STSAK");
    }

    #[test]
    fn errors_name_the_file_the_profile_and_the_field() {
        let cases = [
            (
                "notoken",
                "/home/u/.aliyun/config.json: profile `notoken`: field `sts_token` is missing or empty",
            ),
            (
                "sso",
                "profile `sso`: field `cloud_sso_sign_in_url` is missing or empty",
            ),
            (
                "badtype",
                "profile `badtype`: field `access_key_id` is not a string",
            ),
            (
                "loop",
                "profile `loop`: field `source_profile` goes more than 8 profiles deep",
            ),
            ("nomode", "profile `nomode`: field `mode` is missing"),
            (
                "magic",
                "profile `magic`: field `mode` is `Magic`, which ecs-assist does not read",
            ),
            (
                "badsecs",
                "profile `badsecs`: field `expired_seconds` is not a number",
            ),
            (
                "ghost",
                "/home/u/.aliyun/config.json: profile `ghost` is missing",
            ),
        ];
        for (name, want) in cases {
            let err = get(&provider(CONFIG, &[(ENV_PROFILE, name)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{name}: {err}");
            assert!(!err.contains("devsecret"));
        }
    }

    #[test]
    fn bad_files() {
        let err = get(&provider("{not json", &[])).unwrap_err().to_string();
        assert!(
            err.starts_with("/home/u/.aliyun/config.json is not valid JSON (line 1"),
            "{err}"
        );
        let err = get(&provider(r#"{"profiles": {}}"#, &[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`profiles` is not an array"), "{err}");
        let err = get(&provider(r#"{"profiles": []}"#, &[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("names no `current` profile"), "{err}");
    }

    #[test]
    fn missing_file_and_disabled() {
        let config = ProviderConfig::new()
            .environment(&HashMap::from([("HOME".to_owned(), "/nowhere".to_owned())]))
            .file_system(InMemoryFileSystem::new());
        let err = get(&CliProfileCredentialsProvider::new(&config)).unwrap_err();
        assert_eq!(err.to_string(), "/nowhere/.aliyun/config.json not found");
        let err = get(&provider(CONFIG, &[(ENV_CLI_PROFILE_DISABLED, "true")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "disabled by ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true"
        );
    }
}
