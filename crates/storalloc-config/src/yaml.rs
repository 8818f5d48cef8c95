//! A YAML tree that tolerates what the original prototype's files contain.
//!
//! `yaml-rust2`'s own loader rejects a mapping with a repeated key, and the
//! real config files repeat `res_catalog`. PyYAML, which wrote and read those
//! files, keeps the last value. So we build the tree from the parser's events
//! ourselves: the last value wins and every repeat becomes a warning.

use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};
use yaml_rust2::Yaml;

/// Upper bound on nodes, counting alias expansions, so that a small file of
/// nested aliases cannot exhaust memory.
const MAX_NODES: usize = 1_000_000;

/// Upper bound on nesting; real files nest five levels deep.
const MAX_DEPTH: usize = 128;

/// One YAML value. Mappings keep their keys as text, in file order.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// A float as written (`12.5`, `.inf`), so that callers can read it exactly.
    Real(String),
    Str(String),
    Seq(Vec<Value>),
    Map(Vec<(String, Value)>),
}

impl Value {
    /// How the value reads in an error message: scalars as written
    /// (strings quoted), collections by kind.
    pub fn describe(&self) -> String {
        match self {
            Value::Null => "nothing (null)".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Real(r) => r.clone(),
            Value::Str(s) => format!("{s:?}"),
            Value::Seq(items) if items.is_empty() => "an empty list".to_string(),
            Value::Seq(_) => "a list".to_string(),
            Value::Map(_) => "a mapping".to_string(),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn size(&self) -> usize {
        match self {
            Value::Seq(items) => 1 + items.iter().map(Value::size).sum::<usize>(),
            Value::Map(entries) => 1 + entries.iter().map(|(_, v)| 1 + v.size()).sum::<usize>(),
            _ => 1,
        }
    }
}

/// A parsed document and what was odd but tolerated about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub root: Value,
    pub warnings: Vec<String>,
}

/// Parse the first YAML document of `text`. The error is a one-line
/// message with the line and column.
pub fn parse(text: &str) -> Result<Document, String> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    // Events are pulled one by one rather than through `Parser::load`,
    // which recurses once per nesting level: a deeply nested file would
    // overflow the stack instead of getting an error.
    let mut depth = 0usize;
    loop {
        let (ev, mark) = parser
            .next_token()
            .map_err(|e| format!("invalid YAML: {e}"))?;
        match ev {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(format!(
                        "invalid YAML: nested deeper than {MAX_DEPTH} levels at line {}",
                        mark.line()
                    ));
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
        let end = ev == Event::StreamEnd;
        builder.on_event(ev, mark);
        if let Some(e) = builder.error.take() {
            return Err(e);
        }
        if end {
            break;
        }
    }
    let mut docs = builder.docs.into_iter();
    let root = docs.next().unwrap_or(Value::Null);
    let mut warnings = builder.warnings;
    let extra = docs.count();
    if extra > 0 {
        warnings.push(format!(
            "{extra} more YAML document(s) after the first; ignored"
        ));
    }
    Ok(Document { root, warnings })
}

enum Frame {
    Seq(Vec<Value>, usize),
    Map {
        entries: Vec<(String, Value)>,
        /// Key -> position in `entries`, so repeats are found in O(1).
        index: HashMap<String, usize>,
        key: Option<String>,
        anchor: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Value>,
    docs: Vec<Value>,
    anchors: HashMap<usize, Value>,
    nodes: usize,
    warnings: Vec<String>,
    error: Option<String>,
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        match ev {
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart => {}
            Event::DocumentEnd => {
                let root = self.root.take().unwrap_or(Value::Null);
                self.docs.push(root);
                self.stack.clear();
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq(Vec::new(), anchor)),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                entries: Vec::new(),
                index: HashMap::new(),
                key: None,
                anchor,
            }),
            Event::SequenceEnd | Event::MappingEnd if !self.count(1, mark) => {}
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq(items, anchor)) => self.insert(Value::Seq(items), anchor, mark),
                Some(Frame::Map {
                    entries, anchor, ..
                }) => self.insert(Value::Map(entries), anchor, mark),
                None => self.error = Some("invalid YAML: unbalanced collection".to_string()),
            },
            Event::Scalar(..) if !self.count(1, mark) => {}
            Event::Scalar(text, style, anchor, tag) => {
                let value = scalar(text, style, tag.as_ref());
                self.insert(value, anchor, mark);
            }
            Event::Alias(id) => {
                let value = self.anchors.get(&id).cloned().unwrap_or(Value::Null);
                if self.count(value.size(), mark) {
                    self.insert(value, 0, mark);
                }
            }
        }
    }
}

