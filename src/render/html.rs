//! HTML pages beside the Markdown ones. Each page is its Markdown read by a CommonMark parser,
//! so the two cannot drift: the front matter and salescoach's blank markers are dropped, links
//! to other pages point at their HTML, the SVG charts are inlined, the plan's blanks become
//! boxes to write in, and any raw HTML in the text is shown as text, never as markup.

use anyhow::{Context, Result};
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html::push_html};
use std::path::{Path, PathBuf};

const STYLE: &str = include_str!("../../templates/page.css");
const BLANK: &str = "________";

/// The HTML page of a Markdown page. `dir` is the page's folder, where its charts are read from;
/// `file` is its Markdown file name, named where the plan's blanks are.
pub fn page(markdown: &str, dir: &Path, file: &str) -> String {
    let markdown = markdown.trim_start_matches('\u{feff}');
    let ja = is_japanese(markdown);
    let mut events = Vec::new();
    let mut title = String::new();
    let (mut in_meta, mut in_title, mut skip_image) = (false, false, false);
    let mut items = 0usize;
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_STRIKETHROUGH;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Start(Tag::MetadataBlock(_)) => in_meta = true,
            Event::End(TagEnd::MetadataBlock(_)) => in_meta = false,
            _ if in_meta => {}
            _ if skip_image => skip_image = !matches!(event, Event::End(TagEnd::Image)),
            Event::Html(h) | Event::InlineHtml(h) if is_marker(&h) => {}
            Event::Start(Tag::Item) => {
                items += 1;
                events.push(event);
            }
            Event::End(TagEnd::Item) => {
                items = items.saturating_sub(1);
                events.push(event);
            }
            // `- ________` alone in a list item reads as a thematic break: it is a line to write on.
            Event::Rule if items > 0 => {
                events.push(Event::Html("<span class=\"blank line\"></span>".into()))
            }
            Event::Html(h) | Event::InlineHtml(h) => events.push(Event::Text(h)),
            Event::Start(Tag::Heading { level: pulldown_cmark::HeadingLevel::H1, .. })
                if title.is_empty() =>
            {
                in_title = true;
                events.push(event);
            }
            Event::End(TagEnd::Heading(_)) => {
                in_title = false;
                events.push(event);
            }
            Event::Start(Tag::Link { link_type, dest_url, title: t, id }) => {
                let dest_url = html_link(dest_url);
                events.push(Event::Start(Tag::Link { link_type, dest_url, title: t, id }));
            }
            Event::Start(Tag::Image { ref dest_url, .. }) => match inline_svg(dir, dest_url) {
                Some(svg) => {
                    events.push(Event::Html(format!("<span class=\"chart\">{svg}</span>").into()));
                    skip_image = true;
                }
                None => events.push(event),
            },
            Event::Text(t) => {
                if in_title {
                    title.push_str(&t);
                }
                events.push(Event::Text(t));
            }
            other => events.push(other),
        }
    }
    let mut events = with_blanks(merge_texts(events));
    note_where_the_blanks_are(&mut events, file, ja);
    let mut body = String::new();
    push_html(&mut body, events.into_iter());
    let lang = if ja { "ja" } else { "en" };
    let title = escape(if title.is_empty() { file } else { &title });
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )
}

/// Writes `X.html` beside every `X.md` under `root`; returns how many.
pub fn write_pages(root: &Path) -> Result<usize> {
    let mut written = 0;
    for md in markdown_files(root)? {
        let text =
            std::fs::read_to_string(&md).with_context(|| format!("reading {}", md.display()))?;
        write_page(&md, &text, &md.with_extension("html"))?;
        written += 1;
    }
    Ok(written)
}

/// Writes the HTML page of the Markdown `text` of `md` (whose charts sit beside it) to `to`.
pub fn write_page(md: &Path, text: &str, to: &Path) -> Result<()> {
    let dir = md.parent().unwrap_or(Path::new("."));
    let file = md.file_name().and_then(|f| f.to_str()).unwrap_or("");
    std::fs::write(to, page(text, dir, file)).with_context(|| format!("writing {}", to.display()))
}

fn markdown_files(root: &Path) -> Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = crate::io::files_under(root)?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    found.sort();
    Ok(found)
}

fn is_marker(html: &str) -> bool {
    let h = html.trim();
    h.starts_with("<!-- sc:") && h.ends_with("-->") && !h[4..h.len() - 3].contains("--")
}

fn is_japanese(text: &str) -> bool {
    text.chars().any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}'))
}

