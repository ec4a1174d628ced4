//! Reading JSON tables: an array of records element by element, NDJSON line by line.

use crate::io::Source;
use crate::io::row::{Cells, Ctx, Row, RowProblem, ScanStats, bind_header, preview};
use anyhow::{Context, Result};

fn json_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

pub(super) fn scan_json(
    source: &Source,
    ctx: &Ctx,
    stats: &mut ScanStats,
    on_row: &mut dyn FnMut(&Row, &mut ScanStats),
) -> Result<()> {
    use std::io::BufRead;
    let mut input = std::io::BufReader::with_capacity(1 << 20, source.open()?);
    // A JSON array is read element by element and NDJSON line by line: memory holds one
    // record at a time, whatever the file's size.
    let start = input.fill_buf().with_context(|| format!("reading {}", ctx.file))?;
    let start = start.strip_prefix(b"\xef\xbb\xbf".as_slice()).unwrap_or(start);
    let is_array = start.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let mut row_no = 1u64;
    let mut handle = |line: u64, v: serde_json::Value, stats: &mut ScanStats| {
        row_no += 1;
        json_record(ctx, line, row_no, v, stats, on_row);
    };
    if is_array {
        if input.fill_buf()?.starts_with(b"\xef\xbb\xbf") {
            input.consume(3);
        }
        let mut de = serde_json::Deserializer::from_reader(input);
        serde::de::DeserializeSeed::deserialize(EachElement(&mut |v| handle(0, v, stats)), &mut de)
            .map_err(|e| crate::DataError::new(format!("{}: not valid JSON: {e}", ctx.file)))?;
        return Ok(());
    }
    let mut line = String::new();
    let mut line_no = 0u64;
    loop {
        line.clear();
        let n = input.read_line(&mut line).with_context(|| format!("reading {}", ctx.file))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let text = line.trim_start_matches('\u{feff}').trim();
        if text.is_empty() {
            continue;
        }
        let v = serde_json::from_str(text).map_err(|e| {
            crate::DataError::new(format!("{}:{line_no}: not valid JSON: {e}", ctx.file))
        })?;
        handle(line_no, v, stats);
    }
    Ok(())
}

/// Calls a function on each element of a JSON array as it is parsed.
struct EachElement<'f>(&'f mut dyn FnMut(serde_json::Value));

impl<'de> serde::de::DeserializeSeed<'de> for EachElement<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for EachElement<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of records")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<serde_json::Value>()? {
            (self.0)(v);
        }
        Ok(())
    }
}

/// One JSON record: an object is a row; anything else is rejected and counted.
fn json_record(
    ctx: &Ctx,
    line: u64,
    row_no: u64,
    v: serde_json::Value,
    stats: &mut ScanStats,
    on_row: &mut dyn FnMut(&Row, &mut ScanStats),
) {
    let reject = |stats: &mut ScanStats, code: &'static str, message: String, value| {
        stats.reject_record(|| RowProblem {
            file: ctx.file.clone(),
            line,
            row: row_no,
            column: None,
            code,
            message,
            value,
        });
    };
    let serde_json::Value::Object(obj) = v else {
        reject(stats, "type-error", "expected a JSON object".into(), Some(preview(&v.to_string())));
        return;
    };
    let keys: Vec<String> = obj.keys().cloned().collect();
    let cells: Vec<Option<String>> = match bind_header(&keys, ctx) {
        Ok(bind) => bind.iter().map(|b| b.and_then(|i| json_text(&obj[&keys[i]]))).collect(),
        Err(e) => {
            let message = match e.downcast_ref::<crate::DataError>() {
                Some(d) => d.message.clone(),
                None => e.to_string(),
            };
            reject(stats, "missing-cell", message, None);
            return;
        }
    };
    let row = Row {
        cells: Cells::Text { cells: &cells },
        line,
        row: row_no,
        ctx,
        naive: std::cell::Cell::new(0),
    };
    on_row(&row, stats);
}
