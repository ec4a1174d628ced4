//! The HTML pages beside the Markdown ones: they parse, their links resolve, they carry the
//! same numbers as their Markdown, and a hostile name stays text.

use crate::support::{Session, demo_run, files_with, sample};
use scraper::{Html, Node, Selector};
use std::path::{Path, PathBuf};

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The text a reader sees in the page's body, charts left out (they are drawn, not read) and
/// the note on where the plan is edited (the page's own).
fn body_text(doc: &Html) -> String {
    let body = doc.select(&Selector::parse("body").unwrap()).next().unwrap();
    let mut text = String::new();
    for node in body.descendants() {
        let Node::Text(t) = node.value() else { continue };
        let in_chart = node
            .ancestors()
            .filter_map(|a| a.value().as_element())
            .any(|e| e.name() == "svg" || e.attr("class") == Some("edit-note"));
        if !in_chart {
            text.push_str(t);
            text.push(' ');
        }
    }
    text
}

/// The Markdown a reader sees: no front matter, markers, link targets, images or the numbers
/// of ordered lists (HTML draws them).
fn markdown_text(md: &str) -> String {
    let body =
        md.strip_prefix("---\n").and_then(|t| t.split_once("\n---\n")).map_or(md, |(_, b)| b);
    let unnumbered: Vec<&str> = body
        .lines()
        .map(|l| {
            let t = l.trim_start();
            let digits = t.len() - t.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            match t[digits..].strip_prefix(". ") {
                Some(rest) if digits > 0 => rest,
                _ => l,
            }
        })
        .collect();
    let body = &unnumbered.join("\n");
    let mut out = String::new();
    let mut rest: &str = body;
    while let Some(i) = rest.find(['<', '!', ']']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let skip = if tail.starts_with("<!--") {
            tail.find("-->").map(|e| e + 3)
        } else if tail.starts_with("![") {
            tail.find(')').map(|e| e + 1)
        } else if tail.starts_with("](") {
            tail.find(')').map(|e| e + 1)
        } else {
            None
        };
        match skip {
            Some(n) => rest = &tail[n..],
            None => {
                out.push_str(&tail[..1]);
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every number in a text, in order ("266,733", "0.1", "38").
fn numbers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let joins = (c == ',' || c == '.')
            && !current.is_empty()
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        if c.is_ascii_digit() || joins {
            current.push(c);
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

pub fn demo(s: &Session, lang: &str) -> PathBuf {
    let (out, r) = demo_run(s, lang);
    assert!(r.stdout.trim().ends_with("index.html"), "demo prints index.html: {}", r.stdout);
    out
}

#[test]
fn every_html_page_parses_its_links_resolve_and_it_carries_its_markdowns_numbers() {
    let s = Session::new();
    for lang in ["en", "ja"] {
        let out = demo(&s, lang);
        let pages = files_with(&out, "html");
        let sheets = files_with(&out, "md");
        assert_eq!(pages.len(), sheets.len(), "one HTML page per Markdown page");
        let a = Selector::parse("a[href]").unwrap();
        for page in &pages {
            let html = std::fs::read_to_string(page).unwrap();
            let doc = Html::parse_document(&html);
            assert!(doc.errors.is_empty(), "{}: {:?}", page.display(), doc.errors);
            for link in doc.select(&a) {
                let href = link.value().attr("href").unwrap();
                assert!(!href.contains("://"), "{}: {href}", page.display());
                let target = percent_decode(href.split('#').next().unwrap());
                let to = page.parent().unwrap().join(&target);
                assert!(to.exists(), "{}: the link {href} goes nowhere", page.display());
            }
            let md = std::fs::read_to_string(page.with_extension("md")).unwrap();
            assert_eq!(
                numbers(&body_text(&doc)),
                numbers(&markdown_text(&md)),
                "{}: the numbers of the page and of its Markdown",
                page.display()
            );
        }
        let index = std::fs::read_to_string(out.join("2026-03/index.html")).unwrap();
        assert!(index.contains("href=\"board.html\""), "the index links the board page");
        let rep = std::fs::read_to_string(out.join("2026-03/reps/R00012.html")).unwrap();
        assert!(rep.contains("<span class=\"chart\"><svg"), "the chart is inline");
        assert!(
            rep.contains("class=\"blank\"") && rep.contains("R00012.md"),
            "blanks, and where to edit"
        );
    }
}

#[test]
fn a_hostile_name_stays_text_in_the_html() {
    let s = Session::new();
    let hostile =
        ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "</td></tr></table>"];
    let mut roster = String::new();
    for (i, line) in std::fs::read_to_string(sample("roster.csv")).unwrap().lines().enumerate() {
        let mut cells: Vec<String> = line.split(',').map(String::from).collect();
        if let Some(h) = hostile.get(i.wrapping_sub(2)) {
            cells[1] = format!("\"{h}\"");
        }
        roster.push_str(&cells.join(","));
        roster.push('\n');
    }
    let roster = s.write("roster.csv", &roster);
    let out = s.path_str("out");
    let r = s.run(&[
        "plan",
        "--events",
        &sample("events.csv"),
        "--activities",
        &sample("activities.csv"),
        "--roster",
        &roster,
        "--out",
        &out,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (script, img) = (Selector::parse("script").unwrap(), Selector::parse("img").unwrap());
    let pages = files_with(Path::new(&out), "html");
    assert!(pages.len() > 20, "{} pages", pages.len());
    let mut seen = [false; 3];
    for page in pages {
        let html = std::fs::read_to_string(&page).unwrap();
        let doc = Html::parse_document(&html);
        assert!(doc.errors.is_empty(), "{}: {:?}", page.display(), doc.errors);
        assert_eq!(doc.select(&script).count(), 0, "{}", page.display());
        assert_eq!(doc.select(&img).count(), 0, "{}", page.display());
        let text = body_text(&doc);
        for (i, h) in hostile.iter().enumerate() {
            seen[i] |= text.contains(h);
        }
    }
    assert_eq!(seen, [true; 3], "every hostile name is shown, as text");
}

#[test]
fn no_html_writes_only_the_markdown() {
    let s = Session::new();
    let out = s.path_str("r");
    let r = s.run(&[
        "report",
        "--events",
        &sample("events.csv"),
        "--roster",
        &sample("roster.csv"),
        "--period",
        "2026-03",
        "--out",
        &out,
        "--no-html",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.trim().ends_with("index.md"), "{}", r.stdout);
    assert!(files_with(Path::new(&out), "html").is_empty());
    assert!(!files_with(Path::new(&out), "md").is_empty());
}

#[test]
fn an_edited_sheet_kept_by_the_next_run_shows_its_edits_in_its_page() {
    let s = Session::new();
    let out = s.path_str("ws");
    let args = [
        "plan",
        "--events",
        &sample("events.csv"),
        "--roster",
        &sample("roster.csv"),
        "--period",
        "2026-03",
        "--out",
        &out,
    ];
    assert_eq!(s.run(&args).code, 0);
    let sheet = Path::new(&out).join("reps/R00012.md");
    let text = std::fs::read_to_string(&sheet).unwrap();
    let edited = text.replacen("1. ________", "1. Call back every lead within a day", 1);
    assert_ne!(edited, text);
    std::fs::write(&sheet, edited.replace('\n', "\r\n")).unwrap();
    let r = s.run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = std::fs::read_to_string(sheet.with_extension("html")).unwrap();
    assert!(page.contains("Call back every lead within a day"), "the page shows the kept sheet");
}
