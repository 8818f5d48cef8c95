//! The general path of the trace reader: `yaml-rust2`'s event parser,
//! pulling one event at a time and building one [`IOJob`] at a time, so a
//! 250 MB trace costs memory for one job, not for a whole YAML tree. The
//! reader in [`crate::reader`] hands over to it whenever a file leaves the
//! fast path's plain block style.

use crate::error::{JobError, JobErrorKind, TraceError};
use crate::fields::{build_job, detect_format, is_null, Field};
use crate::job::IOJob;
use crate::reader::TraceFormat;
use std::cell::RefCell;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

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
    /// The parser has delivered `StreamEnd`. It answers `StreamEnd` again
    /// to every later call, so a state that asks past the end would spin
    /// forever; asking again is an error instead.
    ended: bool,
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
            ended: false,
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
        if self.ended {
            return Err(self.structure("unexpected end of file"));
        }
        let r = self.parser.next_token();
        if let Ok((Event::StreamEnd, _)) = &r {
            self.ended = true;
        }
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
            Event::StreamEnd | Event::DocumentEnd => {
                return Err(self.structure("unexpected end of file inside the top-level mapping"))
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
