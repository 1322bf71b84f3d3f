//! The credentials ini file: `ALIBABA_CLOUD_CREDENTIALS_FILE`, else
//! `~/.alibabacloud/credentials.ini` (the official Python library's name),
//! else `~/.alibabacloud/credentials` (the Go SDK's); types `access_key`,
//! `ecs_ram_role`, `ram_role_arn` and `oidc_role_arn`.
//!
//! The file is read as Python's `configparser` reads it for the official
//! library: keys in any case, `key = value` or `key: value`, comment lines
//! starting with `#` or `;`, `[DEFAULT]` filling every section, and a key
//! or section given twice is an error. As the official library does, a
//! value ends at its first `#` (so a `#` cannot be part of a value); `;`
//! inside a value is kept. Not supported: values continued on indented
//! lines and `%(name)s` interpolation.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::env::{ENV_CREDENTIALS_FILE, ENV_PROFILE};
use crate::error::Error;
use crate::imds::EcsRamRoleCredentialsProvider;
use crate::memo::Memo;
use crate::provider::{
    CredentialsFuture, CredentialsProvider, SharedCredentialsProvider, StaticCredentialsProvider,
};
use crate::provider_config::ProviderConfig;
use crate::sts::{OidcRoleArnCredentialsProvider, RamRoleArnCredentialsProvider, SessionOptions};

/// The ini profile used when none is named.
const DEFAULT_PROFILE: &str = "default";

/// The section whose keys every other section inherits.
const DEFAULTS_SECTION: &str = "DEFAULT";

/// Credentials of a section of the ini file: the profile from
/// [`ProviderConfig::profile`], else `ALIBABA_CLOUD_PROFILE`, else
/// `default`. Read on first use; the provider it describes is kept.
pub struct IniFileCredentialsProvider {
    config: ProviderConfig,
    resolved: Memo<SharedCredentialsProvider>,
}

impl IniFileCredentialsProvider {
    /// A provider reading `ALIBABA_CLOUD_CREDENTIALS_FILE`, else
    /// `~/.alibabacloud/credentials.ini`, else `~/.alibabacloud/credentials`,
    /// under `config`.
    pub fn new(config: &ProviderConfig) -> Self {
        Self {
            config: config.clone(),
            resolved: Memo::new(),
        }
    }

    /// The files to read, the first one present wins.
    fn paths(&self) -> Option<Vec<PathBuf>> {
        match self.config.env.get(ENV_CREDENTIALS_FILE) {
            Some(path) => Some(vec![PathBuf::from(path)]),
            None => self.config.home_dir().map(|home| {
                let dir = home.join(".alibabacloud");
                vec![dir.join("credentials.ini"), dir.join("credentials")]
            }),
        }
    }

    /// The path and text of the first file present.
    fn read(&self) -> Result<(String, String), Error> {
        let paths = self.paths().ok_or_else(|| {
            Error::new(format!(
                "no home directory to find .alibabacloud/credentials.ini in (set HOME or {ENV_CREDENTIALS_FILE})"
            ))
        })?;
        for path in &paths {
            if let Some(text) = self.config.read_file_if_present(path)? {
                return Ok((path.display().to_string(), text));
            }
        }
        let mut names = paths.iter().map(|p| p.display().to_string());
        let first = names.next().unwrap_or_default();
        let others: Vec<String> = names.collect();
        Err(Error::new(if others.is_empty() {
            format!("{first} not found")
        } else {
            format!("{first} not found (nor {})", others.join(", "))
        }))
    }

    fn resolve(&self) -> Result<SharedCredentialsProvider, Error> {
        if let Some(p) = self.resolved.get() {
            return Ok(p);
        }
        let (file, text) = self.read()?;
        let sections = parse_ini(&text).map_err(|e| Error::new(format!("{file}: {e}")))?;
        let name = self
            .config
            .profile
            .clone()
            .or_else(|| self.config.env.get(ENV_PROFILE).map(str::to_owned))
            .unwrap_or_else(|| DEFAULT_PROFILE.to_owned());
        let section = sections
            .profile(&name)
            .ok_or_else(|| Error::new(format!("{file}: profile `[{name}]` is missing")))?;
        let fields = Section {
            file: &file,
            name: &name,
            map: &section,
        };
        let provider = fields.provider(&self.config)?;
        self.resolved.set(provider.clone());
        Ok(provider)
    }
}

impl fmt::Debug for IniFileCredentialsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IniFileCredentialsProvider")
            .field("paths", &self.paths())
            .field("profile", &self.config.profile)
            .finish_non_exhaustive()
    }
}

