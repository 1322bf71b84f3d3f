//! HTTP(S) proxy configuration: from the environment or given explicitly.

use std::fmt;

use hyper_util::client::proxy::matcher::Matcher;

use crate::{TransportError, TransportErrorKind};

/// Which proxy to use for which destinations.
///
/// Requests to `https://` endpoints go through an HTTP `CONNECT` tunnel, so the
/// proxy never sees the request; requests to `http://` endpoints are sent to
/// the proxy in absolute form. The proxy itself is reached over plain HTTP
/// (`http://[user:password@]host:port`; a URL without a scheme means
/// `http://`). Credentials in the URL are sent as `Proxy-Authorization: Basic`
/// and never appear in `Debug` output or errors.
///
/// `no_proxy` is a comma-separated list of exclusions, as curl reads
/// `NO_PROXY`: host names (matching the host and its subdomains, with or
/// without a leading dot), IP addresses, CIDR networks such as
/// `10.0.0.0/8`, or `*` for every host.
///
/// # Example
///
/// ```
/// use ecs_transport::Proxy;
///
/// let proxy = Proxy::new()
///     .all("http://proxy.corp.example:3128")
///     .no_proxy("localhost, 127.0.0.1, .internal.example");
/// assert!(proxy.is_configured());
/// assert!(!Proxy::new().is_configured());
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Proxy {
    http: Option<String>,
    https: Option<String>,
    no_proxy: Option<String>,
}

impl Proxy {
    /// No proxy for any destination.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (each
    /// also in lower case; the upper-case name wins when both are set, and an
    /// empty value counts as unset).
    ///
    /// When `REQUEST_METHOD` is set the process is a CGI script, where
    /// `HTTP_PROXY` can be set by a client through a `Proxy:` request header
    /// ("httpoxy"); `HTTP_PROXY` and `http_proxy` are then ignored.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any variable lookup, so that the
    /// rules are testable without touching the process environment.
    pub(crate) fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let first = |names: &[&str]| {
            names
                .iter()
                .filter_map(|name| lookup(name))
                .map(|value| value.trim().to_owned())
                .find(|value| !value.is_empty())
        };
        let is_cgi = lookup("REQUEST_METHOD").is_some();
        let all = first(&["ALL_PROXY", "all_proxy"]);
        let http = if is_cgi {
            None
        } else {
            first(&["HTTP_PROXY", "http_proxy"])
        };
        Self {
            http: http.or_else(|| all.clone()),
            https: first(&["HTTPS_PROXY", "https_proxy"]).or(all),
            no_proxy: first(&["NO_PROXY", "no_proxy"]),
        }
    }

    /// Uses `url` for both `http://` and `https://` destinations.
    #[must_use]
    pub fn all(self, url: impl Into<String>) -> Self {
        let url = url.into();
        Self {
            http: Some(url.clone()),
            https: Some(url),
            ..self
        }
    }

    /// Uses `url` for `http://` destinations.
    #[must_use]
    pub fn http(self, url: impl Into<String>) -> Self {
        Self {
            http: Some(url.into()),
            ..self
        }
    }

    /// Uses `url` for `https://` destinations.
    #[must_use]
    pub fn https(self, url: impl Into<String>) -> Self {
        Self {
            https: Some(url.into()),
            ..self
        }
    }

    /// Sets the comma-separated list of destinations that bypass the proxy.
    #[must_use]
    pub fn no_proxy(self, list: impl Into<String>) -> Self {
        Self {
            no_proxy: Some(list.into()),
            ..self
        }
    }

    /// `true` when some destination goes through a proxy.
    pub fn is_configured(&self) -> bool {
        self.http.is_some() || self.https.is_some()
    }

    /// Validates the URLs and builds the matcher; `None` when no proxy is set.
    pub(crate) fn to_matcher(&self) -> Result<Option<Matcher>, TransportError> {
        if !self.is_configured() {
            return Ok(None);
        }
        let mut builder = Matcher::builder();
        if let Some(url) = &self.http {
            builder = builder.http(validate_url(url, "http")?);
        }
        if let Some(url) = &self.https {
            builder = builder.https(validate_url(url, "https")?);
        }
        if let Some(list) = &self.no_proxy {
            builder = builder.no(list.as_str());
        }
        Ok(Some(builder.build()))
    }
}

/// Checks that `url` names a plain-HTTP proxy with a host, and returns it with
/// an explicit `http://` scheme.
fn validate_url(url: &str, destinations: &str) -> Result<String, TransportError> {
    let url = url.trim();
    let with_scheme = if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    };
    let invalid = |why: &str| {
        TransportError::new(
            TransportErrorKind::InvalidRequest,
            format!(
                "the proxy for {destinations}:// destinations ({}) {why}: \
                 give it as http://[user:password@]host:port, or check HTTPS_PROXY/HTTP_PROXY/ALL_PROXY",
                redact(url)
            ),
        )
    };
    let uri: http::Uri = with_scheme
        .parse()
        .map_err(|err| invalid("is not a valid URL").with_source(err))?;
    if uri.scheme_str() != Some("http") {
        return Err(invalid(
            "uses a scheme other than http:// (https:// and socks proxies are not supported)",
        ));
    }
    match uri.host() {
        Some(host) if !host.is_empty() => Ok(with_scheme),
        _ => Err(invalid("has no host")),
    }
}