/// A link to another page of the report points at its HTML; anything else is left as it is.
fn html_link(dest: CowStr<'_>) -> CowStr<'_> {
    let (path, anchor) = dest.split_once('#').map_or((&*dest, None), |(p, a)| (p, Some(a)));
    let local = !dest.contains("://") && !dest.starts_with('/') && !dest.starts_with("mailto:");
    match path.strip_suffix(".md") {
        Some(stem) if local => {
            let anchor = anchor.map(|a| format!("#{a}")).unwrap_or_default();
            CowStr::from(format!("{stem}.html{anchor}"))
        }
        _ => dest,
    }
}

/// The chart a page shows, read from beside it: only a local `.svg` of salescoach's own, which
/// starts with its `<svg` element.
fn inline_svg(dir: &Path, dest: &str) -> Option<String> {
    if dest.contains("://") || dest.contains("..") || !dest.ends_with(".svg") {
        return None;
    }
    let name = percent_decode(dest)?;
    let svg = std::fs::read_to_string(dir.join(name)).ok()?;
    svg.trim_start().starts_with("<svg").then(|| svg.trim().to_string())
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The parser splits a run of text where emphasis might have begun (a run of underscores):
/// joined again, a blank is one piece of text.
fn merge_texts(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    for event in events {
        match (out.last_mut(), event) {
            (Some(Event::Text(prev)), Event::Text(t)) => *prev = format!("{prev}{t}").into(),
            (_, event) => out.push(event),
        }
    }
    out
}

fn with_blanks(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let mut out = Vec::with_capacity(events.len());
    for event in events {
        let Event::Text(text) = &event else {
            out.push(event);
            continue;
        };
        if !text.contains(BLANK) {
            out.push(event);
            continue;
        }
        for (i, part) in text.split(BLANK).enumerate() {
            if i > 0 {
                out.push(Event::Html("<span class=\"blank\"></span>".into()));
            }
            let part = part.trim_start_matches('_').to_string();
            if !part.is_empty() {
                out.push(Event::Text(part.into()));
            }
        }
    }
    out
}

/// Under the heading of the first section with blanks, a line saying where the plan is edited.
fn note_where_the_blanks_are(events: &mut Vec<Event<'_>>, file: &str, ja: bool) {
    let is_blank = |e: &Event| matches!(e, Event::Html(h) if h.contains("class=\"blank"));
    let Some(first) = events.iter().position(is_blank) else { return };
    let Some(heading_end) =
        events[..first].iter().rposition(|e| matches!(e, Event::End(TagEnd::Heading(_))))
    else {
        return;
    };
    let file = escape(file);
    let note = if ja {
        format!(
            "<p class=\"edit-note\">枠は紙に書き込むためのものです。プランの編集用の原本は {file} で、その空欄（________）に書いた内容を <code>salescoach plan import</code> がプランの台帳に読み込みます。</p>"
        )
    } else {
        format!(
            "<p class=\"edit-note\">The boxes are for writing on paper. The editable copy of the plan is {file}: what is written in its blanks (________) is read into the plan ledger by <code>salescoach plan import</code>.</p>"
        )
    };
    events.insert(heading_end + 1, Event::Html(note.into()));
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(md: &str) -> String {
        page(md, Path::new("/nonexistent"), "R1.md")
    }

    #[test]
    fn raw_html_in_the_text_is_shown_as_text() {
        let html = render("# Sheet\n\n<script>alert(1)</script>\n\nName: <b onclick=x>bold</b>\n");
        assert!(!html.contains("<script>") && !html.contains("<b onclick"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
    }

    #[test]
    fn front_matter_and_markers_are_dropped_and_blanks_become_boxes() {
        let md = "---\nplan_id: \"x\"\n---\n# Sheet\n\n## Plan\n\n- Target: ________ (suggested: 38%) <!-- sc:target -->\n- 目標値: ________（提案: 42%、現状 40%） <!-- sc:target -->\n";
        let html = render(md);
        assert!(!html.contains("plan_id") && !html.contains("sc:target"), "{html}");
        assert!(html.contains("<span class=\"blank\"></span> (suggested: 38%)"), "{html}");
        assert!(html.contains("目標値: <span class=\"blank\"></span>（提案"), "{html}");
        assert!(!html.contains("________ (") && !html.contains("________（"), "{html}");
        assert!(
            html.contains("class=\"edit-note\">枠は紙に"),
            "a Japanese page, a Japanese note: {html}"
        );
        assert!(html.contains("<title>Sheet</title>"), "{html}");
    }

    #[test]
    fn a_blank_alone_in_a_list_item_is_a_line_to_write_on() {
        let html = render("# S\n\n## Actions\n\n1. ________\n2. ________\n\n- ________\n");
        assert_eq!(
            html.matches("<li><span class=\"blank line\"></span></li>").count(),
            3,
            "{html}"
        );
        assert!(!html.contains("<hr"), "{html}");
    }

    #[test]
    fn links_to_pages_point_at_their_html_and_others_stay() {
        let html =
            render("[a](reps/R%201.md) [b](data/funnel.csv) [c](board.md#top) [d](http://x/y.md)");
        assert!(html.contains("href=\"reps/R%201.html\""), "{html}");
        assert!(html.contains("href=\"data/funnel.csv\""), "{html}");
        assert!(html.contains("href=\"board.html#top\""), "{html}");
        assert!(html.contains("href=\"http://x/y.md\""), "{html}");
    }

    #[test]
    fn the_language_comes_from_the_text() {
        assert!(render("# コーチングシート\n").contains("<html lang=\"ja\">"));
        assert!(render("# Coaching worksheet\n").contains("<html lang=\"en\">"));
    }

    #[test]
    fn a_chart_beside_the_page_is_inlined() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("R 1.svg"),
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><text>40%</text></svg>\n",
        )
        .unwrap();
        let html = page("# S\n\n![Funnel of R](R%201.svg)\n", dir.path(), "R 1.md");
        assert!(html.contains("<span class=\"chart\"><svg"), "{html}");
        assert!(!html.contains("<img"), "{html}");
    }
}
