//! Number sources: numbers written in the campaign file, CSV files and text files, read a
//! batch of rows at a time with the position of every value, so that a file of a million
//! numbers is streamed rather than held whole, and every problem names its line.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

use crate::diagnostic::{Diagnostic, Kind, Position, excerpt};
use crate::load::SourceText;

/// Rows per batch: large enough that spreading a batch over the cores pays, small enough
/// that two batches (one being read, one being normalized) take a few megabytes.
pub const BATCH_ROWS: usize = 16 * 1024;

/// At most this many problems are listed per source; the rest are counted in one line.
pub const MAX_PROBLEMS: usize = 20;

/// The longest field of a source, in bytes: a phone number or a customer id, not a document.
pub const MAX_FIELD_BYTES: usize = 64 * 1024;

/// The longest row (a CSV record or a line of a text file), in bytes: reading stops there, so a
/// file without line breaks cannot make one row take gigabytes.
pub const MAX_ROW_BYTES: usize = 1024 * 1024;

/// A row longer than [`MAX_ROW_BYTES`], met at `line`.
#[derive(Debug, thiserror::Error)]
#[error("line {line} is longer than {} MiB; a source holds one number per row", MAX_ROW_BYTES / (1024 * 1024))]
struct RowTooLong {
    line: usize,
}

/// Rows read from a source. Every row has the same fields (one for inline numbers and text
/// files, the header's columns for CSV), stored back to back in one string.
#[derive(Debug)]
pub struct Batch {
    text: String,
    ends: Vec<usize>,
    positions: Vec<Position>,
    width: usize,
    phone: usize,
}

impl Batch {
    /// An empty batch for rows of `width` fields whose number is field `phone`.
    pub fn new(width: usize, phone: usize) -> Self {
        Batch {
            text: String::new(),
            ends: Vec::new(),
            positions: Vec::new(),
            width,
            phone,
        }
    }

    /// An empty batch for the same kind of rows.
    pub fn empty_like(&self) -> Self {
        Batch::new(self.width, self.phone)
    }

    pub fn len(&self) -> usize {
        self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.positions.clear();
    }

    /// Field `column` of row `row`.
    pub fn field(&self, row: usize, column: usize) -> &str {
        let index = row * self.width + column;
        let start = index
            .checked_sub(1)
            .map_or(0, |previous| self.ends[previous]);
        &self.text[start..self.ends[index]]
    }

    /// The fields of row `row`, in column order.
    pub fn fields(&self, row: usize) -> impl Iterator<Item = &str> {
        (0..self.width).map(move |column| self.field(row, column))
    }

    /// The phone number of row `row`, as written.
    pub fn phone(&self, row: usize) -> &str {
        self.field(row, self.phone)
    }

    /// Where the phone number of row `row` stands in its file.
    pub fn position(&self, row: usize) -> Position {
        self.positions[row]
    }

    fn is_full(&self) -> bool {
        self.len() >= BATCH_ROWS
    }

    fn push<'a>(&mut self, fields: impl IntoIterator<Item = &'a str>, position: Position) {
        for field in fields {
            self.text.push_str(field);
            self.ends.push(self.text.len());
        }
        self.positions.push(position);
    }
}

/// Problems found in one source, at most [`MAX_PROBLEMS`] of them listed.
#[derive(Debug)]
pub struct Problems {
    /// What the problems listed are: unreadable rows, or numbers that cannot be dialed.
    kind: Kind,
    /// The file as diagnostics name it.
    file: String,
    /// The campaign file's text, when the source is written in it (for snippets).
    source: Option<Arc<SourceText>>,
    listed: Vec<Diagnostic>,
    omitted: usize,
}

impl Problems {
    /// Problems of a data file.
    pub fn in_file(file: &str) -> Self {
        Problems {
            kind: Kind::Source,
            file: file.to_owned(),
            source: None,
            listed: Vec::new(),
            omitted: 0,
        }
    }

