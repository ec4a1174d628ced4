//! CSV records parsed on a thread of their own and handed over in batches, so that reading and
//! parsing overlap with converting. A batch is three flat buffers (the fields' bytes, their
//! ends, one span per record), not a value per record: nothing is allocated or freed per row,
//! and the buffers go back to the parsing thread to be refilled.

use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// A batch holds about this many records, or this many bytes of fields.
const RECORDS_PER_BATCH: usize = 8192;
const BYTES_PER_BATCH: usize = 1 << 20;

/// Parsed records, ready to read.
#[derive(Default)]
pub struct Batch {
    fields: Fields,
    ends: Vec<usize>,
    spans: Vec<Span>,
    /// Records before this one were taken already (the header).
    first: usize,
}

/// Where one record lies in a batch, and where it was in the input.
#[derive(Clone, Copy)]
struct Span {
    start: usize,
    ends_from: usize,
    ends_to: usize,
    line: u64,
    byte: u64,
    /// The record's size when it was over the limit, and its fields were dropped.
    oversized: Option<u64>,
}

/// The fields' bytes of a whole batch: checked as UTF-8 on the parsing thread, in one go, so
/// that the reader of the batch need not.
enum Fields {
    Text(String),
    Bytes(Vec<u8>),
}

impl Default for Fields {
    fn default() -> Self {
        Fields::Bytes(Vec::new())
    }
}

impl Fields {
    fn into_bytes(self) -> Vec<u8> {
        match self {
            Fields::Text(s) => s.into_bytes(),
            Fields::Bytes(b) => b,
        }
    }
}

impl Batch {
    pub fn records(&self) -> impl Iterator<Item = RawRecord<'_>> {
        self.spans[self.first..].iter().map(|s| {
            let ends = &self.ends[s.ends_from..s.ends_to];
            let range = s.start..s.start + ends.last().map_or(0, |e| *e);
            let (bytes, text) = match &self.fields {
                Fields::Text(t) => (&t.as_bytes()[range.clone()], t.get(range)),
                Fields::Bytes(b) => (&b[range], None),
            };
            RawRecord { bytes, text, ends, line: s.line, byte: s.byte, oversized: s.oversized }
        })
    }

    fn clear(&mut self) {
        self.spans.clear();
        self.first = 0;
    }
}

/// One record as bytes: its fields end to end, and where each ends.
#[derive(Clone, Copy)]
pub struct RawRecord<'a> {
    bytes: &'a [u8],
    /// The same bytes as text, when the batch was UTF-8 and the record starts and ends on
    /// character boundaries.
    text: Option<&'a str>,
    ends: &'a [usize],
    /// The physical line the record starts on (1-based) and the bytes before it.
    pub line: u64,
    pub byte: u64,
    /// The record's size in bytes when it was over the stream's limit: its fields were not
    /// kept (the record has none), so that memory stays bounded.
    pub oversized: Option<u64>,
}

impl<'a> RawRecord<'a> {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.bytes[start..end])
    }

    /// The record as text; the error gives the first field that is not UTF-8 and how far it
    /// is valid.
    pub fn text(&self) -> Result<TextRecord<'a>, (usize, usize)> {
        // Valid end to end is not enough: a character may straddle two fields.
        if let Some(text) = self.text
            && self.ends.iter().all(|&e| text.is_char_boundary(e))
        {
            return Ok(TextRecord { text, ends: self.ends });
        }
        // Checked field by field: the batch held bytes that are not UTF-8, here or elsewhere.
        for i in 0..self.len() {
            if let Err(e) = std::str::from_utf8(self.get(i).unwrap_or(b"")) {
                return Err((i, e.valid_up_to()));
            }
        }
        let text = std::str::from_utf8(self.bytes).expect("UTF-8 fields are UTF-8 end to end");
        Ok(TextRecord { text, ends: self.ends })
    }
}

/// A record whose fields are all valid UTF-8.
#[derive(Clone, Copy)]
pub struct TextRecord<'a> {
    text: &'a str,
    ends: &'a [usize],
}

impl<'a> TextRecord<'a> {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&'a str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.text[start..end])
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let record = *self;
        (0..record.len()).filter_map(move |i| record.get(i))
    }

    /// All the fields end to end (for a quick search of the whole record).
    pub fn as_str(&self) -> &'a str {
        self.text
    }
}

/// A record made from separate strings, for records that do not come from a stream.
pub struct OwnedTextRecord {
    text: String,
    ends: Vec<usize>,
}

