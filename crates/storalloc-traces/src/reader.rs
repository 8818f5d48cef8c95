//! A streaming trace reader. It pulls YAML events one at a time
//! (`yaml-rust2`'s event parser) and builds one [`IOJob`] at a time, so a
//! 250 MB trace costs memory for one job, not for a whole YAML tree.
//!
//! Both formats are accepted in the same file: each field is looked up by
//! its original name (`runTime`, `waitingTime`, `MPIprocs`) and by its Theta
//! name (`runtimeSeconds`, `waitingTimeSeconds`, `sum_nprocs`). Fields the
//! replay does not use (`runs`, `category`, `coreHoursReq`...) are skipped.

use crate::error::{JobError, JobErrorKind, TraceError};
use crate::fast_path::{self, Scan};
use crate::fields::{build_job, detect_format, is_null, Field};
use crate::job::IOJob;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Which trace family a file belongs to, judged from its first job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceFormat {
    /// The original prototype's `IOJobs.yml`.
    IoJobs,
    /// The richer Theta per-job format of `data/traces`.
    Theta,
}

impl TraceFormat {
    pub fn name(self) -> &'static str {
        match self {
            TraceFormat::IoJobs => "IOJobs",
            TraceFormat::Theta => "theta",
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Skip malformed jobs (and count them) instead of failing.
    pub skip_invalid: bool,
}

/// What [`read_trace`] saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadSummary {
    pub format: Option<TraceFormat>,
    pub jobs_read: usize,
    pub jobs_skipped: usize,
    /// Skipped jobs per reason (`field: kind`), for the user.
    pub skip_reasons: BTreeMap<String, usize>,
    /// The first few skipped jobs in full.
    pub first_errors: Vec<JobError>,
}

const KEPT_ERRORS: usize = 10;

/// Reads every job of the trace at `path` and hands each to `f`. Without
/// `skip_invalid` the first malformed job is an error; with it, malformed
/// jobs are counted in the summary. Broken YAML is always an error.
///
/// Plain block-style files (what trace tools write) are read with a fast
/// line-based path. At the first line outside its subset, the general YAML
/// event parser takes over from the start of the file, skipping the jobs
/// already handed over.
pub fn read_trace(
    path: &Path,
    opts: ReadOptions,
    f: impl FnMut(IOJob),
) -> Result<ReadSummary, TraceError> {
    let open = || {
        std::fs::File::open(path)
            .map(|file| BufReader::with_capacity(1 << 16, file))
            .map_err(|source| TraceError::Io {
                path: path.to_path_buf(),
                source,
            })
    };
    read_with(open, path, opts, f)
}

/// [`read_trace`] on a trace held in memory.
pub fn read_str(
    text: &str,
    opts: ReadOptions,
    f: impl FnMut(IOJob),
) -> Result<ReadSummary, TraceError> {
    read_with(|| Ok(text.as_bytes()), Path::new("<input>"), opts, f)
}