    /// Problems of numbers written in the campaign file.
    pub fn in_campaign_file(source: &Arc<SourceText>) -> Self {
        Problems {
            source: Some(Arc::clone(source)),
            ..Problems::in_file(&source.name)
        }
    }

    pub fn push(&mut self, position: Position, message: impl Into<String>) {
        if self.listed.len() >= MAX_PROBLEMS {
            self.omitted += 1;
            return;
        }
        let diagnostic = match &self.source {
            Some(source) => source.diagnostic(position, message),
            None => Diagnostic::at(&self.file, position, message),
        }
        .with_kind(self.kind);
        self.listed.push(diagnostic);
    }

    /// Another list of problems of `kind` for the same source, such as its invalid numbers
    /// beside its unreadable rows.
    pub fn sibling(&self, kind: Kind) -> Self {
        Problems {
            kind,
            file: self.file.clone(),
            source: self.source.clone(),
            listed: Vec::new(),
            omitted: 0,
        }
    }

    /// The file the problems are in, as diagnostics name it.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// A problem with the file as a whole; reading it stops.
    fn push_file(&mut self, message: impl Into<String>) {
        self.listed.push(Diagnostic::file(&self.file, message));
    }

    /// The listed problems, and one more line counting those left out.
    pub fn into_diagnostics(mut self) -> Vec<Diagnostic> {
        if self.omitted > 0 {
            let more = if self.omitted == 1 {
                "problem"
            } else {
                "problems"
            };
            self.listed.push(
                Diagnostic::file(
                    &self.file,
                    format!(
                        "{} more {more} in this source not shown (the first {MAX_PROBLEMS} are)",
                        self.omitted
                    ),
                )
                .with_kind(self.kind),
            );
        }
        self.listed
    }
}

/// Why a source could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// A problem with the file as a whole (unreadable, no header), reported at the source in
    /// the campaign file.
    Source(String),
    /// A problem at a place in the data file itself.
    InFile(Box<Diagnostic>),
}

/// A source being read.
pub enum Reader {
    /// Numbers written in the campaign file, each with its position there.
    Inline {
        numbers: std::vec::IntoIter<(String, Position)>,
    },
    Csv(CsvReader),
    Text(TextReader),
}

impl Reader {
    /// The reader of numbers written in the campaign file.
    pub fn inline(numbers: Vec<(String, Position)>) -> (Reader, Batch) {
        let reader = Reader::Inline {
            numbers: numbers.into_iter(),
        };
        (reader, Batch::new(1, 0))
    }

    /// Reads rows into `batch` until it is full or the source ends; `false` once nothing is
    /// left. Rows that cannot be read are reported to `problems` and skipped.
    pub fn fill(&mut self, batch: &mut Batch, problems: &mut Problems) -> bool {
        match self {
            Reader::Inline { numbers } => {
                for (number, position) in numbers.by_ref() {
                    batch.push([number.as_str()], position);
                    if batch.is_full() {
                        return true;
                    }
                }
                false
            }
            Reader::Csv(reader) => reader.fill(batch, problems),
            Reader::Text(reader) => reader.fill(batch, problems),
        }
    }
}

/// The columns of a CSV header for a message: the first few, each cut and escaped, since a
/// header line is data too and may hold anything.
pub fn column_names(header: &[String]) -> String {
    const SHOWN: usize = 8;
    let mut names: Vec<String> = header
        .iter()
        .take(SHOWN)
        .map(|name| crate::diagnostic::escape(&excerpt(name, true)).into_owned())
        .collect();
    if header.len() > SHOWN {
        names.push(format!("and {} more", header.len() - SHOWN));
    }
    names.join(", ")
}

/// A CSV file with a header row.
pub struct CsvReader {
    reader: csv::Reader<LineIndex<File>>,
    record: csv::ByteRecord,
}

/// The header of a CSV file, its columns trimmed of surrounding spaces.
pub type Header = Arc<[String]>;

