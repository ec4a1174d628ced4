//! What a valid cell of a canonical table is, in one place: read, ingest and validate all ask
//! here. Each check gives a Frictionless error code and a message.

use crate::model::time::{MICROS_PER_DAY, Micros, days_from_civil};
use rust_decimal::Decimal;
use std::str::FromStr;

/// Why a cell is not a valid value of its column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    pub code: &'static str,
    pub message: String,
}

fn type_error(message: &str) -> CellError {
    CellError { code: "type-error", message: message.to_string() }
}

fn constraint(message: impl Into<String>) -> CellError {
    CellError { code: "constraint-error", message: message.into() }
}

/// The largest amount a table may hold (922 trillion in any currency): sums of millions of
/// them stay exact decimals.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(u32::MAX, u32::MAX >> 1, 0, false, 4);

/// A plain decimal amount: digits and one point, not negative, at most [`MAX_AMOUNT`].
/// Exponents, group separators and currency symbols are not guessed (ingest has options).
pub fn amount(text: &str) -> Result<Decimal, CellError> {
    let plain = !text.is_empty()
        && text.trim_start_matches(['-', '+']).bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if !plain {
        return Err(type_error("is not a plain decimal number (e.g. 1234.50)"));
    }
    let d = Decimal::from_str(text).map_err(|_| {
        if text.bytes().filter(u8::is_ascii_digit).count() > 28 {
            constraint(format!("is above the largest amount, {MAX_AMOUNT}"))
        } else {
            type_error("is not a plain decimal number (e.g. 1234.50)")
        }
    })?;
    checked_amount(d)
}

/// An amount already read as a decimal (from Parquet), held to the same bounds.
pub fn checked_amount(d: Decimal) -> Result<Decimal, CellError> {
    if d.is_sign_negative() && !d.is_zero() {
        return Err(constraint("is negative"));
    }
    if d > MAX_AMOUNT {
        return Err(constraint(format!("is above the largest amount, {MAX_AMOUNT}")));
    }
    Ok(d)
}

/// An ISO 4217 currency code, in any case ("usd" is USD).
pub fn currency(text: &str) -> Result<crate::model::money::Currency, CellError> {
    crate::model::money::Currency::parse(text)
        .ok_or_else(|| constraint("is not an ISO 4217 currency code (three letters, such as USD)"))
}

/// A count (a duration in seconds, …): a non-negative integer.
pub fn count(text: &str) -> Result<i64, CellError> {
    match text.parse::<i64>() {
        Ok(v) if v < 0 => Err(constraint("is negative")),
        Ok(v) => Ok(v),
        Err(_) => Err(type_error("is not an integer")),
    }
}

/// A finite number.
pub fn number(text: &str) -> Result<f64, CellError> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(type_error("is not a number")),
    }
}

/// A boolean as exports spell it: true/false, t/f, 1/0, yes/no, y/n, any case.
pub fn boolean(text: &str) -> Result<bool, CellError> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "t" | "1" | "yes" | "y" => Ok(true),
        "false" | "f" | "0" | "no" | "n" => Ok(false),
        _ => Err(type_error("is not a boolean (true/false)")),
    }
}

/// The span of timestamps a table may hold: years 1 to 9999, which every reader and writer of
/// ISO 8601 can round-trip.
pub fn timestamp_in_range(t: Micros) -> Result<Micros, CellError> {
    let lo = days_from_civil(1, 1, 1) * MICROS_PER_DAY;
    let hi = days_from_civil(10000, 1, 1) * MICROS_PER_DAY;
    if (lo..hi).contains(&t) { Ok(t) } else { Err(constraint("is outside the years 1 to 9999")) }
}

/// The largest text cell accepted by default: anything longer is a runaway quote or a pasted
/// document, not data.
pub const MAX_FIELD_BYTES: usize = 1 << 20;

/// Why a text cell cannot be data: a NUL byte, or more than `max` bytes.
pub fn impossible_text(s: &str, max: usize) -> Option<String> {
    if s.len() > max {
        Some(format!("a field of {} bytes (at most {max})", s.len()))
    } else if s.contains('\0') {
        Some("a NUL byte".into())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(amount("1234.50").unwrap().to_string(), "1234.50");
        assert_eq!(amount("0").unwrap(), Decimal::ZERO);
        assert_eq!(amount("-5").unwrap_err().code, "constraint-error");
        assert_eq!(amount("1e5").unwrap_err().code, "type-error");
        assert_eq!(amount("1,000").unwrap_err().code, "type-error");
        assert_eq!(amount("").unwrap_err().code, "type-error");
        assert_eq!(amount("922337203685477.5807").unwrap(), MAX_AMOUNT);
        assert_eq!(amount("922337203685478").unwrap_err().code, "constraint-error");
        assert_eq!(amount("10000000000000000000000000").unwrap_err().code, "constraint-error");
        assert_eq!(
            amount("100000000000000000000000000000000").unwrap_err().code,
            "constraint-error"
        );
    }

    #[test]
    fn timestamps_stay_within_years_1_to_9999() {
        let y10000 = days_from_civil(10000, 1, 1) * MICROS_PER_DAY;
        assert!(timestamp_in_range(y10000 - 1).is_ok());
        assert!(timestamp_in_range(y10000).is_err());
        assert!(timestamp_in_range(days_from_civil(0, 12, 31) * MICROS_PER_DAY).is_err());
    }

    #[test]
    fn counts_numbers_and_booleans() {
        assert_eq!(count("12"), Ok(12));
        assert_eq!(count("-1").unwrap_err().code, "constraint-error");
        assert!(number("inf").is_err());
        assert_eq!(boolean("Yes"), Ok(true));
        assert!(boolean("maybe").is_err());
    }
}
