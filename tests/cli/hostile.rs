//! The hostile-input corpus under `tests/fixtures/hostile/`: every file, the command it goes
//! through, and what must come out. Nothing panics; the exit code says accepted or not; a
//! problem names the file, the line and the column; and ingest's counts add up.

use crate::support::{Session, fixture_str, ingest_counts};

/// One corpus file through one command.
struct Case {
    file: &'static str,
    /// The command, with `@` standing for the file's path.
    args: &'static [&'static str],
    code: i32,
    /// Each of these appears on standard error (ingest) or standard output (validate).
    says: &'static [&'static str],
    /// Each of these appears in the data written to standard output (ingest).
    writes: &'static [&'static str],
}

const EVENTS: &[&str] = &["ingest", "@", "--table", "events", "--max-rejects", "5"];
const ROSTER: &[&str] = &["ingest", "@", "--table", "roster"];
const VALIDATE: &[&str] = &["validate", "@", "--as-of", "2026-12-31"];

const CASES: &[Case] = &[
    // Dialects and encodings.
    Case {
        file: "semicolons.events.csv",
        args: EVENTS,
        code: 0,
        says: &["delimiter ';'", "read 2, written 2, rejected 0"],
        writes: &["D1,R1,won,2026-02-05T10:00:00Z,1200.5,"],
    },
    Case {
        file: "semicolons.events.csv",
        args: &["ingest", "@", "--table", "events", "--delimiter", ","],
        code: 1,
        says: &["no column for deal_id", "is the delimiter right?"],
        writes: &[],
    },
    Case {
        file: "semicolons.events.csv",
        args: &["validate", "@"],
        code: 1,
        says: &["semicolon- or tab-separated", "[schema-error]"],
        writes: &[],
    },
    Case {
        file: "tabs_named_csv.events.csv",
        args: EVENTS,
        code: 0,
        says: &["delimiter '\\t'"],
        writes: &["D1,R1,lead,2026-01-05T10:00:00Z,,"],
    },
    Case {
        file: "bom_semicolons.events.csv",
        args: EVENTS,
        code: 0,
        says: &["read 1, written 1, rejected 0"],
        writes: &["deal_id,rep_id,stage,ts", "D1,R1,lead,2026-01-05T10:00:00Z"],
    },
    Case {
        file: "lone_cr.events.csv",
        args: EVENTS,
        code: 0,
        says: &["read 2, written 2, rejected 0"],
        writes: &["D2,R1,lead,2026-01-06T10:00:00Z"],
    },
    // Line numbers with Windows (CRLF) and old Mac (CR) line ends, after a quoted field that
    // holds a line break: the bad record starts on line 5.
    Case {
        file: "crlf_bad_row.events.csv",
        args: EVENTS,
        code: 0,
        says: &["crlf_bad_row.events.csv:5: record 3, column ts", "read 4, written 3, rejected 1"],
        writes: &["D4,R1,lead,2026-01-07T10:00:00Z"],
    },
    Case {
        file: "crlf_bad_row.events.csv",
        args: VALIDATE,
        code: 1,
        says: &["crlf_bad_row.events.csv:5: row 4, column ts"],
        writes: &[],
    },
    Case {
        file: "lone_cr_bad_row.events.csv",
        args: EVENTS,
        code: 0,
        says: &[
            "lone_cr_bad_row.events.csv:5: record 3, column ts",
            "read 4, written 3, rejected 1",
        ],
        writes: &["D4,R1,lead,2026-01-07T10:00:00Z"],
    },
    Case {
        file: "lone_cr_bad_row.events.csv",
        args: VALIDATE,
        code: 1,
        says: &["lone_cr_bad_row.events.csv:5: row 4, column ts"],
        writes: &[],
    },
    Case {
        file: "utf16le.events.csv",
        args: EVENTS,
        code: 0,
        says: &["read 1, written 1, rejected 0"],
        writes: &["D1,R1,lead,2026-01-05T10:00:00Z"],
    },
    Case {
        file: "cp932.events.csv",
        args: EVENTS,
        code: 1,
        says: &["cp932.events.csv:2, column rep_id", "byte offset 34", "--encoding cp932"],
        writes: &[],
    },
    Case {
        file: "cp932.events.csv",
        args: &["ingest", "@", "--table", "events", "--encoding", "cp932"],
        code: 0,
        says: &["read 1, written 1, rejected 0"],
        writes: &["D1,山田,lead"],
    },
    Case {
        file: "windows1252.events.csv",
        args: EVENTS,
        code: 1,
        says: &["windows1252.events.csv:2, column rep_id", "--encoding windows-1252"],
        writes: &[],
    },
    Case {
        file: "windows1252.events.csv",
        args: &["ingest", "@", "--table", "events", "--encoding", "windows-1252"],
        code: 0,
        says: &["read 1, written 1, rejected 0"],
        writes: &["D1,Müller,lead"],
    },
    // Headers.
    Case {
        file: "empty.events.csv",
        args: EVENTS,
        code: 1,
        says: &["empty.events.csv: no header line"],
        writes: &[],
    },
    Case {
        file: "header_only.events.csv",
        args: EVENTS,
        code: 0,
        says: &["read 0, written 0, rejected 0"],
        writes: &["deal_id,rep_id,stage,ts,amount,inferred"],
    },
    Case {
        file: "duplicate_header.events.csv",
        args: EVENTS,
        code: 1,
        says: &["column \"deal_id\" more than once (columns 1 and 5)"],
        writes: &[],
    },
    Case {
        file: "no_stage_column.events.csv",
        args: EVENTS,
        code: 1,
        says: &[
            "no column for stage (looked for \"stage\"",
            "ts (looked for \"ts\"",
            "header has: deal_id, rep_id, when",
        ],
        writes: &[],
    },
    Case {
        file: "loose_header.events.csv",
        args: EVENTS,
        code: 0,
        says: &["column \"deal_id\" matched \" Deal_ID \" (trimmed, ignoring case)"],
        writes: &["D1,R1,lead,2026-01-05T10:00:00Z"],
    },
    // Record shapes.
    Case {
        file: "extra_cell.events.csv",
        args: EVENTS,
        code: 0,
        says: &[
            "extra_cell.events.csv:2: record 1",
            "(extra-cell)",
            "read 2, written 1, rejected 1",
        ],
        writes: &["D2,R1,lead"],
    },
    Case {
        file: "extra_cell.events.csv",
        args: &["ingest", "@", "--table", "events"],
        code: 1,
        says: &["read 2, written 0, rejected 1, held back 1 (over --max-rejects)"],
        writes: &[],
    },
    Case {
        file: "missing_cell.events.csv",
        args: EVENTS,
        code: 0,
        says: &["missing_cell.events.csv:2: record 1, column ts", "(missing-cell)"],
        writes: &["D2,R1,lead"],
    },
    Case {
        file: "blank_row.events.csv",
        args: EVENTS,
        code: 0,
        says: &["blank_row.events.csv:3: record 2", "(blank-row)", "read 3, written 2, rejected 1"],
        writes: &["D1,R1,lead", "D2,R1,lead"],
    },
    Case {
        file: "unterminated_quote.events.csv",
        args: EVENTS,
        code: 0,
        // The open quote loses its own line only: the next row is read.
        says: &[
            "unterminated_quote.events.csv:2",
            "runaway-quote",
            "read 2, written 1, rejected 1",
        ],
        writes: &[],
    },
    Case {
        file: "unterminated_quote.events.csv",
        args: &["ingest", "@", "--table", "events"],
        code: 1,
        says: &[
            "read 2, written 0, rejected 1, held back 1 (over --max-rejects)",
            "more rejects than --max-rejects 0: no output written",
        ],
        writes: &[],
    },
    // Values.
    Case {
        file: "slash_dates.events.csv",
        args: EVENTS,
        code: 0,
        says: &["column ts: \"03/04/2026\" is not ISO 8601", "(type-error)"],
        writes: &[],
    },
    Case {
        file: "slash_dates.events.csv",
        args: &["ingest", "@", "--table", "events", "--date-format", "%d/%m/%Y"],
        code: 0,
        says: &["read 1, written 1, rejected 0"],
        writes: &["D1,R1,lead,2026-04-03T00:00:00Z"],
    },
    Case {
        file: "impossible_date.events.csv",
        args: EVENTS,
        code: 0,
        says: &["\"2026-02-30T10:00:00Z\"", "\"2026-13-01\"", "rejected 2"],
        writes: &[],
    },
    Case {
        file: "no_offset.events.csv",
        args: EVENTS,
        code: 0,
        says: &["without a UTC offset were read as UTC"],
        writes: &["D1,R1,lead,2026-01-05T10:00:00Z", "D2,R1,lead,2026-01-06T00:00:00Z"],
    },
    Case {
        file: "no_offset.events.csv",
        args: &["ingest", "@", "--table", "events", "--tz", "Asia/Tokyo"],
        code: 0,
        says: &["read as Asia/Tokyo time"],
        writes: &["D1,R1,lead,2026-01-05T01:00:00Z", "D2,R1,lead,2026-01-05T15:00:00Z"],
    },
    Case {
        file: "padded_values.events.csv",
        args: EVENTS,
        code: 0,
        says: &["5 cells had spaces around them, trimmed", "read 1, written 1, rejected 0"],
        writes: &["D1,R1,lead,2026-01-05T10:00:00Z,100,"],
    },
    Case {
        file: "unknown_stage.events.csv",
        args: EVENTS,
        code: 0,
        says: &["column stage: \"proposl\"", "did you mean `proposal`?", "(constraint-error)"],
        writes: &[],
    },
    Case {
        file: "negative_amount.events.csv",
        args: EVENTS,
        code: 0,
        says: &["column amount: \"-500\" is negative", "(constraint-error)"],
        writes: &[],
    },
    Case {
        file: "currency_amount.events.csv",
        args: EVENTS,
        code: 0,
        says: &["\"$1,200.00\" is not a plain decimal number", "(type-error)"],
        writes: &[],
    },
    Case {
        file: "currency_amount.events.csv",
        args: &["ingest", "@", "--table", "events", "--currency-symbols", "--group-separator", ","],
        code: 0,
        says: &["read 1, written 1, rejected 0"],
        writes: &["D1,R1,won,2026-01-05T10:00:00Z,1200,"],
    },
    Case {
        file: "exponent_amount.events.csv",
        args: EVENTS,
        code: 0,
        says: &["\"1e5\" is not a plain decimal number"],
        writes: &[],
    },
    Case {
        file: "missing_rep.events.csv",
        args: EVENTS,
        code: 0,
        says: &["column rep_id: rep_id is required", "(constraint-error)"],
        writes: &[],
    },
    Case {
        file: "formula_names.roster.csv",
        args: &[
            "ingest",
            "@",
            "--table",
            "roster",
            "--max-field-bytes",
            "12",
            "--max-rejects",
            "9",
        ],
        code: 0,
        says: &["column name: a field of 18 bytes (at most 12, --max-field-bytes)", "rejected 1"],
        writes: &["R1,'@SUM(A1:A9),rep,M1"],
    },
    Case {
        file: "nul_byte.events.csv",
        args: EVENTS,
        code: 0,
        says: &["column rep_id: a NUL byte in \"R1␀\""],
        writes: &[],
    },
    Case {
        file: "nul_byte.events.csv",
        args: VALIDATE,
        code: 1,
        says: &["row 2, column rep_id: a NUL byte [constraint-error] (\"R1␀\")"],
        writes: &[],
    },
    // Names that attack spreadsheets, Markdown, terminals and paths stay data.
    Case {
        file: "formula_names.roster.csv",
        args: ROSTER,
        code: 0,
        says: &["read 4, written 4, rejected 0"],
        writes: &["M1,'=cmd|' /C calc'!A0,manager,", "R1,'@SUM(A1:A9)", "R2,'+1-2", "R3,'-3"],
    },
    Case {
        file: "markup_names.roster.csv",
        args: ROSTER,
        code: 0,
        says: &["read 4, written 4, rejected 0"],
        writes: &["<script>alert(1)</script>", "a | b | c", "\u{202e}evil\u{202c} name"],
    },
    Case {
        file: "path_ids.roster.csv",
        args: ROSTER,
        code: 0,
        says: &["read 2, written 2, rejected 0"],
        writes: &["../../etc/passwd,Traversal,manager,"],
    },
    Case {
        file: "quoted_newlines.roster.csv",
        args: ROSTER,
        code: 0,
        says: &["read 2, written 2, rejected 0"],
        writes: &["M1,\"Suzuki, Ichiro\nSales Dept.\",manager,", "R1,\"He said \"\"hi\"\"\""],
    },
    // Canonical tables that parse but do not hold together.
    Case {
        file: "conflicting_duplicates.events.csv",
        args: VALIDATE,
        code: 1,
        says: &["row 3: same deal, stage and time as row 2", "[conflicting-duplicate]"],
        writes: &[],
    },
    Case {
        file: "exact_duplicates.events.csv",
        args: VALIDATE,
        code: 0,
        says: &["row 3: exact duplicate of row 2 (counted once) [duplicate-row]"],
        writes: &[],
    },
    Case {
        file: "exact_duplicates.events.csv",
        args: &["validate", "@", "--strict"],
        code: 1,
        says: &["[duplicate-row]"],
        writes: &[],
    },
    Case {
        file: "out_of_order.events.csv",
        args: VALIDATE,
        code: 0,
        says: &["deal D1 reached case (2026-01-05T10:00:00Z) before lead", "[stage-order]"],
        writes: &[],
    },
    Case {
        file: "after_terminal.events.csv",
        args: VALIDATE,
        code: 0,
        says: &["deal D1 reached quote after its terminal outcome", "[after-terminal]"],
        writes: &[],
    },
    Case {
        file: "future.events.csv",
        args: VALIDATE,
        code: 1,
        says: &["row 3, column ts: after --as-of 2026-12-31", "[constraint-error]"],
        writes: &[],
    },
    Case {
        file: "unknown_manager.roster.csv",
        args: VALIDATE,
        code: 1,
        says: &["row 3, column reports_to: R1 reports to M9, who is not in the roster"],
        writes: &[],
    },
    Case {
        file: "two_roots.roster.csv",
        args: VALIDATE,
        code: 0,
        says: &["2 people report to no one: M1, M2 [several-roots]"],
        writes: &[],
    },
    Case {
        file: "self_manager.roster.csv",
        args: VALIDATE,
        code: 1,
        says: &["reporting cycle: M1 → M1 [cycle]"],
        writes: &[],
    },
    Case {
        file: "orphan_activity.activities.csv",
        args: &["validate", "@", "--events", "@exact_duplicates.events.csv"],
        code: 1,
        says: &["row 2, column deal_id: deal_id \"D404\" is not in events.deal_id [foreign-key]"],
        writes: &[],
    },
];

