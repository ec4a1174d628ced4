//! A short fuzz run in the normal test suite (stable toolchain): the same entry points as the
//! cargo-fuzz targets under `fuzz/`, on random and export-shaped inputs. The long runs are in
//! README's Development section.

use proptest::prelude::*;
use salescoach::fuzz;

/// Bytes that look like an events export: a header, then rows of cells from a hostile pool.
fn export_like() -> impl Strategy<Value = Vec<u8>> {
    let cell = prop_oneof![
        Just("D1".to_string()),
        Just("R1".to_string()),
        Just("lead".to_string()),
        Just("won".to_string()),
        Just("2026-01-05T10:00:00Z".to_string()),
        Just("9999-12-31T23:59:59".to_string()),
        Just("0000-01-01T00:00:00".to_string()),
        Just("12000.50".to_string()),
        Just("100000000000000000000000000000".to_string()),
        Just("$1,200".to_string()),
        Just("\"quoted, \"\"cell\"\"\"".to_string()),
        Just("\"open quote".to_string()),
        Just("\u{0}".to_string()),
        Just("\u{feff}".to_string()),
        "[ -~]{0,12}",
        ".{0,6}",
    ];
    let row = prop::collection::vec(cell, 0..8);
    (
        prop::collection::vec(row, 0..12),
        prop_oneof![Just(","), Just(";"), Just("\t")],
        any::<bool>(),
    )
        .prop_map(|(rows, sep, crlf)| {
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut out = format!("deal_id{sep}rep_id{sep}stage{sep}ts{sep}amount{eol}");
            for r in rows {
                out.push_str(&r.join(sep));
                out.push_str(eol);
            }
            out.into_bytes()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_record_reader_and_ingest_never_panic(bytes in prop_oneof![export_like(), prop::collection::vec(any::<u8>(), 0..400)]) {
        fuzz::record_reader(&bytes);
    }

    #[test]
    fn validate_never_panics_and_counts_what_it_keeps(bytes in prop_oneof![export_like(), prop::collection::vec(any::<u8>(), 0..400)]) {
        fuzz::validate(&bytes);
    }

    #[test]
    fn timestamps_and_periods_never_panic(text in prop_oneof![
        "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2})?",
        "[0-9]{1,2}/[0-9]{1,2}/[0-9]{1,6} [0-9]{1,2}:[0-9]{2}",
        "[0-9]{1,20}-(W|Q)?[0-9]{1,3}",
        ".{0,30}",
    ]) {
        fuzz::timestamps(&text);
    }

    #[test]
    fn an_accepted_amount_round_trips_through_parquet(text in prop_oneof![
        "[0-9]{1,30}(\\.[0-9]{0,8})?",
        "[-+]?[0-9.]{0,12}",
    ]) {
        fuzz::amounts(&text);
    }

    #[test]
    fn the_playbook_loader_never_panics(text in prop_oneof![
        Just(include_str!("../templates/playbook.toml").to_string()),
        ".{0,200}",
    ], cut in any::<prop::sample::Index>(), insert in ".{0,40}") {
        let at = cut.index(text.len() + 1);
        let at = (0..=at).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        let mutated = format!("{}{}{}", &text[..at], insert, &text[at..]);
        fuzz::playbook(&mutated);
    }
}
