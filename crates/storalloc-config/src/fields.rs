//! Typed reads of YAML values. Each failure names the field's path and the
//! value found, in the same words everywhere.

use crate::error::FieldError;
use crate::yaml::Value;
use storalloc_core::{Bandwidth, Bytes};

/// `a.b`, or `b` at the top level.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub(crate) fn got(expected: &str, v: &Value) -> String {
    format!("expected {expected}, got {}", v.describe())
}

/// The entries of a mapping.
pub(crate) fn mapping<'a>(
    v: &'a Value,
    path: &str,
    what: &str,
) -> Result<&'a [(String, Value)], FieldError> {
    match v {
        Value::Map(entries) => Ok(entries),
        other => Err(FieldError::new(path, got(what, other))),
    }
}

/// Refuses a file with no YAML content at all (nothing but blank lines,
/// comments and document markers); `expected` says what it should hold.
pub(crate) fn non_empty_document(
    text: &str,
    root: &Value,
    expected: &str,
) -> Result<(), FieldError> {
    let blank = text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---" || l == "..."
    });
    if *root == Value::Null && blank {
        return Err(FieldError::new(
            "",
            format!("the file is empty (expected {expected})"),
        ));
    }
    Ok(())
}

/// A list with at least one item.
pub(crate) fn non_empty_list<'a>(
    v: &'a Value,
    path: &str,
    what: &str,
) -> Result<&'a [Value], FieldError> {
    match v {
        Value::Seq(items) if !items.is_empty() => Ok(items),
        other => Err(FieldError::new(path, got(what, other))),
    }
}

/// What a size field holds, in messages.
pub(crate) const GB: &str = "a positive number of GB";
/// What a bandwidth field holds, in messages.
pub(crate) const GBPS: &str = "a positive number of GB/s";

/// A required field of a mapping, read with `read`.
pub(crate) fn required_as<T>(
    map: &Value,
    path: &str,
    key: &str,
    what: &str,
    read: impl Fn(&Value, &str) -> Result<T, FieldError>,
) -> Result<T, FieldError> {
    read(required(map, path, key, what)?, &join(path, key))
}

/// A required field of a mapping.
pub(crate) fn required<'a>(
    map: &'a Value,
    path: &str,
    key: &str,
    what: &str,
) -> Result<&'a Value, FieldError> {
    map.get(key)
        .ok_or_else(|| FieldError::new(&join(path, key), format!("missing; expected {what}")))
}

/// A scalar read as text: descriptive fields such as serial numbers may be
/// written as plain numbers.
pub(crate) fn text(v: &Value, path: &str) -> Result<String, FieldError> {
    match v {
        Value::Str(s) | Value::Real(s) => Ok(s.clone()),
        Value::Int(i) => Ok(i.to_string()),
        other => Err(FieldError::new(path, got("a string", other))),
    }
}

pub(crate) fn non_empty_text(v: &Value, path: &str) -> Result<String, FieldError> {
    match text(v, path)? {
        s if s.trim().is_empty() => Err(FieldError::new(path, got("a non-empty string", v))),
        s => Ok(s),
    }
}

/// A size in GB (decimal), converted exactly; strings may carry a unit
/// (`1.5 TB`). Zero, negative, NaN and non-numbers are refused.
pub(crate) fn positive_gb(v: &Value, path: &str) -> Result<Bytes, FieldError> {
    let parsed = match v {
        Value::Int(i) => u64::try_from(*i).ok().and_then(Bytes::checked_from_gb),
        Value::Real(s) => Bytes::parse_exact(s, Bytes::GB).ok(),
        Value::Str(s) => s.parse::<Bytes>().ok(),
        _ => None,
    };
    match parsed {
        Some(b) if b.get() > 0 => Ok(b),
        _ => Err(FieldError::new(path, got(GB, v))),
    }
}

/// A bandwidth in GB/s; strings may carry a unit (`2930 MB/s`). Zero,
/// negative, NaN, infinite and non-numbers are refused.
pub(crate) fn positive_gbps(v: &Value, path: &str) -> Result<Bandwidth, FieldError> {
    let parsed = match v {
        Value::Int(i) => Bandwidth::try_gb_per_s(*i as f64),
        Value::Real(s) | Value::Str(s) => s.parse::<Bandwidth>().ok(),
        _ => None,
    };
    match parsed {
        Some(b) if b.get() > 0.0 => Ok(b),
        _ => Err(FieldError::new(path, got(GBPS, v))),
    }
}

/// `true`/`false`, also YAML 1.1's `yes`/`no`/`on`/`off`, which PyYAML
/// (the original's parser) reads as booleans.
pub(crate) fn boolean(v: &Value, path: &str) -> Result<bool, FieldError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Str(s) => match s.to_ascii_lowercase().as_str() {
            "yes" | "on" | "true" => Ok(true),
            "no" | "off" | "false" => Ok(false),
            _ => Err(FieldError::new(path, got("true or false", v))),
        },
        other => Err(FieldError::new(path, got("true or false", other))),
    }
}

/// A TCP port; 0 lets the operating system choose (useful in tests).
pub(crate) fn port(v: &Value, path: &str) -> Result<u16, FieldError> {
    match v {
        Value::Int(i) => u16::try_from(*i).ok(),
        _ => None,
    }
    .ok_or_else(|| FieldError::new(path, got("a port number (0-65535)", v)))
}

/// A whole number greater than zero.
pub(crate) fn positive_int(v: &Value, path: &str) -> Result<u64, FieldError> {
    match v {
        Value::Int(i) if *i > 0 => Ok(*i as u64),
        other => Err(FieldError::new(
            path,
            got("a whole number greater than 0", other),
        )),
    }
}

/// A list of strings, or one string as a list of one.
pub(crate) fn text_list(v: &Value, path: &str) -> Result<Vec<String>, FieldError> {
    match v {
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| text(item, &format!("{path}[{i}]")))
            .collect(),
        Value::Null => Ok(Vec::new()),
        other => Ok(vec![text(other, path).map_err(|_| {
            FieldError::new(path, got("a list of strings", other))
        })?]),
    }
}
