//! One export cell into one canonical cell: trimming, timestamps, amounts, stages.

use super::mapping::Mapping;
use crate::io::read::preview;
use crate::io::records::TextRecord;
use crate::io::write::Cell;
use crate::model::cell;
use crate::model::playbook::Playbook;
use crate::model::tables::{Column, Kind};
use crate::model::time::{Offset, localize, parse_iso, parse_with_format};
use anyhow::Result;

/// How values are read: the time zone and date format of timestamps, and what an amount may
/// carry besides digits (each only when asked for, so that nothing is guessed).
pub struct ValueOptions {
    pub tz: chrono_tz::Tz,
    /// strftime forms tried in order after ISO 8601.
    pub date_format: Vec<String>,
    pub currency: bool,
    pub group_separator: Option<char>,
    pub decimal_comma: bool,
    /// Set once a timestamp without a UTC offset has been read in `tz`.
    pub without_offset: std::cell::Cell<bool>,
    pub max_field_bytes: usize,
    /// Cells that had spaces around them, trimmed.
    pub trimmed: std::cell::Cell<u64>,
    /// Set while the current input goes through a decoder (`--encoding`, a UTF-16 BOM), which
    /// turns malformed bytes into U+FFFD.
    pub decoding: std::cell::Cell<bool>,
    /// Keep records with malformed bytes (as U+FFFD) instead of rejecting them.
    pub lossy: bool,
    /// Records kept with malformed bytes under `lossy`.
    pub replaced: std::cell::Cell<u64>,
    /// Export stage values the mapping reads as a loss though they do not say "lost"
    /// ("Closed: abandoned"), with how many rows: the summary says so.
    pub read_as_lost: std::cell::RefCell<std::collections::BTreeMap<String, u64>>,
}

impl ValueOptions {
    fn amount<'v>(&self, v: &'v str) -> std::borrow::Cow<'v, str> {
        if !self.currency && self.group_separator.is_none() && !self.decimal_comma {
            return v.into();
        }
        let mut t = v.to_string();
        if self.currency {
            t = t.trim_matches(|c: char| "$€£¥￥₩₹".contains(c) || c.is_whitespace()).to_string();
        }
        if let Some(g) = self.group_separator {
            t = t.replace(g, "");
        }
        if self.decimal_comma {
            t = t.replace(',', ".");
        }
        t.into()
    }
}

pub(super) type Rejection = (Option<String>, &'static str, String);

/// The code of a record left out because the CRM deleted its deal: dropped and counted, not
/// rejected.
pub(super) const DELETED: &str = "deleted";

/// Values from outside the record, per canonical column: `given` (a constant, or a joined
/// file's cell) replaces the record's cell; `defaults` fills an empty one.
#[derive(Clone, Copy)]
pub(super) struct Fill<'f, 'a> {
    pub(super) given: &'f [Option<&'a str>],
    pub(super) defaults: &'f [Option<&'a str>],
}

