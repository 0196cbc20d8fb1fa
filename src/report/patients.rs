//! The per-patient table (`--patient-table`): one row per patient and strategy, streamed to
//! Parquet block by block, so memory does not grow with the cohort. Both studies write it; the
//! columns follow the study.
//!
//! Each block's columns are filled as typed vectors (text as references to names the model
//! owns, so nothing is allocated per row) on the simulation thread; encoding and compressing
//! them into Parquet runs on a writer thread fed through a bounded queue, while the next blocks
//! are simulated. The file holds the blocks in patient order, so its bytes do not depend on the
//! thread count.

use std::cell::RefCell;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use polars::prelude::*;
use polars_parquet::write::{
    array_to_columns, compress, fallible_streaming_iterator, to_parquet_schema,
    ColumnWriteOptions, CompressedPage, CompressionOptions, DynIter, DynStreamingIterator,
    Encoding, FieldWriteOptions, FileWriter, ParquetType, StatisticsOptions, Version,
    WriteOptions,
};
use polars_parquet::parquet::compression::Compression;
use polars_parquet::parquet::page::{CompressedDataPage, DataPageHeader};
use polars_parquet::parquet::CowBuffer;
use polars_parquet::write::Page;
use rayon::prelude::*;

use super::table::TableError;
use super::ReportError;
use crate::engine::pathway::PathwayRecords;
use crate::engine::Records;
use crate::model::conditioning::{Immediate, WaitEnd};
use crate::model::pathway::{DeathCause, PathwayModel, HORIZON_MONTHS};
use crate::model::patient::Patient;
use crate::model::Model;

pub const FILE: &str = "patients.parquet";

/// Blocks waiting for the writer thread: one, so that at most three blocks of rows (a few
/// megabytes each) are held at once: being filled, waiting, being compressed.
const QUEUED_BLOCKS: usize = 1;

/// Blocks per row group. The file keeps some metadata per row group and column until the
/// footer, so a row group per block would make memory grow with the cohort (70 MB at 10⁷
/// patients); only compressed pages wait for their row group.
const BLOCKS_PER_ROW_GROUP: usize = 8;

/// One column of a block, by type.
enum Values<'a> {
    Text(Vec<&'a str>),
    Real(Vec<f64>),
    /// A real that may be missing (null).
    MaybeReal(Vec<Option<f64>>),
    Count(Vec<u64>),
    Flag(Vec<bool>),
}

/// The columns of one block of patient rows, filled row by row; the first row names them.
struct Block<'a> {
    columns: Vec<(&'static str, Values<'a>)>,
    rows: usize,
    at: usize,
    /// The rows expected, so each column is allocated once, to size.
    capacity: usize,
}

impl<'a> Block<'a> {
    fn new(capacity: usize) -> Self {
        Block {
            columns: Vec::new(),
            rows: 0,
            at: 0,
            capacity,
        }
    }

    fn row(&mut self) -> &mut Self {
        self.rows += 1;
        self.at = 0;
        self
    }