impl OwnedTextRecord {
    pub fn new<S: AsRef<str>>(cells: &[S]) -> OwnedTextRecord {
        let mut text = String::new();
        let mut ends = Vec::with_capacity(cells.len());
        for c in cells {
            text.push_str(c.as_ref());
            ends.push(text.len());
        }
        OwnedTextRecord { text, ends }
    }

    pub fn record(&self) -> TextRecord<'_> {
        TextRecord { text: &self.text, ends: &self.ends }
    }
}

/// Physical line breaks in a byte stream, fed in pieces: `\n`, `\r\n` and a lone `\r` (old
/// Mac exports) each end one line.
#[derive(Default)]
pub(crate) struct Breaks {
    pub(crate) count: u64,
    last: u8,
    /// Set at a record's start: the next byte that is not a line end is its first.
    seeking: bool,
    /// The count before the current record's first byte.
    at_start: u64,
}

impl Breaks {
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        let mut bytes = bytes;
        if self.seeking {
            let content = bytes.iter().position(|&b| b != b'\r' && b != b'\n');
            let Some(k) = content else {
                self.count_breaks(bytes);
                return;
            };
            self.count_breaks(&bytes[..k]);
            self.seeking = false;
            self.at_start = self.count;
            bytes = &bytes[k..];
        }
        self.count_breaks(bytes);
    }

    /// Counts in whole-slice passes the compiler vectorises (this runs over every byte ingest
    /// reads): `\n`s plus `\r`s, less the `\r\n` pairs, looked for only when there is a `\r`.
    fn count_breaks(&mut self, bytes: &[u8]) {
        let Some(&last) = bytes.last() else { return };
        let lf = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        let cr = bytes.iter().filter(|&&b| b == b'\r').count() as u64;
        let mut pairs = u64::from(self.last == b'\r' && bytes[0] == b'\n');
        if cr > 0 {
            pairs += bytes.windows(2).filter(|w| w == b"\r\n").count() as u64;
        }
        self.count += lf + cr - pairs;
        self.last = last;
    }

    /// Marks the start of a record (blank lines before it are skipped).
    fn begin_record(&mut self) {
        self.seeking = true;
    }

    /// The line the current record starts on (1-based).
    fn record_line(&self) -> u64 {
        if self.seeking { self.count + 1 } else { self.at_start + 1 }
    }
}

/// Batches of records parsed ahead by a thread of their own.
pub struct RecordStream {
    full: Receiver<std::io::Result<Batch>>,
    empty: SyncSender<Batch>,
    pending: Option<Batch>,
}

impl RecordStream {
    /// Starts parsing `input` (CSV with `delimiter`, header included) on a new thread. A record
    /// of more than `max_record` bytes keeps none of its fields (see `RawRecord::oversized`).
    pub fn start(input: Box<dyn Read + Send>, delimiter: u8, max_record: usize) -> RecordStream {
        let (full_tx, full) = sync_channel(2);
        let (empty, empty_rx) = sync_channel::<Batch>(4);
        for _ in 0..3 {
            empty.send(Batch::default()).expect("the receiver is here");
        }
        std::thread::spawn(move || parse(input, delimiter, max_record, full_tx, empty_rx));
        RecordStream { full, empty, pending: None }
    }

    /// The first record, as text: the header. `None` for an empty input.
    pub fn header(&mut self) -> std::io::Result<Option<Vec<String>>> {
        let Some(mut batch) = self.next_batch()? else { return Ok(None) };
        let header = batch.records().next().map(|r| match r.text() {
            Ok(text) => Ok(text.iter().map(String::from).collect()),
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the header is not UTF-8: give --encoding",
            )),
        });
        batch.first += 1;
        self.pending = Some(batch);
        header.transpose()
    }

    /// The next batch, `None` at the end of the input.
    pub fn next_batch(&mut self) -> std::io::Result<Option<Batch>> {
        if let Some(batch) = self.pending.take() {
            return Ok(Some(batch));
        }
        match self.full.recv() {
            Ok(Ok(batch)) => Ok(Some(batch)),
            Ok(Err(e)) => Err(e),
            Err(_) => Ok(None),
        }
    }

    /// Gives a batch's buffers back for the parser to refill.
    pub fn give_back(&mut self, batch: Batch) {
        let _ = self.empty.send(batch);
    }
}