impl CredentialsProvider for IniFileCredentialsProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async move { self.resolve()?.provide_credentials().await })
    }
}

/// A section's keys (lower case) with their values.
type Keys = BTreeMap<String, String>;

/// The keys of one section with the line each was set on.
#[derive(Default)]
struct ParsedSection {
    line: usize,
    keys: BTreeMap<String, (usize, String)>,
}

impl ParsedSection {
    fn values(&self) -> impl Iterator<Item = (String, String)> + '_ {
        self.keys.iter().map(|(k, (_, v))| (k.clone(), v.clone()))
    }
}

/// The sections of a file. No `Debug`: the values are secrets.
#[derive(Default)]
struct Sections {
    named: BTreeMap<String, ParsedSection>,
    defaults: ParsedSection,
}

impl Sections {
    /// The keys of the section `name` over those of `[DEFAULT]`.
    fn profile(&self, name: &str) -> Option<Keys> {
        let own = self.named.get(name)?;
        let mut keys: Keys = self.defaults.values().collect();
        keys.extend(own.values());
        Some(keys)
    }
}

/// Parses the ini format as `configparser` (strict, its defaults) reads it
/// for the official library, which then cuts each value at `#`. Errors
/// name the line.
fn parse_ini(text: &str) -> Result<Sections, String> {
    let mut sections = Sections::default();
    // Where keys go: nowhere before the first header, `None` for
    // `[DEFAULT]`, else the section's name.
    let mut current: Option<Option<String>> = None;
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
            if name == DEFAULTS_SECTION {
                current = Some(None);
                continue;
            }
            if let Some(first) = sections.named.get(name) {
                return Err(format!(
                    "line {n}: section `[{name}]` appears twice (first on line {}); merge them",
                    first.line
                ));
            }
            let section = ParsedSection {
                line: n,
                keys: BTreeMap::new(),
            };
            sections.named.insert(name.to_owned(), section);
            current = Some(Some(name.to_owned()));
            continue;
        }
        // The first `=` or `:` separates the key from the value.
        let Some(at) = line.find(['=', ':']) else {
            return Err(format!("line {n} is neither `[section]` nor `key = value`"));
        };
        let key = line[..at].trim().to_lowercase();
        if key.is_empty() {
            return Err(format!(
                "line {n}: the key before `{}` is missing",
                &line[at..=at]
            ));
        }
        let (section, shown) = match &current {
            None => return Err(format!("line {n}: `{key}` comes before any `[section]`")),
            Some(None) => (&mut sections.defaults, DEFAULTS_SECTION),
            // Added with its header: `or_default` only finds it.
            Some(Some(name)) => (
                sections.named.entry(name.clone()).or_default(),
                name.as_str(),
            ),
        };
        if let Some((first, _)) = section.keys.get(&key) {
            return Err(format!(
                "line {n}: key `{key}` appears twice in `[{shown}]` (first on line {first}); keep one"
            ));
        }
        // The official library keeps what comes before the first `#`.
        let value = &line[at + 1..];
        let value = value.split_once('#').map_or(value, |(v, _)| v).trim();
        section.keys.insert(key, (n, value.to_owned()));
    }
    Ok(sections)
}

struct Section<'a> {
    file: &'a str,
    name: &'a str,
    map: &'a Keys,
}

