//! The wire time format of both signatures: `YYYY-MM-DDThh:mm:ssZ` in UTC
//! (V1 `Timestamp`, V3 `x-acs-date`; docs/api/describe-invocation-results.md#clock-and-nonce).

use alloc::string::String;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::SignError;

/// Length of `YYYY-MM-DDThh:mm:ssZ`.
const LEN: usize = 20;

/// A formatted timestamp held on the stack.
pub(crate) struct TimestampBuf([u8; LEN]);

impl TimestampBuf {
    /// The text; always ASCII by construction.
    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written, so this never
        // fails; the fallback keeps library code free of panics.
        core::str::from_utf8(&self.0).unwrap_or("")
    }
}

fn two(buf: &mut [u8], at: usize, v: u8) {
    if let Some(slot) = buf.get_mut(at..at + 2) {
        slot[0] = b'0' + v / 10;
        slot[1] = b'0' + v % 10;
    }
}

/// Writes `time` (converted to UTC, seconds truncated) as
/// `YYYY-MM-DDThh:mm:ssZ` without heap allocation.
pub(crate) fn write(time: OffsetDateTime) -> Result<TimestampBuf, SignError> {
    let utc = time
        .checked_to_offset(UtcOffset::UTC)
        .ok_or_else(|| SignError::time("the time cannot be converted to UTC"))?;
    let year = utc.year();
    let Ok(year) = u16::try_from(year) else {
        return Err(SignError::time("the year is before 0000"));
    };
    if year > 9999 {
        return Err(SignError::time("the year is after 9999"));
    }
    let mut buf = *b"0000-00-00T00:00:00Z";
    // `year` is at most 9999, so each quotient is a single digit.
    let digits = [year / 1000, (year / 100) % 10, (year / 10) % 10, year % 10];
    for (slot, d) in buf.iter_mut().zip(digits) {
        *slot = b'0' + u8::try_from(d).unwrap_or(0);
    }
    two(&mut buf, 5, u8::from(utc.month()));
    two(&mut buf, 8, utc.day());
    two(&mut buf, 11, utc.hour());
    two(&mut buf, 14, utc.minute());
    two(&mut buf, 17, utc.second());
    Ok(TimestampBuf(buf))
}

/// Formats `time` as the service's `YYYY-MM-DDThh:mm:ssZ` (UTC, whole
/// seconds), the form of V1 `Timestamp` and V3 `x-acs-date`.
///
/// ```
/// use time::macros::datetime;
/// let t = datetime!(2026-01-02 11:04:05.9 +08:00);
/// assert_eq!(ecs_sign::format_timestamp(t).unwrap(), "2026-01-02T03:04:05Z");
/// ```
///
/// # Errors
/// A time whose UTC year is outside 0000..=9999 ([`SignError::is_time`]).
pub fn format_timestamp(time: OffsetDateTime) -> Result<String, SignError> {
    Ok(String::from(write(time)?.as_str()))
}

fn digits(bytes: &[u8], range: core::ops::Range<usize>) -> Option<u16> {
    let mut v: u16 = 0;
    for &b in bytes.get(range)? {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u16::from(b - b'0');
    }
    Some(v)
}

/// Parses the service's `YYYY-MM-DDThh:mm:ssZ` (exactly that form, UTC).
///
/// ```
/// let t = ecs_sign::parse_timestamp("2026-01-02T03:04:05Z").unwrap();
/// assert_eq!(t.unix_timestamp(), 1_767_323_045);
/// assert!(ecs_sign::parse_timestamp("2026-01-02 03:04:05").is_none());
/// ```
pub fn parse_timestamp(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    if b.len() != LEN
        || b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || b.get(10) != Some(&b'T')
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
        || b.get(19) != Some(&b'Z')
    {
        return None;
    }
    let year = i32::from(digits(b, 0..4)?);
    let month = Month::try_from(u8::try_from(digits(b, 5..7)?).ok()?).ok()?;
    let day = u8::try_from(digits(b, 8..10)?).ok()?;
    let hour = u8::try_from(digits(b, 11..13)?).ok()?;
    let minute = u8::try_from(digits(b, 14..16)?).ok()?;
    let second = u8::try_from(digits(b, 17..19)?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_and_parses() {
        let t = datetime!(2026-11-26 05:02:38 UTC);
        let s = format_timestamp(t).unwrap();
        assert_eq!(s, "2026-11-26T05:02:38Z");
        assert_eq!(parse_timestamp(&s), Some(t));
        assert_eq!(
            format_timestamp(datetime!(0001-01-01 00:00:00 UTC)).unwrap(),
            "0001-01-01T00:00:00Z"
        );
        assert_eq!(
            format_timestamp(datetime!(2026-01-01 01:00:00 +02:00)).unwrap(),
            "2025-12-31T23:00:00Z"
        );
    }

    #[test]
    fn rejects_other_forms() {
        for bad in [
            "",
            "2026-01-02T03:04:05",
            "2026-01-02T03:04:05.000Z",
            "2026-13-02T03:04:05Z",
            "2026-02-30T03:04:05Z",
            "2026-01-02T24:04:05Z",
            "2026-01-02t03:04:05Z",
            "+026-01-02T03:04:05Z",
            "2026-01-02T03:04:5xZ",
            "２０２６-01-02T03:04Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn every_separator_and_the_length_are_checked_on_their_own() {
        let good = "2026-01-02T03:04:05Z";
        assert!(parse_timestamp(good).is_some());
        for at in [4, 7, 10, 13, 16, 19] {
            let mut bad = good.as_bytes().to_vec();
            bad[at] = b'x';
            let bad = String::from_utf8(bad).unwrap();
            assert_eq!(parse_timestamp(&bad), None, "{bad:?}");
        }
        for longer in ["2026-01-02T03:04:05Z ", "2026-01-02T03:04:05ZZ"] {
            assert_eq!(parse_timestamp(longer), None, "{longer:?}");
        }
    }

    #[test]
    fn the_last_writable_year_is_written() {
        let t = datetime!(9999-12-31 23:59:59 UTC);
        assert_eq!(format_timestamp(t).unwrap(), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn rejects_unwritable_years() {
        let e = format_timestamp(datetime!(-0001-01-01 00:00:00 UTC)).unwrap_err();
        assert!(e.is_time());
    }
}