/// The file paths of a case's arguments: `@` is the case's file, `@name` another corpus file.
fn resolve(case: &Case) -> Vec<String> {
    let path = |name: &str| fixture_str(&format!("hostile/{name}"));
    case.args
        .iter()
        .map(|a| match a.strip_prefix('@') {
            Some("") => path(case.file),
            Some(other) => path(other),
            None => a.to_string(),
        })
        .collect()
}

#[test]
fn every_corpus_file_has_its_expected_outcome() {
    let s = Session::new();
    let mut failures = Vec::new();
    for case in CASES {
        let args = resolve(case);
        let out = s.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let said = if case.args[0] == "validate" { &out.stdout } else { &out.stderr };
        let mut wrong = Vec::new();
        if out.code != case.code {
            wrong.push(format!("exit {} (expected {})", out.code, case.code));
        }
        wrong.extend(case.says.iter().filter(|n| !said.contains(*n)).map(|n| format!("no {n:?}")));
        let written = if case.args[0] == "ingest" { &out.stdout } else { "" };
        wrong.extend(
            case.writes
                .iter()
                .filter(|n| !written.contains(*n))
                .map(|n| format!("no {n:?} in output")),
        );
        if out.stderr.contains("panicked") {
            wrong.push("a panic".into());
        }
        if let Some((read, written, rejected, held_back)) = ingest_counts(&out.stderr)
            && read != written + rejected + held_back
        {
            wrong.push(format!(
                "read {read} != written {written} + rejected {rejected} + held back {held_back}"
            ));
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{} {:?}: {}\n--- stdout\n{}--- stderr\n{}",
                case.file,
                &case.args[1..],
                wrong.join("; "),
                out.stdout,
                out.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_corpus_file_is_exercised() {
    let dir = std::path::Path::new(&fixture_str("hostile")).to_path_buf();
    let files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(files.len() >= 25, "the corpus holds {} files", files.len());
    for f in &files {
        assert!(
            CASES
                .iter()
                .any(|c| c.file == f || c.args.iter().any(|a| a.strip_prefix('@') == Some(f))),
            "{f} has no case"
        );
    }
}
