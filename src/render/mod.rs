//! Worksheets: the minijinja environment (strict, Markdown-escaping every value), the embedded
//! templates, front matter, safe file names and the SVG funnel chart.

pub mod html;

use anyhow::{Result, anyhow};
use minijinja::value::Value;
use minijinja::{Environment, UndefinedBehavior};
use std::path::Path;

/// The built-in templates: (language, name, text).
pub const TEMPLATES: &[(&str, &str, &str)] = &[
    ("en", "rep.md.j2", include_str!("../../templates/en/rep.md.j2")),
    ("en", "manager.md.j2", include_str!("../../templates/en/manager.md.j2")),
    ("en", "director.md.j2", include_str!("../../templates/en/director.md.j2")),
    ("en", "board.md.j2", include_str!("../../templates/en/board.md.j2")),
    ("ja", "rep.md.j2", include_str!("../../templates/ja/rep.md.j2")),
    ("ja", "manager.md.j2", include_str!("../../templates/ja/manager.md.j2")),
    ("ja", "director.md.j2", include_str!("../../templates/ja/director.md.j2")),
    ("ja", "board.md.j2", include_str!("../../templates/ja/board.md.j2")),
];

/// Escapes a data value for Markdown: table pipes, HTML, link brackets, emphasis, code,
/// headings and line breaks cannot come from data, and bidirectional controls are dropped.
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '|' | '[' | ']' | '*' | '_' | '`' | '\\' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' | '\t' => out.push(' '),
            '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a relative file name for a Markdown link destination.
pub fn link_target(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The environment worksheets render in. Every value printed with `{{ … }}` is escaped for
/// Markdown unless the code marked it safe; an undefined name is an error.
pub fn environment(templates: Option<&Path>) -> Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| anyhow!("template syntax: {e}"))?;
    env.set_syntax(syntax);
    env.set_formatter(|out, _state, value| {
        if value.is_safe() {
            write!(out, "{value}")?;
        } else if let Some(s) = value.as_str() {
            out.write_str(&escape_markdown(s))?;
        } else if value.is_none() || value.is_undefined() {
            out.write_str("—")?;
        } else {
            out.write_str(&escape_markdown(&value.to_string()))?;
        }
        Ok(())
    });
    for (lang, name, text) in TEMPLATES {
        let full = format!("{lang}/{name}");
        let custom = templates.map(|d| d.join(lang).join(name)).filter(|p| p.exists());
        let text = match custom {
            Some(p) => std::fs::read_to_string(&p)
                .map_err(|e| anyhow!("reading template {}: {e}", p.display()))?,
            None => text.to_string(),
        };
        env.add_template_owned(full.clone(), text).map_err(|e| template_error(&e, templates))?;
    }
    Ok(env)
}

/// A template error with the file and line, so that a user's template is easy to fix.
pub fn template_error(e: &minijinja::Error, dir: Option<&Path>) -> anyhow::Error {
    let file = e.name().map_or_else(
        || "template".to_string(),
        |n| dir.map_or_else(|| format!("templates/{n}"), |d| d.join(n).display().to_string()),
    );
    let line = e.line().map_or(String::new(), |l| format!(":{l}"));
    let detail = e.detail().map_or(String::new(), |d| format!(": {d}"));
    anyhow!("{file}{line}: {}{detail}", e.kind())
}

pub fn render(
    env: &Environment,
    lang: &str,
    name: &str,
    ctx: Value,
    dir: Option<&Path>,
) -> Result<String> {
    let t = env.get_template(&format!("{lang}/{name}")).map_err(|e| template_error(&e, dir))?;
    t.render(ctx).map_err(|e| template_error(&e, dir))
}

/// A stable 64-bit FNV-1a hash, for the front matter's checksum (stable across versions).
pub fn checksum(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// A worksheet's text as any editor may have saved it, read one way: UTF-16 decoded, a byte-
/// order mark dropped, CRLF and lone CR line ends read as LF.
pub fn sheet_text(bytes: &[u8]) -> Result<String, String> {
    let text = if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let enc = if bytes[0] == 0xFF { encoding_rs::UTF_16LE } else { encoding_rs::UTF_16BE };
        let (text, had_errors) = enc.decode_with_bom_removal(bytes);
        if had_errors {
            return Err("not valid UTF-16".into());
        }
        text.into_owned()
    } else {
        let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
        String::from_utf8(bytes.to_vec()).map_err(|e| {
            format!(
                "not UTF-8 (invalid byte at {}); save it as UTF-8",
                e.utf8_error().valid_up_to()
            )
        })?
    };
    Ok(text.replace("\r\n", "\n").replace('\r', "\n"))
}

