//! A pipeline of one's own in one step: `init --stages` through `report`, and a playbook
//! written for another pipeline loading with warnings instead of refusals.

use crate::support::{Session, csv_rows};

const LABELS: &str = "Interés,Diseño Propuesta,Demo,Negociación,Contrato,Ganado,Perdido";

#[test]
fn a_six_stage_spanish_pipeline_runs_from_init_to_report() {
    let s = Session::new();
    let dir = s.path_str("es");
    let r = s.run(&["init", &dir, "--stages", LABELS]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("Diseño Propuesta (diseno_propuesta)"), "{}", r.stderr);
    assert!(r.stderr.contains("lost: Perdido (perdido)"), "{}", r.stderr);
    let config = s.path_str("es/playbook.toml");
    let data = s.path_str("data");
    let g = s.run(&[
        "generate",
        "--config",
        &config,
        "--out",
        &data,
        "--seed",
        "5",
        "--directors",
        "1",
        "--managers",
        "2",
        "--reps",
        "5",
        "--months",
        "4",
    ]);
    assert_eq!(g.code, 0, "{}", g.stderr);
    // The export spells the stages as the CRM labels them, accents and all.
    let labels: std::collections::HashMap<&str, &str> = [
        ("interes", "Interés"),
        ("diseno_propuesta", "Diseño Propuesta"),
        ("negociacion", "Negociación"),
        ("perdido", "Perdido"),
    ]
    .into_iter()
    .collect();
    let text = std::fs::read_to_string(s.path("data/events.csv")).unwrap();
    let relabelled: String = text
        .lines()
        .map(|l| {
            let mut cells: Vec<String> = l.split(',').map(str::to_string).collect();
            if let Some(v) = labels.get(cells[2].as_str()) {
                cells[2] = v.to_string();
            }
            cells.join(",") + "\n"
        })
        .collect();
    let export = s.write("export.csv", &relabelled);
    let funnel = s.run(&[
        "funnel", "--config", &config, "--events", &export, "--by", "company", "--period", "all",
        "-f", "csv",
    ]);
    assert_eq!(funnel.code, 0, "{}", funnel.stderr);
    assert!(!funnel.stderr.contains("warning"), "{}", funnel.stderr);
    let steps: Vec<(String, String)> = csv_rows(&funnel.stdout)
        .into_iter()
        .map(|r| (r["from_stage"].clone(), r["to_stage"].clone()))
        .collect();
    assert!(steps.contains(&("diseno_propuesta".into(), "demo".into())), "{steps:?}");
    let out = s.path_str("report");
    let report = s.run(&[
        "report",
        "--config",
        &config,
        "--events",
        &export,
        "--roster",
        &s.path_str("data/roster.csv"),
        "--activities",
        &s.path_str("data/activities.csv"),
        "--period",
        "2026-04",
        "--out",
        &out,
    ]);
    assert_eq!(report.code, 0, "{}", report.stderr);
    assert!(!report.stderr.contains("left out"), "{}", report.stderr);
    let sheets: Vec<String> = std::fs::read_dir(s.path("report/reps"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert_eq!(sheets.len(), 10, "2 managers of 5 reps");
    assert!(sheets.iter().all(|t| t.contains("Diseño Propuesta → Demo")), "{}", sheets[0]);
    // The built-in coaching hypotheses came along onto the pipeline's steps.
    let playbook = std::fs::read_to_string(&config).unwrap();
    for lever in [
        "interes->diseno_propuesta",
        "diseno_propuesta->demo",
        "negociacion->contrato",
        "contrato->ganado",
    ] {
        assert!(playbook.contains(&format!("lever = \"{lever}\"")), "{lever}");
    }
    assert!(playbook.contains("contacts_per_deal.diseno_propuesta"));
}

#[test]
fn stages_read_from_an_export_column() {
    let s = Session::new();
    let export = s.write(
        "deals.csv",
        "Record ID,Deal Stage\n1,Interés\n2,Ganado\n3,Diseño Propuesta\n4,Interés\n5,Perdido\n",
    );
    let r = s.run(&[
        "init",
        &s.path_str("hs"),
        "--stages-from",
        &export,
        "--stage-column",
        "deal stage",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("Interés (interes) → Diseño Propuesta (diseno_propuesta) → Ganado (ganado)"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_playbook_for_another_pipeline_loads_with_one_warning_per_key() {
    let s = Session::new();
    // The built-in playbook with its stages renamed: its rules, windows and targets name
    // stages this funnel lacks.
    let builtin = s.run(&["init", &s.path_str("base")]);
    assert_eq!(builtin.code, 0);
    let text = std::fs::read_to_string(s.path("base/playbook.toml")).unwrap().replace(
        "stages = [\"lead\", \"case\", \"proposal\", \"quote\", \"won\"]",
        "stages = [\"lead\", \"demo\", \"won\"]",
    );
    let config = s.write("other.toml", &text);
    let events = s.write(
        "events.csv",
        "deal_id,rep_id,stage,ts\nD1,R1,lead,2026-01-05T10:00:00Z\nD1,R1,demo,2026-01-10T10:00:00Z\nD1,R1,won,2026-01-20T10:00:00Z\n",
    );
    let r = s.run(&["funnel", "--config", &config, "--events", &events, "-f", "csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let warnings: Vec<&str> = r.stderr.lines().filter(|l| l.contains("left out")).collect();
    assert!(warnings.iter().any(|w| w.contains("`case->proposal`")), "{}", r.stderr);
    assert!(warnings.iter().any(|w| w.contains("aliases.case")), "{}", r.stderr);
    assert!(warnings.iter().any(|w| w.contains("funnel.windows.\"quote->won\"")), "{}", r.stderr);
    // One line per key, each said once.
    let mut unique = warnings.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), warnings.len(), "{}", r.stderr);
}

#[test]
fn a_roster_from_a_deals_export_has_one_row_per_person_and_a_conflict_names_both_rows() {
    let s = Session::new();
    let mapping = s.write(
        "owners.toml",
        "[columns]\nperson_id = \"Deal owner\"\nname = \"Deal owner\"\nreports_to = \"Manager\"\n",
    );
    let export = s.write(
        "deals.csv",
        "Record ID,Deal owner,Manager\n1,Ana Ruiz,Bo Chen\n2,Ana Ruiz,Bo Chen\n3,Carl Diaz,Bo Chen\n4,Ana Ruiz,\n5,Bo Chen,\n",
    );
    let out = s.path_str("roster.csv");
    let r = s.run(&["ingest", &export, "--table", "roster", "--mapping", &mapping, "-o", &out]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("5 rows for 3 people: 2 repeated rows"), "{}", r.stderr);
    let people = csv_rows(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(people.len(), 3, "{people:?}");
    let ana = people.iter().find(|p| p["person_id"] == "Ana Ruiz").unwrap();
    assert_eq!(ana["reports_to"], "Bo Chen");
    // Two rows that disagree about one person: an error naming both lines.
    let clash = s.write(
        "clash.csv",
        "Record ID,Deal owner,Manager\n1,Ana Ruiz,Bo Chen\n2,Ana Ruiz,Dee Fox\n",
    );
    let r = s.run(&["ingest", &clash, "--table", "roster", "--mapping", &mapping, "-o", &out]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("clash.csv:3") && r.stderr.contains("clash.csv:2"), "{}", r.stderr);
    assert!(r.stderr.contains("\"Dee Fox\"") && r.stderr.contains("\"Bo Chen\""), "{}", r.stderr);
}