fn read_with<R: BufRead>(
    open: impl Fn() -> Result<R, TraceError>,
    path: &Path,
    opts: ReadOptions,
    mut f: impl FnMut(IOJob),
) -> Result<ReadSummary, TraceError> {
    let mut c = Collector::new(opts);
    let mut handed = 0usize;
    let mut failed = None;
    let scan = fast_path::scan(open()?, |index, line, fields| {
        if failed.is_some() {
            return;
        }
        if c.summary.format.is_none() {
            c.summary.format = Some(detect_format(fields));
        }
        let item = build_job(index, line, fields).map_err(|error| TraceError::Job {
            path: path.to_path_buf(),
            error: Box::new(error),
        });
        handed += 1;
        if let Err(e) = c.take(item, &mut f) {
            failed = Some(e);
        }
    })
    .map_err(|source| TraceError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    if scan == Scan::Done {
        return Ok(c.summary);
    }
    let mut stream = JobStream::from_reader(open()?, path);
    for (i, item) in stream.by_ref().enumerate() {
        match item {
            // Already handed over by the fast path.
            Ok(_) | Err(TraceError::Job { .. }) if i < handed => {}
            item => c.take(item, &mut f)?,
        }
    }
    c.summary.format = stream.format();
    Ok(c.summary)
}

/// Counts jobs and skipped jobs the same way for both reader paths.
struct Collector {
    opts: ReadOptions,
    summary: ReadSummary,
}

impl Collector {
    fn new(opts: ReadOptions) -> Collector {
        Collector {
            opts,
            summary: ReadSummary::default(),
        }
    }

    fn take(
        &mut self,
        item: Result<IOJob, TraceError>,
        f: &mut impl FnMut(IOJob),
    ) -> Result<(), TraceError> {
        let summary = &mut self.summary;
        match item {
            Ok(job) => {
                summary.jobs_read += 1;
                f(job);
                Ok(())
            }
            Err(TraceError::Job { error, path }) => {
                if !self.opts.skip_invalid {
                    return Err(TraceError::Job { error, path });
                }
                summary.jobs_skipped += 1;
                let reason = if error.field.is_empty() {
                    error.kind.to_string()
                } else {
                    format!("{}: {}", error.field, reason_class(&error.kind))
                };
                *summary.skip_reasons.entry(reason).or_default() += 1;
                if summary.first_errors.len() < KEPT_ERRORS {
                    summary.first_errors.push(*error);
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

/// Reads a trace held in memory with the fast path only: `None` when the
/// text is outside its subset. Each job or job error, in order; for tests.
pub fn parse_str_fast(text: &str) -> Option<Vec<Result<IOJob, JobError>>> {
    let mut out = Vec::new();
    let scan = fast_path::scan(text.as_bytes(), |index, line, fields| {
        out.push(build_job(index, line, fields));
    })
    .ok()?;
    (scan == Scan::Done).then_some(out)
}

/// The kind of an error without its value, so reasons group well.
fn reason_class(kind: &JobErrorKind) -> &'static str {
    match kind {
        JobErrorKind::Missing => "missing",
        JobErrorKind::NegativeBytes(_) => "negative byte count",
        JobErrorKind::EndBeforeStart { .. } => "end before start",
        JobErrorKind::BadTime(_) => "unparsable time",
        JobErrorKind::BadNumber(_) => "invalid number",
        JobErrorKind::BadSpan(_) => "invalid length of time",
        JobErrorKind::BadId(_) => "invalid id",
        JobErrorKind::NotAScalar(_) => "not a single value",
        JobErrorKind::NotAMapping(_) => "job is not a mapping",
    }
}

/// Characters from a buffered reader, a line at a time. An I/O or UTF-8
/// error ends the stream and is kept for the caller.
pub struct CharReader<R> {
    inner: R,
    line: String,
    pos: usize,
    error: Rc<RefCell<Option<std::io::Error>>>,
}

impl<R: BufRead> Iterator for CharReader<R> {
    type Item = char;
    fn next(&mut self) -> Option<char> {
        if self.pos >= self.line.len() {
            self.line.clear();
            self.pos = 0;
            match self.inner.read_line(&mut self.line) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    *self.error.borrow_mut() = Some(e);
                    return None;
                }
            }
        }
        let c = self.line[self.pos..].chars().next()?;
        self.pos += c.len_utf8();
        Some(c)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the top-level node.
    Start,
    /// Inside the top-level mapping, looking for `jobs`.
    TopLevel,
    /// Inside the `jobs` sequence.
    Jobs,
    /// The rest of the document, read only to find syntax errors.
    Rest,
    Done,
}

/// An iterator over the jobs of a trace. A job-level error
/// ([`TraceError::Job`]) leaves the stream usable; any other error ends it.
pub struct JobStream<I: Iterator<Item = char>> {
    parser: Parser<I>,
    path: PathBuf,
    state: State,
    /// The top level is a bare list of jobs rather than `jobs: [...]`.
    bare_list: bool,
    found_jobs: bool,
    index: usize,
    format: Option<TraceFormat>,
    io_error: Rc<RefCell<Option<std::io::Error>>>,
}

impl JobStream<CharReader<BufReader<std::fs::File>>> {
    pub fn open(path: &Path) -> Result<Self, TraceError> {
        let file = std::fs::File::open(path).map_err(|source| TraceError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(JobStream::from_reader(
            BufReader::with_capacity(1 << 16, file),
            path,
        ))
    }
}

impl<R: BufRead> JobStream<CharReader<R>> {
    /// Reads from any buffered reader; `name` is used in error messages.
    pub fn from_reader(reader: R, name: &Path) -> Self {
        let error = Rc::new(RefCell::new(None));
        let chars = CharReader {
            inner: reader,
            line: String::new(),
            pos: 0,
            error: error.clone(),
        };
        JobStream {
            parser: Parser::new(chars),
            path: name.to_path_buf(),
            state: State::Start,
            bare_list: false,
            found_jobs: false,
            index: 0,
            format: None,
            io_error: error,
        }
    }
}

/// Reads a whole trace held in memory; for tests and small inputs.
pub fn parse_str(text: &str) -> Result<Vec<IOJob>, TraceError> {
    JobStream::from_reader(text.as_bytes(), Path::new("<input>")).collect()
}

impl<I: Iterator<Item = char>> JobStream<I> {
    /// The trace's format, known once the first job is read.
    pub fn format(&self) -> Option<TraceFormat> {
        self.format
    }

    fn next_event(&mut self) -> Result<(Event, Marker), TraceError> {
        let r = self.parser.next_token();
        if let Some(e) = self.io_error.borrow_mut().take() {
            return Err(TraceError::Io {
                path: self.path.clone(),
                source: e,
            });
        }
        r.map_err(|e| TraceError::Yaml {
            path: self.path.clone(),
            line: e.marker().line(),
            col: e.marker().col() + 1,
            message: e.info().to_string(),
        })
    }

    fn structure(&self, message: impl Into<String>) -> TraceError {
        TraceError::Structure {
            path: self.path.clone(),
            message: message.into(),
        }
    }

    /// Consumes the rest of a node whose first event was `first`.
    fn skip_node(&mut self, first: &Event) -> Result<(), TraceError> {
        let mut depth: usize = match first {
            Event::SequenceStart(..) | Event::MappingStart(..) => 1,
            _ => return Ok(()),
        };
        while depth > 0 {
            match self.next_event()?.0 {
                Event::SequenceStart(..) | Event::MappingStart(..) => depth += 1,
                Event::SequenceEnd | Event::MappingEnd => depth -= 1,
                Event::StreamEnd => return Err(self.structure("unexpected end of file")),
                _ => {}
            }
        }
        Ok(())
    }

    fn step(&mut self) -> Option<Result<IOJob, TraceError>> {
        loop {
            let r = match self.state {
                State::Done => return None,
                State::Start => self.start(),
                State::TopLevel => self.top_level(),
                State::Jobs => match self.jobs() {
                    Ok(Some(job)) => return Some(job),
                    Ok(None) => Ok(()),
                    Err(e) => Err(e),
                },
                State::Rest => self.rest(),
            };
            if let Err(e) = r {
                self.state = State::Done;
                return Some(Err(e));
            }
        }
    }

    fn start(&mut self) -> Result<(), TraceError> {
        loop {
            let (ev, _) = self.next_event()?;
            match ev {
                Event::StreamStart | Event::DocumentStart | Event::Nothing => {}
                Event::MappingStart(..) => {
                    self.state = State::TopLevel;
                    return Ok(());
                }
                Event::SequenceStart(..) => {
                    self.bare_list = true;
                    self.found_jobs = true;
                    self.state = State::Jobs;
                    return Ok(());
                }
                Event::StreamEnd => {
                    return Err(self.structure("empty file: expected a `jobs:` list"))
                }
                _ => {
                    return Err(
                        self.structure("expected a mapping with a `jobs:` list at the top level")
                    )
                }
            }
        }
    }

    fn top_level(&mut self) -> Result<(), TraceError> {
        let (ev, _) = self.next_event()?;
        match ev {
            Event::MappingEnd => {
                if !self.found_jobs {
                    return Err(self.structure("no `jobs:` list at the top level"));
                }
                self.state = State::Rest;
            }
            Event::Scalar(key, ..) => {
                let (value, _) = self.next_event()?;
                if key == "jobs" && !self.found_jobs {
                    self.found_jobs = true;
                    match value {
                        Event::SequenceStart(..) => self.state = State::Jobs,
                        Event::Scalar(ref v, ..) if is_null(v) => {}
                        _ => return Err(self.structure("`jobs` must be a list of jobs")),
                    }
                } else if key == "jobs" {
                    return Err(self.structure("`jobs` appears twice"));
                } else {
                    self.skip_node(&value)?;
                }
            }
            other => self.skip_node(&other)?,
        }
        Ok(())
    }

    fn rest(&mut self) -> Result<(), TraceError> {
        loop {
            let (ev, _) = self.next_event()?;
            match ev {
                Event::StreamEnd => {
                    self.state = State::Done;
                    return Ok(());
                }
                Event::DocumentStart => {
                    return Err(
                        self.structure("more than one YAML document: a trace is a single document")
                    )
                }
                _ => {}
            }
        }
    }

    /// The next job of the `jobs` list, or `None` at its end.
    fn jobs(&mut self) -> Result<Option<Result<IOJob, TraceError>>, TraceError> {
        let (ev, mark) = self.next_event()?;
        let index = self.index;
        match ev {
            Event::SequenceEnd => {
                self.state = if self.bare_list {
                    State::Rest
                } else {
                    State::TopLevel
                };
                Ok(None)
            }
            Event::MappingStart(..) => {
                self.index += 1;
                let fields = self.read_fields()?;
                if self.format.is_none() {
                    self.format = Some(detect_format(&fields));
                }
                Ok(Some(build_job(index, mark.line(), &fields).map_err(
                    |error| TraceError::Job {
                        path: self.path.clone(),
                        error: Box::new(error),
                    },
                )))
            }
            other => {
                self.index += 1;
                let what = event_kind(&other);
                self.skip_node(&other)?;
                Ok(Some(Err(TraceError::Job {
                    path: self.path.clone(),
                    error: Box::new(JobError {
                        index,
                        id: None,
                        field: String::new(),
                        line: mark.line(),
                        kind: JobErrorKind::NotAMapping(what),
                    }),
                })))
            }
        }
    }

    fn read_fields(&mut self) -> Result<Vec<Field>, TraceError> {
        let mut fields = Vec::with_capacity(24);
        loop {
            let (ev, _) = self.next_event()?;
            let key = match ev {
                Event::MappingEnd => return Ok(fields),
                Event::Scalar(k, ..) => k,
                other => {
                    // A non-scalar key: skip it and its value.
                    self.skip_node(&other)?;
                    let (v, _) = self.next_event()?;
                    self.skip_node(&v)?;
                    continue;
                }
            };
            let (value, _) = self.next_event()?;
            let field = match value {
                Event::Scalar(v, style, ..) => Field {
                    key,
                    quoted: style != TScalarStyle::Plain,
                    value: if style == TScalarStyle::Plain && is_null(&v) {
                        None
                    } else {
                        Some(v)
                    },
                    nested: None,
                },
                other => {
                    let what = event_kind(&other);
                    self.skip_node(&other)?;
                    Field {
                        key,
                        value: None,
                        quoted: false,
                        nested: Some(what),
                    }
                }
            };
            fields.push(field);
        }
    }
}

impl<I: Iterator<Item = char>> Iterator for JobStream<I> {
    type Item = Result<IOJob, TraceError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.step()
    }
}

fn event_kind(ev: &Event) -> &'static str {
    match ev {
        Event::SequenceStart(..) => "list",
        Event::MappingStart(..) => "mapping",
        Event::Alias(..) => "alias",
        _ => "scalar",
    }
}
