//! `salescoach ingest`: exports in, canonical tables out, nothing lost.

use crate::support::{Session, csv_rows, fixture_str, ingest_counts};
use proptest::prelude::*;

fn fx(name: &str) -> String {
    fixture_str(&format!("ingest/{name}"))
}

/// (read, written, rejected) from the summary line.
fn counts(stderr: &str) -> (u64, u64, u64) {
    let (read, written, rejected, _) =
        ingest_counts(stderr).unwrap_or_else(|| panic!("no summary line: {stderr}"));
    (read, written, rejected)
}

#[test]
fn canonical_tables_pass_through_unchanged() {
    let s = Session::new();
    let out = s.path_str("events.csv");
    let r = s.run(&[
        "ingest",
        &fixture_str("../../sample-data/events.csv"),
        "--table",
        "events",
        "-o",
        &out,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(counts(&r.stderr), (12877, 12877, 0));
    let funnel = |events: &str| s.run(&["funnel", "--events", events, "-f", "csv"]).stdout;
    assert_eq!(funnel(&out), funnel(&fixture_str("../../sample-data/events.csv")));
}

#[test]
fn a_salesforce_history_export_through_a_mapping_with_rejects() {
    let s = Session::new();
    let out = s.path_str("events.csv");
    let rejects = s.path_str("rejects.csv");
    let args = [
        "ingest",
        &fx("sf_opportunity_history.csv"),
        "--table",
        "events",
        "--mapping",
        &fx("sf_history.toml"),
        "-o",
        &out,
        "--rejects",
        &rejects,
    ];
    // Two bad records and the default --max-rejects 0: nothing is written, exit 1.
    let strict = s.run(&args);
    assert_eq!(strict.code, 1);
    assert!(!std::path::Path::new(&out).exists());
    let rows = csv_rows(&std::fs::read_to_string(&rejects).unwrap());
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0]["line"].as_str(), rows[0]["column"].as_str(), rows[0]["code"].as_str()),
        ("4", "stage", "constraint-error")
    );
    assert_eq!(
        (rows[1]["record"].as_str(), rows[1]["column"].as_str(), rows[1]["code"].as_str()),
        ("4", "ts", "type-error")
    );
    let mut lenient = args.to_vec();
    lenient.extend(["--max-rejects", "2"]);
    let r = s.run(&lenient);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(counts(&r.stderr), (4, 2, 2));
    let events = csv_rows(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(events[0]["stage"], "lead");
    assert_eq!(events[1]["stage"], "quote");
    assert_eq!(events[0]["ts"], "2026-03-14T09:00:00Z");
    assert_eq!(events[1]["amount"], "1200");
}

#[test]
fn dialects_and_encodings() {
    let s = Session::new();
    let bom = s.run(&["ingest", &fx("bom_crlf.events.csv"), "--table", "events"]);
    assert_eq!(bom.code, 0, "{}", bom.stderr);
    assert!(bom.stdout.contains("D1,R1,won,2026-02-01T00:00:00Z"), "{}", bom.stdout);
    let utf16 = s.run(&["ingest", &fx("utf16.roster.csv"), "--table", "roster"]);
    assert_eq!(utf16.code, 0, "{}", utf16.stderr);
    assert!(utf16.stdout.contains("M1,山田,manager"));
    let sjis = s.run(&["ingest", &fx("cp932.roster.csv"), "--table", "roster"]);
    assert_eq!(sjis.code, 1);
    assert!(
        sjis.stderr.contains("cp932.roster.csv:2")
            && sjis.stderr.contains("byte offset")
            && sjis.stderr.contains("--encoding cp932"),
        "{}",
        sjis.stderr
    );
    assert!(sjis.stderr.contains("delimiter") || sjis.stderr.contains("invalid UTF-8"));
    let decoded =
        s.run(&["ingest", &fx("cp932.roster.csv"), "--table", "roster", "--encoding", "cp932"]);
    assert_eq!(decoded.code, 0, "{}", decoded.stderr);
    assert!(decoded.stdout.contains("M1,山田,manager") && decoded.stderr.contains("delimiter ';'"));
    let tabs =
        s.run(&["ingest", &fx("tabs.events.tsv"), "--table", "events", "--tz", "Asia/Tokyo"]);
    assert_eq!(tabs.code, 0, "{}", tabs.stderr);
    assert!(
        tabs.stdout.contains("2026-01-01T00:00:00Z"),
        "09:00 in Tokyo is midnight UTC: {}",
        tabs.stdout
    );
}

