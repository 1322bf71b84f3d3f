//! The credentials ini file: `ALIBABA_CLOUD_CREDENTIALS_FILE` or
//! `~/.alibabacloud/credentials.ini` (spec §9), types `access_key`,
//! `ecs_ram_role`, `ram_role_arn` and `oidc_role_arn`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::Error;
use crate::credentials::env::{ENV_CREDENTIALS_FILE, ENV_PROFILE};
use crate::credentials::imds::EcsRamRoleCredentialsProvider;
use crate::credentials::memo::Memo;
use crate::credentials::provider_config::ProviderConfig;
use crate::credentials::sts::{
    OidcRoleArnCredentialsProvider, RamRoleArnCredentialsProvider, SessionOptions,
};
use crate::credentials::{
    CredentialsFuture, CredentialsProvider, SharedCredentialsProvider, StaticCredentialsProvider,
};

/// The ini profile used when none is named.
const DEFAULT_PROFILE: &str = "default";

/// Credentials of a section of the ini file: the profile from
/// [`ProviderConfig::profile`], else `ALIBABA_CLOUD_PROFILE`, else
/// `default`. Read on first use; the provider it describes is kept.
pub struct IniFileCredentialsProvider {
    config: ProviderConfig,
    resolved: Memo<SharedCredentialsProvider>,
}

impl IniFileCredentialsProvider {
    /// A provider reading `ALIBABA_CLOUD_CREDENTIALS_FILE` or
    /// `~/.alibabacloud/credentials.ini` under `config`.
    pub fn new(config: &ProviderConfig) -> Self {
        Self {
            config: config.clone(),
            resolved: Memo::new(),
        }
    }

    fn path(&self) -> Option<PathBuf> {
        match self.config.env.get(ENV_CREDENTIALS_FILE) {
            Some(path) => Some(PathBuf::from(path)),
            None => self
                .config
                .home_dir()
                .map(|home| home.join(".alibabacloud").join("credentials.ini")),
        }
    }

    fn resolve(&self) -> Result<SharedCredentialsProvider, Error> {
        if let Some(p) = self.resolved.get() {
            return Ok(p);
        }
        let path = self.path().ok_or_else(|| {
            Error::credentials(format!(
                "no home directory to find .alibabacloud/credentials.ini in (set HOME or {ENV_CREDENTIALS_FILE})"
            ))
        })?;
        let file = path.display().to_string();
        let text = self.config.read_file(&path)?;
        let sections = parse_ini(&text).map_err(|e| Error::credentials(format!("{file}: {e}")))?;
        let name = self
            .config
            .profile
            .clone()
            .or_else(|| self.config.env.get(ENV_PROFILE).map(str::to_owned))
            .unwrap_or_else(|| DEFAULT_PROFILE.to_owned());
        let section = sections
            .get(&name)
            .ok_or_else(|| Error::credentials(format!("{file}: profile `[{name}]` is missing")))?;
        let fields = Section {
            file: &file,
            name: &name,
            map: section,
        };
        let provider = fields.provider(&self.config)?;
        self.resolved.set(provider.clone());
        Ok(provider)
    }
}

impl fmt::Debug for IniFileCredentialsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IniFileCredentialsProvider")
            .field("path", &self.path())
            .field("profile", &self.config.profile)
            .finish_non_exhaustive()
    }
}

impl CredentialsProvider for IniFileCredentialsProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async move { self.resolve()?.provide_credentials().await })
    }
}

type Sections = BTreeMap<String, BTreeMap<String, String>>;

/// Parses the ini format: `[section]`, `key = value`, `#`/`;` comment
/// lines, values trimmed and cut at `#`. Errors name the line.
fn parse_ini(text: &str) -> Result<Sections, String> {
    let mut sections = Sections::new();
    let mut current: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let n = i + 1;
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest
                .split_once(']')
                .map(|(name, _)| name.trim())
                .filter(|name| !name.is_empty())
                .ok_or_else(|| format!("line {n}: a section header must look like `[name]`"))?;
            sections.entry(name.to_owned()).or_default();
            current = Some(name.to_owned());
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("line {n} is neither `[section]` nor `key = value`"));
        };
        let Some(section) = &current else {
            return Err(format!(
                "line {n}: `{}` comes before any `[section]`",
                key.trim()
            ));
        };
        let value = value.split_once('#').map_or(value, |(v, _)| v).trim();
        sections
            .entry(section.clone())
            .or_default()
            .insert(key.trim().to_owned(), value.to_owned());
    }
    Ok(sections)
}

struct Section<'a> {
    file: &'a str,
    name: &'a str,
    map: &'a BTreeMap<String, String>,
}

