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

#[cfg(test)]
mod tests {
    use super::*;

    /// Protects the wording of serde's type errors: users write TOML, not Rust.
    #[test]
    fn type_errors_are_told_in_the_words_of_toml() {
        assert_eq!(
            toml_message("", 0, "invalid type: string \"x\", expected f64"),
            "expected a number, found string \"x\""
        );
        assert_eq!(
            toml_message("", 0, "invalid type: integer `3`, expected struct RawParam"),
            "expected a number with its source, { value = …, source = \"…\" }, or a law, found integer `3`"
        );
        assert_eq!(
            toml_message("", 0, "invalid type: sequence, expected a map"),
            "expected a table, found an array"
        );
        assert_eq!(
            toml_message("", 0, "invalid type: floating point `1.5`, expected i64"),
            "expected a whole number, found float `1.5`"
        );
    }

    /// Protects one-line messages: toml's may span lines, be empty, or not name the character
    /// or limit that is wrong.
    #[test]
    fn toml_messages_fit_on_one_line_and_name_what_is_wrong() {
        assert_eq!(
            toml_message("", 0, "invalid array\nexpected `]`\n"),
            "invalid array: expected `]`"
        );
        assert_eq!(toml_message("", 0, "  \n "), "invalid TOML syntax");
        assert_eq!(
            toml_message("a = 1 # \u{7}", 8, ""),
            "control character U+0007 is not allowed here"
        );
        // A line break is not a stray control character.
        assert_eq!(toml_message("a\r\nb", 1, "x"), "x");
        assert_eq!(
            toml_message("", 0, "number too large to fit in target type"),
            format!(
                "integer out of range: TOML integers are from {} to {}",
                i64::MIN,
                i64::MAX
            )
        );
    }

    #[test]
    fn numbers_in_messages_are_short() {
        assert_eq!(show(0.25), "0.25");
        assert_eq!(show(120.0), "120");
        assert_eq!(show(0.0), "0");
        assert_eq!(show(1e300), "1e300");
        assert_eq!(show(-2.5e-7), "-2.5e-7");
        assert_eq!(show(f64::INFINITY), "inf");
    }

    #[test]
    fn an_invalid_scenario_is_told_at_file_line_and_column() {
        let e = ScenarioError::Invalid {
            file: "s.toml".into(),
            position: Position { line: 3, column: 7 },
            key: "run.seed".into(),
            message: "run.seed must be a whole number ≥ 0 (got -1)".into(),
        };
        assert_eq!(
            e.to_string(),
            "s.toml:3:7: run.seed must be a whole number ≥ 0 (got -1)"
        );
    }
}