impl Section<'_> {
    fn error(&self, field: &str, problem: &str) -> Error {
        Error::new(format!(
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
    use crate::fs::InMemoryFileSystem;
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
        let s = parse_ini(INI).ok().unwrap();
        let default = s.profile("default").unwrap();
        assert_eq!(default["type"], "access_key");
        assert_eq!(default["access_key_id"], "DEFAULTAK");
        assert_eq!(s.profile("ci").unwrap()["access_key_secret"], "cisecret");
        let err = |text: &str| parse_ini(text).err().unwrap();
        assert_eq!(
            err("[a]\nnonsense\n"),
            "line 2 is neither `[section]` nor `key = value`"
        );
        assert_eq!(err("k = v\n"), "line 1: `k` comes before any `[section]`");
        assert_eq!(
            err("[]\n"),
            "line 1: a section header must look like `[name]`"
        );
        assert_eq!(err("[a]\n = v\n"), "line 2: the key before `=` is missing");
        assert_eq!(err("[a]\n: v\n"), "line 2: the key before `:` is missing");
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

    fn get_from(
        files: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> Result<ecs_sign::Credentials, Error> {
        let mut vars: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        vars.insert("HOME".into(), "/h".into());
        let fs = files
            .iter()
            .fold(InMemoryFileSystem::new(), |fs, (path, text)| {
                fs.with_file(*path, *text)
            });
        get(&IniFileCredentialsProvider::new(
            &ProviderConfig::new().environment(&vars).file_system(fs),
        ))
    }

    #[test]
    fn keys_are_case_insensitive_and_a_colon_separates_too() {
        let c = get(&provider(
            "[default]\nType: access_key\nACCESS_KEY_ID : CaseAK\nAccess_Key_Secret= s:with=delims\n",
            &[],
        ))
        .unwrap();
        assert_eq!(c.access_key_id(), "CaseAK");
        // The first `=` or `:` separates; the rest belongs to the value.
        assert_eq!(c.access_key_secret(), "s:with=delims");
    }

    #[test]
    fn a_duplicate_key_or_section_names_the_file_and_the_line() {
        let err = get(&provider(
            "[default]\ntype = access_key\naccess_key_id = A\nACCESS_KEY_ID = B\naccess_key_secret = s\n",
            &[],
        ))
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "/h/.alibabacloud/credentials.ini: line 4: key `access_key_id` appears twice in `[default]` (first on line 3); keep one"
        );
        let err = get(&provider(
            "[default]\ntype = access_key\n\n[ci]\ntype = access_key\n[default]\naccess_key_id = A\n",
            &[],
        ))
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "/h/.alibabacloud/credentials.ini: line 6: section `[default]` appears twice (first on line 1); merge them"
        );
    }

    #[test]
    fn only_hash_starts_an_inline_comment_as_in_the_official_library() {
        // The official Python library cuts every value at its first `#`
        // (configparser itself keeps inline comments); `;` stays.
        let c = get(&provider(
            "[default]\ntype = access_key # the kind\naccess_key_id = AK\naccess_key_secret = a;b ; c # note\n",
            &[],
        ))
        .unwrap();
        assert_eq!(c.access_key_secret(), "a;b ; c");
    }

    #[test]
    fn the_default_section_fills_every_profile() {
        let c = get(&provider(
            "[DEFAULT]\ntype = access_key\naccess_key_secret = shared\n[default]\naccess_key_id = D\n[ci]\naccess_key_id = C\naccess_key_secret = own\n",
            &[(ENV_PROFILE, "ci")],
        ))
        .unwrap();
        assert_eq!((c.access_key_id(), c.access_key_secret()), ("C", "own"));
        let c = get(&provider(
            "[DEFAULT]\ntype = access_key\naccess_key_secret = shared\n[default]\naccess_key_id = D\n",
            &[],
        ))
        .unwrap();
        assert_eq!((c.access_key_id(), c.access_key_secret()), ("D", "shared"));
    }

    #[test]
    fn the_go_sdk_file_name_is_read_when_the_ini_file_is_absent() {
        let ak = |id: &str| {
            format!("[default]\ntype = access_key\naccess_key_id = {id}\naccess_key_secret = s\n")
        };
        let (ini, go) = (ak("IniAK"), ak("GoAK"));
        let ini_path = "/h/.alibabacloud/credentials.ini";
        let go_path = "/h/.alibabacloud/credentials";
        let id = |files: &[(&str, &str)], env: &[(&str, &str)]| {
            get_from(files, env).map(|c| c.access_key_id().to_owned())
        };
        assert_eq!(id(&[(go_path, &go)], &[]).unwrap(), "GoAK");
        assert_eq!(
            id(&[(go_path, &go), (ini_path, &ini)], &[]).unwrap(),
            "IniAK"
        );
        assert_eq!(
            id(
                &[(go_path, &go), ("/etc/x", &ak("EnvAK"))],
                &[(ENV_CREDENTIALS_FILE, "/etc/x")]
            )
            .unwrap(),
            "EnvAK"
        );
        let err = id(&[], &[]).unwrap_err().to_string();
        assert_eq!(
            err,
            "/h/.alibabacloud/credentials.ini not found (nor /h/.alibabacloud/credentials)"
        );
    }

    #[test]
    fn a_secret_with_control_characters_is_refused_like_a_key_id() {
        for bad in ["XyZzY\u{7}QqQ", "XyZzY\u{1b}[2JQqQ", "XyZzY\u{7f}QqQ"] {
            let text = format!(
                "[default]\ntype = access_key\naccess_key_id = AK\naccess_key_secret = {bad}\n"
            );
            let err = get(&provider(&text, &[])).unwrap_err().to_string();
            assert!(
                err.contains("profile `[default]`") && err.contains("access key secret"),
                "{err}"
            );
            assert!(
                !err.contains("XyZzY") && !err.contains("QqQ"),
                "the secret is not shown: {err}"
            );
        }
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
