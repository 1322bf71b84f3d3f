//! Endpoint resolution: an explicit endpoint wins; otherwise the public
//! network uses the ECS endpoint map, then the regional rule
//! `ecs.<region>.aliyuncs.com`, and the VPC network always uses
//! `ecs-vpc.<region>.aliyuncs.com`.
//!
//! This follows `aliyun-python-sdk-core` (its `EndpointResolverRules`: the
//! map is consulted only for the public network; any other network builds
//! `<product>-<network>.<region>.aliyuncs.com`, region in lower case) and
//! the ECS endpoint list, which names a VPC endpoint for every region. The
//! newer tea-based SDKs return the mapped host for the VPC network too; in a
//! VPC without internet access those hosts do not answer, so we do not
//! follow them there.

use std::fmt;

/// Which network the endpoint is reached through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum EndpointType {
    /// The public endpoint (default).
    #[default]
    Public,
    /// The VPC endpoint `ecs-vpc.<region>.aliyuncs.com` (from inside a VPC),
    /// for every region, mapped or not.
    Vpc,
}

impl EndpointType {
    /// Reads `public` or `vpc` (any case); anything else, the empty string
    /// included, is `None`.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "public" => Some(Self::Public),
            "vpc" => Some(Self::Vpc),
            _ => None,
        }
    }
}

/// The ECS endpoint map of the official SDKs (the same in the tea-based SDKs
/// and in `aliyun-python-sdk-ecs`): regions whose public endpoint is not the
/// regional rule.
const ENDPOINT_MAP: &[(&[&str], &str)] = &[
    (
        &[
            "cn-hangzhou",
            "cn-shanghai-finance-1",
            "cn-shenzhen-finance-1",
            "cn-beijing-nu16-b01",
            "cn-fujian",
            "cn-haidian-cm12-c01",
            "cn-hangzhou-bj-b01",
            "cn-hangzhou-internal-prod-1",
            "cn-hangzhou-internal-test-1",
            "cn-hangzhou-internal-test-2",
            "cn-hangzhou-internal-test-3",
            "cn-hangzhou-test-306",
            "cn-shanghai-et15-b01",
            "cn-shanghai-et2-b01",
            "cn-shanghai-internal-test-1",
            "cn-shenzhen-st4-d01",
            "cn-shenzhen-su18-b01",
            "cn-zhangbei-na61-b01",
        ],
        "ecs-cn-hangzhou.aliyuncs.com",
    ),
    (
        &[
            "cn-north-2-gov-1",
            "ap-northeast-2-pop",
            "cn-beijing-finance-pop",
            "cn-beijing-gov-1",
            "cn-hangzhou-finance",
            "cn-hongkong-finance-pop",
            "cn-shanghai-inner",
            "cn-shenzhen-inner",
            "cn-wuhan",
            "cn-yushanfang",
            "cn-zhangbei",
            "rus-west-1-pop",
        ],
        "ecs.aliyuncs.com",
    ),
    (
        &[
            "cn-edge-1",
            "cn-huhehaote-nebula-1",
            "cn-zhengzhou-nebula-1",
        ],
        "ecs.cn-qingdao-nebula.aliyuncs.com",
    ),
    (
        &["cn-zhangjiakou-na62-a01"],
        "ecs.cn-zhangjiakou.aliyuncs.com",
    ),
    (
        &["eu-west-1-oxs"],
        "ecs.cn-shenzhen-cloudstone.aliyuncs.com",
    ),
];

/// URL scheme of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `https` (the default).
    Https,
    /// `http` (local servers such as the emulator).
    Http,
}

impl Scheme {
    /// `https` or `http`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Https => "https",
            Self::Http => "http",
        }
    }
}

/// A resolved endpoint: scheme and authority (`host[:port]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    scheme: Scheme,
    authority: String,
}

