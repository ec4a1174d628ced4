//! The export's dialect: its encoding and delimiter, and hints when the bytes are not UTF-8.

use anyhow::{Context, Result};

pub fn encoding(name: Option<&str>) -> Result<Option<&'static encoding_rs::Encoding>> {
    let Some(name) = name else { return Ok(None) };
    let label = match name.to_ascii_lowercase().as_str() {
        "cp932" | "shift_jis" | "sjis" => "shift_jis",
        "latin1" => "iso-8859-1",
        other => {
            return encoding_rs::Encoding::for_label(other.as_bytes())
                .map(Some)
                .with_context(|| format!("unknown --encoding {name}"));
        }
    };
    Ok(encoding_rs::Encoding::for_label(label.as_bytes()))
}

/// The delimiter that splits the header into the most columns.
pub(super) fn sniff_delimiter(header_line: &[u8]) -> u8 {
    let count = |d: u8| header_line.iter().filter(|b| **b == d).count();
    // Ties go to the comma, then to the order below.
    [b';', b'\t', b'|']
        .into_iter()
        .fold(b',', |best, d| if count(d) > count(best) { d } else { best })
}

/// Bytes that look like Shift_JIS (CP932) double-byte characters, for the hint.
pub(super) fn looks_like_cp932(bytes: &[u8]) -> bool {
    let (text, _, malformed) = encoding_rs::SHIFT_JIS.decode(bytes);
    !malformed
        && text.chars().any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}'))
}

/// The hint for bytes that are not UTF-8: the encoding they most look like.
pub(super) fn encoding_hint(bytes: &[u8]) -> &'static str {
    if looks_like_cp932(bytes) {
        "; it looks like CP932 (Japanese Excel): try --encoding cp932"
    } else if bytes.iter().any(|b| matches!(b, 0xc0..=0xff)) {
        "; it looks like a Western European code page: try --encoding windows-1252"
    } else {
        "; give --encoding"
    }
}
