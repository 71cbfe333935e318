//! YAML to `serde_json::Value`, remembering where every node starts so an error found in
//! the value can be shown at its line and column.
//!
//! Built on yaml-rust2's event parser (YAML 1.2, plain scalars resolved by the core
//! schema) without recursion. Hostile input is bounded: nesting depth, node count
//! (aliases included, so "billion laughs" stops early), one document, string keys only,
//! no duplicate keys.

use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};
use yaml_rust2::Yaml;

/// Deepest nesting accepted (serde_json's own limit for JSON text is 128 as well).
pub const MAX_DEPTH: usize = 128;
/// Most nodes a document may expand to, aliases counted at their full size.
pub const MAX_NODES: usize = 1_000_000;

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    fn of(mark: &Marker) -> Position {
        Position {
            line: mark.line(),
            column: mark.col() + 1,
        }
    }
}

/// Why YAML text could not become a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (line {}, column {})", at.line, at.column)]
pub struct YamlError {
    pub at: Position,
    pub message: String,
}

/// A parsed document and the position of each node, by JSON pointer.
#[derive(Debug)]
pub struct YamlDocument {
    pub value: Value,
    pub positions: HashMap<String, Position>,
}

enum Frame {
    Seq(Vec<Value>, String, usize),
    Map(
        Map<String, Value>,
        String,
        usize,
        Option<(String, Position)>,
    ),
}

fn scalar(text: String, style: TScalarStyle, tag: Option<&yaml_rust2::parser::Tag>) -> Value {
    let plain = style == TScalarStyle::Plain;
    let tagged_str = tag.is_some_and(|t| t.suffix == "str");
    if !plain || tagged_str {
        return Value::String(text);
    }
    match Yaml::from_str(&text) {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Integer(i) => Value::Number(i.into()),
        Yaml::Real(r) => r
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map_or(Value::String(text), Value::Number),
        _ => Value::String(text),
    }
}

fn size(value: &Value) -> usize {
    let mut n = 0;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        n += 1;
        match v {
            Value::Array(a) => stack.extend(a),
            Value::Object(o) => stack.extend(o.values()),
            _ => {}
        }
    }
    n
}

struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Value, usize)>,
    positions: HashMap<String, Position>,
    nodes: usize,
    root: Option<Value>,
}

fn fail(mark: &Marker, message: impl Into<String>) -> YamlError {
    YamlError {
        at: Position::of(mark),
        message: message.into(),
    }
}

impl Builder {
    /// The pointer of the node starting now; `Ok(None)` when it is a mapping key.
    fn place(&mut self, mark: &Marker) -> Result<Option<String>, YamlError> {
        let at = Position::of(mark);
        let pointer = match self.stack.last_mut() {
            None => String::new(),
            Some(Frame::Seq(items, p, _)) => super::pointer::child(p, &items.len().to_string()),
            Some(Frame::Map(_, _, _, None)) => return Ok(None),
            Some(Frame::Map(_, p, _, Some((key, key_at)))) => {
                let pointer = super::pointer::child(p, key);
                self.positions.insert(pointer.clone(), *key_at);
                return Ok(Some(pointer));
            }
        };
        self.positions.insert(pointer.clone(), at);
        Ok(Some(pointer))
    }

