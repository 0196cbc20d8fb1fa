//! What is wrong with a scenario and how it is told: [`ScenarioError`] names the file, line,
//! column and key. toml's own messages are rewritten on one line in the words of TOML ("a
//! table", "a number", not serde's "map" and "f64"), and numbers in messages are shown short.

use super::locate::Position;

/// A scenario file that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Missing, unreadable, not a regular file, or larger than a scenario can be.
    #[error("{file}: {reason}")]
    Read { file: String, reason: String },
    #[error("{file}:{}:{}: {message}", .position.line, .position.column)]
    Invalid {
        file: String,
        position: Position,
        key: String,
        message: String,
    },
}

pub(super) type Result<T> = std::result::Result<T, ScenarioError>;

/// toml's message for an error at byte `offset`, on one line. toml's messages may span lines
/// ("invalid array\nexpected `]`"), are empty for a few inputs (a control character in a
/// comment), and do not say which character or which limit is wrong.
pub(super) fn toml_message(text: &str, offset: usize, message: &str) -> String {
    let rest = text.get(offset..).unwrap_or_default();
    if let Some(c) = rest.chars().next() {
        if c.is_ascii_control() && c != '\n' && c != '\t' && !rest.starts_with("\r\n") {
            return format!("control character U+{:04X} is not allowed here", c as u32);
        }
    }
    let message = message.trim();
    if let Some((found, expected)) = message
        .strip_prefix("invalid type: ")
        .and_then(|m| m.rsplit_once(", expected "))
    {
        return format!(
            "expected {}, found {}",
            toml_words(expected),
            toml_words(found)
        );
    }
    if message.starts_with("number too large") || message.starts_with("number too small") {
        return format!(
            "integer out of range: TOML integers are from {} to {}",
            i64::MIN,
            i64::MAX
        );
    }
    let parts: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if parts.is_empty() {
        "invalid TOML syntax".to_owned()
    } else {
        parts.join(": ")
    }
}

/// serde's name of a type ("map", "f64", "struct RawParam") in the words of TOML.
fn toml_words(serde: &str) -> String {
    match serde {
        "map" | "a map" => "a table".into(),
        "sequence" | "a sequence" => "an array".into(),
        "f64" => "a number".into(),
        "i64" => "a whole number".into(),
        "struct RawParam" => {
            "a number with its source, { value = …, source = \"…\" }, or a law".into()
        }
        s if s.starts_with("struct ") => "a table".into(),
        s => match s.strip_prefix("floating point ") {
            Some(x) => format!("float {x}"),
            None => s.into(),
        },
    }
}

/// A number for a message: exponent form when very large or small (1e300, not 301 digits).
pub(super) fn show(x: f64) -> String {
    if x == 0.0 || !x.is_finite() || (1e-4..1e15).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}
