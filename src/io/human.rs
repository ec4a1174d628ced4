//! Human tables for a terminal: wrapped to its width, with the columns that cannot fit left out.

/// Renders a human table, wrapped to `width` when given, at full width otherwise.
pub fn render_table<S: AsRef<str>>(header: &[&str], rows: &[Vec<S>], width: Option<u16>) -> String {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.force_no_tty();
    match width {
        Some(w) => {
            t.set_width(w);
            t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
        }
        None => {
            t.set_content_arrangement(comfy_table::ContentArrangement::Disabled);
        }
    }
    let keep = columns_that_fit(header, width);
    t.set_header(header[..keep].iter().copied());
    for r in rows {
        t.add_row(r.iter().take(keep).map(|c| c.as_ref()));
    }
    let mut text = t.to_string();
    if keep < header.len() {
        let note = format!(
            "({} more columns not shown at this width: {}; use -f csv, or a wider --width)",
            header.len() - keep,
            header[keep..].join(", ")
        );
        text.push('\n');
        text.push_str(&wrap(&note, width.map_or(usize::MAX, usize::from)));
    }
    text
}

/// Word-wraps a line of prose to a width.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split(' ') {
        let len = word.chars().count();
        if line > 0 && line + 1 + len > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += len;
    }
    out
}

/// How many leading columns fit a width, each needing a few characters of its header, plus
/// borders and padding; at least one.
fn columns_that_fit(header: &[&str], width: Option<u16>) -> usize {
    let Some(width) = width else { return header.len() };
    let mut used = 1;
    for (i, h) in header.iter().enumerate() {
        used += h.chars().count().clamp(4, 8) + 3;
        if used > width as usize {
            return i.max(1);
        }
    }
    header.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_fits_the_width_it_is_given() {
        let rows = vec![vec!["R00001".to_string(), "x ".repeat(200)]];
        let text = render_table(&["rep", "why"], &rows, Some(80));
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
        let wide = render_table(&["rep", "why"], &rows, None);
        assert!(wide.lines().any(|l| l.chars().count() > 200));
    }

    #[test]
    fn columns_that_cannot_fit_are_dropped_with_a_note() {
        let header: Vec<String> = (0..31).map(|i| format!("column_{i}")).collect();
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let rows = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
        let text = render_table(&header, &rows, Some(80));
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
        assert!(text.contains("more columns not shown"), "{text}");
    }
}
