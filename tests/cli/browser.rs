//! The pages in a real browser: headless Chromium renders the index, a rep sheet and the board
//! page to PNG and PDF. A PNG is not blank, a rep sheet prints on one or two A4 pages, and the
//! Japanese pages are set in a font that has their glyphs.
//!
//! `.ci/run` installs Chromium and fonts-noto-cjk and sets SALESCOACH_BROWSER_TESTS=1, which
//! makes a missing browser a failure; elsewhere the test says it was skipped.

use crate::pages::demo;
use crate::support::{Session, files_with};
use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|name| {
        std::env::var_os("PATH")?
            .to_str()?
            .split(':')
            .map(|d| Path::new(d).join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let required = std::env::var("SALESCOACH_BROWSER_TESTS").is_ok_and(|v| v == "1");
        assert!(!required, "SALESCOACH_BROWSER_TESTS=1 but no Chromium on PATH");
        eprintln!("browser test skipped: no Chromium on PATH (.ci/run installs it)");
    }
    found
}

/// Renders `page` headless to `to` (a .png screenshot or a .pdf print).
fn render(browser: &Path, page: &Path, to: &Path, profile: &Path) {
    let what = if to.extension().is_some_and(|e| e == "pdf") {
        format!("--print-to-pdf={}", to.display())
    } else {
        format!("--screenshot={}", to.display())
    };
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--no-pdf-header-footer",
            "--window-size=1100,1400",
            &format!("--user-data-dir={}", profile.display()),
            &what,
            &format!("file://{}", page.display()),
        ])
        .output()
        .expect("Chromium starts");
    assert!(
        to.is_file(),
        "{} was not rendered: {}",
        page.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The share of a PNG's pixels that differ from its top-left pixel (the page's background).
fn inked_share(png: &Path) -> f64 {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(px).collect();
    let background = pixels[0];
    pixels.iter().filter(|p| **p != background).count() as f64 / pixels.len() as f64
}

fn pdf_pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    text.match_indices("/Type /Page")
        .chain(text.match_indices("/Type/Page"))
        .filter(|(i, m)| !text[i + m.len()..].starts_with('s'))
        .count()
}

/// The fonts a PDF names (Chromium draws CFF fonts as Type3 glyphs, named in /FontName).
fn fonts(pdf: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(pdf);
    text.match_indices("/BaseFont /")
        .chain(text.match_indices("/FontName /"))
        .map(|(i, m)| {
            let rest = &text[i + m.len()..];
            rest[..rest.find(|c: char| c.is_whitespace() || c == '/').unwrap_or(rest.len())]
                .to_string()
        })
        .collect()
}

#[test]
fn pages_render_in_headless_chromium_and_a_rep_sheet_prints_on_one_or_two_pages() {
    let Some(browser) = chromium() else { return };
    let s = Session::new();
    let shots = s.path("shots");
    std::fs::create_dir_all(&shots).unwrap();
    let mut jobs = Vec::new();
    for lang in ["en", "ja"] {
        let month = demo(&s, lang).join("2026-03");
        // The longest rep sheet: if it prints on two pages, the others do.
        let longest = files_with(&month.join("reps"), "html")
            .into_iter()
            .max_by_key(|p| std::fs::metadata(p).unwrap().len())
            .unwrap();
        for page in [month.join("index.html"), longest, month.join("board.html")] {
            let name = page.file_stem().unwrap().to_string_lossy().into_owned();
            for ext in ["png", "pdf"] {
                jobs.push((page.clone(), shots.join(format!("{lang}-{name}.{ext}"))));
            }
        }
    }
    // Two at a time: the machine has two cores, and each start of Chromium takes a second.
    for pair in jobs.chunks(2) {
        std::thread::scope(|scope| {
            for (i, (page, to)) in pair.iter().enumerate() {
                let profile = s.path(&format!("profile-{i}"));
                let browser = &browser;
                scope.spawn(move || render(browser, page, to, &profile));
            }
        });
    }
    for (page, to) in &jobs {
        if to.extension().is_some_and(|e| e == "png") {
            let inked = inked_share(to);
            assert!(inked > 0.01, "{}: {inked:.4} of the screenshot is inked", page.display());
            continue;
        }
        let pdf = std::fs::read(to).unwrap();
        let pages = pdf_pages(&pdf);
        assert!(pages >= 1, "{}: no page in the PDF", page.display());
        if page.to_string_lossy().contains("/reps/") {
            assert!(pages <= 2, "{}: the rep sheet prints on {pages} pages", page.display());
        }
        if to.to_string_lossy().contains("/ja-") {
            let fonts = fonts(&pdf);
            assert!(
                fonts.iter().any(|f| f.contains("CJK") || f.contains("JP") || f.contains("Gothic")),
                "{}: the Japanese page is set in {fonts:?}",
                page.display()
            );
        }
    }
}