    /// The next column of the row: created by the first row, the same order in every row.
    fn next(&mut self, name: &'static str, make: fn(usize) -> Values<'a>) -> &mut Values<'a> {
        if self.rows == 1 && self.columns.len() == self.at {
            self.columns.push((name, make(self.capacity)));
        }
        let at = self.at;
        self.at += 1;
        let (col_name, values) = &mut self.columns[at];
        debug_assert_eq!(
            *col_name, name,
            "columns must be filled in the same order in every row"
        );
        values
    }

    fn text(&mut self, name: &'static str, v: &'a str) -> &mut Self {
        if let Values::Text(x) = self.next(name, |n| Values::Text(Vec::with_capacity(n))) {
            x.push(v);
        }
        self
    }

    fn real(&mut self, name: &'static str, v: f64) -> &mut Self {
        if let Values::Real(x) = self.next(name, |n| Values::Real(Vec::with_capacity(n))) {
            x.push(v);
        }
        self
    }

    fn maybe_real(&mut self, name: &'static str, v: Option<f64>) -> &mut Self {
        if let Values::MaybeReal(x) = self.next(name, |n| Values::MaybeReal(Vec::with_capacity(n))) {
            x.push(v);
        }
        self
    }

    fn count(&mut self, name: &'static str, v: u64) -> &mut Self {
        if let Values::Count(x) = self.next(name, |n| Values::Count(Vec::with_capacity(n))) {
            x.push(v);
        }
        self
    }

    fn flag(&mut self, name: &'static str, v: bool) -> &mut Self {
        if let Values::Flag(x) = self.next(name, |n| Values::Flag(Vec::with_capacity(n))) {
            x.push(v);
        }
        self
    }

    /// NaN or infinity must never reach the file.
    fn check_finite(&self, first_row: u64) -> Result<(), TableError> {
        for (name, values) in &self.columns {
            let bad = match values {
                Values::Real(v) => v.iter().position(|x| !x.is_finite()).map(|r| (r, v[r])),
                Values::MaybeReal(v) => v
                    .iter()
                    .position(|x| x.is_some_and(|x| !x.is_finite()))
                    .map(|r| (r, v[r].unwrap_or(0.0))),
                _ => None,
            };
            if let Some((row, value)) = bad {
                return Err(TableError::NotFinite {
                    table: "patients".into(),
                    column: (*name).into(),
                    row,
                    value,
                    context: format!("patient row {}", first_row + row as u64),
                });
            }
        }
        Ok(())
    }

    fn into_dataframe(self) -> Result<DataFrame, TableError> {
        let columns: Vec<Column> = self
            .columns
            .into_iter()
            .map(|(name, values)| {
                let name = PlSmallStr::from_static(name);
                match values {
                    Values::Text(v) => Column::new(name, v),
                    // Numbers move into the column without a copy.
                    Values::Real(v) => Float64Chunked::from_vec(name, v).into_column(),
                    Values::MaybeReal(v) => Column::new(name, v),
                    Values::Count(v) => UInt64Chunked::from_vec(name, v).into_column(),
                    Values::Flag(v) => Column::new(name, v),
                }
            })
            .collect();
        DataFrame::new(columns).map_err(|e| TableError::Polars {
            table: "patients".into(),
            message: e.to_string(),
        })
    }
}

/// The Parquet file, written by a thread of its own; opened with the first block's schema.
struct ParquetStream {
    path: PathBuf,
    /// Rows handed over so far (for error messages).
    rows: u64,
    writer: Option<(SyncSender<DataFrame>, WriterThread)>,
}

/// The writer thread; it returns whether it wrote anything.
type WriterThread = JoinHandle<Result<bool, ReportError>>;

impl ParquetStream {
    fn new(dir: &Path) -> Self {
        ParquetStream {
            path: dir.join(FILE),
            rows: 0,
            writer: None,
        }
    }

    fn append(&mut self, block: Block<'_>) -> Result<(), ReportError> {
        if block.rows == 0 {
            return Ok(());
        }
        block.check_finite(self.rows)?;
        self.rows += block.rows as u64;
        let df = block.into_dataframe()?;
        if self.writer.is_none() {
            let (send, receive) = sync_channel::<DataFrame>(QUEUED_BLOCKS);
            let path = self.path.clone();
            let thread = std::thread::Builder::new()
                .name("patient-table".into())
                .spawn(move || write_blocks(&path, receive))
                .map_err(|e| err(&self.path, e))?;
            self.writer = Some((send, thread));
        }
        let (send, _) = self.writer.as_ref().expect("started above");
        if send.send(df).is_err() {
            // The writer stopped on an error: report it.
            return match self.stop() {
                Err(e) => Err(e),
                Ok(_) => Err(err(&self.path, "the patient table writer stopped")),
            };
        }
        Ok(())
    }

    /// Waits for the writer to finish the file; whether anything was written.
    fn stop(&mut self) -> Result<bool, ReportError> {
        let Some((send, thread)) = self.writer.take() else {
            return Ok(false);
        };
        drop(send);
        thread
            .join()
            .unwrap_or_else(|_| Err(err(&self.path, "the patient table writer panicked")))
    }

    fn finish(mut self) -> Result<Option<String>, ReportError> {
        Ok(self.stop()?.then(|| FILE.to_owned()))
    }
}

