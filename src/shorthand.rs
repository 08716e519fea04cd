//! The AWS CLI's argument syntax for structures: either JSON (a value starting with `{` or `[`,
//! or `file://path` holding JSON) or shorthand, `Key=value,Other={Nested=x},List=[a,b]`, with
//! `'...'`/`"..."` quoting. Turned into a JSON value the callers deserialise with their own
//! field checks.

use anyhow::{Context, Result};
use serde_json::{Map, Value};

use crate::config::UsageError;

/// Parses a structure argument given to option `name`.
pub fn parse(name: &str, input: &str) -> Result<Value> {
    let text = if let Some(path) = input.strip_prefix("file://") {
        std::fs::read_to_string(path).with_context(|| format!("{name}: cannot read {path}"))?
    } else {
        input.to_string()
    };
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return serde_json::from_str(trimmed)
            .map_err(|e| usage(name, format!("invalid JSON: {e}")));
    }
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
        name,
    };
    let v = p.structure(None)?;
    p.skip_ws();
    if p.pos != p.s.len() {
        return Err(p.err("unexpected text after the last value"));
    }
    Ok(v)
}

fn usage(flag: &str, reason: String) -> anyhow::Error {
    UsageError {
        flag: flag.into(),
        reason,
    }
    .into()
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    name: &'a str,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> anyhow::Error {
        usage(
            self.name,
            format!(
                "{what} at character {} (expected Key=value,Key2=value2 or JSON)",
                self.pos + 1
            ),
        )
    }

    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn structure(&mut self, close: Option<u8>) -> Result<Value> {
        let mut map = Map::new();
        loop {
            self.skip_ws();
            if close.is_some() && self.peek() == close {
                break;
            }
            let start = self.pos;
            while self.pos < self.s.len() && self.s[self.pos].is_ascii_alphanumeric() {
                self.pos += 1;
            }
            if start == self.pos {
                return Err(self.err("expected a key"));
            }
            let key = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
            self.skip_ws();
            if self.peek() != Some(b'=') {
                return Err(self.err(&format!("expected '=' after '{key}'")));
            }
            self.pos += 1;
            let mut value = self.value(close)?;
            // `Key=a,b,Next=c`: values after a comma that are not `Key=` belong to the key
            // before them, as a list (the AWS CLI's `SecurityGroupIds=sg-1,sg-2`).
            loop {
                self.skip_ws();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    c if c == close => break,
                    None => break,
                    _ => return Err(self.err("expected ','")),
                }
                if self.at_key() {
                    break;
                }
                self.skip_ws();
                if self.peek().is_none() || self.peek() == close {
                    return Err(self.err("expected a key after ','"));
                }
                let more = self.value(close)?;
                match &mut value {
                    Value::Array(items) => items.push(more),
                    first => *first = Value::Array(vec![first.take(), more]),
                }
            }
            map.insert(key, value);
            if close.is_some() && self.peek() == close || self.peek().is_none() {
                break;
            }
        }
        Ok(Value::Object(map))
    }

    /// Whether the text ahead is `Key=` (or the end of the structure).
    fn at_key(&self) -> bool {
        let mut p = self.pos;
        while p < self.s.len() && self.s[p].is_ascii_whitespace() {
            p += 1;
        }
        let start = p;
        while p < self.s.len() && self.s[p].is_ascii_alphanumeric() {
            p += 1;
        }
        while p < self.s.len() && self.s[p].is_ascii_whitespace() {
            p += 1;
        }
        p > start && self.s.get(p) == Some(&b'=')
    }

    fn value(&mut self, close: Option<u8>) -> Result<Value> {
        self.skip_ws();
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                let v = self.structure(Some(b'}'))?;
                self.expect(b'}')?;
                Ok(v)
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        break;
                    }
                    items.push(self.value(Some(b']'))?);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => break,
                        _ => return Err(self.err("expected ',' or ']' in a list")),
                    }
                }
                self.expect(b']')?;
                Ok(Value::Array(items))
            }
            Some(q @ (b'\'' | b'"')) => {
                self.pos += 1;
                let mut out = Vec::new();
                loop {
                    match self.peek() {
                        None => return Err(self.err("unterminated quoted value")),
                        Some(b'\\') if self.s.get(self.pos + 1) == Some(&q) => {
                            out.push(q);
                            self.pos += 2;
                        }
                        Some(c) if c == q => {
                            self.pos += 1;
                            break;
                        }
                        Some(c) => {
                            out.push(c);
                            self.pos += 1;
                        }
                    }
                }
                Ok(Value::String(String::from_utf8_lossy(&out).into_owned()))
            }
            _ => {
                let mut out = Vec::new();
                while let Some(c) = self.peek() {
                    if c == b','
                        || Some(c) == close
                        || (close.is_none() && (c == b'}' || c == b']'))
                    {
                        break;
                    }
                    if c == b'\\' && self.s.get(self.pos + 1) == Some(&b',') {
                        out.push(b',');
                        self.pos += 2;
                        continue;
                    }
                    out.push(c);
                    self.pos += 1;
                }
                let text = String::from_utf8_lossy(&out).trim().to_string();
                Ok(Value::String(text))
            }
        }
    }

    fn expect(&mut self, c: u8) -> Result<()> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(&format!("expected '{}'", c as char)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table() {
        let cases = [
            ("S3Uri=s3://b/p/", json!({"S3Uri": "s3://b/p/"})),
            (
                "S3Uri=in/train.csv, LabelDelimiter=|,DataFormat=COMPREHEND_CSV",
                json!({"S3Uri": "in/train.csv", "LabelDelimiter": "|", "DataFormat": "COMPREHEND_CSV"}),
            ),
            (
                "DocumentReaderConfig={DocumentReadAction=X,FeatureTypes=[TABLES,FORMS]}",
                json!({"DocumentReaderConfig": {"DocumentReadAction": "X", "FeatureTypes": ["TABLES", "FORMS"]}}),
            ),
            ("A='x, y',B=\"q\"", json!({"A": "x, y", "B": "q"})),
            ("A=a\\,b", json!({"A": "a,b"})),
            (
                "SecurityGroupIds=sg-1,sg-2,Subnets=s-1",
                json!({"SecurityGroupIds": ["sg-1", "sg-2"], "Subnets": "s-1"}),
            ),
            ("Key=a,b,c", json!({"Key": ["a", "b", "c"]})),
            ("{\"S3Uri\": \"x\"}", json!({"S3Uri": "x"})),
            (
                "AugmentedManifests=[{S3Uri=m.jsonl,AttributeNames=[job]}]",
                json!({"AugmentedManifests": [{"S3Uri": "m.jsonl", "AttributeNames": ["job"]}]}),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parse("--x", input).unwrap(), want, "input {input}");
        }
    }

    #[test]
    fn errors_name_the_option() {
        for bad in ["=x", "A", "A={B=1", "A=[1,2", "A='open", "{bad json"] {
            let e = parse("--input-data-config", bad).unwrap_err().to_string();
            assert!(e.contains("--input-data-config"), "{bad}: {e}");
        }
    }
}
