//! Exports shaped like real CRMs' (the header lines of ../shared/export-formats.md), with
//! per-step counts checked by hand.

use crate::support::{Session, csv_rows, fixture_str};
use std::collections::HashMap;

fn fx(name: &str) -> String {
    fixture_str(&format!("ingest/{name}"))
}

/// (from, to) → (entered, converted, lost, open) for the whole company over all the data.
pub(crate) fn steps(s: &Session, events: &str) -> HashMap<(String, String), (u64, u64, u64, u64)> {
    let out = s.run(&[
        "funnel", "--events", events, "--by", "company", "--period", "all", "--window", "none",
        "-f", "csv",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let n = |v: &str| v.parse::<u64>().unwrap_or(0);
    csv_rows(&out.stdout)
        .into_iter()
        .map(|r| {
            (
                (r["from_stage"].clone(), r["to_stage"].clone()),
                (n(&r["entered"]), n(&r["converted"]), n(&r["lost"]), n(&r["open"])),
            )
        })
        .collect()
}

fn step(
    m: &HashMap<(String, String), (u64, u64, u64, u64)>,
    a: &str,
    b: &str,
) -> (u64, u64, u64, u64) {
    m[&(a.to_string(), b.to_string())]
}

fn ingest(s: &Session, args: &[&str]) -> String {
    let out = s.path_str("events.csv");
    let mut all = vec!["ingest", "--table", "events", "-o", &out];
    all.extend_from_slice(args);
    let r = s.run(&all);
    assert_eq!(r.code, 0, "{}", r.stderr);
    out
}

#[test]
fn a_snapshot_keeps_the_stage_dates_of_lost_deals() {
    let s = Session::new();
    let events = ingest(
        &s,
        &[
            &fx("hubspot_snapshot_stage_dates.csv"),
            "--mapping",
            &fx("hubspot_snapshot_stage_dates.toml"),
        ],
    );
    let m = steps(&s, &events);
    // By hand: 7 deals. Lost ones reached their furthest dated stage: 9002 proposal, 9003
    // quote, 9006 case, 9004 only the lead. Open: 9005 at quote, 9007 at case. Won: 9001.
    assert_eq!(step(&m, "lead", "case"), (7, 6, 1, 0));
    assert_eq!(step(&m, "case", "proposal"), (6, 4, 1, 1));
    assert_eq!(step(&m, "proposal", "quote"), (4, 3, 1, 0));
    assert_eq!(step(&m, "quote", "won"), (3, 1, 1, 1));
}

#[test]
fn a_stage_dates_export_honours_its_status_column() {
    let s = Session::new();
    let events = ingest(&s, &[&fx("sales_pipeline.csv"), "--mapping", &fx("sales_pipeline.toml")]);
    let rows = csv_rows(&std::fs::read_to_string(&events).unwrap());
    let outcomes: Vec<&str> = rows
        .iter()
        .filter(|r| r["stage"] == "won" || r["stage"] == "lost")
        .map(|r| r["stage"].as_str())
        .collect();
    // One outcome per closed deal, the one deal_stage names: 4 won, 3 lost (not 7 of each).
    assert_eq!(outcomes.iter().filter(|o| **o == "won").count(), 4);
    assert_eq!(outcomes.iter().filter(|o| **o == "lost").count(), 3);
    let m = steps(&s, &events);
    // 9 deals engaged (cases); 4 won, 3 lost, 2 still engaging.
    assert_eq!(step(&m, "case", "proposal"), (9, 4, 3, 2));
    assert_eq!(step(&m, "quote", "won"), (4, 4, 0, 0));

    // Without the status column the shared close date cannot say won from lost: rejected,
    // never counted twice.
    let mapping = std::fs::read_to_string(fx("sales_pipeline.toml")).unwrap();
    let blind = s.write("blind.toml", &mapping.replace("status = \"deal_stage\"\n", ""));
    let r = s.run(&[
        "ingest",
        "--table",
        "events",
        &fx("sales_pipeline.csv"),
        "--mapping",
        &blind,
        "--max-rejects",
        "100",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("map its status column"), "{}", r.stderr);
    let won = csv_rows(&r.stdout).iter().filter(|r| r["stage"] == "won").count();
    assert_eq!(won, 0, "{}", r.stdout);
}

#[test]
fn a_deal_won_then_lost_counts_as_lost_and_is_warned_about() {
    let s = Session::new();
    // 0069 has no owner in Opportunity.csv: that one row is rejected, as in the base fixture.
    let events =
        ingest(&s, &[&fx("salesforce_reclosed"), "--mapping", "salesforce", "--max-rejects", "1"]);
    let m = steps(&s, &events);
    // 0061 went Qualification → Proposal/Price Quote → Closed Won → Closed Lost: it reached the
    // quote stage (the undone win still says so) and was lost there.
    assert_eq!(step(&m, "quote", "won"), (1, 0, 1, 0));
    let f = s.run(&["funnel", "--events", &events, "--by", "company", "-f", "csv"]);
    assert!(f.stderr.contains("1 deal was both won and lost"), "{}", f.stderr);
    let v = s.run(&["validate", &events]);
    assert_eq!(v.code, 0, "a warning, not an error: {}", v.stderr);
    assert!(
        v.stdout.contains("deal 0061 was both won") && v.stdout.contains("[reclosed]"),
        "{}",
        v.stdout
    );
    let strict = s.run(&["validate", "--strict", &events]);
    assert_eq!(strict.code, 1, "a re-close fails --strict: {}", strict.stderr);
}

#[test]
fn a_join_brings_in_the_owner_a_deals_export_lacks() {
    let s = Session::new();
    let args = [
        "ingest",
        "--table",
        "events",
        &fx("pipedrive_deals_no_owner.csv"),
        "--mapping",
        &fx("pipedrive_join_owners.toml"),
        "--max-rejects",
        "5",
    ];
    let r = s.run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // 104 has no row in deal_owners.csv: rejected, counted, named.
    assert!(r.stderr.contains("read 4, written 3, rejected 1"), "{}", r.stderr);
    assert!(r.stderr.contains("deal_owners.csv has Deal ID \"104\""), "{}", r.stderr);
    let events = s.write("events.csv", &r.stdout);
    let m = steps(&s, &events);
    // By hand: 101 won (Aiko Sato), 102 lost at Proposal Made (Ben Kim), 103 open at Contact
    // Made (Aiko Sato).
    assert_eq!(step(&m, "lead", "case"), (3, 3, 0, 0));
    assert_eq!(step(&m, "case", "proposal"), (3, 2, 0, 1));
    assert_eq!(step(&m, "proposal", "quote"), (2, 1, 1, 0));
    assert_eq!(step(&m, "quote", "won"), (1, 1, 0, 0));
    let rows = csv_rows(&r.stdout);
    assert!(rows.iter().filter(|r| r["deal_id"] == "102").all(|r| r["rep_id"] == "Ben Kim"));

    // Kept instead, with a default owner: the lead counts, under "(no owner)".
    let mapping = std::fs::read_to_string(fx("pipedrive_join_owners.toml")).unwrap();
    let keep = mapping
        .replace(
            "columns = { rep_id = \"Owner\" }",
            "columns = { rep_id = \"Owner\" }\nunmatched = \"keep\"",
        )
        .replace("[join]", "[defaults]\nrep_id = \"(no owner)\"\n[join]");
    let keep =
        s.write("keep/mapping.toml", &keep.replace("deal_owners.csv", &fx("deal_owners.csv")));
    let mut args = args.to_vec();
    args[5] = &keep;
    let r = s.run(&args);
    assert!(r.stderr.contains("read 4, written 4, rejected 0"), "{}", r.stderr);
    assert!(r.stdout.contains("104,(no owner),lead,"), "{}", r.stdout);
}

#[test]
fn constants_and_defaults_fill_what_an_export_lacks() {
    let s = Session::new();
    // One rep's own spreadsheet: no rep column, and a row not yet dated.
    let export =
        s.write("mine.csv", "deal,step,date\nD1,lead,2026-01-05\nD1,case,2026-01-09\nD2,lead,\n");
    let mapping = s.write(
        "mine.toml",
        "[columns]\ndeal_id = \"deal\"\nstage = \"step\"\nts = \"date\"\n\
         [constants]\nrep_id = \"R7\"\n[defaults]\nts = \"2026-01-31\"\n",
    );
    let r = s.run(&["ingest", "--table", "events", &export, "--mapping", &mapping]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = csv_rows(&r.stdout);
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["rep_id"] == "R7"));
    assert_eq!(rows[2]["ts"], "2026-01-31T00:00:00Z");
    // A constant or default for a column the table does not have is refused.
    let bad = s.write("bad.toml", "[constants]\nowner = \"R7\"\n");
    let r = s.run(&["ingest", "--table", "events", &export, "--mapping", &bad]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("`owner`, which is not a column"), "{}", r.stderr);
}

#[test]
fn a_preset_can_be_shown_and_its_errors_point_at_the_key_to_set() {
    let s = Session::new();
    // --show prints the preset as a mapping file that ingest reads back.
    let shown = s.run(&["ingest", "--preset", "hubspot-deals", "--show"]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(shown.stdout.contains("rep_id = \"Deal owner\""), "{}", shown.stdout);
    let mapping = s.write("hubspot.toml", &shown.stdout);
    // HubSpot's "All deals" view: BOM, CRLF; a custom stage and no owner column.
    let export = s.write(
        "deals.csv",
        "\u{feff}Record ID,Deal Name,Deal Stage,Close Date,Amount,Create Date\r\n\
         1,A,Closed: abandoned,2026-02-01,,2026-01-05\r\n",
    );
    let r = s.run(&["ingest", "--table", "events", &export, "--preset", "hubspot-deals"]);
    assert_eq!(r.code, 1, "the export failed a check");
    assert!(
        r.stderr.contains("no column for rep_id (looked for \"Deal owner\": set [columns] rep_id)")
            && r.stderr.contains("--preset hubspot-deals --show"),
        "{}",
        r.stderr
    );
    let owned = s.write(
        "owned.csv",
        "Record ID,Deal Name,Deal Stage,Close Date,Deal owner,Amount,Create Date\r\n\
         1,A,Closed: lost to rival,2026-02-01,Aiko Sato,,2026-01-05\r\n",
    );
    let r = s.run(&[
        "ingest",
        "--table",
        "events",
        &owned,
        "--mapping",
        &mapping,
        "--max-rejects",
        "1",
    ]);
    assert!(
        r.stderr.contains("owned.csv:2:")
            && r.stderr
                .contains("map it in the mapping's [stages] (\"Closed: lost to rival\" = \""),
        "{}",
        r.stderr
    );
    let fixed =
        s.write("fixed.toml", &format!("{}\"Closed: lost to rival\" = \"lost\"\n", shown.stdout));
    let r = s.run(&["ingest", "--table", "events", &owned, "--mapping", &fixed]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("1,Aiko Sato,lost,2026-02-01"), "{}", r.stdout);
}

#[test]
fn a_level_named_after_its_column_works_with_by_and_idle_agents_show_zeros() {
    let s = Session::new();
    let roster = s.path_str("roster.csv");
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
        &roster,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let events = ingest(&s, &[&fx("sales_pipeline.csv"), "--mapping", &fx("sales_pipeline.toml")]);
    let by = |level: &str| {
        let out = s.run(&[
            "funnel", "--events", &events, "--roster", &roster, "--by", level, "--period", "all",
            "--window", "none", "-f", "csv",
        ]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        csv_rows(&out.stdout)
    };
    // The office level is named after its column, as the levels mapping wrote it.
    let offices = by("regional_office");
    let central = offices
        .iter()
        .find(|r| {
            r["group_id"] == "Central" && r["from_stage"] == "case" && r["to_stage"] == "proposal"
        })
        .unwrap();
    // By hand: Moses Frase (one won, one lost) and Darcel Schlecht (two won) are in Central.
    assert_eq!(
        (central["level"].as_str(), central["entered"].as_str(), central["converted"].as_str()),
        ("regional_office", "4", "3")
    );
    // Versie Hillebrand has no deals: shown with zeros, not left out.
    let reps = by("rep");
    let versie: Vec<_> = reps.iter().filter(|r| r["group_id"] == "Versie Hillebrand").collect();
    assert!(!versie.is_empty(), "the idle agent is listed");
    assert!(versie.iter().all(|r| r["entered"] == "0" && r["rate"].is_empty()), "{versie:?}");
}

#[test]
fn a_roster_names_managers_by_name_and_a_title_row_is_rejected_alone() {
    let s = Session::new();
    let by_name = s.write(
        "people.csv",
        "person_id,name,role,reports_to\nM1,Dustin Brinkmann,manager,\n\
         R1,Moses Frase,rep,Dustin Brinkmann\nR2,Zane Levy,rep,M1\n",
    );
    let r = s.run(&["ingest", &by_name, "--table", "roster"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("R1,Moses Frase,rep,M1"), "{}", r.stdout);
    assert!(r.stderr.contains("1 reports_to values named a person"), "{}", r.stderr);
    // A sheet with a title line above the table: the title is rejected, the agents are not.
    let titled = s.write(
        "agents.csv",
        "sales_agent,manager,regional_office\nSales team as of 2017,,\n\
         Moses Frase,Dustin Brinkmann,Central\nDarcel Schlecht,Melvin Marxen,Central\n\
         Versie Hillebrand,Dustin Brinkmann,Central\n",
    );
    let r = s.run(&[
        "ingest",
        &titled,
        "--table",
        "roster",
        "--mapping",
        &fx("agents_levels.toml"),
        "--max-rejects",
        "1",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("read 4, written 3, rejected 1"), "{}", r.stderr);
    assert!(
        r.stderr.contains("agents.csv:2: record 1: no regional_office, manager"),
        "{}",
        r.stderr
    );
}

#[test]
fn deleted_deals_are_not_counted_and_a_win_without_its_time_takes_the_close_date() {
    let s = Session::new();
    let export = s.write(
        "pipedrive.csv",
        "Deal - ID,Deal - Title,Deal - Stage,Deal - Status,Deal - Owner,Deal - Deal created,Deal - Won time,Deal - Lost time,Deal - Deal closed on,Deal - Value\n\
         301,A,Negotiations Started,Won,Aiko Sato,2026-01-08 10:00:00,,,2026-02-01 15:00:00,900\n\
         302,B,Contact Made,Deleted,Aiko Sato,2026-01-09 10:00:00,,,,\n\
         303,C,Proposal Made,Lost,Ben Kim,2026-01-10 10:00:00,,2026-02-03 09:00:00,2026-02-03 09:00:00,\n",
    );
    let r = s.run(&["ingest", "--table", "events", &export, "--preset", "pipedrive-deals"]);
    // A deleted deal is dropped by rule and counted, not a reject that stops the run.
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("read 3, written 2, rejected 0, dropped 1"), "{}", r.stderr);
    assert!(r.stderr.contains("deleted in the CRM"), "{}", r.stderr);
    // 301's win has no Won time: it is dated by Deal closed on, not by its creation.
    assert!(r.stdout.contains("301,Aiko Sato,won,2026-02-01T15:00:00Z"), "{}", r.stdout);
    // 303 was lost at Proposal Made: it reached the proposal.
    assert!(r.stdout.contains("303,Ben Kim,proposal,"), "{}", r.stdout);
}

#[test]
fn events_whose_reps_are_not_in_the_roster_are_warned_about() {
    let s = Session::new();
    let events = s.write(
        "events.csv",
        "deal_id,rep_id,stage,ts\nD1,Ren Ito,lead,2026-01-05T00:00:00Z\nD1,Ren Ito,case,2026-01-09T00:00:00Z\n",
    );
    let roster = s.write(
        "roster.csv",
        "person_id,name,role,reports_to\nu1,Mia Chief,Sales Director,\nu2,Dana Ito,Sales Manager,u1\nu3,Ren Ito,Account Executive,u2\n",
    );
    let r = s
        .run(&["funnel", "--events", &events, "--roster", &roster, "--by", "company", "-f", "csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("none of the 1 reps in the events is in the roster (e.g. \"Ren Ito\")"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_flat_roster_of_reps_is_enough_for_the_month_end_report() {
    let s = Session::new();
    // One level of reps under the company: a list of agents, no managers.
    let agents = s.write(
        "agents.csv",
        "sales_agent,team\nMoses Frase,A\nDarcel Schlecht,A\nMarkita Hansen,A\nJames Ascencio,B\n\
         Zane Levy,B\nAnna Snelling,B\nVicki Laflamme,B\nViolet Mclelland,B\n",
    );
    let mapping =
        s.write("flat.toml", "[columns]\nperson_id = \"sales_agent\"\nname = \"sales_agent\"\n");
    let roster = s.path_str("roster.csv");
    let r = s.run(&["ingest", &agents, "--table", "roster", "--mapping", &mapping, "-o", &roster]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let events = ingest(&s, &[&fx("sales_pipeline.csv"), "--mapping", &fx("sales_pipeline.toml")]);
    let out = s.path_str("out");
    let r = s.run(&[
        "report",
        "--events",
        &events,
        "--roster",
        &roster,
        "--out",
        &out,
        "--period",
        "2017-03",
        "--as-of",
        "2017-03-31T23:59:59Z",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(std::path::Path::new(&out).join("index.md").exists());
    let reps = s.run(&[
        "funnel", "--events", &events, "--roster", &roster, "--by", "rep", "--period", "all", "-f",
        "csv",
    ]);
    let ids: std::collections::BTreeSet<String> =
        csv_rows(&reps.stdout).into_iter().map(|r| r["group_id"].clone()).collect();
    // Violet Mclelland has no deals: listed with zeros.
    assert!(ids.contains("Violet Mclelland") && ids.contains("Moses Frase"), "{ids:?}");
}

#[test]
fn a_latin1_salesforce_export_gets_the_encoding_to_give() {
    let s = Session::new();
    for f in ["Lead.csv", "Opportunity.csv", "OpportunityHistory.csv", "User.csv"] {
        let bytes = std::fs::read(fx(&format!("salesforce/{f}"))).unwrap();
        std::fs::create_dir_all(s.path("sf")).unwrap();
        std::fs::write(s.path(&format!("sf/{f}")), bytes).unwrap();
    }
    // An older org's User.csv: Latin-1 bytes (é, ô).
    let mut user = std::fs::read(s.path("sf/User.csv")).unwrap();
    user.extend_from_slice(b"\"0053\",\"k@x\",\"J\xe9r\xf4me\",\"L\xe9ger\",\"AE\",\"j@x\",\"true\",\"00E2\",\"0050\"\n");
    std::fs::write(s.path("sf/User.csv"), user).unwrap();
    let dir = s.path_str("sf");
    let r = s.run(&["ingest", &dir, "--table", "roster", "--preset", "salesforce"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("User.csv:5, column FirstName: bytes that are not UTF-8")
            && r.stderr.contains("--encoding windows-1252"),
        "{}",
        r.stderr
    );
    let r = s.run(&[
        "ingest",
        &dir,
        "--table",
        "roster",
        "--preset",
        "salesforce",
        "--encoding",
        "windows-1252",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("0053,Jérôme Léger"), "{}", r.stdout);
}

/// A lead closed without converting is lost, not open for ever; it is still one record read.
#[test]
fn a_salesforce_lead_closed_unconverted_is_lost() {
    let s = Session::new();
    std::fs::create_dir_all(s.path("sf")).unwrap();
    for f in ["Opportunity.csv", "OpportunityHistory.csv", "User.csv"] {
        std::fs::copy(fx(&format!("salesforce/{f}")), s.path(&format!("sf/{f}"))).unwrap();
    }
    s.write(
        "sf/Lead.csv",
        "\"Id\",\"IsDeleted\",\"Status\",\"OwnerId\",\"IsConverted\",\"ConvertedOpportunityId\",\"CreatedDate\",\"LastModifiedDate\"\n\
         \"00Q7\",\"false\",\"Closed - Not Converted\",\"0051\",\"false\",\"\",\"2026-02-02T08:00:00.000Z\",\"2026-02-20T09:00:00.000Z\"\n\
         \"00Q8\",\"false\",\"Working - Contacted\",\"0051\",\"false\",\"\",\"2026-02-03T08:00:00.000Z\",\"2026-02-21T09:00:00.000Z\"\n",
    );
    let dir = s.path_str("sf");
    let r = s.run(&[
        "ingest",
        &dir,
        "--table",
        "events",
        "--preset",
        "salesforce",
        "--max-rejects",
        "5",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = csv_rows(&r.stdout);
    let of = |deal: &str| -> Vec<(String, String)> {
        rows.iter()
            .filter(|r| r["deal_id"] == deal)
            .map(|r| (r["stage"].clone(), r["ts"].clone()))
            .collect()
    };
    assert_eq!(
        of("00Q7"),
        vec![
            ("lead".to_string(), "2026-02-02T08:00:00Z".to_string()),
            ("lost".to_string(), "2026-02-20T09:00:00Z".to_string())
        ]
    );
    assert_eq!(of("00Q8"), vec![("lead".to_string(), "2026-02-03T08:00:00Z".to_string())]);
    // Every record is written or rejected once, though the closed lead gave two rows.
    let (read, written, rejected, _) = crate::support::ingest_counts(&r.stderr).unwrap();
    assert_eq!(read, written + rejected, "{}", r.stderr);
    assert!(rows.len() as u64 > written, "{} rows from {written} records", rows.len());
}

#[test]
fn the_salesforce_mapping_shown_runs_on_the_folder_with_edited_stage_names() {
    let s = Session::new();
    let folder = fx("salesforce_currencies");
    let preset = s.run(&["ingest", "--table", "events", "--mapping", "salesforce", &folder]);
    assert_eq!(preset.code, 0, "{}", preset.stderr);
    let shown = s.run(&["ingest", "--preset", "salesforce", "--show"]).stdout;
    assert!(shown.contains("layout = \"salesforce\""), "{shown}");
    let mapping = s.write("sf.toml", &shown);
    let r = s.run(&["ingest", "--table", "events", "--mapping", &mapping, &folder]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, preset.stdout, "the shown mapping is what the preset applies");
    assert!(r.stderr.contains("converted to USD with"), "{}", r.stderr);
    // Edited: Prospecting read as a case, not a lead.
    let edited = s.write(
        "edited.toml",
        &shown.replace("\"Prospecting\" = \"lead\"", "\"Prospecting\" = \"case\""),
    );
    let r = s.run(&["ingest", "--table", "events", "--mapping", &edited, &folder]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let leads = |out: &str| csv_rows(out).iter().filter(|r| r["stage"] == "lead").count();
    assert!(leads(&preset.stdout) > 0 && leads(&r.stdout) == 0, "{}", r.stdout);
}

#[test]
fn a_mapping_carries_the_zone_of_its_export() {
    let s = Session::new();
    let export = s.write("deals.csv", "deal_id,rep_id,stage,ts\nD1,R1,lead,2026-03-31 20:00\n");
    let r = s.run(&["ingest", "--table", "events", &export]);
    assert!(r.stderr.contains("set `timezone = \"…\"` in the mapping"), "{}", r.stderr);
    assert!(r.stdout.contains("2026-03-31T20:00:00Z"), "{}", r.stdout);
    let shown = s.run(&["ingest", "--show", "--table", "events"]).stdout;
    let mapping = s.write(
        "zoned.toml",
        &shown.replacen(
            "layout = \"history\"",
            "layout = \"history\"\ntimezone = \"America/Mexico_City\"",
            1,
        ),
    );
    let r = s.run(&["ingest", "--table", "events", &export, "--mapping", &mapping]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // 20:00 in Mexico City (UTC−6) is 02:00 UTC the next day: an April lead.
    assert!(r.stdout.contains("2026-04-01T02:00:00Z"), "{}", r.stdout);
    assert!(!r.stderr.contains("warning: timestamps"), "set on purpose: {}", r.stderr);
    assert!(
        r.stderr.contains("read as America/Mexico_City time (the mapping"),
        "said, not warned: {}",
        r.stderr
    );
    let hubspot = s.run(&["ingest", "--preset", "hubspot-deals", "--show"]).stdout;
    assert!(hubspot.contains("# timezone = "), "{hubspot}");
}
