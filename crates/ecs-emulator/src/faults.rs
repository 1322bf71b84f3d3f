//! Faults on demand: throttling, server errors, resets, truncated or
//! malformed bodies and delays, by probability or for the next N requests,
//! reproducible with a seed.
//!
//! A fault is written `KIND[:ARG]...` (the `--fault` flag and
//! [`Fault::from_str`](std::str::FromStr)), where `KIND` is one of
//! `throttle`, `error500`, `error503`, `reset`, `truncate`, `delay`, `html`,
//! `badjson`, `badxml`, `replace`, and each `ARG` is a probability (`0.05`), a count of
//! the next requests (`x3`), a duration (`200ms`, `2s`: the delay of
//! `delay`, the `x-acs-retry-after` of `throttle`, default 1000 ms), or the
//! service it hits (`on=ecs`, `on=sts`, `on=imds`, `on=uri`, `on=sso`,
//! `on=oauth`, `on=oss`; every service when absent). With neither a probability nor a
//! count, the fault hits every request (of its service).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::generated::splitmix;

/// What a fault does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultKind {
    /// 400 `Throttling.User` with `x-acs-retry-after` (milliseconds).
    Throttle {
        /// The `x-acs-retry-after` value.
        retry_after: Duration,
    },
    /// 500 `InternalError`.
    Error500,
    /// 503 `ServiceUnavailable`.
    Error503,
    /// The connection is closed without an answer.
    Reset,
    /// A normal answer whose body stops halfway (the connection closes).
    Truncate,
    /// The answer is delayed.
    Delay(Duration),
    /// 502 with an HTML page, as a load balancer sends.
    Html,
    /// 200 with a JSON body that does not parse.
    BadJson,
    /// 200 with an XML body that does not parse.
    BadXml,
    /// OSS only: the object is overwritten by a new version (the same
    /// size, other bytes, a new ETag and a later Last-Modified) just after
    /// this request is answered from the current one, as when a writer
    /// replaces it while a reader is between two ranges. It combines with
    /// the other kinds (`truncate:x1:on=oss` with `replace:x1:on=oss`: the
    /// first answer is cut, and the object has changed when it is resumed).
    Replace,
}

/// When a fault fires.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trigger {
    /// Every request.
    Always,
    /// Each request with this probability (0 to 1), from the seeded RNG.
    Probability(f64),
    /// The next N requests.
    Next(u64),
}

/// The services the emulator serves on its listener, for faults aimed at
/// one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `DescribeInvocationResults`.
    Ecs,
    /// STS `AssumeRole` and `AssumeRoleWithOIDC`.
    Sts,
    /// The metadata service (`/latest/...`).
    Imds,
    /// The credentials URI (`/credentials-uri`).
    Uri,
    /// CloudSSO (`/cloud-credentials`).
    Sso,
    /// OAuth (`/v1/token`, `/v1/exchange`).
    OAuth,
    /// OSS `GetObject` of delivered outputs.
    Oss,
}

impl Service {
    /// The service a request is for, by its path and `Action`.
    pub(crate) fn of(path: &str, action: Option<&str>) -> Self {
        if path.starts_with("/latest/") {
            Self::Imds
        } else if path == "/credentials-uri" {
            Self::Uri
        } else if path == "/cloud-credentials" {
            Self::Sso
        } else if path.starts_with("/v1/") {
            Self::OAuth
        } else if action.is_some_and(|a| a.starts_with("AssumeRole")) {
            Self::Sts
        } else {
            Self::Ecs
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "ecs" => Self::Ecs,
            "sts" => Self::Sts,
            "imds" => Self::Imds,
            "uri" => Self::Uri,
            "sso" => Self::Sso,
            "oauth" => Self::OAuth,
            "oss" => Self::Oss,
            _ => return None,
        })
    }
}

/// One fault and when it fires.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fault {
    /// What it does.
    pub kind: FaultKind,
    /// When.
    pub trigger: Trigger,
    /// The service it hits; `None`: every request.
    pub service: Option<Service>,
}

/// A `--fault` that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultParseError(String);

impl fmt::Display for FaultParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FaultParseError {}

fn parse_duration(text: &str) -> Option<Duration> {
    if let Some(ms) = text.strip_suffix("ms") {
        return ms.parse().ok().map(Duration::from_millis);
    }
    if let Some(s) = text.strip_suffix('s') {
        return s
            .parse::<f64>()
            .ok()
            .and_then(|s| Duration::try_from_secs_f64(s).ok());
    }
    None
}