impl Endpoint {
    /// The endpoint for `region` reached through `endpoint_type`, over HTTPS.
    ///
    /// ```
    /// use ecs_assist::config::{Endpoint, EndpointType};
    /// let e = Endpoint::for_region("cn-beijing", EndpointType::Vpc)?;
    /// assert_eq!(e.to_string(), "https://ecs-vpc.cn-beijing.aliyuncs.com");
    /// # Ok::<(), String>(())
    /// ```
    ///
    /// # Errors
    /// A message when `region` is empty or holds characters other than
    /// `A-Za-z0-9_-`.
    pub fn for_region(region: &str, endpoint_type: EndpointType) -> Result<Self, String> {
        check_region(region)?;
        let mapped = || {
            ENDPOINT_MAP
                .iter()
                .find(|(regions, _)| regions.contains(&region))
                .map(|(_, host)| (*host).to_owned())
        };
        let region = region.to_ascii_lowercase();
        let host = match endpoint_type {
            EndpointType::Public => {
                mapped().unwrap_or_else(|| format!("ecs.{region}.aliyuncs.com"))
            }
            EndpointType::Vpc => format!("ecs-vpc.{region}.aliyuncs.com"),
        };
        Ok(Self::new(Scheme::Https, host))
    }

    /// Reads an explicit endpoint: `host`, `host:port`, `https://host[:port]`
    /// or `http://host:port` (a trailing `/` is accepted).
    ///
    /// # Errors
    /// A message saying what is wrong: an unknown scheme, a path, query or
    /// user name, an empty host, a bad port.
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        let (scheme, rest) = if let Some(rest) = strip_prefix_ci(trimmed, "https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = strip_prefix_ci(trimmed, "http://") {
            (Scheme::Http, rest)
        } else if trimmed.contains("://") {
            return Err(format!(
                "endpoint `{trimmed}` has an unsupported scheme; use https:// or http://"
            ));
        } else {
            (Scheme::Https, trimmed)
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() {
            return Err(format!("endpoint `{trimmed}` has no host"));
        }
        if authority.contains(['/', '?', '#', '@', ' ']) {
            return Err(format!(
                "endpoint `{trimmed}` must be a host with an optional port, without path, query or user name"
            ));
        }
        let uri: http::uri::Authority = authority
            .parse()
            .map_err(|_| format!("endpoint `{trimmed}` is not a valid host[:port]"))?;
        if uri.host().is_empty() {
            return Err(format!("endpoint `{trimmed}` has no host"));
        }
        if authority.ends_with(':')
            || (authority.contains(':') && uri.port_u16().is_none() && !authority.ends_with(']'))
        {
            return Err(format!("endpoint `{trimmed}` has an invalid port"));
        }
        Ok(Self::new(scheme, authority.to_owned()))
    }

