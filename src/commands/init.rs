//! `salescoach init`: write editable copies of the playbook and the templates.

use crate::ExitStatus;
use crate::cli::{Global, InitArgs};
use crate::model::pipeline::Pipeline;
use crate::model::playbook::DEFAULT_PLAYBOOK;
use anyhow::{Context, Result};

/// The files `init` writes, relative to its folder, with their built-in contents.
pub fn default_files() -> Vec<(String, &'static str)> {
    let mut files = vec![("playbook.toml".to_string(), DEFAULT_PLAYBOOK)];
    for (lang, name, text) in crate::render::TEMPLATES {
        files.push((format!("templates/{lang}/{name}"), text));
    }
    files
}

/// `--stages` or `--stages-from`: the playbook of that pipeline.
fn custom_playbook(args: &InitArgs, quiet: bool) -> Result<Option<String>> {
    let split = |t: &str| t.split(',').map(str::to_string).collect::<Vec<_>>();
    let labels = match (&args.stages, &args.stages_from) {
        (Some(list), _) => split(list),
        (None, Some(file)) => {
            stage_values(file, args.stage_column.as_deref().expect("clap requires it"))?
        }
        (None, None) => return Ok(None),
    };
    let lost = args.lost.as_deref().map(split).unwrap_or_default();
    let pipeline = Pipeline::from_labels(&labels, &lost)?;
    let (text, notes) = pipeline.playbook();
    if !quiet {
        let show = |v: &[crate::model::pipeline::StageLabel]| {
            v.iter().map(|s| format!("{} ({})", s.label, s.id)).collect::<Vec<_>>().join(" → ")
        };
        crate::note!("pipeline: {}", show(&pipeline.stages));
        crate::note!("lost: {}", show(&pipeline.lost).replace(" → ", ", "));
        for n in notes {
            crate::note!("  {n}");
        }
        for step in pipeline.steps_without_rules() {
            crate::note!(
                "  {step}: no built-in rule fits this step; diagnose still weighs its rate, and [[rules]] in the playbook add hypotheses for it"
            );
        }
    }
    Ok(Some(text))
}

/// The distinct values of an export's stage column, in the order they first appear.
fn stage_values(file: &std::path::Path, column: &str) -> Result<Vec<String>> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(file)
        .with_context(|| format!("reading {}", file.display()))?;
    let headers = rdr.headers().with_context(|| format!("reading {}", file.display()))?.clone();
    let norm = |h: &str| h.trim().trim_start_matches('\u{feff}').to_lowercase();
    let Some(i) = headers.iter().position(|h| norm(h) == norm(column)) else {
        anyhow::bail!(
            "{}: no column {column:?}; the header has: {}",
            file.display(),
            headers.iter().take(20).collect::<Vec<_>>().join(", ")
        );
    };
    let mut seen: Vec<String> = Vec::new();
    for r in rdr.records() {
        let r = r.with_context(|| format!("reading {}", file.display()))?;
        let v = r.get(i).unwrap_or("").trim();
        if !v.is_empty() && !seen.iter().any(|s| s == v) {
            seen.push(v.to_string());
        }
    }
    Ok(seen)
}

pub fn run(global: &Global, args: InitArgs) -> Result<ExitStatus> {
    super::refuse_output_options(global, "init", "it writes the playbook and templates into DIR")?;
    let custom = custom_playbook(&args, global.quiet)?;
    let mut written = 0;
    for (rel, contents) in default_files() {
        let contents = match (&custom, rel.as_str()) {
            (Some(text), "playbook.toml") => text.as_str(),
            _ => contents,
        };
        let path = args.dir.join(rel);
        if path.exists() && !args.force {
            if !global.quiet {
                crate::note!("kept {} (exists; --force overwrites)", path.display());
            }
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
        written += 1;
        if !global.quiet {
            crate::note!("wrote {}", path.display());
        }
    }
    if !global.quiet {
        crate::note!(
            "{written} files written; use them with --config {} and --templates {}",
            args.dir.join("playbook.toml").display(),
            args.dir.join("templates").display()
        );
    }
    Ok(ExitStatus::Success)
}