impl CsvReader {
    /// Opens a CSV file and reads its header. `path` is where the file is, `file` how
    /// diagnostics name it.
    pub fn open(handle: File, file: &str, delimiter: u8) -> Result<(CsvReader, Header), OpenError> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .trim(csv::Trim::Headers)
            .buffer_capacity(CSV_BUFFER_BYTES)
            .from_reader(LineIndex::new(handle));
        let header = reader
            .byte_headers()
            .map_err(|err| OpenError::Source(format!("cannot read {file}: {err}")))?
            .clone();
        if header.iter().all(<[u8]>::is_empty) {
            return Err(OpenError::Source(format!(
                "{file} has no header row; a CSV source starts with a row naming its columns"
            )));
        }
        let line = reader
            .get_mut()
            .line_at(header.position().map_or(0, csv::Position::byte));
        let mut names = Vec::with_capacity(header.len());
        for (index, name) in header.iter().enumerate() {
            match std::str::from_utf8(name) {
                Ok(name) => names.push(name.to_owned()),
                Err(_) => {
                    return Err(OpenError::InFile(Box::new(
                        Diagnostic::at(
                            file,
                            Position::new(line, index + 1),
                            "the header is not UTF-8 text (save the file as UTF-8)",
                        )
                        .with_kind(Kind::Source),
                    )));
                }
            }
        }
        let reader = CsvReader {
            reader,
            record: csv::ByteRecord::new(),
        };
        Ok((reader, names.into()))
    }

    fn fill(&mut self, batch: &mut Batch, problems: &mut Problems) -> bool {
        loop {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => return false,
                Err(err) => match err.kind() {
                    csv::ErrorKind::UnequalLengths {
                        pos,
                        expected_len,
                        len,
                    } => {
                        let start = pos.as_ref().map_or(0, csv::Position::byte);
                        let line = self.reader.get_mut().line_at(start);
                        let (len, expected) = (*len as usize, *expected_len as usize);
                        problems.push(
                            Position::new(line, len.min(expected) + 1),
                            format!(
                                "this row has {len} {}, the header has {expected}; quote fields \
                                 that contain the delimiter",
                                if len == 1 { "field" } else { "fields" }
                            ),
                        );
                        continue;
                    }
                    csv::ErrorKind::Io(io) => {
                        match io
                            .get_ref()
                            .and_then(|inner| inner.downcast_ref::<RowTooLong>())
                        {
                            Some(long) => {
                                problems.push(Position::new(long.line, 1), long.to_string())
                            }
                            None => problems.push_file(format!("cannot read: {}", io.kind())),
                        }
                        return false;
                    }
                    _ => {
                        problems.push_file(format!("cannot read: {err}"));
                        return false;
                    }
                },
            }
            let start = self.record.position().map_or(0, csv::Position::byte);
            let line = self.reader.get_mut().line_at(start);
            if let Some(column) = self.record.iter().position(|f| f.len() > MAX_FIELD_BYTES) {
                problems.push(Position::new(line, column + 1), too_long_field());
                continue;
            }
            match utf8_fields(&self.record) {
                Ok(fields) => batch.push(fields, Position::new(line, batch.phone + 1)),
                Err(column) => problems.push(
                    Position::new(line, column + 1),
                    "this field is not UTF-8 text (save the file as UTF-8)",
                ),
            }
            if batch.is_full() {
                return true;
            }
        }
    }
}

/// Line numbers of CSV records. The csv crate counts a record's line from where it started
/// reading it, before skipping blank lines and the `\n` of a `\r\n`, so its lines are off
/// after either; this reader notes where each line with content starts as the bytes pass.
struct LineIndex<R> {
    inner: R,
    /// Bytes read so far.
    offset: u64,
    /// Lines begun so far.
    line: usize,
    /// Whether the next byte starts a line.
    at_line_start: bool,
    /// Offset and number of each line that starts with content, not yet asked about.
    starts: VecDeque<(u64, usize)>,
    /// Where the record last asked about starts: bytes read past it belong to records after.
    record_start: u64,
}

impl<R> LineIndex<R> {
    fn new(inner: R) -> Self {
        LineIndex {
            inner,
            offset: 0,
            line: 1,
            at_line_start: true,
            starts: VecDeque::new(),
            record_start: 0,
        }
    }

