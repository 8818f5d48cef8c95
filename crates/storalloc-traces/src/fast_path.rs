//! A line-based fast path for the plain block-style YAML that trace tools
//! write (our writer, the Theta exporter). It is about ten times faster
//! than the general event parser, which is what reading a million-job trace
//! costs most.
//!
//! The fast path only handles a strict subset: `key: scalar` lines, plain or
//! single-quoted scalars, a `jobs:` list of mappings, and nested values at
//! most one level deep (a list of `key: scalar` mappings, as in `runs:`, or
//! a mapping of scalars, as in `preload:`). On the first line outside that
//! subset it gives up ([`Scan::Unsupported`]) and the caller reads the file
//! with the general parser instead, so anything unusual, including any YAML
//! error, is handled and reported there. A property test checks that
//! whenever the fast path accepts an input, both paths read the same jobs
//! and the same job errors.

use crate::fields::{is_null, Field};
use std::io::{self, BufRead};

/// The result of a scan.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Scan {
    /// The whole input was in the subset; every job was handed over.
    Done,
    /// A line outside the subset: use the general parser.
    Unsupported,
}

/// One line, split up: indentation, whether it is a list item (`- `), and
/// the rest.
struct Line<'a> {
    indent: usize,
    dash: bool,
    body: &'a str,
}

fn split_line(raw: &str) -> Option<Line<'_>> {
    let text = raw.strip_suffix('\n').unwrap_or(raw);
    if text.contains(['\t', '\r', '#']) {
        return None;
    }
    let trimmed = text.trim_start_matches(' ');
    let indent = text.len() - trimmed.len();
    let (dash, body) = match trimmed.strip_prefix("- ") {
        Some(rest) => (true, rest),
        None if trimmed == "-" => return None,
        None => (false, trimmed),
    };
    if dash && body.starts_with(' ') {
        return None;
    }
    Some(Line {
        indent,
        dash,
        body: body.trim_end_matches(' '),
    })
}

/// A scalar value: `Some((text, quoted))`, or `None` outside the subset.
fn scalar(v: &str) -> Option<(String, bool)> {
    if let Some(inner) = v.strip_prefix('\'') {
        let inner = inner.strip_suffix('\'')?;
        // Every quote inside must be doubled.
        if inner.replace("''", "").contains('\'') {
            return None;
        }
        return Some((inner.replace("''", "'"), true));
    }
    let first = v.chars().next()?;
    if ",[]{}#&*!|>\"%@`'".contains(first)
        || v.starts_with("- ")
        || v.starts_with("? ")
        || v.starts_with(": ")
        || matches!(v, "-" | "?" | ":")
        || v.contains(": ")
        || v.ends_with(':')
        || v.contains(" #")
    {
        return None;
    }
    Some((v.to_string(), false))
}

/// `key: value` or `key:` with a simple key; `None` outside the subset.
fn key_value(body: &str) -> Option<(&str, &str)> {
    let (key, rest) = body.split_once(':')?;
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    if rest.is_empty() {
        return Some((key, ""));
    }
    let v = rest.strip_prefix(' ')?.trim_start_matches(' ');
    Some((key, v))
}

/// Reads lines and remembers the last one, so a block can end on a line
/// that the caller then handles.
struct Lines<R> {
    reader: R,
    buf: String,
    pending: bool,
    line_no: usize,
}

impl<R: BufRead> Lines<R> {
    /// The next non-blank line (kept in `buf`), or `false` at the end.
    fn next(&mut self) -> io::Result<bool> {
        if self.pending {
            self.pending = false;
            return Ok(true);
        }
        loop {
            self.buf.clear();
            if self.reader.read_line(&mut self.buf)? == 0 {
                return Ok(false);
            }
            self.line_no += 1;
            if !self.buf.trim_end_matches(['\n', ' ']).is_empty() {
                return Ok(true);
            }
        }
    }
    fn push_back(&mut self) {
        self.pending = true;
    }
}

/// Skips the nested value of a key at indent `k` whose value was empty.
/// Returns `Some(kind)` ("list" or "mapping"), `Some("")` if there is no
/// nested value (a null), or `None` outside the subset.
fn skip_nested<R: BufRead>(lines: &mut Lines<R>, k: usize) -> io::Result<Option<&'static str>> {
    if !lines.next()? {
        return Ok(Some(""));
    }
    let Some(first) = split_line(&lines.buf) else {
        return Ok(None);
    };
    let (kind, item) = if first.dash && first.indent >= k {
        ("list", first.indent)
    } else if !first.dash && first.indent > k {
        ("mapping", first.indent)
    } else {
        lines.push_back();
        return Ok(Some(""));
    };
    let mut l = first;
    loop {
        let in_block = match kind {
            "list" => (l.dash && l.indent == item) || (!l.dash && l.indent == item + 2),
            _ => !l.dash && l.indent == item,
        };
        if !in_block {
            if l.indent <= k {
                // The block has ended; the caller judges this line.
                lines.push_back();
                return Ok(Some(kind));
            }
            return Ok(None);
        }
        match key_value(l.body) {
            Some((_, v)) if !v.is_empty() && scalar(v).is_some() => {}
            _ => return Ok(None),
        }
        if !lines.next()? {
            return Ok(Some(kind));
        }
        l = match split_line(&lines.buf) {
            Some(l) => l,
            None => return Ok(None),
        };
    }
}