impl Drop for ParquetStream {
    /// An abandoned run still waits for its writer, so no thread outlives the result folder.
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// The writer thread: blocks in the order received, then the footer. Whether any was written.
fn write_blocks(path: &Path, blocks: Receiver<DataFrame>) -> Result<bool, ReportError> {
    let mut file: Option<TableFile> = None;
    while let Ok(df) = blocks.recv() {
        if file.is_none() {
            file = Some(TableFile::create(path, &df).map_err(|e| err(path, e))?);
        }
        let f = file.as_mut().expect("created above");
        f.add(&df).map_err(|e| err(path, e))?;
    }
    match file {
        None => Ok(false),
        Some(f) => {
            f.finish().map_err(|e| err(path, e))?;
            Ok(true)
        }
    }
}

/// The Parquet file being written: each block is encoded and compressed as it arrives (its
/// columns in parallel), and its compressed pages wait until [`BLOCKS_PER_ROW_GROUP`] blocks
/// make a row group. Every column is plainly encoded, so a block's pages carry no dictionary
/// and the pages of several blocks can share one column chunk.
struct TableFile {
    writer: FileWriter<File>,
    fields: Vec<ParquetType>,
    columns: Vec<ColumnWriteOptions>,
    options: WriteOptions,
    /// Per column, the compressed pages of the row group being gathered.
    pages: Vec<Vec<CompressedPage>>,
    blocks: usize,
}

impl TableFile {
    /// Opens the file with the columns of the first block.
    fn create(path: &Path, first: &DataFrame) -> PolarsResult<Self> {
        let schema = first.schema().to_arrow(CompatLevel::newest());
        let columns: Vec<ColumnWriteOptions> = (0..schema.len())
            .map(|_| {
                FieldWriteOptions::default_with_encoding(Encoding::Plain)
                    .into_default_column_write_options()
            })
            .collect();
        let parquet_schema = to_parquet_schema(&schema, &columns)?;
        let fields = parquet_schema.fields().to_vec();
        let options = WriteOptions {
            statistics: StatisticsOptions::default(),
            version: Version::V1,
            compression: CompressionOptions::Zstd(None),
            data_page_size: None,
        };
        let f = File::create(path)?;
        Ok(TableFile {
            writer: FileWriter::new_with_parquet_schema(f, schema, parquet_schema, options),
            pages: fields.iter().map(|_| Vec::new()).collect(),
            fields,
            columns,
            options,
            blocks: 0,
        })
    }

    /// Encodes and compresses one block; writes the row group once it is complete.
    fn add(&mut self, df: &DataFrame) -> PolarsResult<()> {
        let options = self.options;
        for batch in df.iter_chunks(CompatLevel::newest(), false) {
            let compressed: Vec<PolarsResult<Vec<CompressedPage>>> = batch
                .columns()
                .par_iter()
                .zip(&self.fields)
                .zip(&self.columns)
                .map(|((array, field), column)| {
                    let mut out = Vec::new();
                    for leaf in array_to_columns(array, field.clone(), column, options)? {
                        for page in leaf {
                            out.push(compress_page(page?, options.compression)?);
                        }
                    }
                    Ok(out)
                })
                .collect();
            for (pages, block) in self.pages.iter_mut().zip(compressed) {
                pages.extend(block?);
            }
        }
        self.blocks += 1;
        if self.blocks == BLOCKS_PER_ROW_GROUP {
            self.write_row_group()?;
        }
        Ok(())
    }

    fn write_row_group(&mut self) -> PolarsResult<()> {
        if self.blocks == 0 {
            return Ok(());
        }
        self.blocks = 0;
        let group = DynIter::new(self.pages.iter().map(|pages| {
            Ok(DynStreamingIterator::new(
                fallible_streaming_iterator::convert(pages.iter().map(Ok::<_, PolarsError>)),
            ))
        }));
        self.writer.write(group)?;
        self.pages.iter_mut().for_each(Vec::clear);
        Ok(())
    }

