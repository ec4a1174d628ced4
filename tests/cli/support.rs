//! A test session: a temporary folder, the binary, and readable outputs.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Session {
    pub dir: tempfile::TempDir,
    /// The run's clock (`SALESCOACH_NOW`): far ahead by default, since generated organisations
    /// run into months after today; tests of the clock itself set it.
    pub now: String,
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Exit code, stdout and stderr together, for snapshots.
    pub fn transcript(&self, session: &Session) -> String {
        let dir = session.dir.path().display().to_string();
        format!("exit: {}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
            .replace(&dir, "[TMP]")
    }
}

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

/// A file of the bundled sample organisation.
pub fn sample(f: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data").join(f).display().to_string()
}

pub fn fixture_str(rel: &str) -> String {
    fixture(rel).display().to_string()
}

impl Session {
    pub fn new() -> Session {
        Session { dir: tempfile::tempdir().unwrap(), now: "2100-01-01T00:00:00Z".into() }
    }

    /// A session whose runs read the clock as `now`.
    pub fn at(now: &str) -> Session {
        Session { now: now.into(), ..Session::new() }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn path_str(&self, rel: &str) -> String {
        self.path(rel).display().to_string()
    }

    pub fn write(&self, rel: &str, contents: &str) -> String {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, contents).unwrap();
        p.display().to_string()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_stdin(args, None)
    }

    pub fn run_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        self.run_with(args, stdin, &[])
    }

    /// A run with more environment variables (the fault injection of debug builds).
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.run_with(args, None, env)
    }

    fn run_with(&self, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_salescoach"))
            .current_dir(self.dir.path())
            .args(args)
            .env_remove("SALESCOACH_CONFIG")
            .env("SALESCOACH_NOW", &self.now)
            .envs(env.iter().copied())
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            child.stdin.take().unwrap().write_all(input).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// A CSV text as rows of column → value.
pub fn csv_rows(text: &str) -> Vec<HashMap<String, String>> {
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            headers.iter().zip(r.iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect()
        })
        .collect()
}

/// (read, written, rejected, held back) from ingest's summary line on standard error, if it
/// printed one; records dropped by rule (deleted deals) are not among them.
pub fn ingest_counts(stderr: &str) -> Option<(u64, u64, u64, u64)> {
    let line = stderr.lines().find(|l| l.starts_with("ingest: read"))?;
    let after = |label: &str| -> Option<u64> {
        let rest = &line[line.find(label)? + label.len()..];
        rest.trim_start().split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
    };
    Some((after("read")?, after("written")?, after("rejected")?, after("held back").unwrap_or(0)))
}

/// The files under `dir` with extension `ext`, recursively, sorted.
pub fn files_with(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// `salescoach demo` in a language, into the session's `demo-LANG`; the output of the run.
pub fn demo_run(s: &Session, lang: &str) -> (PathBuf, Output) {
    let out = s.path(&format!("demo-{lang}"));
    let r = s.run(&["demo", "--out", out.to_str().unwrap(), "--lang", lang, "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    (out, r)
}
