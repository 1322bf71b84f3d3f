//! The versions of the OSS objects the emulator serves: the data's own
//! (version 0, last modified when the emulator started) and those the
//! `replace` fault wrote over it. Each version has its content, its ETag
//! (the quoted upper-case hex of the first 16 bytes of the content's
//! SHA-256: the form of OSS's MD5 ETags) and its `Last-Modified`.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use time::{Duration, OffsetDateTime};

use super::Target;

/// `Last-Modified` as OSS writes it: `Mon, 07 Dec 2026 06:14:26 GMT`.
const HTTP_DATE: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// One version of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Version {
    /// 0: the data's own; then one more per replacement.
    number: u32,
    /// When it was written, in whole seconds.
    modified: OffsetDateTime,
}

impl Version {
    /// When it was written.
    pub(crate) fn modified(&self) -> OffsetDateTime {
        self.modified
    }

    /// Its content, from the data's own bytes: version 0 is them; a later
    /// version has every byte XORed with a mask from its number (never 0),
    /// so it has the same size and other bytes.
    pub(crate) fn content(&self, original: &Bytes) -> Bytes {
        if self.number == 0 {
            return original.clone();
        }
        // 1..=255, from the version number.
        let mask = u8::try_from((self.number - 1) % 255 + 1).unwrap_or(1);
        original
            .iter()
            .map(|b| b ^ mask)
            .collect::<Vec<u8>>()
            .into()
    }
}

/// The current version of each object that was ever replaced.
#[derive(Debug, Default)]
pub(crate) struct Versions {
    replaced: Mutex<HashMap<(String, String), Version>>,
}

impl Versions {
    /// The current version of `target`; `created`: when the data's own
    /// version was written.
    pub(crate) fn current(&self, target: &Target, created: OffsetDateTime) -> Version {
        self.replaced
            .lock()
            .ok()
            .and_then(|map| {
                map.get(&(target.bucket.clone(), target.key.clone()))
                    .copied()
            })
            .unwrap_or(Version {
                number: 0,
                modified: whole_seconds(created),
            })
    }

    /// Writes a new version of `target` over `previous` at `now`: its
    /// `Last-Modified` is at least a second after the previous one, so
    /// that `If-Unmodified-Since` tells them apart too.
    pub(crate) fn replace(&self, target: &Target, previous: Version, now: OffsetDateTime) {
        let next = Version {
            number: previous.number.saturating_add(1),
            modified: whole_seconds(now).max(previous.modified + Duration::SECOND),
        };
        if let Ok(mut map) = self.replaced.lock() {
            map.insert((target.bucket.clone(), target.key.clone()), next);
        }
    }
}

fn whole_seconds(time: OffsetDateTime) -> OffsetDateTime {
    time.replace_nanosecond(0).unwrap_or(time)
}

/// The ETag of `content`: `"` + 32 upper-case hex digits + `"`.
pub(crate) fn etag(content: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, content);
    let mut out = String::with_capacity(34);
    out.push('"');
    for byte in &digest.as_ref()[..16] {
        out.push_str(&format!("{byte:02X}"));
    }
    out.push('"');
    out
}

/// `time` as an HTTP date (UTC).
pub(crate) fn http_date(time: OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .format(HTTP_DATE)
        .unwrap_or_default()
}

/// An HTTP date as OSS writes it, or `None` for any other text.
pub(crate) fn parse_http_date(text: &str) -> Option<OffsetDateTime> {
    time::PrimitiveDateTime::parse(text.trim(), HTTP_DATE)
        .ok()
        .map(time::PrimitiveDateTime::assume_utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            bucket: "b".to_owned(),
            key: "k".to_owned(),
        }
    }

    #[test]
    fn a_replacement_has_the_same_size_other_bytes_and_a_later_date() {
        let versions = Versions::default();
        let start = time::macros::datetime!(2026-12-07 06:14:26.5 UTC);
        let first = versions.current(&target(), start);
        assert_eq!(
            first.modified(),
            time::macros::datetime!(2026-12-07 06:14:26 UTC)
        );
        let original = Bytes::from_static(b"hello, world");
        assert_eq!(first.content(&original), original);
        versions.replace(&target(), first, start);
        let second = versions.current(&target(), start);
        let changed = second.content(&original);
        assert_eq!(changed.len(), original.len());
        assert_ne!(changed, original);
        assert_ne!(etag(&changed), etag(&original));
        assert_eq!(second.modified(), first.modified() + Duration::SECOND);
        assert_eq!(
            http_date(second.modified()),
            "Mon, 07 Dec 2026 06:14:27 GMT"
        );
        assert_eq!(
            parse_http_date("Mon, 07 Dec 2026 06:14:27 GMT"),
            Some(second.modified())
        );
        assert_eq!(parse_http_date("yesterday"), None);
        assert_eq!(etag(b"").len(), 34);
    }
}