#[test]
fn nul_bytes_and_huge_fields_are_rejected_with_a_preview() {
    let s = Session::new();
    let mut bytes = b"deal_id,rep_id,stage,ts\nD1,R1,lead,2026-01-01T00:00:00Z\nD2,R\x001,lead,2026-01-01T00:00:00Z\nD3,R1,".to_vec();
    bytes.extend(std::iter::repeat_n(b'x', 1100 * 1024));
    bytes.extend(b",2026-01-01T00:00:00Z\n");
    let path = s.path("big.events.csv");
    std::fs::write(&path, bytes).unwrap();
    let rejects = s.path_str("rejects.csv");
    let r = s.run(&[
        "ingest",
        path.to_str().unwrap(),
        "--table",
        "events",
        "--rejects",
        &rejects,
        "--max-rejects",
        "10",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(counts(&r.stderr), (3, 1, 2));
    let report = std::fs::read_to_string(&rejects).unwrap();
    assert!(report.contains("NUL byte") && report.contains("at most 1048576"));
    assert!(report.len() < 2000, "the 1.1 MB field is previewed, not echoed");
}

#[test]
fn output_never_overwrites_an_input() {
    let s = Session::new();
    let path = s.write("events.csv", "deal_id,rep_id,stage,ts\nD1,R1,lead,2026-01-01T00:00:00Z\n");
    let r = s.run(&["ingest", &path, "--table", "events", "-o", &path]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("over the input"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Random valid and corrupted records: never a crash, and every record is counted once.
    #[test]
    fn every_record_is_written_or_rejected(rows in prop::collection::vec(
        (0u8..6, "[A-Za-z0-9 ,;\"]{0,8}", 0u32..400),
        1..30,
    )) {
        let s = Session::new();
        let stages = ["lead", "case", "Closed Won", "nope", "", "商談"];
        let mut text = String::from("deal_id,rep_id,stage,ts,amount\n");
        for (stage, noise, day) in &rows {
            // An unquoted field cannot hold a quote without changing the record count.
            let ts = if *day < 365 { "2026-01-01T00:00:00Z".to_string() } else { noise.replace('"', "") };
            let amount = if day % 7 == 0 { noise.clone() } else { format!("{day}.5") };
            text += &format!("D{day},R{},\"{}\",{ts},\"{}\"\n", day % 3, stages[*stage as usize], amount.replace('"', ""));
        }
        let path = s.write("e.csv", &text);
        let r = s.run(&["ingest", &path, "--table", "events", "--max-rejects", "1000", "-o", &s.path_str("out.csv")]);
        prop_assert!(r.code == 0, "{}", r.stderr);
        let (read, written, rejected) = counts(&r.stderr);
        prop_assert_eq!(read, rows.len() as u64);
        prop_assert_eq!(read, written + rejected);
    }
}

#[test]
fn snapshot_exports_imply_the_earlier_stages_and_mark_inferred_dates() {
    let s = Session::new();
    let r = s.run(&[
        "ingest",
        &fx("hubspot_all_deals.csv"),
        "--table",
        "events",
        "--mapping",
        "hubspot-deals",
        "--max-rejects",
        "1",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(counts(&r.stderr), (4, 3, 1));
    let rows = csv_rows(&r.stdout);
    let deal = |id: &str| {
        rows.iter()
            .filter(|r| r["deal_id"] == id)
            .map(|r| (r["stage"].clone(), r["inferred"].clone()))
            .collect::<Vec<_>>()
    };
    let st = |a: &str, b: &str| (a.to_string(), b.to_string());
    // Contract Sent is the quote stage: lead (Create Date) and three inferred stages.
    assert_eq!(
        deal("101"),
        vec![st("lead", "false"), st("case", "true"), st("proposal", "true"), st("quote", "true")]
    );
    // A lost deal implies only that it was a lead.
    assert_eq!(deal("103"), vec![st("lead", "false"), st("lost", "false")]);
    // The inferred quote of a won deal takes the nearest known date: its close date.
    let quote = rows.iter().find(|r| r["deal_id"] == "102" && r["stage"] == "quote").unwrap();
    assert_eq!(quote["ts"], "2026-03-20T00:00:00Z");
    let p = s.run(&[
        "ingest",
        &fx("pipedrive_deals.csv"),
        "--table",
        "events",
        "--mapping",
        "pipedrive-deals",
        "--tz",
        "Europe/Berlin",
    ]);
    assert_eq!(p.code, 0, "{}", p.stderr);
    let rows = csv_rows(&p.stdout);
    let won: Vec<&str> =
        rows.iter().filter(|r| r["deal_id"] == "7").map(|r| r["stage"].as_str()).collect();
    assert_eq!(
        won,
        ["lead", "case", "proposal", "quote", "won"],
        "the status column overrides the stage"
    );
    assert!(
        rows.iter().any(|r| r["deal_id"] == "7"
            && r["stage"] == "won"
            && r["ts"] == "2026-02-01T08:30:00Z")
    );
    assert_eq!(rows.iter().filter(|r| r["deal_id"] == "8").count(), 2);
}

#[test]
fn stage_date_columns_unpivot_into_events() {
    let s = Session::new();
    let r = s.run(&[
        "ingest",
        &fx("hubspot_stage_dates.csv"),
        "--table",
        "events",
        "--mapping",
        &fx("hubspot_stage_dates.toml"),
        "--max-rejects",
        "1",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(counts(&r.stderr), (3, 2, 1), "the deal without any date is rejected");
    let rows = csv_rows(&r.stdout);
    let stages: Vec<&str> =
        rows.iter().filter(|r| r["deal_id"] == "202").map(|r| r["stage"].as_str()).collect();
    assert_eq!(stages, ["lead", "case", "quote", "won"]);
    assert!(rows.iter().all(|r| r["inferred"] == "false"));
    // The funnel fills the skipped proposal stage at the quote's time.
    let events = s.write("events.csv", &r.stdout);
    let f =
        csv_rows(&s.run(&["funnel", "--events", &events, "--by", "company", "-f", "csv"]).stdout);
    let prop = f
        .iter()
        .find(|x| {
            x["period"] == "2026-02" && x["from_stage"] == "proposal" && x["to_stage"] == "quote"
        })
        .unwrap();
    assert_eq!((prop["entered"].as_str(), prop["converted"].as_str()), ("1", "1"));
}

#[test]
fn a_roster_from_level_columns_creates_the_tree() {
    let s = Session::new();
    let out = s.path_str("roster.csv");
    let r = s.run(&[
        "ingest",
        &fx("agents_levels.csv"),
        "--table",
        "roster",
        "--mapping",
        &fx("agents_levels.toml"),
        "--max-rejects",
        "1",
        "-o",
        &out,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(counts(&r.stderr), (4, 3, 1), "a manager under two offices is rejected");
    let rows = csv_rows(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(rows.len(), 6, "one office, two managers, three agents, each once");
    let find = |id: &str| rows.iter().find(|r| r["person_id"] == id).unwrap();
    assert_eq!(find("Central")["reports_to"], "");
    assert_eq!(find("Dustin Brinkmann")["reports_to"], "Central");
    assert_eq!(find("Versie Hillebrand")["reports_to"], "Dustin Brinkmann");
    // And the result is a valid roster tree.
    assert_eq!(s.run(&["validate", &out]).code, 0);
}

#[test]
fn a_salesforce_data_export_folder_joins_owners_leads_and_users() {
    let s = Session::new();
    let dir = fx("salesforce");
    let r = s.run(&[
        "ingest",
        &dir,
        "--table",
        "events",
        "--mapping",
        "salesforce",
        "--max-rejects",
        "1",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(counts(&r.stderr), (7, 6, 1));
    assert!(
        r.stderr.contains("opportunity 0069 has no owner") && r.stderr.contains("foreign-key"),
        "{}",
        r.stderr
    );
    let rows = csv_rows(&r.stdout);
    let acme: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| r["deal_id"] == "0061")
        .map(|r| (r["stage"].as_str(), r["rep_id"].as_str()))
        .collect();
    assert_eq!(
        acme,
        [("case", "0051"), ("proposal", "0051"), ("won", "0051"), ("lead", "0051")],
        "history with the joined owner, then the converted lead"
    );
    assert!(
        rows.iter().any(|r| r["deal_id"] == "00Q2" && r["stage"] == "lead"),
        "an unconverted lead is a lead"
    );
    let roster = s.run(&["ingest", &dir, "--table", "roster", "--mapping", "salesforce"]);
    assert_eq!(roster.code, 0, "{}", roster.stderr);
    let people = csv_rows(&roster.stdout);
    assert_eq!(people.len(), 3);
    assert_eq!(people[0]["reports_to"], "", "the null reference id is no manager");
    assert_eq!(people[1]["name"], "Rei Sato");
    // The job title, which a playbook's [roles] can map to a level, not the role's id.
    assert_eq!(people[0]["role"], "VP Sales");
    assert_eq!(people[1]["role"], "Account Executive");
}

#[test]
fn amounts_with_symbols_grouping_or_a_decimal_comma_need_their_options() {
    let s = Session::new();
    let path = s.write(
        "eu.events.csv",
        "deal_id;rep_id;stage;ts;amount\nD1;R1;won;2026-01-01T00:00:00Z;€ 1.234,50\n",
    );
    let plain = s.run(&["ingest", &path, "--table", "events", "--max-rejects", "1"]);
    assert_eq!(counts(&plain.stderr), (1, 0, 1), "never guessed: {}", plain.stderr);
    let eu = s.run(&[
        "ingest",
        &path,
        "--table",
        "events",
        "--currency-symbols",
        "--group-separator",
        ".",
        "--decimal-comma",
    ]);
    assert_eq!(eu.code, 0, "{}", eu.stderr);
    assert!(eu.stdout.contains(",1234.5,"), "{}", eu.stdout);
}

#[test]
fn a_runaway_record_is_rejected_by_size_without_being_kept() {
    let s = Session::new();
    let runaway = "x".repeat(5000);
    let text = format!(
        "deal_id,rep_id,stage,ts\nD1,R1,lead,2026-01-01T00:00:00Z\nD2,\"{runaway}\",lead,2026-01-01T00:00:00Z\nD3,R1,lead,2026-01-02T00:00:00Z\n"
    );
    let path = s.write("e.csv", &text);
    let args = ["ingest", &path, "--table", "events", "--max-field-bytes", "100"];
    let r = s.run(&[&args[..], &["--max-rejects", "1"]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(counts(&r.stderr), (3, 2, 1));
    assert!(
        r.stderr.contains("e.csv:3: record 2: a record of 5026 bytes (at most 800"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("D3,R1,lead"));
}

/// A --date-format with an offset reads an instant, not shifted again by --tz; one without an
/// offset is a wall time in --tz, and the run says so.
#[test]
fn date_formats_with_and_without_an_offset_under_a_time_zone() {
    let s = Session::new();
    let path = s.write(
        "df.events.csv",
        "deal_id,rep_id,stage,ts\nD1,R1,lead,01/05/2026 10:32\nD2,R1,lead,2026-01-05 10:32 +0900\n",
    );
    let r = s.run(&[
        "ingest",
        &path,
        "--table",
        "events",
        "--date-format",
        "%m/%d/%Y %H:%M",
        "--date-format",
        "%Y-%m-%d %H:%M %z",
        "--tz",
        "Asia/Tokyo",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = csv_rows(&r.stdout);
    assert_eq!(rows[0]["ts"], "2026-01-05T01:32:00Z");
    assert_eq!(rows[1]["ts"], "2026-01-05T01:32:00Z");
    assert!(r.stderr.contains("read as Asia/Tokyo time"), "{}", r.stderr);
}
