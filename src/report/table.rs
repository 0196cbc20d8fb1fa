//! A small typed table, filled row by row, that becomes a polars DataFrame.

use polars::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub enum Col {
    Text(Vec<String>),
    Real(Vec<f64>),
    /// A real that may be missing (written as null).
    MaybeReal(Vec<Option<f64>>),
    Count(Vec<u64>),
    /// A yes/no that may be missing: a boolean in Parquet, `true`/`false` in CSV.
    Flag(Vec<Option<bool>>),
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("table {table}, column {column}, row {row}: value {value} is not finite ({context}); no table was written")]
    NotFinite {
        table: String,
        column: String,
        row: usize,
        value: f64,
        context: String,
    },
    #[error("table {table}: {message}")]
    Polars { table: String, message: String },
}

/// Named columns of equal length.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    columns: Vec<(String, Col)>,
    rows: usize,
}

/// One row being added; columns are created by the first row, in order.
pub struct Row<'t> {
    table: &'t mut Table,
    at: usize,
}

impl Table {
    pub fn new(name: &str) -> Self {
        Table {
            name: name.to_owned(),
            columns: Vec::new(),
            rows: 0,
        }
    }

    pub fn row(&mut self) -> Row<'_> {
        self.rows += 1;
        Row { table: self, at: 0 }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The columns, in order, with their names.
    pub fn columns(&self) -> impl Iterator<Item = (&str, &Col)> {
        self.columns.iter().map(|(n, c)| (n.as_str(), c))
    }

    pub fn column(&self, name: &str) -> Option<&Col> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }

    /// First row whose text columns hold the given values, e.g. `[("strategy", "PVE"),
    /// ("liver_group", "all")]`.
    pub fn find(&self, conditions: &[(&str, &str)]) -> Option<usize> {
        self.rows_where(conditions).next()
    }

    /// Every row whose text columns hold the given values.
    pub fn rows_where<'a>(
        &'a self,
        conditions: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = usize> + 'a {
        (0..self.rows).filter(move |&r| conditions.iter().all(|(c, v)| self.text(c, r) == Some(*v)))
    }

    /// The value of a real column in a row, for tests and summaries.
    pub fn real(&self, name: &str, row: usize) -> Option<f64> {
        match self.column(name)? {
            Col::Real(v) => v.get(row).copied(),
            Col::MaybeReal(v) => v.get(row).copied().flatten(),
            Col::Count(v) => v.get(row).map(|&x| x as f64),
            Col::Text(_) | Col::Flag(_) => None,
        }
    }

    /// The value of a yes/no column in a row (`None` where it is missing).
    pub fn flag(&self, name: &str, row: usize) -> Option<bool> {
        match self.column(name)? {
            Col::Flag(v) => v.get(row).copied().flatten(),
            _ => None,
        }
    }

    pub fn text(&self, name: &str, row: usize) -> Option<&str> {
        match self.column(name)? {
            Col::Text(v) => v.get(row).map(String::as_str),
            _ => None,
        }
    }

    /// NaN or infinity must never reach a written table; `context` names what produced it.
    pub fn check_finite(&self, context: impl Fn(usize) -> String) -> Result<(), TableError> {
        for (name, col) in &self.columns {
            let values: Vec<f64> = match col {
                Col::Real(v) => v.clone(),
                Col::MaybeReal(v) => v.iter().map(|x| x.unwrap_or(0.0)).collect(),
                _ => Vec::new(),
            };
            {
                let v = &values;
                if let Some((row, &value)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
                    return Err(TableError::NotFinite {
                        table: self.name.clone(),
                        column: name.clone(),
                        row,
                        value,
                        context: context(row),
                    });
                }
            }
        }
        Ok(())
    }

    pub fn to_dataframe(&self) -> Result<DataFrame, TableError> {
        let columns: Vec<Column> = self
            .columns
            .iter()
            .map(|(name, col)| {
                let name = PlSmallStr::from(name.as_str());
                match col {
                    Col::Text(v) => Column::new(name, v),
                    Col::Real(v) => Column::new(name, v),
                    Col::MaybeReal(v) => Column::new(name, v),
                    Col::Count(v) => Column::new(name, v),
                    Col::Flag(v) => Column::new(name, v),
                }
            })
            .collect();
        DataFrame::new(columns).map_err(|e| TableError::Polars {
            table: self.name.clone(),
            message: e.to_string(),
        })
    }
}

impl Row<'_> {
    fn put(mut self, name: &str, make: impl FnOnce() -> Col, push: impl FnOnce(&mut Col)) -> Self {
        let t = &mut *self.table;
        if t.rows == 1 && t.columns.len() == self.at {
            t.columns.push((name.to_owned(), make()));
        }
        let (col_name, col) = &mut t.columns[self.at];
        debug_assert_eq!(
            col_name, name,
            "columns must be filled in the same order in every row"
        );
        push(col);
        self.at += 1;
        self
    }

    pub fn text(self, name: &str, v: impl Into<String>) -> Self {
        let v = v.into();
        self.put(
            name,
            || Col::Text(Vec::new()),
            |c| {
                if let Col::Text(x) = c {
                    x.push(v)
                }
            },
        )
    }

    pub fn real(self, name: &str, v: f64) -> Self {
        self.maybe_real(name, Some(v))
    }

    /// A real that may be missing (null in the files: empty in CSV, null in Parquet). A column
    /// stays a plain real column until its first missing value.
    pub fn maybe_real(self, name: &str, v: Option<f64>) -> Self {
        self.put(
            name,
            || match v {
                Some(_) => Col::Real(Vec::new()),
                None => Col::MaybeReal(Vec::new()),
            },
            |c| {
                if let (Col::Real(x), None) = (&mut *c, v) {
                    let x = std::mem::take(x);
                    *c = Col::MaybeReal(x.into_iter().map(Some).collect());
                }
                match (c, v) {
                    (Col::Real(x), Some(v)) => x.push(v),
                    (Col::MaybeReal(x), v) => x.push(v),
                    _ => {}
                }
            },
        )
    }

    /// A yes/no, or `None` where it does not apply (null in the files).
    pub fn flag(self, name: &str, v: Option<bool>) -> Self {
        self.put(
            name,
            || Col::Flag(Vec::new()),
            |c| {
                if let Col::Flag(x) = c {
                    x.push(v)
                }
            },
        )
    }

    pub fn count(self, name: &str, v: u64) -> Self {
        self.put(
            name,
            || Col::Count(Vec::new()),
            |c| {
                if let Col::Count(x) = c {
                    x.push(v)
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value missing in a later row turns the column into one with nulls, earlier values kept
    /// (before, a missing value was written as 0 or dropped).
    #[test]
    fn a_missing_real_becomes_null_and_keeps_the_earlier_values() {
        let mut t = Table::new("t");
        t.row().real("mean", 1.5);
        t.row().maybe_real("mean", None);
        t.row().real("mean", 2.5);
        assert_eq!(
            t.column("mean"),
            Some(&Col::MaybeReal(vec![Some(1.5), None, Some(2.5)]))
        );
        let df = t.to_dataframe().unwrap();
        assert_eq!(df.column("mean").unwrap().null_count(), 1);
        let mut whole = Table::new("t");
        whole.row().real("mean", 1.5);
        whole.row().maybe_real("mean", Some(2.0));
        assert_eq!(whole.column("mean"), Some(&Col::Real(vec![1.5, 2.0])));
    }
}