    /// The last, partial row group, then the footer.
    fn finish(mut self) -> PolarsResult<()> {
        self.write_row_group()?;
        self.writer.end(None, &self.columns)?;
        Ok(())
    }
}

thread_local! {
    /// A zstd context per thread, reused from page to page: a fresh one per page costs a
    /// megabyte of zeroed tables.
    static ZSTD: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
}

/// Compresses one page; a page waiting for its row group keeps only the bytes it needs.
fn compress_page(page: Page, compression: CompressionOptions) -> PolarsResult<CompressedPage> {
    let data = match page {
        Page::Data(data)
            if compression == CompressionOptions::Zstd(None)
                && matches!(data.header(), DataPageHeader::V1(_)) =>
        {
            data
        }
        other => {
            let mut page = compress(other, Vec::new(), compression)?;
            if let CompressedPage::Data(p) = &mut page {
                p.slice_mut().to_mut().shrink_to_fit();
            }
            return Ok(page);
        }
    };
    let mut bytes = ZSTD
        .with(|z| {
            let mut z = z.borrow_mut();
            if z.is_none() {
                // Level 0 is zstd's default, the level of `CompressionOptions::Zstd(None)`.
                *z = Some(zstd::bulk::Compressor::new(0)?);
            }
            z.as_mut().expect("created above").compress(data.buffer())
        })
        .map_err(|e| PolarsError::ComputeError(format!("zstd: {e}").into()))?;
    bytes.shrink_to_fit();
    Ok(CompressedPage::Data(CompressedDataPage::new(
        data.header().clone(),
        CowBuffer::Owned(bytes),
        Compression::Zstd,
        data.buffer().len(),
        data.descriptor.clone(),
        data.num_rows.unwrap_or(0),
    )))
}

/// A per-patient table, written block by block as a run streams its records, in patient order.
pub trait PatientRows: Send {
    type Records;
    /// Append one block of records.
    fn write(&mut self, records: &Self::Records) -> Result<(), ReportError>;
    /// Close the file; returns its name if anything was written.
    fn finish(self) -> Result<Option<String>, ReportError>;
}

pub struct PatientTable<'m> {
    model: &'m Model,
    stream: ParquetStream,
}

/// The columns every patient row starts with: who, under which strategy, body and liver size.
fn person<'b, 'a>(row: &'b mut Block<'a>, p: &Patient, strategy: &'a str) -> &'b mut Block<'a> {
    row.count("patient", p.index)
        .text("strategy", strategy)
        .real("age_years", p.age_years)
        .text("sex", if p.female { "female" } else { "male" })
        .real("bsa_m2", p.bsa_m2)
        .real("stlv_ml", p.stlv_ml)
        .real("tlv_ml", p.tlv_ml)
}

fn err(path: &Path, e: impl std::fmt::Display) -> ReportError {
    ReportError::Write {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

impl<'m> PatientTable<'m> {
    pub fn new(dir: &Path, model: &'m Model) -> Self {
        PatientTable {
            model,
            stream: ParquetStream::new(dir),
        }
    }
}

impl PatientRows for PatientTable<'_> {
    type Records = Records;

    fn write(&mut self, records: &Records) -> Result<(), ReportError> {
        let m = self.model;
        let per = m.strategies.len();
        let mut t = Block::new(records.courses.len());
        for (i, p) in records.patients.iter().enumerate() {
            for (s, strategy) in m.strategies.iter().enumerate() {
                let (course, end) = &records.courses[i * per + s];
                let (end_state, end_check) = match end {
                    WaitEnd::Ready { week } => ("ready", *week),
                    WaitEnd::DroppedOut { cause, week } => (cause.key(), *week),
                    WaitEnd::NotReady => ("not_ready", m.schedule.checks),
                };
                let immediate = match course.immediate {
                    Immediate::Uneventful => "uneventful",
                    Immediate::MajorComplication => "major_complication",
                    Immediate::TechnicalFailure => "technical_failure",
                    Immediate::Death => "death",
                };
                let a_day = m.schedule.day(m.assessment_check);
                person(t.row(), p, &strategy.name)
                    .real("tumour_ml", p.tumour_ml)
                    .real("flr_ml", p.flr_ml)
                    .real("sflr0_pct", 100.0 * p.sflr0())
                    .text("liver_group", &m.cohort.groups[p.group].name)
                    .text("liver_quality", p.quality.key())
                    .real("chemotherapy_cycles", p.chemotherapy_cycles)
                    .real("safe_sflr_pct", 100.0 * p.safe_sflr)
                    .real("regeneration_multiplier", p.regeneration)
                    .text("immediate_outcome", immediate)
                    .real("max_growth", course.growth.max_growth)
                    .real("tau_days", course.growth.tau_days)
                    .real(
                        "sflr_at_assessment_pct",
                        100.0 * p.sflr0() * course.growth.relative_volume(a_day),
                    )
                    .text("end_state", end_state)
                    .count("end_check", end_check as u64);
            }
        }
        self.stream.append(t)
    }

    fn finish(self) -> Result<Option<String>, ReportError> {
        self.stream.finish()
    }
}

/// The patient table of a pathway study: one row per patient and strategy, with how the path
/// ended, the perioperative outcome, the first recurrence and death.
pub struct PathwayPatientTable<'m> {
    model: &'m PathwayModel,
    stream: ParquetStream,
}

impl<'m> PathwayPatientTable<'m> {
    pub fn new(dir: &Path, model: &'m PathwayModel) -> Self {
        PathwayPatientTable {
            model,
            stream: ParquetStream::new(dir),
        }
    }
}