/// `url` with any `user:password@` replaced by `***@`, for messages.
pub(crate) fn redact(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let rest = match rest[..authority_end].rfind('@') {
        Some(at) => format!("***@{}", &rest[at + 1..]),
        None => rest.to_owned(),
    };
    match scheme {
        Some(scheme) => format!("{scheme}://{rest}"),
        None => rest,
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("http", &self.http.as_deref().map(redact))
            .field("https", &self.https.as_deref().map(redact))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> Proxy {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Proxy::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn env_upper_case_wins_and_lower_case_is_read() {
        let proxy = env(&[
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:1"),
            ("http_proxy", "http://lower-http:2"),
            ("no_proxy", "localhost"),
        ]);
        assert_eq!(proxy.https.as_deref(), Some("http://upper:1"));
        assert_eq!(proxy.http.as_deref(), Some("http://lower-http:2"));
        assert_eq!(proxy.no_proxy.as_deref(), Some("localhost"));
    }

    #[test]
    fn env_all_proxy_fills_missing_and_empty_is_unset() {
        let proxy = env(&[("ALL_PROXY", "http://all:3"), ("HTTPS_PROXY", " ")]);
        assert_eq!(proxy.https.as_deref(), Some("http://all:3"));
        assert_eq!(proxy.http.as_deref(), Some("http://all:3"));
        assert!(!env(&[]).is_configured());
    }

    #[test]
    fn env_cgi_ignores_http_proxy() {
        let proxy = env(&[
            ("REQUEST_METHOD", "GET"),
            ("HTTP_PROXY", "http://attacker:1"),
            ("HTTPS_PROXY", "http://corp:2"),
        ]);
        assert_eq!(proxy.http, None);
        assert_eq!(proxy.https.as_deref(), Some("http://corp:2"));
    }

    #[test]
    fn matcher_honours_no_proxy_and_schemes() {
        let matcher = Proxy::new()
            .https("proxy.example:3128")
            .no_proxy("internal.example, 10.0.0.0/8")
            .to_matcher()
            .unwrap()
            .unwrap();
        let intercept = |uri: &str| matcher.intercept(&uri.parse().unwrap());
        let hit = intercept("https://ecs.cn-hangzhou.aliyuncs.com/").unwrap();
        assert_eq!(hit.uri().to_string(), "http://proxy.example:3128/");
        assert!(intercept("https://a.internal.example/").is_none());
        assert!(intercept("https://10.1.2.3/").is_none());
        // Only https destinations were given a proxy.
        assert!(intercept("http://ecs.cn-hangzhou.aliyuncs.com/").is_none());
    }

    #[test]
    fn credentials_become_basic_auth_and_are_redacted() {
        let proxy = Proxy::new().all("http://user:secret@proxy.example:3128");
        let matcher = proxy.to_matcher().unwrap().unwrap();
        let hit = matcher
            .intercept(&"https://h.example/".parse().unwrap())
            .unwrap();
        assert_eq!(hit.basic_auth().unwrap(), "Basic dXNlcjpzZWNyZXQ=");
        let debug = format!("{proxy:?}");
        assert!(!debug.contains("secret"), "{debug}");
        assert!(debug.contains("***@proxy.example:3128"), "{debug}");
    }

    #[test]
    fn invalid_proxy_urls_are_rejected_with_a_clear_message() {
        for (url, why) in [
            ("socks5://p:1080", "scheme other than http://"),
            ("https://p:443", "scheme other than http://"),
            ("http://user:pw@", "is not a valid URL"),
            ("http://bad host:1", "is not a valid URL"),
        ] {
            let err = Proxy::new().https(url).to_matcher().unwrap_err();
            assert_eq!(err.kind(), TransportErrorKind::InvalidRequest);
            let message = err.to_string();
            assert!(message.contains(why), "{url}: {message}");
            assert!(message.contains("https:// destinations"), "{message}");
            assert!(!message.contains("pw"), "{message}");
        }
    }

    #[test]
    fn redact_handles_all_shapes() {
        assert_eq!(redact("http://u:p@h:1/x"), "http://***@h:1/x");
        assert_eq!(redact("u:p@h:1"), "***@h:1");
        assert_eq!(redact("http://h:1"), "http://h:1");
        assert_eq!(redact("http://h/a@b"), "http://h/a@b");
    }
}