impl FromStr for Fault {
    type Err = FaultParseError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let err = |why: &str| {
            FaultParseError(format!(
                "fault `{spec}`: {why}; write KIND[:ARG]..., KIND one of throttle, error500, \
                 error503, reset, truncate, delay, html, badjson, badxml, replace, and ARG a \
                 probability (0.05), a count (x3), a duration (200ms) or a service (on=sts: ecs, \
                 sts, imds, uri, sso, oauth, oss)"
            ))
        };
        let mut parts = spec.split(':');
        let kind = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let mut trigger = Trigger::Always;
        let mut duration = None;
        let mut service = None;
        for arg in parts.map(str::trim) {
            if let Some(name) = arg.strip_prefix("on=") {
                service = Some(
                    Service::parse(name)
                        .ok_or_else(|| err(&format!("`{name}` is not a service")))?,
                );
            } else if let Some(count) = arg.strip_prefix('x') {
                let n: u64 = count
                    .parse()
                    .map_err(|_| err("a count is x followed by a number"))?;
                trigger = Trigger::Next(n);
            } else if let Some(d) = parse_duration(arg) {
                duration = Some(d);
            } else if let Ok(p) = arg.parse::<f64>() {
                if !(0.0..=1.0).contains(&p) {
                    return Err(err("a probability is from 0 to 1"));
                }
                trigger = Trigger::Probability(p);
            } else {
                return Err(err(&format!(
                    "`{arg}` is not a probability, count or duration"
                )));
            }
        }
        let kind = match kind.as_str() {
            "throttle" => FaultKind::Throttle {
                retry_after: duration.unwrap_or(Duration::from_millis(1000)),
            },
            "error500" => FaultKind::Error500,
            "error503" => FaultKind::Error503,
            "reset" => FaultKind::Reset,
            "truncate" => FaultKind::Truncate,
            "delay" => FaultKind::Delay(duration.ok_or_else(|| err("delay needs a duration"))?),
            "html" => FaultKind::Html,
            "badjson" => FaultKind::BadJson,
            "badxml" => FaultKind::BadXml,
            "replace" => FaultKind::Replace,
            other => return Err(err(&format!("unknown kind `{other}`"))),
        };
        Ok(Self {
            kind,
            trigger,
            service,
        })
    }
}

/// What the faults decided for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Decision {
    /// Wait this long before answering.
    pub(crate) delay: Option<Duration>,
    /// Answer this way instead of normally.
    pub(crate) action: Option<FaultKind>,
    /// Overwrite the OSS object after answering (the `replace` fault).
    pub(crate) replace: bool,
}

/// The faults in force and the seeded RNG that draws them.
#[derive(Debug)]
pub(crate) struct Faults {
    faults: Vec<(Fault, u64)>,
    rng: u64,
}

impl Faults {
    pub(crate) fn new(faults: Vec<Fault>, seed: u64) -> Self {
        let mut this = Self {
            faults: Vec::new(),
            rng: seed,
        };
        this.set(faults);
        this
    }

    /// Replaces the faults in force.
    pub(crate) fn set(&mut self, faults: Vec<Fault>) {
        self.faults = faults
            .into_iter()
            .map(|f| {
                let left = match f.trigger {
                    Trigger::Next(n) => n,
                    _ => 0,
                };
                (f, left)
            })
            .collect();
    }