impl PatientRows for PathwayPatientTable<'_> {
    type Records = PathwayRecords;

    fn write(&mut self, records: &PathwayRecords) -> Result<(), ReportError> {
        let m = self.model;
        let per = m.pathways.len().max(1);
        let yes = |b: bool| if b { "yes" } else { "no" };
        let mut t = Block::new(records.courses.len());
        for (i, (index, c)) in records.courses.iter().enumerate() {
            let strategy = &m.pathways[i % per];
            let step = strategy
                .steps
                .get(c.exit_step as usize)
                .map_or("end", |s| s.key());
            let r = c.recurrence.as_ref();
            // Survivors are censored at the horizon: exactly its length (the simulated weeks,
            // turned back into months, come to 119.99999999999999), and no death observed.
            let alive = c.death_cause == DeathCause::Alive;
            let death_months = if alive {
                HORIZON_MONTHS as f64
            } else {
                c.death_months
            };
            t.row()
                .count("patient", *index)
                .text("strategy", &strategy.name)
                .text("exit", c.exit.key())
                .text("exit_step", step)
                .count("cycles", c.cycles as u64)
                .real("path_weeks", c.path_weeks)
                .count("operations", c.operations as u64)
                .text("rendered_disease_free", yes(c.rendered_disease_free))
                .text("margin", c.margin.map_or("none", |m| m.key()))
                .maybe_real("sflr_at_resection_pct", c.sflr.map(|s| 100.0 * s))
                .maybe_real("kgr_pct_per_week", c.kgr_pct_per_week)
                .text("liver_failure", yes(c.phlf))
                .text("major_complication", yes(c.major_morbidity))
                .text("death_90_days", yes(c.died_90_days))
                .count("dlm_left_viable", c.dlm_left_viable as u64)
                .maybe_real(
                    "recurrence_months_after_path",
                    r.map(|r| r.months_after_path),
                )
                .text(
                    "recurrence_intrahepatic",
                    yes(r.is_some_and(|r| r.intrahepatic)),
                )
                .text(
                    "recurrence_extrahepatic",
                    yes(r.is_some_and(|r| r.extrahepatic)),
                )
                .count("repeat_treatments", c.repeat_treatments as u64)
                .real("death_months", death_months)
                .flag("death_observed", !alive)
                .text("death_cause", c.death_cause.key());
        }
        self.stream.append(t)
    }

    fn finish(self) -> Result<Option<String>, ReportError> {
        self.stream.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks of `rows` rows, patient numbers counting on across blocks.
    fn blocks<'a>(count: usize, rows: usize) -> Vec<Block<'a>> {
        (0..count)
            .map(|b| {
                let mut t = Block::new(rows);
                for r in 0..rows {
                    let patient = (b * rows + r) as u64;
                    t.row()
                        .count("patient", patient)
                        .text("strategy", if r % 2 == 0 { "pve" } else { "lvd" })
                        .real("flr_ml", patient as f64 * 0.5)
                        .maybe_real("sflr_at_resection_pct", (r % 3 != 0).then_some(30.0))
                        .flag("death_observed", r % 5 == 0);
                }
                t
            })
            .collect()
    }

    /// One row group per block kept kilobytes per block and column in memory until the
    /// footer, so memory grew with the cohort: blocks now share row groups, the rows unchanged.
    #[test]
    fn row_groups_gather_several_blocks_so_memory_does_not_grow_with_the_cohort() {
        let dir = std::env::temp_dir().join(format!("remnant-pt-groups-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut stream = ParquetStream::new(&dir);
        let count = 2 * BLOCKS_PER_ROW_GROUP + 3;
        for block in blocks(count, 100) {
            stream.append(block).unwrap();
        }
        assert_eq!(stream.finish().unwrap().as_deref(), Some(FILE));

        let mut reader = ParquetReader::new(File::open(dir.join(FILE)).unwrap());
        let groups = reader.get_metadata().unwrap().row_groups.len();
        assert_eq!(groups, 3, "{count} blocks make 3 row groups");
        let read = reader.finish().unwrap();
        let mut expected = blocks(count, 100)
            .into_iter()
            .map(|b| b.into_dataframe().unwrap())
            .reduce(|mut a, b| {
                a.vstack_mut(&b).unwrap();
                a
            })
            .unwrap();
        expected.rechunk_mut();
        assert!(read.equals_missing(&expected), "{read} != {expected}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
