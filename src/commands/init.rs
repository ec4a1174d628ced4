//! `salescoach init`: write editable copies of the playbook and the templates.

use crate::ExitStatus;
use crate::cli::{Global, InitArgs};
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

pub fn run(global: &Global, args: InitArgs) -> Result<ExitStatus> {
    super::refuse_output_options(global, "init", "it writes the playbook and templates into DIR")?;
    let mut written = 0;
    for (rel, contents) in default_files() {
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
            "{written} file(s) written; use them with --config {} and --templates {}",
            args.dir.join("playbook.toml").display(),
            args.dir.join("templates").display()
        );
    }
    Ok(ExitStatus::Success)
}