    fn new(scheme: Scheme, authority: impl Into<String>) -> Self {
        Self {
            scheme,
            authority: authority.into(),
        }
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// `host[:port]`, as sent in the `host` header.
    pub fn authority(&self) -> &str {
        &self.authority
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.authority)
    }
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// Region ids are `^[a-zA-Z0-9_-]+$` (the rule of `aliyun-python-sdk-core`).
pub(crate) fn check_region(region: &str) -> Result<(), String> {
    if region.is_empty() {
        return Err(
            "the region is not set; pass .region(\"cn-hangzhou\") or set ALIBABA_CLOUD_REGION_ID"
                .to_owned(),
        );
    }
    if !region
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(format!(
            "region `{}` is not a region id (letters, digits, `-` and `_` only, such as cn-hangzhou)",
            region.escape_debug()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mapped_region_uses_its_map_host_in_public_and_ecs_vpc_in_a_vpc() {
        for (regions, host) in ENDPOINT_MAP {
            for region in *regions {
                let public = Endpoint::for_region(region, EndpointType::Public).unwrap();
                assert_eq!(public.authority(), *host, "{region}");
                assert_eq!(public.scheme(), Scheme::Https);
                let vpc = Endpoint::for_region(region, EndpointType::Vpc).unwrap();
                assert_eq!(
                    vpc.authority(),
                    format!("ecs-vpc.{region}.aliyuncs.com"),
                    "{region}"
                );
                assert_eq!(vpc.scheme(), Scheme::Https);
            }
        }
        let count: usize = ENDPOINT_MAP.iter().map(|(r, _)| r.len()).sum();
        assert_eq!(count, 18 + 12 + 3 + 1 + 1);
    }

    #[test]
    fn the_regional_rule_writes_the_region_in_lower_case() {
        let e = Endpoint::for_region("CN-Beijing", EndpointType::Public).unwrap();
        assert_eq!(e.authority(), "ecs.cn-beijing.aliyuncs.com");
        let e = Endpoint::for_region("CN-Hangzhou", EndpointType::Vpc).unwrap();
        assert_eq!(e.authority(), "ecs-vpc.cn-hangzhou.aliyuncs.com");
    }

    #[test]
    fn documented_examples() {
        let cases = [
            (
                "cn-beijing",
                EndpointType::Public,
                "ecs.cn-beijing.aliyuncs.com",
            ),
            (
                "ap-southeast-1",
                EndpointType::Public,
                "ecs.ap-southeast-1.aliyuncs.com",
            ),
            (
                "cn-hangzhou",
                EndpointType::Vpc,
                "ecs-vpc.cn-hangzhou.aliyuncs.com",
            ),
            (
                "cn-beijing",
                EndpointType::Vpc,
                "ecs-vpc.cn-beijing.aliyuncs.com",
            ),
            (
                "cn-hangzhou",
                EndpointType::Public,
                "ecs-cn-hangzhou.aliyuncs.com",
            ),
            ("cn-wuhan", EndpointType::Public, "ecs.aliyuncs.com"),
            (
                "cn-edge-1",
                EndpointType::Public,
                "ecs.cn-qingdao-nebula.aliyuncs.com",
            ),
            (
                "cn-zhangjiakou-na62-a01",
                EndpointType::Vpc,
                "ecs-vpc.cn-zhangjiakou-na62-a01.aliyuncs.com",
            ),
            (
                "cn-wuhan",
                EndpointType::Vpc,
                "ecs-vpc.cn-wuhan.aliyuncs.com",
            ),
            (
                "eu-west-1-oxs",
                EndpointType::Public,
                "ecs.cn-shenzhen-cloudstone.aliyuncs.com",
            ),
            (
                "cn-zhangjiakou",
                EndpointType::Public,
                "ecs.cn-zhangjiakou.aliyuncs.com",
            ),
        ];
        for (region, t, host) in cases {
            let e = Endpoint::for_region(region, t).unwrap();
            assert_eq!(e.to_string(), format!("https://{host}"), "{region} {t:?}");
        }
    }

    #[test]
    fn bad_regions_are_refused() {
        assert!(
            Endpoint::for_region("", EndpointType::Public)
                .unwrap_err()
                .contains("not set")
        );
        for bad in ["cn hangzhou", "cn.hangzhou", "évora", "a/b"] {
            let err = Endpoint::for_region(bad, EndpointType::Public).unwrap_err();
            assert!(err.contains("is not a region id"), "{bad}: {err}");
        }
    }

    #[test]
    fn explicit_endpoints_parse() {
        let cases = [
            ("http://127.0.0.1:8080", Scheme::Http, "127.0.0.1:8080"),
            ("http://127.0.0.1:8080/", Scheme::Http, "127.0.0.1:8080"),
            ("HTTPS://ecs.example.com", Scheme::Https, "ecs.example.com"),
            (
                "ecs-vpc.cn-beijing.aliyuncs.com",
                Scheme::Https,
                "ecs-vpc.cn-beijing.aliyuncs.com",
            ),
            (
                "ecs.example.com:8443",
                Scheme::Https,
                "ecs.example.com:8443",
            ),
            ("http://[::1]:9000", Scheme::Http, "[::1]:9000"),
        ];
        for (text, scheme, authority) in cases {
            let e = Endpoint::parse(text).unwrap();
            assert_eq!((e.scheme(), e.authority()), (scheme, authority), "{text}");
        }
    }

    #[test]
    fn bad_explicit_endpoints_say_why() {
        let cases = [
            ("ftp://host", "unsupported scheme"),
            ("http://", "no host"),
            ("https://host/path", "without path"),
            ("https://user@host", "without path"),
            ("host:notaport", "invalid port"),
            ("host:", "invalid port"),
        ];
        for (text, expect) in cases {
            let err = Endpoint::parse(text).unwrap_err();
            assert!(err.contains(expect), "{text}: {err}");
        }
    }

    #[test]
    fn endpoint_type_parses() {
        assert_eq!(EndpointType::parse("VPC"), Some(EndpointType::Vpc));
        assert_eq!(EndpointType::parse("public"), Some(EndpointType::Public));
        assert_eq!(EndpointType::parse("intranet"), None);
        assert_eq!(EndpointType::parse(""), None, "empty is not a network");
    }
}
