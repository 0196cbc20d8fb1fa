//! Where a key stands in a scenario file: maps dotted key paths (`cohort.bsa_m2.sd`,
//! `strategies[1].procedure`) to line and column, so every error can point at the text.

use std::collections::BTreeMap;
use std::ops::Range;

use toml_edit::{ImDocument, Item, Table, Value};

/// A line and column (1-based) in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Line and column of byte `offset` in `text`. Columns count characters, as editors do; an
/// offset inside a character or past the end is taken back to the character or the end.
pub fn position_in(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |nl| nl + 1);
    Position {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
    }
}

/// The byte span of a key and of its value.
type KeyValueSpans = (Option<Range<usize>>, Option<Range<usize>>);

/// Byte spans of every key path in one document.
#[derive(Debug, Default)]
pub struct SpanIndex {
    text: String,
    /// path → (key span, value span).
    spans: BTreeMap<String, KeyValueSpans>,
    /// Every key and string value, by path, in file order (a key under its own path).
    texts: Vec<(String, String)>,
}

impl SpanIndex {
    /// Index a document; an unparsable one gives an empty index (the parser reports it).
    pub fn new(text: &str) -> Self {
        let mut index = SpanIndex {
            text: text.to_owned(),
            spans: BTreeMap::new(),
            texts: Vec::new(),
        };
        if let Ok(doc) = ImDocument::parse(text.to_owned()) {
            index.table("", doc.as_table());
        }
        index
    }

    fn join(prefix: &str, key: &str) -> String {
        if prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{prefix}.{key}")
        }
    }

    fn table(&mut self, prefix: &str, table: &Table) {
        for (k, item) in table.iter() {
            let path = Self::join(prefix, k);
            self.texts.push((path.clone(), k.to_owned()));
            let key_span = table.key(k).and_then(|key| key.span());
            self.spans.insert(path.clone(), (key_span, item.span()));
            match item {
                Item::Table(t) => self.table(&path, t),
                Item::ArrayOfTables(a) => {
                    for (i, t) in a.iter().enumerate() {
                        let p = format!("{path}[{i}]");
                        self.spans.insert(p.clone(), (t.span(), t.span()));
                        self.table(&p, t);
                    }
                }
                Item::Value(v) => self.value(&path, v),
                Item::None => {}
            }
        }
    }

    fn value(&mut self, path: &str, value: &Value) {
        match value {
            Value::InlineTable(t) => {
                for (k, v) in t.iter() {
                    let p = Self::join(path, k);
                    self.texts.push((p.clone(), k.to_owned()));
                    let key_span = t.key(k).and_then(|key| key.span());
                    self.spans.insert(p.clone(), (key_span, v.span()));
                    self.value(&p, v);
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    self.spans.insert(p.clone(), (v.span(), v.span()));
                    self.value(&p, v);
                }
            }
            Value::String(s) => self.texts.push((path.to_owned(), s.value().clone())),
            _ => {}
        }
    }

    /// The first key or string value holding a character that must not reach a terminal or a
    /// file: a control character (line feed and tab allowed outside names) or a bidirectional
    /// override, which can make text display as something else. Gives the path, the character
    /// and whether the text is a name.
    pub fn first_unprintable(&self) -> Option<(&str, char)> {
        self.texts.iter().find_map(|(path, text)| {
            let name = path.ends_with(".name");
            text.chars()
                .find(|&c| unprintable(c, name))
                .map(|c| (path.as_str(), c))
        })
    }

    pub fn position_of_offset(&self, offset: usize) -> Position {
        position_in(&self.text, offset)
    }

    /// Position of the value of `path`; if the key is absent, of its nearest present ancestor;
    /// the start of the file if nothing matches.
    pub fn position(&self, path: &str) -> Position {
        let mut p = path.to_owned();
        loop {
            if let Some((key, value)) = self.spans.get(&p) {
                if let Some(span) = value.clone().or(key.clone()) {
                    return self.position_of_offset(span.start);
                }
            }
            match p.rfind(['.', '[']) {
                Some(cut) => p.truncate(cut),
                None => return Position { line: 1, column: 1 },
            }
        }
    }

    /// Whether `offset` lies in the key (not the value) of `path`.
    pub fn in_key(&self, path: &str, offset: usize) -> bool {
        self.spans
            .get(path)
            .and_then(|(k, _)| k.as_ref())
            .is_some_and(|k| k.start <= offset && offset < k.end.max(k.start + 1))
    }

    /// Position of the key of `path`, if the document has it.
    pub fn key_position(&self, path: &str) -> Option<Position> {
        let (key, _) = self.spans.get(path)?;
        key.as_ref().map(|k| self.position_of_offset(k.start))
    }

    /// The deepest key path whose key or value span contains `offset`.
    pub fn path_at(&self, offset: usize) -> Option<String> {
        self.spans
            .iter()
            .filter(|(_, (k, v))| {
                let inside = |s: &Option<Range<usize>>| {
                    s.as_ref()
                        .is_some_and(|s| s.start <= offset && offset < s.end.max(s.start + 1))
                };
                inside(k) || inside(v)
            })
            .max_by_key(|(path, (_, v))| {
                (
                    path.matches(['.', '[']).count(),
                    std::cmp::Reverse(v.as_ref().map_or(0, |s| s.len())),
                )
            })
            .map(|(path, _)| path.clone())
    }
}

/// Whether `c` must not appear in a text (`name`: a name, which is one line).
fn unprintable(c: char, name: bool) -> bool {
    let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    (c.is_control() && (name || !matches!(c, '\n' | '\t'))) || bidi
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_nested_keys() {
        let text = "[run]\nname = \"x\"\n\n[cohort]\nbsa_m2 = { dist = \"normal\", sd = -0.2 }\n[[strategies]]\nname = \"a\"\n[[strategies]]\nname = \"b\"\n";
        let idx = SpanIndex::new(text);
        assert_eq!(idx.position("run.name"), Position { line: 2, column: 8 });
        assert_eq!(
            idx.position("cohort.bsa_m2.sd"),
            Position {
                line: 5,
                column: 34
            }
        );
        assert_eq!(
            idx.position("strategies[1].name"),
            Position { line: 9, column: 8 }
        );
        // Missing key: its parent.
        assert_eq!(idx.position("cohort.bsa_m2.mean").line, 5);
        let offset = text.find("-0.2").unwrap();
        assert_eq!(idx.path_at(offset).as_deref(), Some("cohort.bsa_m2.sd"));
    }
}