impl Builder {
    /// Count `n` more nodes; false (and an error) past [`MAX_NODES`].
    fn count(&mut self, n: usize, mark: Marker) -> bool {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            self.error = Some(format!(
                "line {}: document too large (more than {MAX_NODES} nodes after alias expansion)",
                mark.line()
            ));
            return false;
        }
        true
    }

    fn insert(&mut self, value: Value, anchor: usize, mark: Marker) {
        if anchor > 0 {
            self.anchors.insert(anchor, value.clone());
        }
        // The path is only needed, and only built, for a repeated key.
        let repeat_at = match self.stack.last() {
            Some(Frame::Map {
                index,
                key: Some(k),
                ..
            }) if index.contains_key(k) => Some(self.path()),
            _ => None,
        };
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Seq(items, _)) => items.push(value),
            Some(Frame::Map {
                entries,
                index,
                key,
                ..
            }) => match key.take() {
                None => *key = Some(key_text(&value)),
                Some(k) => {
                    if let Some(slot) = index.get(&k).and_then(|&i| entries.get_mut(i)) {
                        let path = repeat_at.unwrap_or_default();
                        let at = if path.is_empty() {
                            k.clone()
                        } else {
                            format!("{path}.{k}")
                        };
                        self.warnings.push(format!(
                            "{at}: duplicate key (again on line {}); the last value wins",
                            mark.line()
                        ));
                        slot.1 = value;
                    } else {
                        index.insert(k.clone(), entries.len());
                        entries.push((k, value));
                    }
                }
            },
        }
    }

    /// The path of the collection on top of the stack, e.g. `hosts[0].disks`.
    fn path(&self) -> String {
        let mut path = String::new();
        let depth = self.stack.len();
        for frame in self.stack.iter().take(depth.saturating_sub(1)) {
            match frame {
                Frame::Seq(items, _) => path.push_str(&format!("[{}]", items.len())),
                Frame::Map { key, .. } => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key.as_deref().unwrap_or("?"));
                }
            }
        }
        path
    }
}

fn key_text(key: &Value) -> String {
    match key {
        Value::Str(s) | Value::Real(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        Value::Seq(_) | Value::Map(_) => "<complex key>".to_string(),
    }
}

/// Type a scalar the way `yaml-rust2`'s loader does (YAML 1.2 core schema
/// plus YAML 1.1's `True`/`False`, which the original files use).
fn scalar(text: String, style: TScalarStyle, tag: Option<&Tag>) -> Value {
    if style != TScalarStyle::Plain {
        return Value::Str(text);
    }
    if let Some(tag) = tag {
        if tag.handle != "tag:yaml.org,2002:" || tag.suffix == "str" {
            return Value::Str(text);
        }
    }
    match Yaml::from_str(&text) {
        Yaml::Real(r) => Value::Real(r),
        Yaml::Integer(i) => Value::Int(i),
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Null => Value::Null,
        _ => Value::Str(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_keep_the_last_value_and_warn() {
        let doc = parse("a: 1\nb:\n  c: x\n  c: y\na: 2\n").unwrap();
        assert_eq!(doc.root.get("a"), Some(&Value::Int(2)));
        assert_eq!(
            doc.root.get("b").and_then(|b| b.get("c")),
            Some(&Value::Str("y".into()))
        );
        assert_eq!(
            doc.warnings,
            vec![
                "b.c: duplicate key (again on line 4); the last value wins".to_string(),
                "a: duplicate key (again on line 5); the last value wins".to_string(),
            ]
        );
    }

    #[test]
    fn duplicate_inside_a_list_names_the_index() {
        let doc = parse("hosts:\n  - x: 1\n  - x: 1\n    x: 2\n").unwrap();
        assert_eq!(doc.warnings.len(), 1);
        assert!(
            doc.warnings[0].starts_with("hosts[1].x: duplicate key"),
            "{:?}",
            doc.warnings
        );
    }

    #[test]
    fn yaml_1_1_booleans_and_quoted_strings() {
        let doc = parse("a: True\nb: False\nc: 'True'\nd: 12.5\ne: 7\nf: ~\n").unwrap();
        assert_eq!(doc.root.get("a"), Some(&Value::Bool(true)));
        assert_eq!(doc.root.get("b"), Some(&Value::Bool(false)));
        assert_eq!(doc.root.get("c"), Some(&Value::Str("True".into())));
        assert_eq!(doc.root.get("d"), Some(&Value::Real("12.5".into())));
        assert_eq!(doc.root.get("e"), Some(&Value::Int(7)));
        assert_eq!(doc.root.get("f"), Some(&Value::Null));
    }

    #[test]
    fn aliases_are_expanded() {
        let doc = parse("a: &x {k: 1}\nb: *x\n").unwrap();
        assert_eq!(doc.root.get("b"), doc.root.get("a"));
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse(&text).unwrap_err();
        assert!(err.contains("document too large"), "{err}");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let block: String = (0..20_000)
            .map(|i| format!("{}- \n", " ".repeat(i)))
            .collect();
        let err = parse(&block).unwrap_err();
        assert_eq!(
            err,
            "invalid YAML: nested deeper than 128 levels at line 129"
        );
        let flow = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(&flow).unwrap_err().starts_with("invalid YAML: "));
    }

    #[test]
    fn syntax_errors_give_the_line() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.starts_with("invalid YAML: "), "{err}");
        assert!(err.contains("line"), "{err}");
    }

    #[test]
    fn empty_text_is_null_and_extra_documents_warn() {
        assert_eq!(parse("").unwrap().root, Value::Null);
        let doc = parse("---\na: 1\n---\nb: 2\n").unwrap();
        assert_eq!(doc.root.get("a"), Some(&Value::Int(1)));
        assert_eq!(doc.warnings.len(), 1);
    }
}
