//! A report or a `plan --out` folder is replaced whole: a run killed after any step that changes
//! the disk (`SALESCOACH_ABORT_AFTER=N`, honoured by debug builds) leaves the old or the new
//! output complete, the user's files and edited sheets intact, and the next run succeeds and
//! leaves nothing of the killed run behind.

use crate::support::Session;
use std::collections::BTreeMap;
use std::path::Path;

/// The mark a swap puts in the earlier output just before exchanging it; not part of either.
const OLD_MARK: &str = ".salescoach-replaced";

#[derive(Clone, Copy)]
enum Command {
    Report,
    Plan,
}

impl Command {
    fn args(self, period: &str, as_of: &str) -> Vec<String> {
        let mut args: Vec<&str> = match self {
            Command::Report => vec!["report", "--ledger", "plans.csv"],
            Command::Plan => vec!["plan", "--ledger", "plans.csv"],
        };
        args.extend([
            "--events",
            "org/events.csv",
            "--activities",
            "org/activities.csv",
            "--roster",
            "org/roster.csv",
            "--period",
            period,
            "--as-of",
            as_of,
            "--out",
            "out",
            "-q",
        ]);
        args.into_iter().map(String::from).collect()
    }
}

fn run(s: &Session, args: &[String], env: &[(&str, &str)]) -> crate::support::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    s.run_env(&args, env)
}

/// Every file under `root` (links not followed) and its bytes; `None` when there is no folder.
fn snapshot(root: &Path) -> Option<BTreeMap<String, Vec<u8>>> {
    if !root.is_dir() {
        return None;
    }
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            } else if entry.file_name() != OLD_MARK {
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                files.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    Some(files)
}

/// A small organisation's February output, then the user's own files and an edited sheet in it;
/// by March the organisation has grown, so that the next output adds files.
fn earlier_output(command: Command) -> Session {
    let s = Session::new();
    let generate = |reps: &str| {
        let args = ["generate", "--out", "org", "--managers", "2", "--reps", reps];
        let g =
            s.run(&[&args[..], &["--directors", "1", "--months", "3", "--leads", "30"]].concat());
        assert_eq!(g.code, 0, "{}", g.stderr);
    };
    generate("1");
    let r = run(&s, &command.args("2026-02", "2026-02-28"), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    generate("2");
    s.write("out/notes.txt", "the manager's own notes\n");
    s.write("out/mine/deep/agenda.txt", "agenda\n");
    let sheet = std::fs::read_dir(s.path("out/reps"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "md"))
        .unwrap();
    let text = std::fs::read_to_string(&sheet).unwrap();
    std::fs::write(&sheet, format!("{text}\nAgreed in the meeting: call back Tuesday.\n")).unwrap();
    s
}

/// What is left beside or inside the output that no run should leave.
fn leftovers(s: &Session) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(s.dir.path()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with(".out.staging-") || name.starts_with(".out.old-") {
            found.push(name);
        }
    }
    if let Some(files) = snapshot(&s.path("out")) {
        found.extend(
            files
                .into_keys()
                .filter(|f| f.starts_with(".salescoach-staging") || f.contains(".salescoach-tmp-")),
        );
    }
    found
}