    /// The line of the first content at or after byte `start`, where csv began reading a
    /// record: only blank lines and line breaks can stand between the two. Asked in
    /// increasing order, so the lines before are forgotten.
    fn line_at(&mut self, start: u64) -> usize {
        self.record_start = start;
        while self
            .starts
            .front()
            .is_some_and(|&(offset, _)| offset < start)
        {
            self.starts.pop_front();
        }
        self.starts.front().map_or(self.line, |&(_, line)| line)
    }
}

impl<R: Read> Read for LineIndex<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // csv reads ahead a buffer (64 KiB) at a time, so the row being read is at least this
        // long once more than a row and two buffers were read past the last record's start.
        if self.offset - self.record_start > (MAX_ROW_BYTES + 2 * CSV_BUFFER_BYTES) as u64 {
            return Err(std::io::Error::other(RowTooLong { line: self.line }));
        }
        let read = self.inner.read(buf)?;
        let bytes = &buf[..read];
        let mut pending = false;
        // Notes where the line that begins at `from` has its first content; a line may
        // begin with `\r`s (csv reads a lone `\r` as a line break too).
        let mut note = |from: usize, line: usize, starts: &mut VecDeque<(u64, usize)>| {
            let rest = &bytes[from..];
            match rest.iter().position(|&byte| byte != b'\r') {
                Some(i) if rest[i] != b'\n' => {
                    starts.push_back((self.offset + (from + i) as u64, line))
                }
                Some(_) => {}
                None => pending = true,
            }
        };
        if self.at_line_start {
            note(0, self.line, &mut self.starts);
        }
        for newline in memchr::memchr_iter(b'\n', bytes) {
            self.line += 1;
            note(newline + 1, self.line, &mut self.starts);
        }
        self.at_line_start = pending;
        self.offset += read as u64;
        Ok(read)
    }
}

/// The bytes csv reads at a time.
const CSV_BUFFER_BYTES: usize = 64 * 1024;

fn too_long_field() -> String {
    format!(
        "this field is longer than {} KiB; a source holds phone numbers and short values",
        MAX_FIELD_BYTES / 1024
    )
}

/// The fields of a record as text, or the index of the first field that is not UTF-8.
fn utf8_fields(record: &csv::ByteRecord) -> Result<impl Iterator<Item = &str>, usize> {
    // One check over the whole row: the fields are stored back to back.
    if let Err(err) = std::str::from_utf8(record.as_slice()) {
        let mut end = 0;
        let bad = record
            .iter()
            .position(|field| {
                end += field.len();
                end > err.valid_up_to()
            })
            .unwrap_or(0);
        return Err(bad);
    }
    Ok(record
        .iter()
        .map(|field| std::str::from_utf8(field).unwrap_or_default()))
}

/// A text file with one number per line.
pub struct TextReader {
    reader: BufReader<File>,
    line: Vec<u8>,
    number: usize,
}

impl TextReader {
    pub fn new(handle: File) -> TextReader {
        TextReader {
            reader: BufReader::with_capacity(64 * 1024, handle),
            line: Vec::new(),
            number: 0,
        }
    }

