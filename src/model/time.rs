//! Timestamps (UTC microseconds), their parsing and printing, and period labels.
//!
//! The hot paths (reading millions of events) use a hand-written ISO 8601 parser: chrono's
//! general parser is several times slower and the canonical tables only hold ISO forms.

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use std::fmt::Write as _;

/// Microseconds since the Unix epoch, UTC.
pub type Micros = i64;

pub const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// How a timestamp without an offset was read: it needs a time zone to mean anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offset {
    Explicit,
    Missing,
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff]]` (space allowed for `T`), with an optional
/// `Z` or `±HH:MM` offset. Returns the instant as if the offset were UTC when it is missing,
/// and says so, so that the caller can apply a time zone.
pub fn parse_iso(s: &str) -> Option<(Micros, Offset)> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = digits(&b[0..4])? as i64;
    let mo = digits(&b[5..7])?;
    let d = digits(&b[8..10])?;
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
        return None;
    }
    let mut micros = days_from_civil(y, mo, d) * MICROS_PER_DAY;
    if b.len() == 10 {
        return Some((micros, Offset::Missing));
    }
    if (b[10] != b'T' && b[10] != b' ' && b[10] != b't') || b.len() < 16 || b[13] != b':' {
        return None;
    }
    let h = digits(&b[11..13])?;
    let mi = digits(&b[14..16])?;
    let mut rest = &b[16..];
    let mut sec = 0;
    if rest.first() == Some(&b':') {
        if rest.len() < 3 {
            return None;
        }
        sec = digits(&rest[1..3])?;
        rest = &rest[3..];
    }
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    // A leap second (23:59:60) is the last instant of its minute, not the next minute: a
    // deal closed at 23:59:60Z on 31 March stays in March.
    let leap = sec == 60;
    let sec = sec.min(59);
    micros += (h as i64 * 3600 + mi as i64 * 60 + sec as i64) * MICROS_PER_SECOND;
    if rest.first() == Some(&b'.') || rest.first() == Some(&b',') {
        let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let frac = &rest[1..1 + n];
        let mut f: i64 = 0;
        for (i, &c) in frac.iter().take(6).enumerate() {
            f += (c - b'0') as i64 * 10i64.pow(5 - i as u32);
        }
        micros += if leap { 0 } else { f };
        rest = &rest[1 + n..];
    }
    if leap {
        micros += MICROS_PER_SECOND - 1;
    }
    match rest {
        [] => Some((micros, Offset::Missing)),
        [b'Z'] | [b'z'] => Some((micros, Offset::Explicit)),
        [sign @ (b'+' | b'-'), hh @ ..] if !hh.is_empty() => {
            let (oh, om) = match hh {
                [a, b2, b':', c, d2] => (digits(&[*a, *b2])?, digits(&[*c, *d2])?),
                [a, b2, c, d2] => (digits(&[*a, *b2])?, digits(&[*c, *d2])?),
                [a, b2] => (digits(&[*a, *b2])?, 0),
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let off = (oh as i64 * 3600 + om as i64 * 60) * MICROS_PER_SECOND;
            Some((if *sign == b'+' { micros - off } else { micros + off }, Offset::Explicit))
        }
        _ => None,
    }
}

/// Interprets a wall-clock time (as UTC micros) in a time zone; ambiguous times take the
/// earlier instant, times in a DST gap the later one.
pub fn localize(wall: Micros, tz: Tz) -> Micros {
    if tz == Tz::UTC {
        return wall;
    }
    // Out of chrono's range the wall time is kept as it is; the caller's range check rejects it.
    let Some(naive) = DateTime::from_timestamp_micros(wall).map(|d| d.naive_utc()) else {
        return wall;
    };
    // A wall time in a spring-forward gap is read as the hour after it.
    let resolved = tz.from_local_datetime(&naive).earliest().or_else(|| {
        naive
            .checked_add_signed(chrono::Duration::hours(1))
            .and_then(|later| tz.from_local_datetime(&later).earliest())
    });
    resolved.map_or(wall, |dt| dt.timestamp_micros())
}

/// Parses a timestamp with a user-supplied strftime format (ingest's `--date-format`).
/// Whether the offset was in the text (an instant) or not (a wall time, to localize), as
/// `parse_iso` says it.
pub fn parse_with_format(s: &str, format: &str) -> Option<(Micros, Offset)> {
    if let Ok(dt) = DateTime::parse_from_str(s, format) {
        return Some((dt.timestamp_micros(), Offset::Explicit));
    }
    if let Ok(dt) = NaiveDateTime::parse_from_str(s, format) {
        return Some((dt.and_utc().timestamp_micros(), Offset::Missing));
    }
    NaiveDate::parse_from_str(s, format)
        .ok()
        .map(|d| (d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_micros(), Offset::Missing))
}

/// Formats as RFC 3339 in UTC with second precision (`2026-04-03T09:15:00Z`), or with
/// microseconds when there are any.
pub fn format_utc(t: Micros, out: &mut String) {
    let days = t.div_euclid(MICROS_PER_DAY);
    let rem = t.rem_euclid(MICROS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let secs = rem / MICROS_PER_SECOND;
    let frac = rem % MICROS_PER_SECOND;
    // Written digit by digit: this runs once per timestamp of every CSV a command writes.
    if (0..=9999).contains(&y) {
        push_padded(out, y as u32, 4);
    } else {
        let _ = write!(out, "{y:04}");
    }
    out.push('-');
    push_padded(out, m, 2);
    out.push('-');
    push_padded(out, d, 2);
    out.push('T');
    push_padded(out, (secs / 3600) as u32, 2);
    out.push(':');
    push_padded(out, (secs / 60 % 60) as u32, 2);
    out.push(':');
    push_padded(out, (secs % 60) as u32, 2);
    if frac != 0 {
        out.push('.');
        push_padded(out, frac as u32, 6);
    }
    out.push('Z');
}

/// Appends `v` in decimal, zero-padded to `width` digits (`v` must fit in them).
fn push_padded(out: &mut String, v: u32, width: u32) {
    for i in (0..width).rev() {
        out.push(char::from(b'0' + (v / 10u32.pow(i) % 10) as u8));
    }
}

pub fn to_rfc3339(t: Micros) -> String {
    let mut s = String::with_capacity(20);
    format_utc(t, &mut s);
    s
}

/// A user-given date or timestamp on the command line (`--as-of`, `--from`, `--to`).
pub fn parse_cli_instant(s: &str, tz: Tz) -> Result<Micros> {
    match parse_iso(s.trim()) {
        Some((t, Offset::Explicit)) => Ok(t),
        Some((t, Offset::Missing)) => Ok(localize(t, tz)),
        None => bail!("`{s}` is not a date (expected YYYY-MM-DD or an RFC 3339 timestamp)"),
    }
}

/// Parses an `--as-of`: a timestamp as given, or a bare date as the end of that day (its last
/// microsecond in the playbook's time zone), since an export "as of 2026-03-31" holds that day.
pub fn parse_cli_as_of(s: &str, tz: Tz) -> Result<Micros> {
    let t = s.trim();
    let bare_date =
        t.len() == 10 && parse_iso(t).is_some_and(|(_, o)| matches!(o, Offset::Missing));
    if bare_date {
        let (midnight, _) = parse_iso(t).expect("checked above");
        return Ok(localize(midnight + 86_400_000_000, tz) - 1);
    }
    parse_cli_instant(s, tz)
}

/// The granularity of reporting periods.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    Month,
    Week,
    Quarter,
}

/// A period: its kind and an ordinal (months or weeks since an epoch), so that periods sort and
/// step without strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    pub kind_rank: u8,
    pub index: i32,
}

// ISO week 1 of 1970 starts on Monday 1969-12-29: day -3.
const WEEK_EPOCH_DAY: i64 = -3;

impl Period {
    pub fn kind(self) -> PeriodKind {
        match self.kind_rank {
            0 => PeriodKind::Month,
            1 => PeriodKind::Week,
            _ => PeriodKind::Quarter,
        }
    }

    fn new(kind: PeriodKind, index: i32) -> Period {
        let kind_rank = match kind {
            PeriodKind::Month => 0,
            PeriodKind::Week => 1,
            PeriodKind::Quarter => 2,
        };
        Period { kind_rank, index }
    }

    /// The period holding a local civil date.
    pub fn of_local_day(kind: PeriodKind, local_day: i64) -> Period {
        let (y, m, _) = civil_from_days(local_day);
        let index = match kind {
            PeriodKind::Month => (y * 12 + m as i64 - 1) as i32,
            PeriodKind::Quarter => (y * 4 + (m as i64 - 1) / 3) as i32,
            PeriodKind::Week => (local_day - WEEK_EPOCH_DAY).div_euclid(7) as i32,
        };
        Period::new(kind, index)
    }

    pub fn next(self) -> Period {
        Period { index: self.index + 1, ..self }
    }

    pub fn prev(self) -> Period {
        Period { index: self.index - 1, ..self }
    }

    /// The first local day of the period.
    pub fn start_day(self) -> i64 {
        match self.kind() {
            PeriodKind::Month => {
                let (y, m) =
                    (self.index.div_euclid(12) as i64, self.index.rem_euclid(12) as u32 + 1);
                days_from_civil(y, m, 1)
            }
            PeriodKind::Quarter => {
                let (y, q) = (self.index.div_euclid(4) as i64, self.index.rem_euclid(4) as u32);
                days_from_civil(y, q * 3 + 1, 1)
            }
            PeriodKind::Week => self.index as i64 * 7 + WEEK_EPOCH_DAY,
        }
    }

    /// `2026-04`, `2026-W14` (ISO week-numbering year) or `2026-Q2`.
    pub fn label(self) -> String {
        match self.kind() {
            PeriodKind::Month => {
                format!("{:04}-{:02}", self.index.div_euclid(12), self.index.rem_euclid(12) + 1)
            }
            PeriodKind::Quarter => {
                format!("{:04}-Q{}", self.index.div_euclid(4), self.index.rem_euclid(4) + 1)
            }
            PeriodKind::Week => {
                // The ISO year is the year of the week's Thursday.
                let thursday = self.start_day() + 3;
                let (y, _, _) = civil_from_days(thursday);
                let jan4 = days_from_civil(y, 1, 4);
                let week1 = Period::of_local_day(PeriodKind::Week, jan4).index;
                format!("{:04}-W{:02}", y, self.index - week1 + 1)
            }
        }
    }

    /// Parses a label of the given kind (`2026-04`, `2026-W14`, `2026-Q2`).
    pub fn parse(kind: PeriodKind, s: &str) -> Result<Period> {
        let s = s.trim();
        let article = if kind == PeriodKind::Week { "an" } else { "a" };
        let bad = || format!("`{s}` is not {article} {} label", kind_name(kind));
        let (y, rest) = s.split_once('-').with_context(bad)?;
        // Fixed widths: `2026-3` would make a second spelling of every plan id.
        let y = fixed_digits(y, 4).filter(|y| *y >= 1).with_context(bad)? as i64;
        match kind {
            PeriodKind::Month => {
                let m = fixed_digits(rest, 2).filter(|m| (1..=12).contains(m)).with_context(bad)?;
                Ok(Period::of_local_day(kind, days_from_civil(y, m, 1)))
            }
            PeriodKind::Quarter => {
                let q: u32 = rest
                    .strip_prefix('Q')
                    .and_then(|q| fixed_digits(q, 1))
                    .filter(|q| (1..=4).contains(q))
                    .with_context(bad)?;
                Ok(Period::of_local_day(kind, days_from_civil(y, (q - 1) * 3 + 1, 1)))
            }
            PeriodKind::Week => {
                let w: i32 = rest
                    .strip_prefix('W')
                    .and_then(|w| fixed_digits(w, 2))
                    .map(|w| w as i32)
                    .filter(|w| (1..=53).contains(w))
                    .with_context(bad)?;
                let week1 = Period::of_local_day(kind, days_from_civil(y, 1, 4));
                let p = Period { index: week1.index + w - 1, ..week1 };
                if p.label() != format!("{y:04}-W{w:02}") {
                    bail!("{} has no week {w}", y);
                }
                Ok(p)
            }
        }
    }
}

/// Exactly `width` ASCII digits.
fn fixed_digits(s: &str, width: usize) -> Option<u32> {
    (s.len() == width && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
}

fn kind_name(kind: PeriodKind) -> &'static str {
    match kind {
        PeriodKind::Month => "month (YYYY-MM, such as 2026-04)",
        PeriodKind::Week => "ISO week (YYYY-Www, such as 2026-W14)",
        PeriodKind::Quarter => "quarter (YYYY-Qn, such as 2026-Q2)",
    }
}

/// Maps instants to periods in a time zone. Period boundaries are precomputed for the span of
/// the data so that the hot path is a binary search, not a time-zone conversion.
pub struct Calendar {
    pub kind: PeriodKind,
    pub tz: Tz,
    first: Period,
    /// UTC instant at which each period from `first` on starts; one more than periods.
    starts: Vec<Micros>,
}

impl Calendar {
    /// A calendar covering `[lo, hi]` (UTC micros), padded by a period either side.
    pub fn new(kind: PeriodKind, tz: Tz, lo: Micros, hi: Micros) -> Calendar {
        let lo_day = lo.div_euclid(MICROS_PER_DAY) - 2;
        let hi_day = hi.div_euclid(MICROS_PER_DAY) + 2;
        let first = Period::of_local_day(kind, lo_day).prev();
        let last = Period::of_local_day(kind, hi_day).next();
        let mut starts = Vec::new();
        let mut p = first;
        while p <= last.next() {
            starts.push(local_midnight(p.start_day(), tz));
            p = p.next();
        }
        Calendar { kind, tz, first, starts }
    }

    /// The period holding instant `t`; `t` must be within the span given at construction.
    pub fn period_of(&self, t: Micros) -> Period {
        let i = self.starts.partition_point(|&s| s <= t).saturating_sub(1);
        Period { index: self.first.index + i as i32, ..self.first }
    }

    /// The instant at which period `p` ends (the next one starts).
    pub fn end_of(&self, p: Period) -> Micros {
        let i = (p.index - self.first.index + 1) as usize;
        match self.starts.get(i) {
            Some(&t) => t,
            None => local_midnight(p.next().start_day(), self.tz),
        }
    }

    pub fn start_of(&self, p: Period) -> Micros {
        let i = (p.index - self.first.index) as usize;
        match self.starts.get(i) {
            Some(&t) => t,
            None => local_midnight(p.start_day(), self.tz),
        }
    }
}

/// The UTC instant of local midnight starting a local day.
pub fn local_midnight(local_day: i64, tz: Tz) -> Micros {
    localize(local_day * MICROS_PER_DAY, tz)
}

/// The month after a month label (`2026-03` → `2026-04`); empty for a label that is not a month.
pub fn month_after(label: &str) -> String {
    Period::parse(PeriodKind::Month, label).map(|p| p.next().label()).unwrap_or_default()
}

/// The month before a month label (`2026-03` → `2026-02`); empty for a label that is not a month.
pub fn month_before(label: &str) -> String {
    Period::parse(PeriodKind::Month, label).map(|p| p.prev().label()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_format_with_an_offset_reads_an_instant_and_one_without_a_wall_time() {
        use super::*;
        let (t, o) = parse_with_format("2026-01-05 10:32 +0900", "%Y-%m-%d %H:%M %z").unwrap();
        assert!(matches!(o, Offset::Explicit));
        assert_eq!(t, parse_cli_instant("2026-01-05T01:32:00Z", Tz::UTC).unwrap());
        let (t, o) = parse_with_format("01/05/2026 10:32", "%m/%d/%Y %H:%M").unwrap();
        assert!(matches!(o, Offset::Missing));
        assert_eq!(t, parse_cli_instant("2026-01-05T10:32:00Z", Tz::UTC).unwrap());
    }

    #[test]
    fn a_bare_as_of_date_is_the_end_of_that_day() {
        use super::*;
        let utc = parse_cli_as_of("2026-03-31", Tz::UTC).unwrap();
        assert_eq!(utc, parse_cli_instant("2026-04-01T00:00:00Z", Tz::UTC).unwrap() - 1);
        // In the playbook's zone: the end of the 31st in Tokyo is 14:59:59.999999 UTC.
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        let t = parse_cli_as_of("2026-03-31", tokyo).unwrap();
        assert_eq!(t, parse_cli_instant("2026-03-31T15:00:00Z", Tz::UTC).unwrap() - 1);
        // A timestamp is taken as given.
        let exact = parse_cli_as_of("2026-03-31T10:00:00Z", tokyo).unwrap();
        assert_eq!(exact, parse_cli_instant("2026-03-31T10:00:00Z", Tz::UTC).unwrap());
    }

    #[test]
    fn period_labels_have_one_spelling() {
        assert_eq!(Period::parse(PeriodKind::Month, "2026-03").unwrap().label(), "2026-03");
        for bad in ["2026-3", "26-03", "2026-003", "111111111111111112-02", "0000-01", "+202-01"] {
            assert!(Period::parse(PeriodKind::Month, bad).is_err(), "{bad}");
        }
        assert!(Period::parse(PeriodKind::Week, "2026-W5").is_err());
        assert_eq!(Period::parse(PeriodKind::Week, "2026-W05").unwrap().label(), "2026-W05");
        assert_eq!(Period::parse(PeriodKind::Quarter, "2026-Q2").unwrap().label(), "2026-Q2");
    }
    use super::*;

    #[test]
    fn a_leap_second_stays_in_its_minute() {
        let leap = parse_iso("2026-03-31T23:59:60Z").unwrap().0;
        let last = parse_iso("2026-03-31T23:59:59.999999Z").unwrap().0;
        assert_eq!(leap, last);
        assert!(leap < parse_iso("2026-04-01T00:00:00Z").unwrap().0);
    }

    #[test]
    fn parses_iso_forms() {
        let z = parse_iso("2026-04-03T09:15:00Z").unwrap();
        assert_eq!(to_rfc3339(z.0), "2026-04-03T09:15:00Z");
        assert_eq!(z.1, Offset::Explicit);
        let off = parse_iso("2026-04-03T18:15:00+09:00").unwrap();
        assert_eq!(off.0, z.0);
        let frac = parse_iso("2026-04-03 09:15:00.250").unwrap();
        assert_eq!(frac, (z.0 + 250_000, Offset::Missing));
        assert_eq!(parse_iso("2026-04-03").unwrap().1, Offset::Missing);
        for bad in ["2026-02-30", "03/04/2026", "2026-04-03T25:00", "2026-04-03T09:15:00Q", ""] {
            assert!(parse_iso(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn timestamps_format_as_rfc3339_and_read_back() {
        for text in [
            "2026-03-04T05:06:07Z",
            "2026-12-31T23:59:59.000089Z",
            "1970-01-01T00:00:00Z",
            "0999-02-28T10:00:00.5Z",
            "2000-02-29T12:30:00Z",
        ] {
            let (t, _) = parse_iso(text).unwrap();
            let expected = text.replace(".5Z", ".500000Z");
            assert_eq!(to_rfc3339(t), expected);
        }
        assert_eq!(to_rfc3339(-MICROS_PER_SECOND), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn civil_round_trip() {
        for day in -1000..30000 {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
    }

    #[test]
    fn iso_weeks_across_year_boundary() {
        let day = |y, m, d| days_from_civil(y, m, d);
        let w = |y, m, d| Period::of_local_day(PeriodKind::Week, day(y, m, d)).label();
        assert_eq!(w(2026, 1, 1), "2026-W01");
        assert_eq!(w(2024, 12, 30), "2025-W01");
        assert_eq!(w(2021, 1, 3), "2020-W53");
        assert_eq!(w(2026, 4, 1), "2026-W14");
        let p = Period::parse(PeriodKind::Week, "2020-W53").unwrap();
        assert_eq!(p.label(), "2020-W53");
        assert!(Period::parse(PeriodKind::Week, "2025-W53").is_err());
        assert_eq!(Period::parse(PeriodKind::Week, "2026-W53").unwrap().label(), "2026-W53");
    }

    #[test]
    fn months_and_quarters() {
        let p = Period::parse(PeriodKind::Month, "2026-04").unwrap();
        assert_eq!(p.label(), "2026-04");
        assert_eq!(p.next().label(), "2026-05");
        assert_eq!(Period::parse(PeriodKind::Month, "2026-12").unwrap().next().label(), "2027-01");
        let q = Period::parse(PeriodKind::Quarter, "2026-Q2").unwrap();
        assert_eq!(q.start_day(), days_from_civil(2026, 4, 1));
        assert_eq!(q.next().label(), "2026-Q3");
    }

    #[test]
    fn calendar_in_tokyo() {
        let tz: Tz = "Asia/Tokyo".parse().unwrap();
        let t = parse_iso("2026-03-31T16:00:00Z").unwrap().0; // 2026-04-01 01:00 in Tokyo
        let cal = Calendar::new(PeriodKind::Month, tz, t, t);
        assert_eq!(cal.period_of(t).label(), "2026-04");
        assert_eq!(cal.period_of(t - 2 * 3_600_000_000).label(), "2026-03");
        let end = cal.end_of(cal.period_of(t));
        assert_eq!(to_rfc3339(end), "2026-04-30T15:00:00Z");
    }
}
