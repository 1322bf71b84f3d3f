//! Tolerant times: ISO-8601 (`2020-01-19T09:15:47Z`) and the old API
//! page's `2018-01-05 15:45:02` (docs/api/describe-invocation-results.md#times).

use std::fmt;

use serde::{Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// A time as the service sent it, with its parsed value when it could be read.
///
/// An unparsable time never fails a page: it keeps its raw text and
/// [`Timestamp::datetime`] returns `None`. Times without a zone (the old API reference's
/// `2018-01-05 15:45:02`) are taken as UTC, which is what the current API
/// documents for every time it returns.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    raw: Text,
    parsed: Option<OffsetDateTime>,
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timestamp")
            .field("raw", &self.raw())
            .field("parsed", &self.parsed)
            .finish()
    }
}

/// Bytes of text kept inline, without an allocation: the service's times
/// take 19 or 20 (a page holds up to 150 of them).
const INLINE: usize = 23;

/// A short text inline, a longer one on the heap. Which form holds a given
/// text depends only on its length, so the derived equality and hash agree
/// with the text's.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Text {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl Text {
    fn new(text: &str) -> Self {
        match u8::try_from(text.len()) {
            Ok(len) if text.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..text.len()].copy_from_slice(text.as_bytes());
                Self::Inline { len, bytes }
            }
            _ => Self::Heap(text.into()),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            // `new` copied a whole `str` in: the bytes are UTF-8.
            Self::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            Self::Heap(text) => text,
        }
    }
}

impl Timestamp {
    /// Parses a wire value. Surrounding whitespace is ignored; an empty value
    /// is `None` (the field is absent).
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        if raw.is_empty() {
            return None;
        }
        Some(Self {
            raw: Text::new(raw),
            parsed: parse_datetime(raw),
        })
    }

    /// A timestamp for `datetime`, written the way the current API writes
    /// times (`YYYY-MM-DDThh:mm:ssZ`, UTC, whole seconds).
    pub fn from_datetime(datetime: OffsetDateTime) -> Self {
        let utc = datetime.to_offset(time::UtcOffset::UTC);
        // The wire form has whole seconds; keep `parsed` equal to what the
        // text says so that parsing `raw` again gives an equal value.
        let utc = utc.replace_nanosecond(0).unwrap_or(utc);
        let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
        // Formatting a UTC date with numeric components cannot fail for years
        // 0..=9999; fall back to RFC 3339 (which handles the rest) otherwise.
        let raw = utc
            .format(format)
            .or_else(|_| utc.format(&Rfc3339))
            .unwrap_or_default();
        Self {
            raw: Text::new(&raw),
            parsed: Some(utc),
        }
    }

    /// The text as received (trimmed).
    pub fn raw(&self) -> &str {
        self.raw.as_str()
    }

    /// The parsed time, or `None` when the text is not a time this crate reads.
    pub fn datetime(&self) -> Option<OffsetDateTime> {
        self.parsed
    }

    /// Whether the text was understood as a time.
    pub fn is_parsed(&self) -> bool {
        self.parsed.is_some()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.raw())
    }
}

fn parse_datetime(raw: &str) -> Option<OffsetDateTime> {
    if let Some(datetime) = parse_common(raw.as_bytes()) {
        return Some(datetime);
    }
    if let Ok(datetime) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Some(datetime);
    }
    // Zone-less forms: the seed's space separator, and `T` without a `Z`.
    let space = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let t_sep = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let space_z = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
    [space, t_sep, space_z]
        .iter()
        .find_map(|format| PrimitiveDateTime::parse(raw, format).ok())
        .map(PrimitiveDateTime::assume_utc)
}