/// What the checksum covers: the whole sheet (front matter and body) with line ends as LF,
/// trailing spaces and blank lines off, and the checksum's own line left out. So an editor
/// that saves with CRLF, a BOM or trimmed spaces changes nothing, and an edit anywhere,
/// front matter included, shows.
fn checksummed(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines().filter(|l| !l.starts_with("checksum:")) {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
    out
}

/// Seals a sheet written as front matter and body: its checksum goes last in the front matter.
pub fn seal(text: &str) -> String {
    let sum = checksum(&checksummed(text));
    match text.strip_prefix("---\n").and_then(|rest| rest.find("\n---\n").map(|i| i + 4)) {
        Some(end) => format!("{}\nchecksum: \"{sum}\"{}", &text[..end], &text[end..]),
        None => text.to_string(),
    }
}

/// Whether a sheet is as the tool sealed it: `Some(true)` unchanged, `Some(false)` edited, its
/// checksum removed or its front matter broken, `None` a page with no front matter (the tool
/// seals only sheets that carry a plan). Sheets sealed by earlier versions (a checksum of the
/// body alone) are recognised too.
pub fn unchanged_since_sealed(text: &str) -> Option<bool> {
    let normal = text.strip_prefix('\u{feff}').unwrap_or(text).replace("\r\n", "\n");
    if !normal.starts_with("---") {
        return None;
    }
    let Some((fields, body)) = parse_front_matter(&normal) else { return Some(false) };
    let Some((_, sum)) = fields.iter().find(|(k, _)| k == "checksum") else { return Some(false) };
    Some(*sum == checksum(&checksummed(&normal)) || *sum == checksum(body))
}

/// YAML front matter from (key, value) pairs; values are JSON strings or numbers (valid YAML).
pub fn front_matter(fields: &[(&str, serde_json::Value)]) -> String {
    let mut out = String::from("---\n");
    for (k, v) in fields {
        // `<`, `&` and bidirectional controls as JSON escapes, so that no renderer reads
        // HTML or reordered text from the plan.
        let v: String = v
            .to_string()
            .chars()
            .map(|c| match c {
                '<'
                | '&'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}' => {
                    format!("\\u{:04x}", c as u32)
                }
                c => c.to_string(),
            })
            .collect();
        out.push_str(&format!("{k}: {v}\n"));
    }
    out.push_str("---\n");
    out
}

/// Splits a worksheet into its front matter fields and body. Returns `None` without front matter.
pub fn parse_front_matter(text: &str) -> Option<(Vec<(String, String)>, &str)> {
    let rest = text.strip_prefix("---\n")?;
    let end = rest.find("\n---\n")?;
    let fields = rest[..end]
        .lines()
        .filter_map(|l| l.split_once(": ").or_else(|| l.strip_suffix(':').map(|k| (k, ""))))
        .map(|(k, v)| {
            let v = v.trim();
            let v = serde_json::from_str::<String>(v)
                .unwrap_or_else(|_| v.trim_matches('\'').to_string());
            (k.trim().to_string(), v)
        })
        .collect();
    Some((fields, &rest[end + 5..]))
}

const RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// A file name from an id: letters, digits, `-`, `_` and `.` kept, anything else `_`; no leading
/// dot; reserved device names prefixed; at most 240 bytes, cut on a character boundary.
pub fn safe_file_stem(id: &str) -> String {
    let mut s: String = id
        .chars()
        .map(|c| if c.is_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' })
        .collect();
    if s.starts_with('.') {
        s.replace_range(0..1, "_");
    }
    if s.is_empty() {
        s.push('_');
    }
    let base = s.split('.').next().unwrap_or("").to_ascii_uppercase();
    if RESERVED.contains(&base.as_str()) {
        s.insert(0, '_');
    }
    let mut cut = s.len().min(240);
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s
}

/// Gives every id its own file stem, adding `~2`, `~3`… when two ids sanitise alike.
#[derive(Default)]
pub struct FileNames {
    used: std::collections::HashSet<String>,
}

impl FileNames {
    pub fn stem(&mut self, id: &str) -> String {
        let base = safe_file_stem(id);
        let mut candidate = base.clone();
        let mut n = 2;
        while !self.used.insert(candidate.to_lowercase()) {
            candidate = format!("{base}~{n}");
            n += 1;
        }
        candidate
    }
}

fn xml(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&apos;".into(),
            c => c.to_string(),
        })
        .collect()
}