    fn next_unit(&mut self) -> f64 {
        self.rng = self.rng.wrapping_add(1);
        // 53 random bits into [0, 1).
        (splitmix(self.rng) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Draws the faults for one request to `service`.
    pub(crate) fn decide(&mut self, service: Service) -> Decision {
        let mut decision = Decision::default();
        for i in 0..self.faults.len() {
            let (fault, _) = self.faults[i];
            if fault.service.is_some_and(|s| s != service) {
                continue;
            }
            let fires = match fault.trigger {
                Trigger::Always => true,
                Trigger::Probability(p) => self.next_unit() < p,
                Trigger::Next(_) => {
                    let left = &mut self.faults[i].1;
                    let fires = *left > 0;
                    *left = left.saturating_sub(1);
                    fires
                }
            };
            if !fires {
                continue;
            }
            match fault.kind {
                FaultKind::Delay(d) => {
                    decision.delay = Some(decision.delay.unwrap_or_default() + d);
                }
                FaultKind::Replace => decision.replace = true,
                other => {
                    decision.action.get_or_insert(other);
                }
            }
        }
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_into_kind_and_trigger() {
        let f: Fault = "throttle:0.1:250ms".parse().unwrap();
        assert_eq!(
            f.kind,
            FaultKind::Throttle {
                retry_after: Duration::from_millis(250)
            }
        );
        assert_eq!(f.trigger, Trigger::Probability(0.1));
        let f: Fault = "error500:x3".parse().unwrap();
        assert_eq!((f.kind, f.trigger), (FaultKind::Error500, Trigger::Next(3)));
        let f: Fault = "delay:200ms".parse().unwrap();
        assert_eq!(
            (f.kind, f.trigger),
            (
                FaultKind::Delay(Duration::from_millis(200)),
                Trigger::Always
            )
        );
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        for (spec, says) in [
            ("explode", "unknown kind `explode`"),
            ("throttle:2", "from 0 to 1"),
            ("delay", "delay needs a duration"),
            ("reset:xx", "a count is x followed by a number"),
            ("reset:soon", "`soon` is not"),
        ] {
            let err = spec.parse::<Fault>().unwrap_err().to_string();
            assert!(err.contains(says), "{spec}: {err}");
        }
    }

    #[test]
    fn a_fault_on_one_service_spares_the_others() {
        let f: Fault = "error503:on=sts:x2".parse().unwrap();
        assert_eq!(f.service, Some(Service::Sts));
        let mut faults = Faults::new(vec![f], 1);
        assert_eq!(faults.decide(Service::Ecs).action, None, "not its service");
        assert_eq!(
            faults.decide(Service::Sts).action,
            Some(FaultKind::Error503)
        );
        assert_eq!(
            faults.decide(Service::Sts).action,
            Some(FaultKind::Error503)
        );
        assert_eq!(
            faults.decide(Service::Sts).action,
            None,
            "x2 used up on STS only"
        );
        let err = "reset:on=ftp".parse::<Fault>().unwrap_err().to_string();
        assert!(err.contains("`ftp` is not a service"), "{err}");
        assert_eq!(Service::of("/latest/api/token", None), Service::Imds);
        assert_eq!(Service::of("/", Some("AssumeRoleWithOIDC")), Service::Sts);
        assert_eq!(
            Service::of("/", Some("DescribeInvocationResults")),
            Service::Ecs
        );
        assert_eq!(Service::of("/v1/exchange", None), Service::OAuth);
        assert_eq!(Service::of("/cloud-credentials", None), Service::Sso);
        assert_eq!(Service::of("/credentials-uri", None), Service::Uri);
    }

    #[test]
    fn next_n_fires_exactly_n_times() {
        let mut faults = Faults::new(vec!["reset:x2".parse().unwrap()], 1);
        let fired: Vec<bool> = (0..5)
            .map(|_| faults.decide(Service::Ecs).action.is_some())
            .collect();
        assert_eq!(fired, [true, true, false, false, false]);
    }

    #[test]
    fn probabilities_are_reproducible_and_about_right() {
        let draw = |seed| {
            let mut faults = Faults::new(vec!["error503:0.25".parse().unwrap()], seed);
            (0..4000)
                .map(|_| faults.decide(Service::Ecs).action.is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(9), draw(9));
        assert_ne!(draw(9), draw(10));
        let hits = draw(9).iter().filter(|h| **h).count();
        assert!((800..1200).contains(&hits), "{hits} of 4000");
    }

    #[test]
    fn replace_combines_with_the_action_of_the_same_request() {
        let mut faults = Faults::new(
            vec![
                "truncate:x1:on=oss".parse().unwrap(),
                "replace:x1:on=oss".parse().unwrap(),
            ],
            0,
        );
        let first = faults.decide(Service::Oss);
        assert_eq!(
            (first.action, first.replace),
            (Some(FaultKind::Truncate), true)
        );
        let second = faults.decide(Service::Oss);
        assert_eq!((second.action, second.replace), (None, false));
    }

    #[test]
    fn delays_add_up_and_combine_with_an_action() {
        let mut faults = Faults::new(
            vec![
                "delay:100ms".parse().unwrap(),
                "html".parse().unwrap(),
                "delay:50ms".parse().unwrap(),
            ],
            0,
        );
        let d = faults.decide(Service::Ecs);
        assert_eq!(d.delay, Some(Duration::from_millis(150)));
        assert_eq!(d.action, Some(FaultKind::Html));
    }
}
