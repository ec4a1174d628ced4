//! Which dates the data may hold: the run's clock and the plausible years.

use crate::model::time::{MICROS_PER_DAY, Micros, civil_from_days, parse_cli_as_of, to_rfc3339};

/// The run's clock: `SALESCOACH_NOW` (a date or an RFC 3339 timestamp, to rerun a past month
/// end as it ran, or to read synthetic data dated ahead) when set, else the system's time.
pub fn run_clock() -> Micros {
    if let Ok(text) = std::env::var("SALESCOACH_NOW")
        && let Ok(t) = parse_cli_as_of(&text, chrono_tz::UTC)
    {
        return t;
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// The dates an export can really hold: years in a plausible range (a typo'd `0026` or `2620`
/// is not data) and nothing after the run's clock (a row dated 2062 must not become the as-of).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatePolicy {
    pub min_year: i32,
    pub max_year: i32,
    pub now: Micros,
}

impl DatePolicy {
    /// Why a timestamp cannot be data: (`implausible-date` or `future-date`, the message).
    pub fn check(&self, t: Micros) -> Result<(), (&'static str, String)> {
        let (year, _, _) = civil_from_days(t.div_euclid(MICROS_PER_DAY));
        if year < self.min_year as i64 || year > self.max_year as i64 {
            return Err((
                "implausible-date",
                format!(
                    "the year {year:04} is outside {}–{} (a typo? the playbook's [data] years set the range)",
                    self.min_year, self.max_year
                ),
            ));
        }
        if t > self.now {
            return Err((
                "future-date",
                format!(
                    "dated after the run's clock ({}): a typo, or an export from the future? It is left out",
                    to_rfc3339(self.now)
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::parse_iso;

    #[test]
    fn dates_outside_the_plausible_years_or_after_the_clock_are_refused() {
        let now = parse_iso("2026-12-01T00:00:00Z").unwrap().0;
        let policy = DatePolicy { min_year: 1990, max_year: 2100, now };
        let at = |s: &str| parse_iso(s).unwrap().0;
        assert_eq!(policy.check(at("2026-03-31T23:59:59Z")), Ok(()));
        assert_eq!(policy.check(at("0026-03-14T10:00:00Z")).unwrap_err().0, "implausible-date");
        assert_eq!(policy.check(at("2062-03-14T10:00:00Z")).unwrap_err().0, "future-date");
        assert_eq!(policy.check(at("2026-12-01T00:00:01Z")).unwrap_err().0, "future-date");
        assert!(policy.check(at("1989-12-31T23:59:59Z")).is_err());
    }
}
