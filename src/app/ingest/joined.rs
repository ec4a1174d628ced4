//! A mapping's `[join]`: a second file read whole (a dimension table: owners, closed deals),
//! looked up by key for each export row.

use super::cells::Rejection;
use super::input::open_export;
use super::job::IngestJob;
use super::mapping::Mapping;
use super::mapping::Unmatched;
use crate::io::Source;
use crate::io::records::TextRecord;
use crate::model::playbook::normalize;
use crate::model::tables::Column;
use anyhow::{Context, Result};
use std::collections::HashMap;

pub(super) struct JoinTable {
    /// The export's key column.
    on: usize,
    on_name: String,
    /// Key → the joined columns' values, in `slots` order.
    rows: HashMap<String, Vec<String>>,
    /// Per canonical column: which joined value fills it.
    slots: Vec<Option<usize>>,
    unmatched: Unmatched,
    file: String,
    key_name: String,
}

impl JoinTable {
    /// Reads the mapping's joined file, if it has one, and checks its columns.
    pub(super) fn load(
        mapping: &Mapping,
        args: &IngestJob,
        columns: &[Column],
        export_headers: &[String],
        export: &str,
    ) -> Result<Option<JoinTable>> {
        let (Some(join), Some(path)) = (&mapping.join, mapping.join_path()) else {
            return Ok(None);
        };
        let find = |headers: &[String], want: &str| {
            headers.iter().position(|h| normalize(h) == normalize(want))
        };
        let on = find(export_headers, &join.on).ok_or_else(|| {
            crate::DataError::new(format!(
                "{export}: no column {:?} to join on (mapping [join] on); the header has: {}",
                join.on,
                export_headers.iter().take(12).cloned().collect::<Vec<_>>().join(", ")
            ))
        })?;
        let source = Source::File(path.clone());
        source.ensure_exists().with_context(|| "the mapping's [join] file".to_string())?;
        let file = source.to_string();
        let (mut rdr, headers) = open_export(&source, args)?;
        let missing = |want: &str, key: &str| {
            crate::DataError::new(format!(
                "{file}: no column {want:?} (mapping [join] {key}); the header has: {}",
                headers.iter().take(12).cloned().collect::<Vec<_>>().join(", ")
            ))
        };
        let key = find(&headers, &join.key).ok_or_else(|| missing(&join.key, "key"))?;
        let mut wanted = Vec::new();
        let mut slots = vec![None; columns.len()];
        for (c, column) in &join.columns {
            let at = find(&headers, column).ok_or_else(|| missing(column, "columns"))?;
            if let Some(k) = columns.iter().position(|x| x.name == c) {
                slots[k] = Some(wanted.len());
                wanted.push(at);
            }
        }
        let mut rows: HashMap<String, Vec<String>> = HashMap::new();
        let mut conflicts = 0u64;
        for record in rdr.records() {
            let record = record.with_context(|| format!("reading {file}"))?;
            let k = record.get(key).unwrap_or("").trim();
            if k.is_empty() {
                continue;
            }
            let values =
                wanted.iter().map(|&i| record.get(i).unwrap_or("").trim().to_string()).collect();
            // The first row of a key wins, as a lookup in a spreadsheet would; another with
            // different values is counted and warned about.
            match rows.get(k) {
                Some(first) if *first != values => conflicts += 1,
                Some(_) => {}
                None => {
                    rows.insert(k.to_string(), values);
                }
            }
        }
        if conflicts > 0 && !args.quiet {
            crate::note!(
                "warning: {file}: {conflicts} rows repeat a {} with other values; the first row of each is used",
                join.key
            );
        }
        Ok(Some(JoinTable {
            on,
            on_name: join.on.clone(),
            rows,
            slots,
            unmatched: join.unmatched,
            file,
            key_name: join.key.clone(),
        }))
    }

    /// Fills `given` for one export row: the constants, then the joined values of its key.
    pub(super) fn fill<'a>(
        &'a self,
        record: TextRecord<'_>,
        constants: &[Option<&'a str>],
        given: &mut [Option<&'a str>],
    ) -> Result<(), Rejection> {
        given.copy_from_slice(constants);
        let key = record.get(self.on).unwrap_or("").trim();
        match self.rows.get(key) {
            Some(values) => {
                for (g, slot) in given.iter_mut().zip(&self.slots) {
                    if let Some(s) = slot {
                        *g = Some(values[*s].as_str());
                    }
                }
                Ok(())
            }
            None if self.unmatched == Unmatched::Keep => Ok(()),
            None => Err((
                Some(self.on_name.clone()),
                "foreign-key",
                format!(
                    "no row of {} has {} {key:?} (keep such rows with unmatched = \"keep\" in [join])",
                    self.file, self.key_name
                ),
            )),
        }
    }
}