impl Section<'_> {
    fn error(&self, field: &str, problem: &str) -> Error {
        Error::credentials(format!(
            "{}: profile `[{}]`: field `{field}` {problem}",
            self.file, self.name
        ))
    }

    fn opt(&self, field: &str) -> Option<&str> {
        self.map
            .get(field)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The session settings of a role section.
    fn session(&self) -> Result<SessionOptions<'_>, Error> {
        Ok(SessionOptions {
            session_name: self.opt("role_session_name"),
            duration: self.seconds("duration_seconds")?,
            policy: self.opt("policy"),
            ..SessionOptions::default()
        })
    }

    fn req(&self, field: &str) -> Result<&str, Error> {
        self.opt(field)
            .ok_or_else(|| self.error(field, "is missing or empty"))
    }

    fn seconds(&self, field: &str) -> Result<Option<Duration>, Error> {
        self.opt(field)
            .map(|v| {
                v.parse::<u64>()
                    .map(Duration::from_secs)
                    .map_err(|_| self.error(field, "is not a whole number of seconds"))
            })
            .transpose()
    }

    fn access_key(&self) -> Result<StaticCredentialsProvider, Error> {
        StaticCredentialsProvider::new(self.req("access_key_id")?, self.req("access_key_secret")?)
            .map_err(|e| {
                self.error(
                    "access_key_id/access_key_secret",
                    &format!("is unusable: {e}"),
                )
            })
    }

    fn provider(&self, config: &ProviderConfig) -> Result<SharedCredentialsProvider, Error> {
        Ok(match self.req("type")? {
            "access_key" => SharedCredentialsProvider::new(self.access_key()?),
            "ecs_ram_role" => {
                let mut p = EcsRamRoleCredentialsProvider::new(config);
                if let Some(role) = self.opt("role_name") {
                    p = p.role_name(role);
                }
                SharedCredentialsProvider::new(p)
            }
            "ram_role_arn" => {
                let source = SharedCredentialsProvider::new(self.access_key()?);
                let mut p = RamRoleArnCredentialsProvider::from_shared(
                    config,
                    source,
                    self.req("role_arn")?.to_owned(),
                );
                p = p.session_options(self.session()?);
                if let Some(id) = self.opt("external_id") {
                    p = p.external_id(id);
                }
                SharedCredentialsProvider::new(p)
            }
            "oidc_role_arn" => {
                let mut p = OidcRoleArnCredentialsProvider::new(
                    config,
                    self.req("role_arn")?,
                    self.req("oidc_provider_arn")?,
                    self.req("oidc_token_file_path")?,
                );
                p = p.session_options(self.session()?);
                SharedCredentialsProvider::new(p)
            }
            other => {
                return Err(self.error(
                    "type",
                    &format!(
                        "is `{other}`, which ecs-assist does not support; use access_key, ecs_ram_role, ram_role_arn or oidc_role_arn"
                    ),
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::fs::InMemoryFileSystem;
    use std::collections::HashMap;

    const INI: &str = "
# a comment
; another
[default]
type = access_key          # trailing comment
access_key_id =  DEFAULTAK
access_key_secret = defaultsecret

[ci]
type=access_key
access_key_id=CIAK
access_key_secret=cisecret

[rsa]
type = rsa_key_pair

[half]
type = access_key
access_key_id = X

[notype]
access_key_id = X
";

    fn provider(text: &str, env: &[(&str, &str)]) -> IniFileCredentialsProvider {
        let mut vars: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        vars.insert("HOME".into(), "/h".into());
        let fs = InMemoryFileSystem::new()
            .with_file("/h/.alibabacloud/credentials.ini", text)
            .with_file(
                "/etc/creds.ini",
                "[default]\ntype = access_key\naccess_key_id = FILEAK\naccess_key_secret = s\n",
            );
        IniFileCredentialsProvider::new(&ProviderConfig::new().environment(&vars).file_system(fs))
    }

    fn get(p: &IniFileCredentialsProvider) -> Result<ecs_sign::Credentials, Error> {
        futures::executor::block_on(p.provide_credentials())
    }

    #[test]
    fn parses_sections_comments_and_trims() {
        let s = parse_ini(INI).unwrap();
        assert_eq!(s["default"]["type"], "access_key");
        assert_eq!(s["default"]["access_key_id"], "DEFAULTAK");
        assert_eq!(s["ci"]["access_key_secret"], "cisecret");
        assert_eq!(
            parse_ini("[a]\nnonsense\n").unwrap_err(),
            "line 2 is neither `[section]` nor `key = value`"
        );
        assert_eq!(
            parse_ini("k = v\n").unwrap_err(),
            "line 1: `k` comes before any `[section]`"
        );
        assert_eq!(
            parse_ini("[]\n").unwrap_err(),
            "line 1: a section header must look like `[name]`"
        );
    }

    #[test]
    fn profiles_and_file_override() {
        assert_eq!(
            get(&provider(INI, &[])).unwrap().access_key_id(),
            "DEFAULTAK"
        );
        assert_eq!(
            get(&provider(INI, &[(ENV_PROFILE, "ci")]))
                .unwrap()
                .access_key_id(),
            "CIAK"
        );
        let p = provider(INI, &[(ENV_CREDENTIALS_FILE, "/etc/creds.ini")]);
        assert_eq!(get(&p).unwrap().access_key_id(), "FILEAK");
    }

    #[test]
    fn errors_name_file_profile_and_field() {
        let cases = [
            (
                "rsa",
                "/h/.alibabacloud/credentials.ini: profile `[rsa]`: field `type` is `rsa_key_pair`, which ecs-assist does not support",
            ),
            (
                "half",
                "profile `[half]`: field `access_key_secret` is missing or empty",
            ),
            (
                "notype",
                "profile `[notype]`: field `type` is missing or empty",
            ),
            (
                "nope",
                "/h/.alibabacloud/credentials.ini: profile `[nope]` is missing",
            ),
        ];
        for (name, want) in cases {
            let err = get(&provider(INI, &[(ENV_PROFILE, name)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{name}: {err}");
        }
        let err = get(&provider("[default]\ngarbage\n", &[]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "/h/.alibabacloud/credentials.ini: line 2 is neither `[section]` nor `key = value`"
        );
        let err = get(&provider(INI, &[(ENV_CREDENTIALS_FILE, "/missing.ini")]))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "/missing.ini not found");
    }
}
