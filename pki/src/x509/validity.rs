//! Validity periods and their X.509 encoding.
//!
//! RFC 5280 §4.1.2.5 says how a date is written: `UTCTime` for years up to
//! 2049, `GeneralizedTime` from 2050 on, always in UTC and to the second.
//! [`Validity`] holds plain [`OffsetDateTime`]s and the encoding follows that
//! rule, so callers never choose.

use std::time::Duration as StdDuration;

use der::DateTime;
use der::asn1::{GeneralizedTime, UtcTime};
use time::{Duration, OffsetDateTime};
use x509_cert::time::Time;

use super::error::{Error, Result};

/// How far `notBefore` is set before "now" by [`Validity::starting_now`], so
/// that a peer whose clock is a little behind ours accepts a certificate
/// issued a moment ago.
pub const BACKDATE: Duration = Duration::minutes(5);

/// When a certificate (or CRL) is valid: `not_before` to `not_after`, both
/// inclusive, to the second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
}

impl Validity {
    /// A period from `not_before` to `not_after`. Both are truncated to whole
    /// seconds; the end must come after the start, and both must lie between
    /// 1970 and 9999 (what X.509 times can express).
    pub fn new(not_before: OffsetDateTime, not_after: OffsetDateTime) -> Result<Self> {
        let not_before = truncate(not_before)?;
        let not_after = truncate(not_after)?;
        if not_after <= not_before {
            return Err(Error::InvalidValidity(
                "notAfter must be later than notBefore",
            ));
        }
        Ok(Self {
            not_before,
            not_after,
        })
    }

    /// A period that starts [`BACKDATE`] ago and ends `lifetime` from now.
    pub fn starting_now(lifetime: Duration) -> Result<Self> {
        if !lifetime.is_positive() {
            return Err(Error::InvalidValidity("the lifetime must be positive"));
        }
        let now = OffsetDateTime::now_utc();
        let end = now
            .checked_add(lifetime)
            .ok_or(Error::InvalidValidity("the lifetime is too long"))?;
        Self::new(now - BACKDATE, end)
    }

    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// The X.509 `Validity` structure.
    pub(crate) fn to_x509(self) -> Result<x509_cert::time::Validity> {
        Ok(x509_cert::time::Validity {
            not_before: x509_time(self.not_before)?,
            not_after: x509_time(self.not_after)?,
        })
    }
}

fn truncate(t: OffsetDateTime) -> Result<OffsetDateTime> {
    let seconds = t.to_offset(time::UtcOffset::UTC).unix_timestamp();
    if !(0..=253_402_300_799).contains(&seconds) {
        return Err(Error::InvalidValidity(
            "dates must lie between 1970-01-01 and 9999-12-31",
        ));
    }
    OffsetDateTime::from_unix_timestamp(seconds)
        .map_err(|_| Error::InvalidValidity("date out of range"))
}

/// `t` as an RFC 5280 `Time`: `UTCTime` through 2049, `GeneralizedTime` after.
pub(crate) fn x509_time(t: OffsetDateTime) -> Result<Time> {
    let t = truncate(t)?;
    let seconds = u64::try_from(t.unix_timestamp())
        .map_err(|_| Error::InvalidValidity("dates before 1970 cannot be encoded"))?;
    let dt = DateTime::from_unix_duration(StdDuration::from_secs(seconds))
        .map_err(Error::der("encoding a date"))?;
    Ok(if dt.year() <= UtcTime::MAX_YEAR {
        Time::UtcTime(UtcTime::from_date_time(dt).map_err(Error::der("encoding a UTCTime"))?)
    } else {
        Time::GeneralTime(GeneralizedTime::from_date_time(dt))
    })
}

/// An X.509 `Time` as an [`OffsetDateTime`].
pub(crate) fn from_x509_time(t: &Time) -> OffsetDateTime {
    let seconds = i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    // `Time` cannot hold a date past 9999, which `OffsetDateTime` can.
    OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_time_through_2049_generalized_after() {
        let in_2049 = OffsetDateTime::from_unix_timestamp(2_524_607_999).unwrap(); // 2049-12-31T23:59:59Z
        assert!(matches!(x509_time(in_2049).unwrap(), Time::UtcTime(_)));
        let in_2050 = in_2049 + Duration::seconds(1);
        assert!(matches!(x509_time(in_2050).unwrap(), Time::GeneralTime(_)));
    }

    #[test]
    fn inverted_or_empty_periods_are_refused() {
        let now = OffsetDateTime::now_utc();
        assert!(Validity::new(now, now).is_err());
        assert!(Validity::new(now, now - Duration::days(1)).is_err());
        assert!(Validity::starting_now(Duration::ZERO).is_err());
        let v = Validity::starting_now(Duration::days(1)).unwrap();
        assert!(v.not_before() < now - Duration::minutes(4));
    }
}