/// Scans a whole trace, calling `on_job(index, line, fields)` for each job.
pub(crate) fn scan<R: BufRead>(
    reader: R,
    mut on_job: impl FnMut(usize, usize, &[Field]),
) -> io::Result<Scan> {
    let mut lines = Lines {
        reader,
        buf: String::new(),
        pending: false,
        line_no: 0,
    };
    let mut seen_content = false;
    let mut found_jobs = false;
    let mut index = 0;
    while lines.next()? {
        if !seen_content && lines.buf.trim_end() == "---" {
            seen_content = true;
            continue;
        }
        seen_content = true;
        let Some(l) = split_line(&lines.buf) else {
            return Ok(Scan::Unsupported);
        };
        if l.indent != 0 || l.dash {
            return Ok(Scan::Unsupported);
        }
        let Some((key, value)) = key_value(l.body) else {
            return Ok(Scan::Unsupported);
        };
        if key == "jobs" {
            if found_jobs {
                return Ok(Scan::Unsupported);
            }
            found_jobs = true;
            match value {
                "" => {}
                "[]" => continue,
                _ => return Ok(Scan::Unsupported),
            }
            match read_jobs(&mut lines, &mut index, &mut on_job)? {
                Scan::Done => continue,
                Scan::Unsupported => return Ok(Scan::Unsupported),
            }
        }
        if value.is_empty() {
            match skip_nested(&mut lines, 0)? {
                Some(_) => {}
                None => return Ok(Scan::Unsupported),
            }
        } else if scalar(value).is_none() && value != "[]" && value != "{}" {
            return Ok(Scan::Unsupported);
        }
    }
    Ok(if found_jobs {
        Scan::Done
    } else {
        Scan::Unsupported
    })
}

/// Reads the items of the `jobs:` list, whose first line is next.
fn read_jobs<R: BufRead>(
    lines: &mut Lines<R>,
    index: &mut usize,
    on_job: &mut impl FnMut(usize, usize, &[Field]),
) -> io::Result<Scan> {
    let mut item: Option<usize> = None;
    let mut fields: Vec<Field> = Vec::with_capacity(24);
    let mut job_line = 0;
    while lines.next()? {
        let Some(l) = split_line(&lines.buf) else {
            return Ok(Scan::Unsupported);
        };
        if l.indent == 0 && !l.dash {
            // A top-level key: the list has ended (or `jobs:` was null).
            lines.push_back();
            break;
        }
        let ind = *item.get_or_insert(l.indent);
        if l.dash && l.indent == ind {
            if job_line > 0 {
                on_job(*index, job_line, &fields);
                *index += 1;
                fields.clear();
            }
            job_line = lines.line_no;
        } else if l.dash || l.indent != ind + 2 || job_line == 0 {
            return Ok(Scan::Unsupported);
        }
        let Some((key, value)) = key_value(l.body) else {
            return Ok(Scan::Unsupported);
        };
        let key = key.to_string();
        // Empty flow collections (`runs: []`) are the one flow form accepted.
        let empty_flow = match value {
            "[]" => Some("list"),
            "{}" => Some("mapping"),
            _ => None,
        };
        if let Some(kind) = empty_flow {
            fields.push(Field {
                key,
                value: None,
                quoted: false,
                nested: Some(kind),
            });
            continue;
        }
        let value = if value.is_empty() {
            None
        } else {
            match scalar(value) {
                Some(v) => Some(v),
                None => return Ok(Scan::Unsupported),
            }
        };
        let field = match value {
            None => {
                let nested = match skip_nested(lines, ind + 2)? {
                    None => return Ok(Scan::Unsupported),
                    Some("") => None,
                    Some(kind) => Some(kind),
                };
                Field {
                    key,
                    value: None,
                    quoted: false,
                    nested,
                }
            }
            Some((text, quoted)) => Field {
                key,
                value: if !quoted && is_null(&text) {
                    None
                } else {
                    Some(text)
                },
                quoted,
                nested: None,
            },
        };
        fields.push(field);
    }
    if job_line > 0 {
        on_job(*index, job_line, &fields);
        *index += 1;
    }
    Ok(Scan::Done)
}