/// `str::trim`, with a shortcut for the usual cell that starts and ends in a visible ASCII
/// character.
pub(super) fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) if f.is_ascii_graphic() && l.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// Converts a record's bound cells into `out` (cleared first, its allocation reused).
#[allow(clippy::too_many_arguments)]
pub(super) fn convert<'a>(
    record: TextRecord<'a>,
    bind: &[Option<usize>],
    columns: &[Column],
    width: usize,
    mapping: &'a Mapping,
    playbook: &'a Playbook,
    opts: &ValueOptions,
    snapshot: bool,
    fill: Fill<'_, 'a>,
    mut out: Vec<Cell<'a>>,
) -> Result<Vec<Cell<'a>>, Rejection> {
    out.clear();
    if record.len() > width {
        return Err((
            None,
            "extra-cell",
            format!("{} cells, the header has {width}", record.len()),
        ));
    }
    if record.iter().all(|f| trim(f).is_empty()) {
        return Err((None, "blank-row", "the row is empty".into()));
    }
    // One search of the whole record, rather than one per cell, in the usual case of no NUL.
    let has_nul = record.as_str().contains('\0');
    // Two different ids whose bad bytes both decode to U+FFFD would merge into one: a record
    // with malformed bytes is rejected, or kept and counted with --lossy.
    if opts.decoding.get() && record.as_str().contains('\u{FFFD}') {
        if !opts.lossy {
            return Err((
                None,
                "encoding-error",
                "bytes that are not valid in the given encoding (decoded as U+FFFD); check --encoding, or keep them with --lossy".into(),
            ));
        }
        opts.replaced.set(opts.replaced.get() + 1);
    }
    for (k, (c, b)) in columns.iter().zip(bind).enumerate() {
        let given = fill.given.get(k).copied().flatten();
        let raw = match b {
            _ if given.is_some() => given.unwrap_or(""),
            Some(i) if *i >= record.len() => {
                return Err((
                    Some(c.name.into()),
                    "missing-cell",
                    format!("{} cells, the header has {width}", record.len()),
                ));
            }
            Some(i) => record.get(*i).unwrap_or(""),
            None => "",
        };
        let reject = |code: &'static str, message: String| {
            let hint = crate::io::row::spans_lines_hint(raw);
            (Some(c.name.to_string()), code, format!("{message}{hint}"))
        };
        if has_nul && raw.contains('\0') {
            return Err(reject("constraint-error", format!("a NUL byte in {:?}", preview(raw))));
        }
        if raw.len() > opts.max_field_bytes {
            return Err(reject(
                "constraint-error",
                format!(
                    "a field of {} bytes (at most {}, --max-field-bytes): {:?}",
                    raw.len(),
                    opts.max_field_bytes,
                    preview(raw)
                ),
            ));
        }
        let v = trim(raw);
        if v.len() != raw.len() {
            opts.trimmed.set(opts.trimmed.get() + 1);
        }
        let v = match fill.defaults.get(k).copied().flatten() {
            Some(d) if v.is_empty() => d,
            _ => v,
        };
        if v.is_empty() {
            if c.required && !(snapshot && (c.name == "ts" || c.name == "stage")) {
                return Err(reject(
                    "constraint-error",
                    format!(
                        "{} is required and the cell is empty; a mapping's [defaults] {} = \"...\" fills empty cells",
                        c.name, c.name
                    ),
                ));
            }
            out.push(Cell::Null);
            continue;
        }
        out.push(match c.kind {
            Kind::String if c.name == "stage" => {
                let mapped = mapping.stages.get(v).map(String::as_str);
                let stage = mapped.unwrap_or(v);
                match playbook.resolve_stage(stage) {
                    Some(code) => {
                        let terminal = code as usize >= playbook.stages.len();
                        if mapped.is_some() && terminal && !v.to_lowercase().contains("lost") {
                            *opts.read_as_lost.borrow_mut().entry(v.to_string()).or_default() += 1;
                        }
                        Cell::Str(playbook.stage_name(code))
                    }
                    None => {
                        // In an export the fix is usually the mapping's [stages]: say so first.
                        let closest = crate::model::playbook::closest(v, playbook.known_spellings());
                        let suggestion =
                            closest.as_ref().map(|s| format!("did you mean `{s}`? ")).unwrap_or_default();
                        let stage = closest.map_or_else(|| "<stage>".to_string(), |s| s.to_string());
                        return Err(reject(
                            "constraint-error",
                            format!(
                                "{:?}: unknown stage; {suggestion}map it in the mapping's [stages] (\"{}\" = \"{stage}\"; {}), or add it to the playbook's [aliases]",
                                preview(v),
                                v.replace('"', "\\\""),
                                mapping.show_hint()
                            ),
                        ));
                    }
                }
            }
            Kind::String if c.name == "currency" => match cell::currency(v) {
                Ok(_) => Cell::Str(v.trim()),
                Err(e) => return Err(reject(e.code, format!("{:?} {}", preview(v), e.message))),
            },
            Kind::String => Cell::Str(v),
            Kind::Datetime => match parse_ts(v, opts) {
                Some(t) => match cell::timestamp_in_range(t) {
                    Ok(t) => Cell::Ts(t),
                    Err(e) => return Err(reject(e.code, format!("{v:?} {}", e.message))),
                },
                None => {
                    let message = if opts.date_format.is_empty() {
                        format!("{v:?} is not ISO 8601; give --date-format for other forms")
                    } else {
                        format!(
                            "{v:?} is neither ISO 8601 nor --date-format {}",
                            opts.date_format.join(", ")
                        )
                    };
                    return Err(reject("type-error", message));
                }
            },
            Kind::Decimal | Kind::Number => {
                let normalized = opts.amount(v);
                match cell::amount(normalized.as_ref()) {
                    Ok(d) => Cell::Dec(d),
                    Err(e) => return Err(reject(e.code, format!("{v:?} {}{}", e.message, amount_hint(v, opts)))),
                }
            }
            Kind::Integer => match cell::count(v) {
                Ok(i) => Cell::Int(i),
                Err(e) => return Err(reject(e.code, format!("{v:?} {}", e.message))),
            },
            Kind::Boolean => match cell::boolean(v) {
                Ok(b) => Cell::Bool(b),
                Err(e) => return Err(reject(e.code, format!("{v:?} {}", e.message))),
            },
        });
    }
    Ok(out)
}

/// What option reads an amount the plain reading refused: digit groups, a decimal comma, a
/// currency symbol.
fn amount_hint(v: &str, opts: &ValueOptions) -> &'static str {
    let t = v.trim();
    let symbol = t.chars().any(|c| matches!(c, '$' | '€' | '£' | '¥' | '₹'));
    let comma = t.contains(',');
    let dot = t.contains('.');
    let spaced = t.trim_matches(|c: char| !c.is_ascii_digit()).contains([' ', '\u{a0}', '\'']);
    if symbol && !opts.currency {
        "; amounts with a currency symbol read with --currency-symbols"
    } else if comma && dot && opts.group_separator.is_none() {
        if t.rfind(',') < t.rfind('.') {
            "; digits grouped with commas (12,500.00) read with --group-separator ','"
        } else {
            "; a decimal comma with grouped digits (12.500,00) reads with --group-separator '.' --decimal-comma"
        }
    } else if comma && opts.group_separator.is_none() && !opts.decimal_comma {
        "; grouped digits (12,500) read with --group-separator ',', a decimal comma (12,50) with --decimal-comma"
    } else if spaced && opts.group_separator.is_none() {
        "; digits grouped with spaces or apostrophes read with --group-separator ' ' (or \"'\")"
    } else {
        ""
    }
}

pub(super) fn parse_ts(v: &str, opts: &ValueOptions) -> Option<i64> {
    let parsed = parse_iso(v.trim())
        .or_else(|| opts.date_format.iter().find_map(|f| parse_with_format(v.trim(), f)));
    match parsed? {
        (t, Offset::Explicit) => Some(t),
        // A wall time is read in --tz, and the run says so once.
        (t, Offset::Missing) => {
            opts.without_offset.set(true);
            Some(localize(t, opts.tz))
        }
    }
}
