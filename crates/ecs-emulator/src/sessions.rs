//! The temporary credentials the emulator hands out (STS sessions, and the
//! short-lived tokens of the metadata service and the OAuth service): each
//! unique and reproducible from the seed, remembered with its expiry so
//! that the emulator's own API accepts it until then and not after.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use time::OffsetDateTime;

use crate::api_error::ApiError;
use crate::auth::constant_time_eq;
use crate::generated::splitmix;

/// One issued STS session: keys, token and expiry.
#[derive(Clone)]
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) secret: String,
    pub(crate) token: String,
    pub(crate) expiration: OffsetDateTime,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// The JSON fields every credential service returns
    /// (`AccessKeyId`, `AccessKeySecret`, `SecurityToken`, `Expiration`).
    pub(crate) fn fields(&self) -> serde_json::Map<String, serde_json::Value> {
        let expiration = ecs_sign::format_timestamp(self.expiration).unwrap_or_default();
        let mut map = serde_json::Map::new();
        map.insert("AccessKeyId".into(), self.id.clone().into());
        map.insert("AccessKeySecret".into(), self.secret.clone().into());
        map.insert("SecurityToken".into(), self.token.clone().into());
        map.insert("Expiration".into(), expiration.into());
        map
    }
}

/// Everything issued so far. Entries are few (one per refresh), so they
/// are kept for the emulator's life.
#[derive(Debug)]
pub(crate) struct Sessions {
    seed: u64,
    inner: Mutex<Issued>,
}

#[derive(Debug, Default)]
struct Issued {
    counter: u64,
    sessions: HashMap<String, Session>,
    /// Bearer tokens (metadata and OAuth access tokens) and their expiry.
    tokens: HashMap<String, OffsetDateTime>,
}

impl Sessions {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            seed,
            inner: Mutex::new(Issued::default()),
        }
    }

    /// 32 hex digits, unique within this emulator and reproducible.
    fn random(&self, issued: &mut Issued) -> String {
        issued.counter = issued.counter.wrapping_add(1);
        let a = splitmix(self.seed ^ issued.counter.wrapping_mul(0xA24B_AED4_963E_E407));
        let b = splitmix(a);
        format!("{a:016x}{b:016x}")
    }

    /// A new STS session valid until `expiration`.
    pub(crate) fn issue(&self, expiration: OffsetDateTime) -> Option<Session> {
        let mut issued = self.inner.lock().ok()?;
        let id = format!("STS.{}", &self.random(&mut issued)[..24]);
        let secret = self.random(&mut issued);
        let token = format!(
            "CAIS{}{}",
            self.random(&mut issued),
            self.random(&mut issued)
        );
        let session = Session {
            id: id.clone(),
            secret,
            token,
            expiration,
        };
        issued.sessions.insert(id, session.clone());
        Some(session)
    }

    /// A new bearer token with `prefix`, valid until `expiration`.
    pub(crate) fn issue_token(&self, prefix: &str, expiration: OffsetDateTime) -> Option<String> {
        let mut issued = self.inner.lock().ok()?;
        let token = format!("{prefix}{}", self.random(&mut issued));
        issued.tokens.insert(token.clone(), expiration);
        Some(token)
    }

    /// How many STS sessions were issued.
    pub(crate) fn issued(&self) -> u64 {
        self.inner.lock().map_or(0, |issued| {
            u64::try_from(issued.sessions.len()).unwrap_or(u64::MAX)
        })
    }

    /// Whether `token` was issued and is still valid at `now`.
    pub(crate) fn token_valid(&self, token: &str, now: OffsetDateTime) -> bool {
        self.inner
            .lock()
            .ok()
            .and_then(|issued| issued.tokens.get(token).copied())
            .is_some_and(|expiration| now < expiration)
    }

    /// The secret of the issued session `id`, to verify its signatures.
    pub(crate) fn secret(&self, id: &str) -> Option<String> {
        let issued = self.inner.lock().ok()?;
        issued.sessions.get(id).map(|s| s.secret.clone())
    }

    /// Whether `id` is an issued session (rather than a configured key).
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.inner
            .lock()
            .is_ok_and(|issued| issued.sessions.contains_key(id))
    }

    /// Checks the token a request presented with the issued session `id`
    /// at `now`: it must be the session's, and the session not expired.
    pub(crate) fn check(
        &self,
        id: &str,
        presented: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        let session = self
            .inner
            .lock()
            .ok()
            .and_then(|issued| issued.sessions.get(id).cloned())
            .ok_or_else(ApiError::unknown_access_key)?;
        let Some(presented) = presented else {
            return Err(ApiError::security_token_mismatch());
        };
        if !constant_time_eq(session.token.as_bytes(), presented.as_bytes()) {
            return Err(ApiError::security_token_mismatch());
        }
        if now >= session.expiration {
            return Err(ApiError::security_token_expired());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn sessions_are_accepted_until_they_expire() {
        let sessions = Sessions::new(7);
        let now = datetime!(2026-12-01 00:00:00 UTC);
        let s = sessions.issue(now + time::Duration::hours(1)).unwrap();
        assert!(s.id.starts_with("STS."));
        assert_eq!(sessions.secret(&s.id).as_deref(), Some(s.secret.as_str()));
        assert!(sessions.check(&s.id, Some(&s.token), now).is_ok());
        let late = now + time::Duration::hours(1);
        let err = sessions.check(&s.id, Some(&s.token), late).unwrap_err();
        assert_eq!(err.code, "InvalidSecurityToken.Expired");
        let err = sessions.check(&s.id, Some("other"), now).unwrap_err();
        assert_eq!(err.code, "InvalidSecurityToken.MismatchWithAccessKey");
        assert!(sessions.check(&s.id, None, now).is_err());
        let other = sessions.issue(now).unwrap();
        assert_ne!(other.id, s.id);
        assert_ne!(other.secret, s.secret);
        assert!(!format!("{s:?}").contains(&s.secret));
        assert!(!format!("{s:?}").contains(&s.token));
    }

    #[test]
    fn tokens_are_valid_until_they_expire() {
        let sessions = Sessions::new(1);
        let now = datetime!(2026-12-01 00:00:00 UTC);
        let t = sessions
            .issue_token("tok-", now + time::Duration::seconds(10))
            .unwrap();
        assert!(sessions.token_valid(&t, now));
        assert!(!sessions.token_valid(&t, now + time::Duration::seconds(10)));
        assert!(!sessions.token_valid("tok-unknown", now));
    }
}