fn killed_runs_leave_a_whole_output(command: Command, swap: &str) {
    let old = snapshot(&earlier_output(command).path("out")).unwrap();
    let fresh = earlier_output(command);
    let march = command.args("2026-03", "2026-03-31");
    let r = run(&fresh, &march, &[("SALESCOACH_SWAP", swap)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let new = snapshot(&fresh.path("out")).unwrap();
    assert!(new.keys().any(|f| !old.contains_key(f)), "the March output adds files");
    for user_file in ["notes.txt", "mine/deep/agenda.txt"] {
        assert_eq!(old.get(user_file), new.get(user_file), "{user_file} is carried over");
    }
    let mut completed = false;
    for n in 0..400 {
        let s = earlier_output(command);
        let limit = n.to_string();
        let r = run(&s, &march, &[("SALESCOACH_ABORT_AFTER", &limit), ("SALESCOACH_SWAP", swap)]);
        if r.code == 0 {
            assert_eq!(snapshot(&s.path("out")).unwrap(), new, "N = {n}");
            assert!(n > 5, "the swap takes several steps, found {n}");
            completed = true;
            break;
        }
        assert_eq!(r.code, -1, "N = {n}: killed, not failed: {}", r.stderr);
        let state = snapshot(&s.path("out"));
        let whole = state.as_ref() == Some(&old) || state.as_ref() == Some(&new);
        let staged_inside = swap == "inside"
            && state
                .as_ref()
                .is_some_and(|f| f.keys().any(|k| k.starts_with(".salescoach-staging-")));
        // Two renames (no exchange): between them the folder is briefly beside itself.
        let moved_aside = swap == "rename" && state.is_none();
        assert!(
            whole || staged_inside || moved_aside,
            "N = {n}: the folder is neither old nor new"
        );
        // The ledger is written before the swap: new sheets never come without their plans.
        if state.as_ref() == Some(&new) {
            let ledger = std::fs::read_to_string(s.path("plans.csv")).unwrap();
            assert!(ledger.contains("2026-03:"), "N = {n}: March's sheets, February's ledger");
        }
        let again = run(&s, &march, &[("SALESCOACH_SWAP", swap)]);
        assert_eq!(again.code, 0, "N = {n}: {}", again.stderr);
        assert_eq!(snapshot(&s.path("out")).unwrap(), new, "N = {n}: the next run's output");
        assert_eq!(leftovers(&s), Vec::<String>::new(), "N = {n}");
    }
    assert!(completed, "the run completes once the limit passes its last step");
}

#[test]
fn a_report_killed_at_any_step_leaves_the_old_or_the_new_report() {
    killed_runs_leave_a_whole_output(Command::Report, "exchange");
}

#[test]
fn a_report_killed_at_any_step_without_exchange_is_recovered() {
    killed_runs_leave_a_whole_output(Command::Report, "rename");
}

#[test]
fn a_report_at_a_mount_point_killed_at_any_step_is_finished_by_the_next_run() {
    killed_runs_leave_a_whole_output(Command::Report, "inside");
}

#[test]
fn plan_out_killed_at_any_step_leaves_the_old_or_the_new_sheets() {
    killed_runs_leave_a_whole_output(Command::Plan, "exchange");
    killed_runs_leave_a_whole_output(Command::Plan, "inside");
}

#[test]
fn temporary_files_and_staging_folders_of_dead_runs_are_removed() {
    let s = earlier_output(Command::Report);
    // What runs killed before they could clean up leave: a staging folder beside the report,
    // temporary files inside it and beside the ledger, from a process that no longer exists.
    let dead = "4194999";
    s.write(&format!(".out.staging-{dead}/.salescoach-staging"), "out\n");
    s.write(&format!(".out.staging-{dead}/index.md"), "half a report");
    s.write(&format!("out/reps/.salescoach-tmp-{dead}-AbC123"), "half a sheet");
    s.write(&format!(".salescoach-tmp-{dead}-XyZ789"), "half a ledger");
    // A folder that only looks like ours is not touched.
    s.write(".out.staging-12/holiday.jpg", "not ours");
    let r = run(&s, &Command::Report.args("2026-03", "2026-03-31"), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(leftovers(&s), vec![".out.staging-12".to_string()]);
    assert!(!s.path(&format!(".salescoach-tmp-{dead}-XyZ789")).exists(), "beside the ledger");
    assert!(s.path(".out.staging-12/holiday.jpg").exists());
}

#[test]
fn the_users_files_are_carried_over_and_are_not_the_reports() {
    let s = earlier_output(Command::Report);
    let r = run(&s, &Command::Report.args("2026-03", "2026-03-31"), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let files = snapshot(&s.path("out")).unwrap();
    assert_eq!(files["notes.txt"], b"the manager's own notes\n");
    assert_eq!(files["mine/deep/agenda.txt"], b"agenda\n");
    let manifest = String::from_utf8(files[".salescoach-report"].clone()).unwrap();
    assert!(!manifest.contains("notes.txt"), "the user's files are not the report's: {manifest}");
}

#[test]
fn a_symlinked_out_folder_is_replaced_behind_its_link() {
    let s = earlier_output(Command::Report);
    std::fs::rename(s.path("out"), s.path("real")).unwrap();
    std::os::unix::fs::symlink("real", s.path("out")).unwrap();
    let r = run(&s, &Command::Report.args("2026-03", "2026-03-31"), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let link = std::fs::symlink_metadata(s.path("out")).unwrap();
    assert!(link.file_type().is_symlink(), "the link stays");
    let files = snapshot(&s.path("real")).unwrap();
    assert!(files.contains_key("notes.txt") && files.contains_key("index.md"));
    assert!(String::from_utf8_lossy(&files["index.md"]).contains("2026-03"));
}

#[test]
fn an_edited_sheet_of_last_month_is_kept_beside_this_months() {
    let s = earlier_output(Command::Report);
    let edited = std::fs::read_dir(s.path("out/reps"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("call back Tuesday")))
        .unwrap();
    let stem = edited.file_stem().unwrap().to_str().unwrap().to_string();
    let mut march_args = Command::Report.args("2026-03", "2026-03-31");
    march_args.retain(|a| a != "-q");
    let r = run(&s, &march_args, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let march = std::fs::read_to_string(&edited).unwrap();
    assert!(march.contains("period: \"2026-03\""), "this month's sheet is written: {march}");
    let kept = s.path(&format!("out/reps/{stem}.2026-02.md"));
    let february = std::fs::read_to_string(&kept).unwrap();
    assert!(february.contains("call back Tuesday") && february.contains("period: \"2026-02\""));
    assert!(r.stderr.contains(&format!("as out/reps/{stem}.2026-02.md")), "{}", r.stderr);
    // The same month again: the March sheet, edited, is kept where it is.
    std::fs::write(&edited, format!("{march}\nMarch notes.\n")).unwrap();
    let again = run(&s, &march_args, &[]);
    assert!(again.stderr.contains("for this same period"), "{}", again.stderr);
    assert!(std::fs::read_to_string(&edited).unwrap().contains("March notes."));
}
