//! Opening an export: decoded to UTF-8 as it streams, its delimiter sniffed or given.

use super::dialect::sniff_delimiter;
use super::job::IngestJob;
use crate::io::Source;
use crate::io::quotes::{QuoteGuard, Runaways};
use anyhow::{Context, Result, bail};

/// A CSV reader over a decoded export.
pub(super) type ExportReader = csv::Reader<Box<dyn std::io::Read + Send>>;

/// Opens an export as UTF-8 bytes (decoded as it streams) and finds its delimiter (sniffed from
/// the header, or given). The reader still starts at the header.
pub(super) fn open_input(
    source: &Source,
    args: &IngestJob,
) -> Result<(Box<dyn std::io::Read + Send>, u8, Runaways)> {
    let file = source.to_string();
    let (mut input, decoding) =
        decoded(source.open()?, args.encoding).with_context(|| format!("reading {file}"))?;
    args.values.decoding.set(decoding);
    let mut header_line = Vec::new();
    std::io::BufRead::read_until(&mut input, b'\n', &mut header_line)
        .with_context(|| format!("reading {file}"))?;
    let delimiter = match &args.delimiter {
        Some(d) if d == "\\t" || d == "tab" => b'\t',
        Some(d) if d.len() == 1 => d.as_bytes()[0],
        Some(d) => bail!("--delimiter {d:?}: give one character (or `tab`)"),
        None => sniff_delimiter(&header_line),
    };
    if !args.quiet && args.delimiter.is_none() {
        crate::note!("{file}: delimiter {:?}", delimiter as char);
    }
    let whole = std::io::Read::chain(std::io::Cursor::new(header_line), input);
    let guard = QuoteGuard::new(whole, delimiter);
    let runaways = guard.runaways();
    Ok((Box::new(guard), delimiter, runaways))
}

/// Opens an export as a CSV reader, its header read.
pub(super) fn open_export(
    source: &Source,
    args: &IngestJob,
) -> Result<(ExportReader, Vec<String>)> {
    let (input, delimiter, _blanked_lines_reject_as_short) = open_input(source, args)?;
    let mut rdr = csv::ReaderBuilder::new()
        .buffer_capacity(1 << 20)
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(input);
    let headers = rdr
        .headers()
        .with_context(|| format!("reading the header of {source}"))?
        .iter()
        .map(String::from)
        .collect();
    Ok((rdr, headers))
}

/// An export as UTF-8 bytes, its BOM stripped. Plain UTF-8 (the usual case) is read as it
/// is; an `--encoding` or a UTF-16 BOM puts a streaming decoder in between.
pub(super) fn decoded(
    raw: Box<dyn std::io::Read + Send>,
    enc: Option<&'static encoding_rs::Encoding>,
) -> std::io::Result<(Box<dyn std::io::BufRead + Send>, bool)> {
    use std::io::BufRead;
    // Reads of at least this size go straight from the file into the CSV reader's buffer.
    const CAPACITY: usize = 64 * 1024;
    let mut input = std::io::BufReader::with_capacity(CAPACITY, raw);
    let start = input.fill_buf()?;
    let utf16 = start.starts_with(&[0xFF, 0xFE]) || start.starts_with(&[0xFE, 0xFF]);
    if enc.is_none() && !utf16 {
        if start.starts_with(&[0xEF, 0xBB, 0xBF]) {
            input.consume(3);
        }
        return Ok((Box::new(input), false));
    }
    let mut decoder = encoding_rs_io::DecodeReaderBytesBuilder::new();
    decoder.encoding(enc).strip_bom(true);
    Ok((Box::new(std::io::BufReader::with_capacity(CAPACITY, decoder.build(input))), true))
}
