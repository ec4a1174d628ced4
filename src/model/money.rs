//! Money has a currency: ISO 4217 codes, rate tables, and sums kept per currency so that
//! amounts in different currencies are never added.

use crate::model::time::Micros;
use anyhow::{Context, Result, bail};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// An ISO 4217 code: three ASCII letters, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    /// A code as exported: trimmed, any case ("usd" is USD).
    pub fn parse(text: &str) -> Option<Currency> {
        let t = text.trim().as_bytes();
        (t.len() == 3 && t.iter().all(u8::is_ascii_alphabetic))
            .then(|| Currency([t[0], t[1], t[2]].map(|b| b.to_ascii_uppercase())))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII letters")
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Decimals kept of a converted amount: enough that a sum of millions is right to the cent.
pub const CONVERTED_SCALE: u32 = 10;

/// Sums of won amounts, one per currency (`None`: amounts with no currency given).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MoneySums(Vec<(Option<Currency>, Decimal, u64)>);

impl MoneySums {
    pub fn add(&mut self, currency: Option<Currency>, amount: Decimal) {
        self.add_sum(currency, amount, 1);
    }

    pub fn merge(&mut self, other: &MoneySums) {
        for &(c, a, n) in &other.0 {
            self.add_sum(c, a, n);
        }
    }

    fn add_sum(&mut self, currency: Option<Currency>, amount: Decimal, deals: u64) {
        match self.0.iter_mut().find(|s| s.0 == currency) {
            Some(s) => {
                s.1 += amount;
                s.2 += deals;
            }
            None => {
                self.0.push((currency, amount, deals));
                self.0.sort_by_key(|s| s.0);
            }
        }
    }

    /// The one sum, when every amount is in one currency (or none says which).
    pub fn single(&self) -> Option<(Option<Currency>, Decimal, u64)> {
        match self.0.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    pub fn is_mixed(&self) -> bool {
        self.0.len() > 1
    }

    pub fn sums(&self) -> &[(Option<Currency>, Decimal, u64)] {
        &self.0
    }

    /// "GBP 3000; JPY 500000": each currency's sum, never added up.
    pub fn by_currency_text(&self) -> String {
        self.0
            .iter()
            .map(|(c, a, _)| {
                let code = c.map_or("(no currency)".to_string(), |c| c.to_string());
                format!("{code} {}", a.normalize())
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// One rate: units of `currency` per one unit of the corporate currency, from `start` (until
/// the next start of the same currency); `start` `i64::MIN` for an undated rate.
#[derive(Debug, Clone, Copy)]
struct Rate {
    start: Micros,
    end: Micros,
    per_corporate: Decimal,
}

/// A rate table: Salesforce's CurrencyType and DatedConversionRate, or a plain
/// `currency,rate[,start_date]` file.
#[derive(Debug, Clone)]
pub struct Rates {
    pub corporate: Currency,
    rates: BTreeMap<Currency, Vec<Rate>>,
    /// The files read, for messages.
    pub sources: Vec<String>,
}

impl Rates {
    /// Converts an amount to the corporate currency at the rate in force at `at`; `None` when
    /// the table has no rate for the currency.
    pub fn convert(&self, amount: Decimal, from: Currency, at: Micros) -> Option<Decimal> {
        if from == self.corporate {
            return Some(amount);
        }
        let rates = self.rates.get(&from)?;
        let dated = rates.iter().find(|r| r.start != i64::MIN && r.start <= at && at < r.end);
        let rate = dated.or_else(|| rates.iter().find(|r| r.start == i64::MIN))?;
        let converted = amount.checked_div(rate.per_corporate)?;
        Some(converted.round_dp(CONVERTED_SCALE).normalize())
    }

    pub fn currencies(&self) -> impl Iterator<Item = Currency> + '_ {
        std::iter::once(self.corporate).chain(self.rates.keys().copied())
    }

    /// Reads one or more rate files. Which currency is the corporate one: `IsCorporate`, else
    /// the only currency whose rate is 1.
    pub fn load(paths: &[std::path::PathBuf]) -> Result<Rates> {
        let mut corporate: Option<Currency> = None;
        let mut rates: BTreeMap<Currency, Vec<Rate>> = BTreeMap::new();
        let mut ones: Vec<Currency> = Vec::new();
        for path in paths {
            let file = RateFile::read(path)?;
            if let Some(c) = file.corporate {
                if corporate.is_some_and(|k| k != c) {
                    bail!(
                        "{}: corporate currency {c}, another file says {}",
                        file.name,
                        corporate.unwrap()
                    );
                }
                corporate = Some(c);
            }
            for (currency, rate) in file.rates {
                if rate.per_corporate == Decimal::ONE && rate.start == i64::MIN {
                    ones.push(currency);
                }
                rates.entry(currency).or_default().push(rate);
            }
        }
        ones.sort();
        ones.dedup();
        let names = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>();
        let corporate = match (corporate, ones.as_slice()) {
            (Some(c), _) => c,
            (None, [one]) => *one,
            (None, _) => bail!(
                "{}: which currency are the rates against? Give it a row with rate 1 (or an IsCorporate column)",
                names.join(", ")
            ),
        };
        rates.remove(&corporate);
        for list in rates.values_mut() {
            close_dated_intervals(list);
        }
        Ok(Rates { corporate, rates, sources: names })
    }
}

/// A dated rate without its end runs until the next start of the same currency.
fn close_dated_intervals(list: &mut [Rate]) {
    list.sort_by_key(|r| r.start);
    for i in 0..list.len() {
        if list[i].start != i64::MIN && list[i].end == i64::MAX {
            list[i].end = list[i + 1..].first().map_or(i64::MAX, |n| n.start);
        }
    }
}

/// The rows of one rate file.
struct RateFile {
    name: String,
    corporate: Option<Currency>,
    rates: Vec<(Currency, Rate)>,
}

impl RateFile {
    fn read(path: &std::path::Path) -> Result<RateFile> {
        let name = path.display().to_string();
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(path)
            .with_context(|| format!("reading rates {name}"))?;
        let headers: Vec<String> = rdr
            .headers()
            .with_context(|| format!("reading rates {name}"))?
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        let find = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
        let code = find(&["isocode", "currency", "code", "iso_code"]);
        let rate = find(&["conversionrate", "rate", "per_corporate"]);
        let (Some(code), Some(rate)) = (code, rate) else {
            bail!(
                "{name}: a rate file needs a currency column (IsoCode or currency) and a rate column (ConversionRate or rate: units of that currency per one unit of the corporate currency); the header has: {}",
                headers.join(", ")
            );
        };
        let is_corporate = find(&["iscorporate", "corporate"]);
        let start = find(&["startdate", "start_date", "valid_from", "from"]);
        let end = find(&["nextstartdate", "next_start_date", "valid_to", "until"]);
        let mut out = RateFile { name: name.clone(), corporate: None, rates: Vec::new() };
        for (n, rec) in rdr.records().enumerate() {
            let rec = rec.with_context(|| format!("reading rates {name}"))?;
            let line = rec.position().map_or(n as u64 + 2, |p| p.line());
            let cell = |i: usize| rec.get(i).unwrap_or("").trim();
            let at = |column: &str, why: String| {
                anyhow::anyhow!("{name}:{line}, column {column}: {why}")
            };
            let currency = Currency::parse(cell(code)).ok_or_else(|| {
                at(&headers[code], format!("{:?} is not an ISO 4217 code such as USD", cell(code)))
            })?;
            let per_corporate: Decimal = cell(rate)
                .parse()
                .ok()
                .filter(|r: &Decimal| r.is_sign_positive() && !r.is_zero())
                .ok_or_else(|| {
                    at(&headers[rate], format!("{:?} is not a positive rate", cell(rate)))
                })?;
            if is_corporate.is_some_and(|i| cell(i).eq_ignore_ascii_case("true")) {
                out.corporate = Some(currency);
            }
            let date = |i: Option<usize>, column_default: Micros| -> Result<Micros> {
                match i.map(cell).filter(|t| !t.is_empty()) {
                    None => Ok(column_default),
                    Some(t) => {
                        crate::model::time::parse_iso(t).map(|(ts, _)| ts).ok_or_else(|| {
                            at(
                                &headers[i.expect("present")],
                                format!("{t:?} is not a date (YYYY-MM-DD)"),
                            )
                        })
                    }
                }
            };
            let start = date(start, i64::MIN)?;
            let end = date(end, i64::MAX)?;
            out.rates.push((currency, Rate { start, end, per_corporate }));
        }
        Ok(out)
    }
}

/// What the amounts' currencies were: money in several currencies is never added up.
#[derive(Debug, Default, Clone)]
pub struct MoneyRead {
    /// Amounts per currency as read (`None`: no currency given).
    pub amounts: std::collections::BTreeMap<Option<Currency>, u64>,
    /// With rates: amounts converted, and those whose currency had no rate (kept as read).
    pub converted: u64,
    pub no_rate: std::collections::BTreeMap<Currency, u64>,
    /// The corporate currency of the rates, and their files.
    pub rates: Option<(Currency, Vec<String>)>,
}

impl MoneyRead {
    /// The one currency of every amount, if there is one.
    pub fn single(&self) -> Option<Currency> {
        match (&self.rates, self.no_rate.is_empty()) {
            (Some((corporate, _)), true) => Some(*corporate),
            (Some(_), false) => None,
            (None, _) => match self.amounts.keys().collect::<Vec<_>>().as_slice() {
                [Some(c)] => Some(*c),
                _ => None,
            },
        }
    }

    /// One message when amounts in several currencies could not all be converted.
    pub fn warning(&self) -> Option<String> {
        let codes = |m: &mut dyn Iterator<Item = String>| m.collect::<Vec<_>>().join(", ");
        if let Some((corporate, files)) = &self.rates {
            if self.no_rate.is_empty() {
                return None;
            }
            let missing = codes(&mut self.no_rate.iter().map(|(c, n)| format!("{n} in {c}")));
            return Some(format!(
                "warning: amounts without a rate in {} ({missing}) are kept in their own currency, not converted to {corporate}: money is reported per currency (won_amount_by_currency) where they are among the won deals",
                files.join(", ")
            ));
        }
        if self.amounts.len() < 2 {
            return None;
        }
        let list = codes(
            &mut self.amounts.keys().map(|c| c.map_or("no currency".into(), |c| c.to_string())),
        );
        Some(format!(
            "warning: the amounts are in {} currencies ({list}) and no --rates convert them: money is reported per currency (won_amount_by_currency), never added up across currencies; pass --rates FILE (units of each currency per one unit of yours, such as Salesforce's CurrencyType.csv) to convert",
            self.amounts.len()
        ))
    }
}

/// Each amount with its currency: converted by the rates, if any, and counted.
pub struct Converter {
    rates: Option<std::sync::Arc<Rates>>,
    /// The currency of an amount that names none: the playbook's, else the rates' own.
    fallback: Option<Currency>,
    pub read: MoneyRead,
}

impl Converter {
    pub fn new(rates: Option<std::sync::Arc<Rates>>, fallback: Option<Currency>) -> Self {
        let read = MoneyRead {
            rates: rates.as_ref().map(|r| (r.corporate, r.sources.clone())),
            ..MoneyRead::default()
        };
        let fallback = fallback.or(rates.as_ref().map(|r| r.corporate));
        Converter { rates, fallback, read }
    }

    pub fn has_rates(&self) -> bool {
        self.rates.is_some()
    }

    pub fn read(
        &mut self,
        amount: Decimal,
        currency: Option<Currency>,
        ts: Micros,
    ) -> (Option<Decimal>, Option<Currency>) {
        let currency = currency.or(self.fallback);
        *self.read.amounts.entry(currency).or_default() += 1;
        let (Some(rates), Some(code)) = (self.rates.as_deref(), currency) else {
            return (Some(amount), currency);
        };
        match rates.convert(amount, code, ts) {
            Some(converted) => {
                self.read.converted += 1;
                (Some(converted), Some(rates.corporate))
            }
            None => {
                *self.read.no_rate.entry(code).or_default() += 1;
                (Some(amount), Some(code))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn codes_are_three_letters_in_upper_case() {
        assert_eq!(Currency::parse(" usd ").unwrap().as_str(), "USD");
        assert!(Currency::parse("US").is_none());
        assert!(Currency::parse("US$").is_none());
    }

    #[test]
    fn sums_stay_apart_by_currency() {
        let (gbp, jpy) = (Currency::parse("GBP"), Currency::parse("JPY"));
        let mut m = MoneySums::default();
        m.add(gbp, dec("3000"));
        m.add(jpy, dec("500000"));
        assert!(m.is_mixed());
        assert_eq!(m.by_currency_text(), "GBP 3000; JPY 500000");
        let mut one = MoneySums::default();
        one.add(gbp, dec("1.5"));
        one.add(gbp, dec("2.25"));
        assert_eq!(one.single(), Some((gbp, dec("3.75"), 2)));
    }

    #[test]
    fn salesforce_currency_types_convert_to_the_corporate_currency() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("CurrencyType.csv");
        std::fs::write(
            &path,
            "\"Id\",\"IsoCode\",\"ConversionRate\",\"DecimalPlaces\",\"IsActive\",\"IsCorporate\"\n\
             \"1\",\"USD\",\"1.000000\",\"2\",\"true\",\"true\"\n\
             \"2\",\"MXN\",\"17.500000\",\"2\",\"true\",\"false\"\n",
        )
        .unwrap();
        let rates = Rates::load(&[path]).unwrap();
        assert_eq!(rates.corporate.as_str(), "USD");
        let mxn = Currency::parse("MXN").unwrap();
        assert_eq!(rates.convert(dec("35000"), mxn, 0), Some(dec("2000")));
        assert_eq!(rates.convert(dec("1000"), mxn, 0), Some(dec("57.1428571429")));
        assert_eq!(rates.convert(dec("1"), Currency::parse("PEN").unwrap(), 0), None);
    }

    #[test]
    fn a_dated_rate_applies_from_its_start_to_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rates.csv");
        std::fs::write(
            &path,
            "currency,rate,start_date\nEUR,1,\nJPY,100,2026-01-01\nJPY,200,2026-02-01\n",
        )
        .unwrap();
        let rates = Rates::load(&[path]).unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        let jan = crate::model::time::parse_iso("2026-01-15").unwrap().0;
        let feb = crate::model::time::parse_iso("2026-02-15").unwrap().0;
        assert_eq!(rates.convert(dec("1000"), jpy, jan), Some(dec("10")));
        assert_eq!(rates.convert(dec("1000"), jpy, feb), Some(dec("5")));
        assert_eq!(rates.convert(dec("1000"), jpy, 0), None);
    }
}