    /// Lines hold one number each; blank lines and everything after `#` are skipped.
    fn fill(&mut self, batch: &mut Batch, problems: &mut Problems) -> bool {
        loop {
            self.line.clear();
            let mut bounded = (&mut self.reader).take(MAX_ROW_BYTES as u64 + 1);
            match bounded.read_until(b'\n', &mut self.line) {
                Ok(0) => return false,
                Ok(_) => self.number += 1,
                Err(err) => {
                    problems.push_file(format!("cannot read: {}", err.kind()));
                    return false;
                }
            }
            if self.line.len() > MAX_ROW_BYTES {
                let long = RowTooLong { line: self.number };
                problems.push(Position::new(self.number, 1), long.to_string());
                return false;
            }
            let mut bytes = self.line.as_slice();
            if self.number == 1 {
                bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
            }
            let Ok(text) = std::str::from_utf8(bytes) else {
                problems.push(
                    Position::new(self.number, 1),
                    "this line is not UTF-8 text (save the file as UTF-8)",
                );
                continue;
            };
            let content = text.split('#').next().unwrap_or_default();
            let number = content.trim();
            if number.is_empty() {
                continue;
            }
            if number.len() > MAX_FIELD_BYTES {
                problems.push(Position::new(self.number, 1), too_long_field());
                continue;
            }
            let indent = content.len() - content.trim_start().len();
            let column = content[..indent].chars().count() + 1;
            batch.push([number], Position::new(self.number, column));
            if batch.is_full() {
                return true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every phone field a source yields, and the messages of its problems with their lines.
    fn read(name: &str, bytes: &[u8]) -> (Vec<String>, Vec<(Option<usize>, String)>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let handle = File::open(&path).unwrap();
        let mut problems = Problems::in_file(name);
        let (mut reader, mut batch) = if name.ends_with(".csv") {
            match CsvReader::open(handle, name, b',') {
                Ok((reader, header)) => {
                    let phone = header.iter().position(|h| h == "phone").unwrap();
                    (Reader::Csv(reader), Batch::new(header.len(), phone))
                }
                Err(err) => panic!("{err:?}"),
            }
        } else {
            (Reader::Text(TextReader::new(handle)), Batch::new(1, 0))
        };
        let mut phones = Vec::new();
        loop {
            let more = reader.fill(&mut batch, &mut problems);
            phones.extend((0..batch.len()).map(|row| batch.phone(row).to_owned()));
            batch.clear();
            if !more {
                break;
            }
        }
        let problems = problems
            .into_diagnostics()
            .into_iter()
            .map(|d| (d.position.map(|p| p.line), d.message))
            .collect();
        (phones, problems)
    }

    #[test]
    fn a_field_over_the_limit_is_reported_at_its_row_and_the_rest_is_read() {
        let long = "9".repeat(MAX_FIELD_BYTES + 1);
        let csv = format!("id,phone\n1,{long}\n2,020 7946 0001\n");
        let (phones, problems) = read("a.csv", csv.as_bytes());
        assert_eq!(phones, ["020 7946 0001"]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, Some(2));
        assert!(problems[0].1.contains("longer than 64 KiB"), "{problems:?}");
        let text = format!("{long}\n020 7946 0002\n");
        let (phones, problems) = read("a.txt", text.as_bytes());
        assert_eq!((phones.len(), problems.len()), (1, 1), "{problems:?}");
    }

    #[test]
    fn a_row_without_end_stops_reading_with_a_located_error() {
        let endless = vec![b'7'; 3 * MAX_ROW_BYTES];
        let mut csv = b"phone\n020 7946 0001\n".to_vec();
        csv.extend_from_slice(&endless);
        let (phones, problems) = read("b.csv", &csv);
        assert_eq!(phones, ["020 7946 0001"]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, Some(3));
        assert!(
            problems[0].1.starts_with("line 3 is longer than 1 MiB"),
            "{problems:?}"
        );
        let mut text = b"020 7946 0001\n".to_vec();
        text.extend_from_slice(&endless);
        let (phones, problems) = read("b.txt", &text);
        assert_eq!(phones, ["020 7946 0001"]);
        assert_eq!(problems[0].0, Some(2), "{problems:?}");
    }

    #[test]
    fn column_names_are_few_cut_and_escaped() {
        let header: Vec<String> = (0..10).map(|i| format!("c{i}")).collect();
        assert_eq!(
            column_names(&header),
            "c0, c1, c2, c3, c4, c5, c6, c7, and 2 more"
        );
        let hostile = ["a\u{1b}[2J".to_owned(), "x".repeat(100)];
        let listed = column_names(&hostile);
        assert!(listed.starts_with("a\\u{1b}[2J, xxx"), "{listed}");
        assert!(listed.ends_with("x…"), "{listed}");
    }
}