/// The parsing thread: fills the empty batches it is given and sends them on, until the input
/// ends, fails, or the receiver goes away.
fn parse(
    mut input: Box<dyn Read + Send>,
    delimiter: u8,
    max_record: usize,
    full: SyncSender<std::io::Result<Batch>>,
    empty: Receiver<Batch>,
) {
    use csv_core::ReadRecordResult::*;
    let mut core = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let mut chunk = vec![0u8; 1 << 20];
    let (mut pos, mut len, mut eof) = (0, 0, false);
    let mut consumed = 0u64;
    let mut breaks = Breaks::default();
    // Whether the input has `\r` line ends, decided on its first chunk: if not, csv_core's own
    // count of `\n` gives the lines, and the bytes need no second look (a pass over every
    // byte costs ingest about a tenth of its time).
    let mut carriage_returns: Option<bool> = None;
    while let Ok(mut batch) = empty.recv() {
        batch.clear();
        let mut bytes = std::mem::take(&mut batch.fields).into_bytes();
        bytes.resize(bytes.capacity(), 0);
        let (mut out, mut nends) = (0, 0);
        let mut done = false;
        while batch.spans.len() < RECORDS_PER_BATCH && out < BYTES_PER_BATCH && !done {
            let (start, ends_from, byte) = (out, nends, consumed);
            breaks.begin_record();
            // Without `\r`: the line before the record, and the blank lines csv_core skips.
            let lf_line = core.line();
            let (mut blank, mut blank_done) = (0u64, false);
            // Bytes of this record dropped for being over the limit.
            let mut dropped = 0u64;
            loop {
                if pos == len && !eof {
                    match input.read(&mut chunk) {
                        Ok(0) => eof = true,
                        Ok(n) => {
                            (pos, len) = (0, n);
                            carriage_returns.get_or_insert_with(|| chunk[..n].contains(&b'\r'));
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            let _ = full.send(Err(e));
                            return;
                        }
                    }
                }
                if bytes.len() - out < 4096 {
                    bytes.resize(bytes.len() * 2 + 8192, 0);
                }
                if batch.ends.len() - nends < 64 {
                    batch.ends.resize(batch.ends.len() * 2 + 1024, 0);
                }
                let (res, nin, nout, nend) =
                    core.read_record(&chunk[pos..len], &mut bytes[out..], &mut batch.ends[nends..]);
                if carriage_returns == Some(true) {
                    breaks.feed(&chunk[pos..pos + nin]);
                } else if !blank_done {
                    let ahead = &chunk[pos..pos + nin];
                    let k = ahead.iter().take_while(|&&b| b == b'\n').count();
                    blank += k as u64;
                    blank_done = k < ahead.len();
                }
                pos += nin;
                consumed += nin as u64;
                out += nout;
                nends += nend;
                if out - start > max_record {
                    dropped += (out - start) as u64;
                    (out, nends) = (start, ends_from);
                }
                match res {
                    InputEmpty | OutputFull | OutputEndsFull => {}
                    Record => {
                        let line = if carriage_returns == Some(true) {
                            breaks.record_line()
                        } else {
                            lf_line + blank
                        };
                        let oversized = (dropped > 0).then(|| dropped + (out - start) as u64);
                        if oversized.is_some() {
                            (out, nends) = (start, ends_from);
                        }
                        // Ends are relative to the record's start.
                        batch.spans.push(Span {
                            start,
                            ends_from,
                            ends_to: nends,
                            line,
                            byte,
                            oversized,
                        });
                        break;
                    }
                    End => {
                        done = true;
                        break;
                    }
                }
            }
        }
        bytes.truncate(out);
        batch.fields = match String::from_utf8(bytes) {
            Ok(text) => Fields::Text(text),
            Err(e) => Fields::Bytes(e.into_bytes()),
        };
        if !batch.spans.is_empty() && full.send(Ok(batch)).is_err() {
            return;
        }
        if done {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(text: &[u8]) -> RecordStream {
        RecordStream::start(Box::new(std::io::Cursor::new(text.to_vec())), b',', 1 << 20)
    }

    #[test]
    fn every_record_comes_through_in_order_with_its_line() {
        let rows = RECORDS_PER_BATCH * 2 + 17;
        let mut text = String::from("id,note\n");
        for i in 0..rows {
            text += &format!("{i},\"x\ny\"\n");
        }
        let mut s = stream(text.as_bytes());
        assert_eq!(s.header().unwrap().unwrap(), ["id", "note"]);
        let mut seen = 0;
        while let Some(batch) = s.next_batch().unwrap() {
            for r in batch.records() {
                let t = r.text().unwrap();
                assert_eq!(t.get(0).unwrap(), seen.to_string());
                assert_eq!(t.get(1).unwrap(), "x\ny");
                assert_eq!(r.line, 2 * seen as u64 + 2);
                seen += 1;
            }
            s.give_back(batch);
        }
        assert_eq!(seen, rows);
    }

    #[test]
    fn records_match_the_csv_crate_on_awkward_input() {
        let text = b"a,b\r\n\"q,\"\"\",2\r\n\r\nlast,\n,\nno newline at end";
        let mut ours = Vec::new();
        let mut s = stream(text);
        let header = s.header().unwrap().unwrap();
        while let Some(batch) = s.next_batch().unwrap() {
            for r in batch.records() {
                let fields: Vec<String> = r.text().unwrap().iter().map(String::from).collect();
                ours.push((fields, r.line, r.byte));
            }
            s.give_back(batch);
        }
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(&text[..]);
        assert_eq!(rdr.headers().unwrap().iter().collect::<Vec<_>>(), header);
        let theirs: Vec<_> = rdr
            .records()
            .map(|r| {
                let r = r.unwrap();
                let p = r.position().unwrap();
                (r.iter().map(String::from).collect::<Vec<_>>(), p.byte())
            })
            .collect();
        let fields_and_bytes: Vec<_> = ours.iter().map(|(f, _, b)| (f.clone(), *b)).collect();
        assert_eq!(fields_and_bytes, theirs);
        // Lines by hand (the csv crate counts `\n` as it reads, so after `\r\n` it is one short):
        // the header is line 1, a blank line 3.
        let lines: Vec<u64> = ours.iter().map(|r| r.1).collect();
        assert_eq!(lines, [2, 4, 5, 6]);
    }

    #[test]
    fn lines_count_crlf_a_lone_cr_and_breaks_inside_quotes() {
        for (text, want) in [
            (&b"h\r\nA\r\n\"x\r\ny\"\r\nC"[..], [2u64, 3, 5]),
            (b"h\rA\r\"x\ry\"\rC\r", [2, 3, 5]),
            (b"h\nA\n\"x\ny\"\n\n", [2, 3, 0]),
        ] {
            let mut s = stream(text);
            s.header().unwrap();
            let mut lines = Vec::new();
            while let Some(batch) = s.next_batch().unwrap() {
                lines.extend(batch.records().map(|r| r.line));
                s.give_back(batch);
            }
            let want: Vec<u64> = want.into_iter().filter(|&l| l > 0).collect();
            assert_eq!(lines, want, "{:?}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn good_records_beside_a_bad_one_still_read_as_text() {
        let mut s = stream(b"h1,h2\nok,fine\nbad,\xff\nalso,fine\n");
        s.header().unwrap();
        let batch = s.next_batch().unwrap().unwrap();
        let texts: Vec<_> = batch.records().map(|r| r.text().map(|t| t.as_str())).collect();
        assert_eq!(texts, [Ok("okfine"), Err((1, 0)), Ok("alsofine")]);
    }

    #[test]
    fn a_record_over_the_limit_is_reported_by_size_and_keeps_nothing() {
        let huge = "x".repeat(3_000_000);
        let text = format!("h1,h2\nbefore,1\n\"{huge}\",2\nafter,3\n");
        let mut s =
            RecordStream::start(Box::new(std::io::Cursor::new(text.into_bytes())), b',', 1000);
        s.header().unwrap();
        let mut seen = Vec::new();
        while let Some(batch) = s.next_batch().unwrap() {
            for r in batch.records() {
                seen.push((r.oversized, r.len(), r.line));
            }
            s.give_back(batch);
        }
        assert_eq!(seen, [(None, 2, 2), (Some(3_000_001), 0, 3), (None, 2, 4)]);
    }

    #[test]
    fn text_names_the_first_field_that_is_not_utf8_even_across_a_boundary() {
        // "あ" is E3 81 82: split over two fields, the record is UTF-8 end to end but neither
        // field is.
        let mut s = stream(b"h1,h2,h3\nok,\xe3\x81,\x82\n");
        s.header().unwrap();
        let batch = s.next_batch().unwrap().unwrap();
        let record = batch.records().next().unwrap();
        assert_eq!(record.text().err(), Some((1, 0)));
    }

    /// Gives its bytes, then fails as a disk might.
    struct FailingAfter(std::io::Cursor<Vec<u8>>);

    impl Read for FailingAfter {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match self.0.read(buf)? {
                0 => Err(std::io::Error::other("the disk went away")),
                n => Ok(n),
            }
        }
    }

    #[test]
    fn a_read_error_comes_through() {
        let input = FailingAfter(std::io::Cursor::new(b"a,b\nc,d\n".to_vec()));
        let mut s = RecordStream::start(Box::new(input), b',', 1 << 20);
        let error = s.header().expect_err("the read error comes through");
        assert!(error.to_string().contains("the disk went away"), "{error}");
    }
}