    fn count(&mut self, n: usize, mark: &Marker) -> Result<(), YamlError> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            return Err(fail(
                mark,
                format!("the document expands to more than {MAX_NODES} nodes"),
            ));
        }
        Ok(())
    }

    /// Adds a finished value to its parent (or makes it the root).
    fn attach(&mut self, value: Value, mark: &Marker) -> Result<(), YamlError> {
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Seq(items, ..)) => items.push(value),
            Some(Frame::Map(map, _, _, pending)) => match pending.take() {
                Some((key, _)) => {
                    map.insert(key, value);
                }
                None => {
                    let Value::String(key) = value else {
                        return Err(fail(mark, "mapping keys must be plain text"));
                    };
                    if map.contains_key(&key) {
                        return Err(fail(
                            mark,
                            format!("the key `{key}` appears twice in this mapping"),
                        ));
                    }
                    *pending = Some((key, Position::of(mark)));
                }
            },
        }
        Ok(())
    }

    fn open(&mut self, frame: Frame, mark: &Marker) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(fail(
                mark,
                format!("nesting deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.count(1, mark)?;
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self, mark: &Marker) -> Result<(), YamlError> {
        let (value, anchor) = match self.stack.pop() {
            Some(Frame::Seq(items, _, anchor)) => (Value::Array(items), anchor),
            Some(Frame::Map(map, _, anchor, _)) => (Value::Object(map), anchor),
            None => return Err(fail(mark, "unbalanced collection end")),
        };
        if anchor > 0 {
            let n = size(&value);
            self.anchors.insert(anchor, (value.clone(), n));
        }
        self.attach(value, mark)
    }
}

/// Parses the first (and only) document of `text`.
pub fn parse_yaml(text: &str) -> Result<YamlDocument, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut b = Builder {
        stack: Vec::new(),
        anchors: HashMap::new(),
        positions: HashMap::new(),
        nodes: 0,
        root: None,
    };
    let mut documents = 0;
    loop {
        let (event, mark) = parser
            .next_token()
            .map_err(|e| fail(e.marker(), e.info().to_owned()))?;
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return Err(fail(&mark, "only one YAML document is expected"));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let key = b.place(&mark)?.is_none();
                b.count(1, &mark)?;
                let value = if key {
                    Value::String(text)
                } else {
                    scalar(text, style, tag.as_ref())
                };
                if anchor > 0 {
                    b.anchors.insert(anchor, (value.clone(), 1));
                }
                b.attach(value, &mark)?;
            }
            Event::Alias(id) => {
                b.place(&mark)?;
                let (value, n) = b
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| fail(&mark, "alias to an unknown anchor"))?;
                b.count(n, &mark)?;
                b.attach(value, &mark)?;
            }
            Event::SequenceStart(anchor, _) => {
                let pointer = b
                    .place(&mark)?
                    .ok_or_else(|| fail(&mark, "mapping keys must be plain text"))?;
                b.open(Frame::Seq(Vec::new(), pointer, anchor), &mark)?;
            }
            Event::MappingStart(anchor, _) => {
                let pointer = b
                    .place(&mark)?
                    .ok_or_else(|| fail(&mark, "mapping keys must be plain text"))?;
                b.open(Frame::Map(Map::new(), pointer, anchor, None), &mark)?;
            }
            Event::SequenceEnd | Event::MappingEnd => b.close(&mark)?,
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
        }
    }
    Ok(YamlDocument {
        value: b.root.unwrap_or(Value::Null),
        positions: b.positions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_follow_the_core_schema_and_positions_are_kept() {
        let doc = parse_yaml("a: 1\nb:\n  - true\n  - '2'\n  - 2.5\n  - ~\n  - text\n\"200\": x\n")
            .unwrap();
        assert_eq!(
            doc.value,
            json!({"a": 1, "b": [true, "2", 2.5, null, "text"], "200": "x"})
        );
        assert_eq!(doc.positions["/a"], Position { line: 1, column: 1 });
        assert_eq!(doc.positions["/b"], Position { line: 2, column: 1 });
        assert_eq!(doc.positions["/b/1"], Position { line: 4, column: 5 });
    }

    #[test]
    fn anchors_expand_but_laughs_are_bounded() {
        let doc = parse_yaml("x: &a {k: v}\ny: *a\n").unwrap();
        assert_eq!(doc.value, json!({"x": {"k": "v"}, "y": {"k": "v"}}));
        let mut laughs = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            laughs.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let err = parse_yaml(&laughs).unwrap_err();
        assert!(err.message.contains("nodes"), "{err}");
    }

    #[test]
    fn hostile_shapes_are_refused_with_a_position() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(parse_yaml(&deep).is_err());
        let err = parse_yaml("a: 1\na: 2\n").unwrap_err();
        assert_eq!(err.at.line, 2);
        assert!(parse_yaml("? [a]\n: 1\n").is_err());
        assert!(parse_yaml("a: 1\n---\nb: 2\n").is_err());
        let err = parse_yaml("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.at.line >= 1, "{err}");
        assert!(parse_yaml("x: *nope\n").is_err());
    }
}