/// Fast path for the two forms the service sends,
/// `YYYY-MM-DDThh:mm:ssZ` and `YYYY-MM-DD hh:mm:ss` (a page holds up to 150
/// times); anything else goes through the `time` parsers.
fn parse_common(raw: &[u8]) -> Option<OffsetDateTime> {
    /// Where the digits are, in both forms.
    const DIGITS: [usize; 14] = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
    let shape_ok = match raw.len() {
        20 => raw[10] == b'T' && raw[19] == b'Z',
        19 => raw[10] == b' ',
        _ => false,
    };
    if !shape_ok || raw[4] != b'-' || raw[7] != b'-' || raw[13] != b':' || raw[16] != b':' {
        return None;
    }
    let mut digits = [0u8; 14];
    let mut all_digits = true;
    for (digit, &at) in digits.iter_mut().zip(&DIGITS) {
        *digit = raw[at].wrapping_sub(b'0');
        all_digits &= *digit <= 9;
    }
    if !all_digits {
        return None;
    }
    let two = |at: usize| digits[at] * 10 + digits[at + 1];
    let year = i32::from(two(0)) * 100 + i32::from(two(2));
    let month = time::Month::try_from(two(4)).ok()?;
    let date = time::Date::from_calendar_date(year, month, two(6)).ok()?;
    let clock = time::Time::from_hms(two(8), two(10), two(12)).ok()?;
    Some(PrimitiveDateTime::new(date, clock).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn parses_iso_8601_and_the_seed_format() {
        let cases = [
            ("2020-01-19T09:15:47Z", datetime!(2020-01-19 09:15:47 UTC)),
            ("2018-01-05 15:45:02", datetime!(2018-01-05 15:45:02 UTC)),
            (" 2018-01-05 15:45:02 ", datetime!(2018-01-05 15:45:02 UTC)),
            ("2020-01-19T09:15:47", datetime!(2020-01-19 09:15:47 UTC)),
            (
                "2020-01-19T17:15:47+08:00",
                datetime!(2020-01-19 09:15:47 UTC),
            ),
            (
                "2020-01-19T09:15:47.250Z",
                datetime!(2020-01-19 09:15:47.25 UTC),
            ),
            ("2024-02-29T23:59:59Z", datetime!(2024-02-29 23:59:59 UTC)),
        ];
        for (raw, expected) in cases {
            let ts = Timestamp::parse(raw).unwrap();
            assert_eq!(ts.datetime(), Some(expected), "{raw}");
            assert_eq!(ts.raw(), raw.trim());
        }
    }

    #[test]
    fn empty_is_none_and_garbage_keeps_its_text() {
        assert_eq!(Timestamp::parse(""), None);
        assert_eq!(Timestamp::parse("   "), None);
        let ts = Timestamp::parse("yesterday").unwrap();
        assert_eq!(ts.raw(), "yesterday");
        assert!(!ts.is_parsed());
        for raw in [
            "2018-13-45 99:00:00",
            "2023-02-29T00:00:00Z",
            "2018-01-05 15:45:0x",
            "2018-01-05x15:45:02",
        ] {
            assert_eq!(Timestamp::parse(raw).unwrap().datetime(), None, "{raw}");
        }
    }

    #[test]
    fn short_and_long_texts_read_back_and_compare_by_text() {
        for raw in [
            "2020-01-19T09:15:47Z",
            "2020-01-19T09:15:47.25Z",
            "2020-01-19T09:15:47.250+08:00",
            "中文時間",
            "x",
        ] {
            let ts = Timestamp::parse(raw).unwrap();
            assert_eq!(ts.raw(), raw);
            assert_eq!(ts.to_string(), raw);
            assert!(format!("{ts:?}").contains(raw), "{ts:?}");
            assert_eq!(Timestamp::parse(&format!(" {raw}\n")), Some(ts));
        }
        assert_ne!(
            Timestamp::parse("2020-01-19T09:15:47Z"),
            Timestamp::parse("2020-01-19 09:15:47"),
            "the same instant written differently keeps its text"
        );
    }

    proptest::proptest! {
        /// The fast path reads what the `time` parsers read in the two forms
        /// it knows, and declines the rest (or reads it the same way).
        #[test]
        fn the_fast_path_agrees_with_the_time_parsers(
            raw in "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}Z?",
            noise in proptest::option::of((0..20usize, "[-+:./ Ta-z0-9]")),
        ) {
            let mut raw = raw;
            if let Some((at, c)) = noise {
                let at = at.min(raw.len());
                raw.replace_range(at..(at + 1).min(raw.len()), &c);
            }
            let t_z = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
            let space = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
            let slow = if raw.len() == 20 && raw.as_bytes()[10] == b'T' {
                PrimitiveDateTime::parse(&raw, t_z).ok()
            } else {
                PrimitiveDateTime::parse(&raw, space).ok()
            }
            .map(PrimitiveDateTime::assume_utc);
            let fast = parse_common(raw.as_bytes());
            if fast.is_some() {
                proptest::prop_assert_eq!(fast, slow, "{}", raw);
            }
            // Whatever the fast path declines, `parse` still reads as the
            // `time` parsers do.
            if let Some(slow) = slow {
                proptest::prop_assert_eq!(Timestamp::parse(&raw).and_then(|t| t.datetime()), Some(slow));
            }
        }
    }

    #[test]
    fn the_fast_path_checks_calendar_and_clock() {
        for raw in [
            "2024-02-29T23:59:59Z",
            "2000-02-29 00:00:00",
            "0001-01-01T00:00:00Z",
            "9999-12-31 23:59:59",
        ] {
            assert!(parse_common(raw.as_bytes()).is_some(), "{raw}");
        }
        for raw in [
            "2023-02-29T00:00:00Z",
            "1900-02-29 00:00:00",
            "2020-00-10T00:00:00Z",
            "2020-13-10T00:00:00Z",
            "2020-04-31T00:00:00Z",
            "2020-01-00T00:00:00Z",
            "2020-01-01T24:00:00Z",
            "2020-01-01T00:60:00Z",
            "2020-01-01T00:00:60Z",
            "2020-01-01T00:00:0/Z",
            "2020-01-01T00:00:0:Z",
            "2020-01-01t00:00:00Z",
            "2020-01-01T00:00:00z",
            "2020/01/01T00:00:00Z",
            "2020-01-01T00:00:00",
        ] {
            assert_eq!(parse_common(raw.as_bytes()), None, "{raw}");
        }
    }

    #[test]
    fn from_datetime_writes_the_api_format() {
        let ts = Timestamp::from_datetime(datetime!(2020-01-19 17:15:47 +08:00));
        assert_eq!(ts.raw(), "2020-01-19T09:15:47Z");
        assert_eq!(Timestamp::parse(ts.raw()), Some(ts));
    }
}