/// One bar of the funnel chart: a step, the rep's rate and the benchmark.
pub struct ChartBar {
    pub label: String,
    pub rate: Option<f64>,
    pub benchmark: Option<f64>,
    pub focus: bool,
    /// The value as written beside the bar when it is not a rate (a volume, scaled into the
    /// bar's length by the caller).
    pub text: Option<String>,
}

/// A plain-SVG horizontal bar chart of a rep's step-up rates, with the peers' benchmark as a
/// tick on each bar.
pub fn funnel_svg(title: &str, bars: &[ChartBar], ja: bool) -> String {
    let (w, row, left, top) = (560.0, 34.0, 170.0, 40.0);
    let h = top + row * bars.len() as f64 + 30.0;
    let scale = w - left - 60.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"13\">\n<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
        xml(title)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = top + row * i as f64;
        let rate = b.rate.unwrap_or(0.0).clamp(0.0, 1.0);
        let fill = if b.focus { "#d9534f" } else { "#4a7ab5" };
        s.push_str(&format!("<text x=\"10\" y=\"{:.0}\">{}</text>\n", y + 17.0, xml(&b.label)));
        s.push_str(&format!(
            "<rect x=\"{left}\" y=\"{y:.0}\" width=\"{:.1}\" height=\"22\" fill=\"{fill}\"/>\n",
            rate * scale
        ));
        let text = b
            .text
            .clone()
            .unwrap_or_else(|| b.rate.map_or("—".to_string(), |r| format!("{:.0}%", r * 100.0)));
        // The label goes past the benchmark tick when the two would touch.
        let end = match b.benchmark {
            Some(bm) if (bm.clamp(0.0, 1.0) - rate).abs() * scale < 34.0 => {
                rate.max(bm.clamp(0.0, 1.0))
            }
            _ => rate,
        };
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.0}\">{text}</text>\n",
            left + end * scale + 6.0,
            y + 16.0
        ));
        if let Some(bm) = b.benchmark {
            let x = left + bm.clamp(0.0, 1.0) * scale;
            s.push_str(&format!(
                "<line x1=\"{x:.1}\" y1=\"{:.0}\" x2=\"{x:.1}\" y2=\"{:.0}\" stroke=\"#222\" stroke-width=\"2\"/>\n",
                y - 3.0,
                y + 25.0
            ));
        }
    }
    // The legend names only what is drawn: ticks only where there are benchmarks.
    let ticks = bars.iter().any(|b| b.benchmark.is_some());
    let legend = match (ticks, ja) {
        (true, false) => "bar: this rep · black tick: peers' benchmark",
        (true, true) => "棒: 本人 · 黒い目盛り: 他の担当者の基準",
        (false, false) => "bar: the step-up rate of each step",
        (false, true) => "棒: 各ステップのステップアップ率",
    };
    s.push_str(&format!(
        "<text x=\"{left}\" y=\"{:.0}\" fill=\"#555\">{legend}</text>\n</svg>\n",
        h - 8.0
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escaping_neutralises_structure() {
        assert_eq!(escape_markdown("a|b"), "a\\|b");
        assert_eq!(escape_markdown("<script>"), "&lt;script&gt;");
        assert_eq!(escape_markdown("[x](http://e)"), "\\[x\\](http://e)");
        assert_eq!(escape_markdown("a\nb\u{202e}c"), "a bc");
    }

    #[test]
    fn file_names_are_safe_and_unique() {
        assert_eq!(safe_file_stem("../../etc/passwd"), "_._.._etc_passwd");
        assert_eq!(safe_file_stem("CON"), "_CON");
        assert_eq!(safe_file_stem("con.txt"), "_con.txt");
        assert_eq!(safe_file_stem(""), "_");
        let long = "山".repeat(100);
        let s = safe_file_stem(&long);
        assert!(s.len() <= 240 && s.chars().all(|c| c == '山'));
        let mut names = FileNames::default();
        assert_eq!(names.stem("a/b"), "a_b");
        assert_eq!(names.stem("a_b"), "a_b~2");
    }

    #[test]
    fn front_matter_round_trips() {
        let fm =
            front_matter(&[("plan_id", "2026-03:<R&1>".into()), ("baseline_rate", 0.25.into())]);
        assert!(!fm.contains('<'));
        let text = format!("{fm}# body\n");
        let (fields, body) = parse_front_matter(&text).unwrap();
        assert_eq!(fields[0], ("plan_id".into(), "2026-03:<R&1>".into()));
        assert_eq!(fields[1], ("baseline_rate".into(), "0.25".into()));
        assert_eq!(body, "# body\n");
    }
}
