//! The per-patient table (`--patient-table`): one row per patient and strategy, streamed to
//! Parquet block by block, so memory does not grow with the cohort. Both studies write it; the
//! columns follow the study, and a pathway study's rows start with the patient's baseline
//! (the same under every strategy).
//!
//! Values are typed: reals, counts, booleans, and categories (strategy, sex, exit, outcome…)
//! as Parquet dictionary-encoded strings that polars reads as an `Enum` of the fixed levels the
//! model defines. A value that does not apply is null, never a stand-in such as "none" or 0.
//!
//! Each block's rows are filled, encoded and zstd-compressed on the simulation thread that
//! simulated the block, in parallel with the other blocks ([`engine::run_prepared`]); a
//! writer thread then only appends the compressed pages in patient order and hashes the bytes
//! as they go out. Every block is encoded alike whatever thread does it, and the file holds the
//! blocks in patient order, so its bytes do not depend on the thread count.
//!
//! [`engine::run_prepared`]: crate::engine::run_prepared

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;

use polars::prelude::*;
use polars_arrow::array::{
    Array, BooleanArray, DictionaryArray, DictionaryKey, PrimitiveArray, Utf8ViewArray,
};
use polars_arrow::bitmap::{Bitmap, MutableBitmap};
use polars_arrow::datatypes::{ArrowDataType, IntegerType};
use polars_arrow::types::NativeType;
use polars_parquet::parquet::compression::Compression;
use polars_parquet::parquet::page::{CompressedDataPage, CompressedDictPage, DataPageHeader};
use polars_parquet::parquet::CowBuffer;
use polars_parquet::write::{
    array_to_columns, fallible_streaming_iterator, to_parquet_schema, ColumnWriteOptions,
    CompressedPage, CompressionOptions, DynIter, DynStreamingIterator, Encoding, FieldWriteOptions,
    FileWriter, Page, ParquetType, StatisticsOptions, Version, WriteOptions,
};
use sha2::{Digest, Sha256};

use super::table::TableError;
use super::{ManifestFile, ReportError};
use crate::engine::cohort::PatientSummary;
use crate::engine::pathway::PathwayRecords;
use crate::engine::Records;
use crate::model::conditioning::{DropOutCause, Immediate, WaitEnd};
use crate::model::liver::LiverQuality;
use crate::model::pathway::{DeathCause, Exit, PathwayCourse, PathwayModel, HORIZON_MONTHS};
use crate::model::patient::Cohort;
use crate::model::planner::Extent;
use crate::model::surgery::Margin;
use crate::model::Model;
use crate::scenario::hex;

pub const FILE: &str = "patients.parquet";
/// The patient table's name in the data dictionary.
pub const TABLE: &str = "patients";

/// Encoded blocks waiting for the writer thread. Compressed, a block is well under a megabyte.
const QUEUED_BLOCKS: usize = 4;

/// Blocks per row group. The file keeps some metadata per row group and column until the
/// footer, so a row group per block would make memory grow with the cohort (70 MB at 10⁷
/// patients); only compressed pages wait for their row group.
const BLOCKS_PER_ROW_GROUP: usize = 8;

/// Blocks of encoded rows a simulation thread may hold in one wave of the engine.
pub const BLOCKS_PER_THREAD: u64 = 4;

const SEX: &[&str] = &["female", "male"];

/// Category positions: one byte each when the levels fit (polars' own choice of key type).
enum Keys {
    U8(Vec<u8>),
    U16(Vec<u16>),
}

/// The values of one column of a block, by type.
enum Data<'a> {
    Real(Vec<f64>),
    /// The patient's number in the cohort.
    Index(Vec<u64>),
    Count(Vec<u32>),
    Flag(Bitmap),
    /// Positions in `levels`, the column's fixed categories.
    Category(Keys, &'a [&'a str]),
}

/// One column of a block: its values and, for a column that may be null, which are valid (a
/// null's place in the values holds a default).
struct Col<'a> {
    name: &'static str,
    data: Data<'a>,
    valid: Option<Bitmap>,
}

/// The columns of one block of patient rows, filled column by column, each from an iterator
/// over the same rows (so row i is the same patient and strategy in every column).
pub struct Block<'a> {
    columns: Vec<Col<'a>>,
    rows: usize,
}

/// Values and validity from optional values, in one pass.
fn split<T: Default>(values: impl Iterator<Item = Option<T>>, rows: usize) -> (Vec<T>, Bitmap) {
    let mut v = Vec::with_capacity(rows);
    let mut valid = MutableBitmap::with_capacity(rows);
    for x in values {
        valid.push(x.is_some());
        v.push(x.unwrap_or_default());
    }
    (v, valid.into())
}

impl<'a> Block<'a> {
    pub fn new(rows: usize) -> Self {
        Block {
            columns: Vec::new(),
            rows,
        }
    }

    fn push(&mut self, name: &'static str, data: Data<'a>, valid: Option<Bitmap>) -> &mut Self {
        let len = match &data {
            Data::Real(v) => v.len(),
            Data::Index(v) => v.len(),
            Data::Count(v) => v.len(),
            Data::Flag(v) => v.len(),
            Data::Category(Keys::U8(v), _) => v.len(),
            Data::Category(Keys::U16(v), _) => v.len(),
        };
        assert_eq!(
            len, self.rows,
            "column {name}: every column has a value per row"
        );
        self.columns.push(Col { name, data, valid });
        self
    }

    pub fn real(&mut self, name: &'static str, v: impl Iterator<Item = f64>) -> &mut Self {
        let v: Vec<f64> = v.collect();
        self.push(name, Data::Real(v), None)
    }

    /// Reals that may be missing (null).
    pub fn maybe_real(
        &mut self,
        name: &'static str,
        v: impl Iterator<Item = Option<f64>>,
    ) -> &mut Self {
        let (v, valid) = split(v, self.rows);
        self.push(name, Data::Real(v), Some(valid))
    }

    pub fn index(&mut self, name: &'static str, v: impl Iterator<Item = u64>) -> &mut Self {
        let v: Vec<u64> = v.collect();
        self.push(name, Data::Index(v), None)
    }

    pub fn count(&mut self, name: &'static str, v: impl Iterator<Item = u32>) -> &mut Self {
        let v: Vec<u32> = v.collect();
        self.push(name, Data::Count(v), None)
    }

    pub fn maybe_count(
        &mut self,
        name: &'static str,
        v: impl Iterator<Item = Option<u32>>,
    ) -> &mut Self {
        let (v, valid) = split(v, self.rows);
        self.push(name, Data::Count(v), Some(valid))
    }

    pub fn flag(&mut self, name: &'static str, v: impl Iterator<Item = bool>) -> &mut Self {
        let v = MutableBitmap::from_iter(v).into();
        self.push(name, Data::Flag(v), None)
    }

    pub fn maybe_flag(
        &mut self,
        name: &'static str,
        v: impl Iterator<Item = Option<bool>>,
    ) -> &mut Self {
        // Straight into bits: no vector of booleans on the way.
        let mut values = MutableBitmap::with_capacity(self.rows);
        let mut valid = MutableBitmap::with_capacity(self.rows);
        for x in v {
            valid.push(x.is_some());
            values.push(x == Some(true));
        }
        self.push(name, Data::Flag(values.into()), Some(valid.into()))
    }

    /// Positions in the fixed `levels` (the same levels in every block).
    pub fn category(
        &mut self,
        name: &'static str,
        levels: &'a [&'a str],
        v: impl Iterator<Item = usize>,
    ) -> &mut Self {
        self.maybe_category_with(name, levels, v.map(Some), false)
    }

    pub fn maybe_category(
        &mut self,
        name: &'static str,
        levels: &'a [&'a str],
        v: impl Iterator<Item = Option<usize>>,
    ) -> &mut Self {
        self.maybe_category_with(name, levels, v, true)
    }

    fn maybe_category_with(
        &mut self,
        name: &'static str,
        levels: &'a [&'a str],
        v: impl Iterator<Item = Option<usize>>,
        nullable: bool,
    ) -> &mut Self {
        let mut valid = MutableBitmap::with_capacity(if nullable { self.rows } else { 0 });
        let mut key = |k: Option<usize>| {
            debug_assert!(
                k.is_none_or(|k| k < levels.len()),
                "{name}: a level out of range"
            );
            if nullable {
                valid.push(k.is_some());
            }
            k.unwrap_or(0)
        };
        // Polars keeps fewer than 255 categories in a byte (u8::MAX marks a null).
        let keys = if levels.len() < u8::MAX as usize {
            Keys::U8(v.map(|k| key(k) as u8).collect())
        } else {
            Keys::U16(v.map(|k| key(k) as u16).collect())
        };
        let valid = nullable.then(|| valid.into());
        self.push(name, Data::Category(keys, levels), valid)
    }

    /// NaN or infinity must never reach the file.
    fn check_finite(&self) -> Result<(), TableError> {
        let patient = |row: usize| {
            self.columns.iter().find_map(|c| match &c.data {
                Data::Index(v) if c.name == "patient" => v.get(row).copied(),
                _ => None,
            })
        };
        for c in &self.columns {
            let Data::Real(v) = &c.data else { continue };
            if v.iter().all(|x| x.is_finite()) {
                continue;
            }
            let bad = (0..v.len())
                .find(|&r| !v[r].is_finite() && c.valid.as_ref().is_none_or(|ok| ok.get_bit(r)));
            if let Some(row) = bad {
                return Err(TableError::NotFinite {
                    table: "patients".into(),
                    column: c.name.into(),
                    row,
                    value: v[row],
                    context: match patient(row) {
                        Some(p) => format!("patient {p}"),
                        None => format!("row {row} of its block"),
                    },
                });
            }
        }
        Ok(())
    }
}

/// The table's columns as Parquet and Arrow see them: fixed by the first block encoded (every
/// block of a table has the same columns).
pub struct TableSchema {
    arrow: ArrowSchema,
    fields: Vec<ParquetType>,
    columns: Vec<ColumnWriteOptions>,
    options: WriteOptions,
}

impl TableSchema {
    fn of(block: &Block<'_>) -> PolarsResult<TableSchema> {
        let mut arrow = ArrowSchema::with_capacity(block.columns.len());
        let mut columns = Vec::with_capacity(block.columns.len());
        for c in &block.columns {
            let (dtype, encoding) = match &c.data {
                Data::Real(_) => (DataType::Float64, Encoding::Plain),
                Data::Index(_) => (DataType::UInt64, Encoding::Plain),
                Data::Count(_) => (DataType::UInt32, Encoding::Plain),
                Data::Flag(_) => (DataType::Boolean, Encoding::Plain),
                Data::Category(_, levels) => (
                    DataType::from_frozen_categories(FrozenCategories::new(
                        levels.iter().copied(),
                    )?),
                    Encoding::RleDictionary,
                ),
            };
            let name = PlSmallStr::from_static(c.name);
            let mut field = dtype.to_arrow_field(name.clone(), CompatLevel::newest());
            field.is_nullable = c.valid.is_some();
            arrow.insert(name, field);
            let mut options = FieldWriteOptions::default_with_encoding(encoding)
                .into_default_column_write_options();
            options.metadata = super::dictionary::field_metadata(TABLE, c.name);
            columns.push(options);
        }
        let fields = to_parquet_schema(&arrow, &columns)?.fields().to_vec();
        Ok(TableSchema {
            arrow,
            fields,
            columns,
            options: WriteOptions {
                // Page statistics cost time to compute and memory until the footer (its column
                // index); nothing reads them from a table that is always read whole.
                statistics: StatisticsOptions {
                    min_value: false,
                    max_value: false,
                    distinct_count: false,
                    null_count: false,
                },
                version: Version::V1,
                // The pages are compressed here (`compress_page`), at `ZSTD_LEVEL`.
                compression: CompressionOptions::Zstd(None),
                data_page_size: None,
            },
        })
    }
}

/// One block of rows, encoded and compressed: per column, its pages (a categorical column's
/// first page is its dictionary).
pub struct EncodedBlock {
    schema: Arc<TableSchema>,
    pages: Vec<Vec<CompressedPage>>,
}

fn primitive<T: NativeType>(
    dtype: &ArrowDataType,
    v: Vec<T>,
    valid: Option<Bitmap>,
) -> Box<dyn Array> {
    Box::new(PrimitiveArray::new(dtype.clone(), v.into(), valid))
}

fn dictionary<K: DictionaryKey>(
    dtype: &ArrowDataType,
    keys: Vec<K>,
    valid: Option<Bitmap>,
    levels: &[&str],
) -> PolarsResult<Box<dyn Array>> {
    let keys = PrimitiveArray::new(K::PRIMITIVE.into(), keys.into(), valid);
    let values = Utf8ViewArray::from_slice_values(levels).boxed();
    Ok(DictionaryArray::try_new(dtype.clone(), keys, values)?.boxed())
}

/// One column of a block as an Arrow array of its field's type.
fn to_array(col: Col<'_>, dtype: &ArrowDataType) -> PolarsResult<Box<dyn Array>> {
    let valid = col.valid;
    Ok(match col.data {
        Data::Real(v) => primitive(dtype, v, valid),
        Data::Index(v) => primitive(dtype, v, valid),
        Data::Count(v) => primitive(dtype, v, valid),
        Data::Flag(v) => Box::new(BooleanArray::new(dtype.clone(), v, valid)),
        Data::Category(keys, levels) => match (keys, dtype) {
            (Keys::U8(k), ArrowDataType::Dictionary(IntegerType::UInt8, _, _)) => {
                dictionary(dtype, k, valid, levels)?
            }
            (Keys::U16(k), ArrowDataType::Dictionary(IntegerType::UInt16, _, _)) => {
                dictionary(dtype, k, valid, levels)?
            }
            (_, other) => {
                polars_bail!(ComputeError: "column {}: unexpected type {other:?}", col.name)
            }
        },
    })
}

/// Encodes and compresses one block (on the calling thread); the schema is fixed by the first
/// block to get here.
fn encode_block(
    block: Block<'_>,
    schema: &OnceLock<Arc<TableSchema>>,
) -> Result<Option<EncodedBlock>, ReportError> {
    if block.rows == 0 {
        return Ok(None);
    }
    block.check_finite()?;
    let polars = |e: PolarsError| {
        ReportError::from(TableError::Polars {
            table: "patients".into(),
            message: e.to_string(),
        })
    };
    if schema.get().is_none() {
        // Every block makes the same schema: whichever thread sets it first, it is the one.
        let _ = schema.set(Arc::new(TableSchema::of(&block).map_err(polars)?));
    }
    let schema = schema.get().expect("set above").clone();
    let mut pages = Vec::with_capacity(block.columns.len());
    for ((col, field), (parquet, options)) in block
        .columns
        .into_iter()
        .zip(schema.arrow.iter_values())
        .zip(schema.fields.iter().zip(&schema.columns))
    {
        let array = to_array(col, field.dtype()).map_err(polars)?;
        let mut out = Vec::new();
        for leaf in
            array_to_columns(array, parquet.clone(), options, schema.options).map_err(polars)?
        {
            for page in leaf {
                out.push(compress_page(page.map_err(polars)?).map_err(polars)?);
            }
        }
        pages.push(out);
    }
    Ok(Some(EncodedBlock { schema, pages }))
}

/// Per thread: a zstd context, reused from page to page (a fresh one per page costs a megabyte
/// of zeroed tables), and the buffer it compresses into.
struct Zstd {
    compressor: zstd::bulk::Compressor<'static>,
    scratch: Vec<u8>,
}

thread_local! {
    static ZSTD: RefCell<Option<Zstd>> = const { RefCell::new(None) };
}

/// zstd's level for the table's pages: one of its fast levels. The file is 5% larger than at
/// the default level 3 (level 1: 0.05%), and the table takes about two thirds of the time to
/// write (600,000 patients of `scenarios/hypertrophy-windows.toml`: 0.86 s of processor time
/// more than the run without the table at −1, 1.25 s at 1; −4 saves another 0.1 s for a file
/// 23% larger).
const ZSTD_LEVEL: i32 = -1;

/// `bytes`, zstd-compressed with this thread's context. The result is allocated once, to its
/// size: a page may wait for its row group, and trimming a larger buffer would leave holes
/// that make the process's memory grow with the cohort.
fn zstd(bytes: &[u8]) -> PolarsResult<Vec<u8>> {
    ZSTD.with(|z| {
        let mut z = z.borrow_mut();
        if z.is_none() {
            *z = Some(Zstd {
                compressor: zstd::bulk::Compressor::new(ZSTD_LEVEL)?,
                scratch: Vec::new(),
            });
        }
        let z = z.as_mut().expect("created above");
        z.scratch.clear();
        z.scratch
            .reserve(zstd::zstd_safe::compress_bound(bytes.len()));
        z.compressor.compress_to_buffer(bytes, &mut z.scratch)?;
        Ok(z.scratch.as_slice().to_vec())
    })
    .map_err(|e: std::io::Error| PolarsError::ComputeError(format!("zstd: {e}").into()))
}

/// Compresses one page.
fn compress_page(page: Page) -> PolarsResult<CompressedPage> {
    Ok(match page {
        Page::Data(data) if matches!(data.header(), DataPageHeader::V1(_)) => {
            CompressedPage::Data(CompressedDataPage::new(
                data.header().clone(),
                CowBuffer::Owned(zstd(data.buffer())?),
                Compression::Zstd,
                data.buffer().len(),
                data.descriptor.clone(),
                data.num_rows.unwrap_or(0),
            ))
        }
        Page::Dict(dict) => CompressedPage::Dict(CompressedDictPage::new(
            CowBuffer::Owned(zstd(&dict.buffer)?),
            Compression::Zstd,
            dict.buffer.len(),
            dict.num_values,
            dict.is_sorted,
        )),
        Page::Data(_) => {
            polars_bail!(ComputeError: "a data page of version 2 (the table writes version 1)")
        }
    })
}

/// A writer that hashes what passes through it, so the file need not be read again for the
/// manifest.
struct Hashing<W> {
    inner: W,
    sha: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The Parquet file, written by a thread of its own; opened with the first block's schema.
pub struct PatientStream {
    path: PathBuf,
    writer: Option<(SyncSender<EncodedBlock>, WriterThread)>,
}

/// The writer thread; it returns the file's description if it wrote anything.
type WriterThread = JoinHandle<Result<Option<ManifestFile>, ReportError>>;

impl PatientStream {
    pub fn new(dir: &Path) -> Self {
        PatientStream {
            path: dir.join(FILE),
            writer: None,
        }
    }

    /// Appends one encoded block (`None`: a block without rows), in patient order.
    pub fn append(&mut self, block: Option<EncodedBlock>) -> Result<(), ReportError> {
        let Some(block) = block else {
            return Ok(());
        };
        if self.writer.is_none() {
            let (send, receive) = sync_channel::<EncodedBlock>(QUEUED_BLOCKS);
            let path = self.path.clone();
            let thread = std::thread::Builder::new()
                .name("patient-table".into())
                .spawn(move || write_blocks(&path, receive))
                .map_err(|e| err(&self.path, e))?;
            self.writer = Some((send, thread));
        }
        let (send, _) = self.writer.as_ref().expect("started above");
        if send.send(block).is_err() {
            // The writer stopped on an error: report it.
            return match self.stop() {
                Err(e) => Err(e),
                Ok(_) => Err(err(&self.path, "the patient table writer stopped")),
            };
        }
        Ok(())
    }

    /// Waits for the writer to finish the file; its description if anything was written.
    fn stop(&mut self) -> Result<Option<ManifestFile>, ReportError> {
        let Some((send, thread)) = self.writer.take() else {
            return Ok(None);
        };
        drop(send);
        thread
            .join()
            .unwrap_or_else(|_| Err(err(&self.path, "the patient table writer panicked")))
    }

    /// Closes the file: its name, size and SHA-256 if anything was written.
    pub fn finish(mut self) -> Result<Option<ManifestFile>, ReportError> {
        self.stop()
    }
}

impl Drop for PatientStream {
    /// An abandoned run still waits for its writer, so no thread outlives the result folder.
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// The writer thread: blocks in the order received, then the footer.
fn write_blocks(
    path: &Path,
    blocks: Receiver<EncodedBlock>,
) -> Result<Option<ManifestFile>, ReportError> {
    let mut file: Option<TableFile> = None;
    while let Ok(block) = blocks.recv() {
        if file.is_none() {
            file = Some(TableFile::create(path, &block.schema).map_err(|e| err(path, e))?);
        }
        let f = file.as_mut().expect("created above");
        f.add(block).map_err(|e| err(path, e))?;
    }
    match file {
        None => Ok(None),
        Some(f) => Ok(Some(f.finish().map_err(|e| err(path, e))?)),
    }
}

/// The Parquet file being written: the compressed pages of each block wait until
/// [`BLOCKS_PER_ROW_GROUP`] blocks make a row group. Categories have the same dictionary in
/// every block, so a row group's column chunk keeps only its first block's dictionary page.
struct TableFile {
    writer: FileWriter<Hashing<BufWriter<File>>>,
    schema: Arc<TableSchema>,
    /// Per column, the compressed pages of the row group being gathered.
    pages: Vec<Vec<CompressedPage>>,
    blocks: usize,
}

impl TableFile {
    fn create(path: &Path, schema: &Arc<TableSchema>) -> PolarsResult<Self> {
        let parquet_schema = to_parquet_schema(&schema.arrow, &schema.columns)?;
        let f = Hashing {
            inner: BufWriter::with_capacity(1 << 20, File::create(path)?),
            sha: Sha256::new(),
            bytes: 0,
        };
        Ok(TableFile {
            writer: FileWriter::new_with_parquet_schema(
                f,
                schema.arrow.clone(),
                parquet_schema,
                schema.options,
            ),
            pages: schema.fields.iter().map(|_| Vec::new()).collect(),
            schema: schema.clone(),
            blocks: 0,
        })
    }

    /// Gathers one block; writes the row group once it is complete.
    fn add(&mut self, block: EncodedBlock) -> PolarsResult<()> {
        let first = self.blocks == 0;
        for (pages, block) in self.pages.iter_mut().zip(block.pages) {
            for page in block {
                if !first && matches!(page, CompressedPage::Dict(_)) {
                    continue;
                }
                pages.push(page);
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

    /// The last, partial row group, then the footer; the file's size and SHA-256.
    fn finish(mut self) -> PolarsResult<ManifestFile> {
        self.write_row_group()?;
        self.writer.end(None, &self.schema.columns)?;
        let mut hashing = self.writer.into_inner();
        hashing.flush()?;
        hashing
            .inner
            .into_inner()
            .map_err(|e| PolarsError::from(e.into_error()))?;
        Ok(ManifestFile {
            name: FILE.to_owned(),
            bytes: hashing.bytes,
            sha256: hex(&hashing.sha.finalize()),
        })
    }
}

fn err(path: &Path, e: impl std::fmt::Display) -> ReportError {
    ReportError::Write {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// A study's per-patient rows: each block of records becomes a block of rows, encoded on the
/// thread that simulated it (any thread, any order), and a [`PatientStream`] writes the encoded
/// blocks in patient order.
pub trait PatientRows: Sync {
    type Records;
    /// The rows of one block of records.
    fn rows<'a>(&'a self, records: &'a Self::Records) -> Block<'a>;

    /// One block of records, encoded and compressed (`None`: no rows). `schema` is the file's:
    /// the first block encoded into it, on whatever thread, fixes it.
    fn encode(
        &self,
        records: Self::Records,
        schema: &OnceLock<Arc<TableSchema>>,
    ) -> Result<Option<EncodedBlock>, ReportError> {
        encode_block(self.rows(&records), schema)
    }
}

/// The columns of a study's patient table, in order (read from a block without rows).
pub fn column_names(study: &crate::scenario::Study) -> Vec<&'static str> {
    let names = |b: Block<'_>| b.columns.iter().map(|c| c.name).collect();
    match study {
        crate::scenario::Study::Hypertrophy(m) => {
            names(PatientTable::new(m).rows(&Records::default()))
        }
        crate::scenario::Study::Pathway(m) => {
            names(PathwayPatientTable::new(m).rows(&PathwayRecords::default()))
        }
    }
}

/// Position of `x` in `all` (the enum's levels are its `ALL` array's keys).
fn level<T: PartialEq>(all: &[T], x: T) -> usize {
    all.iter().position(|a| *a == x).unwrap_or(0)
}

/// The keys of an enum's `ALL` array, as a table's levels.
fn keys<T: Copy, const N: usize>(all: [T; N], key: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|&x| key(x)).collect()
}

/// The names of a cohort's liver groups, as levels.
fn group_levels(cohort: &Cohort) -> Vec<&str> {
    cohort.groups.iter().map(|g| g.name.as_str()).collect()
}

/// The patient table of a hypertrophy study.
pub struct PatientTable<'m> {
    model: &'m Model,
    strategies: Vec<&'m str>,
    groups: Vec<&'m str>,
    quality: Vec<&'static str>,
    immediate: Vec<&'static str>,
    end_state: Vec<&'static str>,
}

impl<'m> PatientTable<'m> {
    pub fn new(model: &'m Model) -> Self {
        let mut end_state = vec!["ready"];
        end_state.extend(DropOutCause::ALL.iter().map(|c| c.key()));
        end_state.push("not_ready");
        PatientTable {
            model,
            strategies: model.strategies.iter().map(|s| s.name.as_str()).collect(),
            groups: group_levels(&model.cohort),
            quality: keys(LiverQuality::ALL, LiverQuality::key),
            immediate: keys(Immediate::ALL, Immediate::key),
            end_state,
        }
    }
}

/// Row `j` of a block is patient `j / strategies` under strategy `j % strategies`: each
/// patient's row under every strategy, one after another.
fn by_row<T>(patients: &[T], strategies: usize) -> Vec<(&T, usize)> {
    patients
        .iter()
        .flat_map(|p| (0..strategies).map(move |s| (p, s)))
        .collect()
}

impl PatientRows for PatientTable<'_> {
    type Records = Records;

    fn rows<'a>(&'a self, records: &'a Records) -> Block<'a> {
        let m = self.model;
        let rows = by_row(&records.patients, m.strategies.len());
        let courses = || records.courses.iter();
        let patients = || rows.iter().map(|r| r.0);
        let a_day = m.schedule.day(m.assessment_check);
        let end_levels = self.end_state.len();
        let end = |end: &WaitEnd| match end {
            WaitEnd::Ready { week } => (0, *week),
            WaitEnd::DroppedOut { cause, week } => (1 + level(&DropOutCause::ALL, *cause), *week),
            WaitEnd::NotReady => (end_levels - 1, m.schedule.checks),
        };
        let mut t = Block::new(rows.len());
        t.index("patient", patients().map(|p| p.index))
            .category("strategy", &self.strategies, rows.iter().map(|r| r.1))
            .real("age_years", patients().map(|p| p.age_years))
            .category("sex", SEX, patients().map(|p| (!p.female) as usize))
            .real("bsa_m2", patients().map(|p| p.bsa_m2))
            .real("stlv_ml", patients().map(|p| p.stlv_ml))
            .real("tlv_ml", patients().map(|p| p.tlv_ml))
            .real("tumour_ml", patients().map(|p| p.tumour_ml))
            .real("flr_ml", patients().map(|p| p.flr_ml))
            .real("sflr0_pct", patients().map(|p| 100.0 * p.sflr0()))
            .category("liver_group", &self.groups, patients().map(|p| p.group))
            .category(
                "liver_quality",
                &self.quality,
                patients().map(|p| level(&LiverQuality::ALL, p.quality)),
            )
            .real(
                "chemotherapy_cycles",
                patients().map(|p| p.chemotherapy_cycles),
            )
            .real("safe_sflr_pct", patients().map(|p| 100.0 * p.safe_sflr))
            .real(
                "regeneration_multiplier",
                patients().map(|p| p.regeneration),
            )
            .category(
                "immediate_outcome",
                &self.immediate,
                courses().map(|(c, _)| level(&Immediate::ALL, c.immediate)),
            )
            .real("max_growth", courses().map(|(c, _)| c.growth.max_growth))
            // A technical failure occludes nothing: no growth, so no time constant.
            .maybe_real(
                "tau_days",
                courses().map(|(c, _)| {
                    (c.immediate != Immediate::TechnicalFailure).then_some(c.growth.tau_days)
                }),
            )
            .real(
                "sflr_at_assessment_pct",
                patients()
                    .zip(courses())
                    .map(|(p, (c, _))| 100.0 * p.sflr0() * c.growth.relative_volume(a_day)),
            )
            .category(
                "end_state",
                &self.end_state,
                courses().map(|(_, e)| end(e).0),
            )
            .count("end_check", courses().map(|(_, e)| end(e).1));
        t
    }
}

/// The first columns of a pathway study's rows: `patient`, `strategy`, then the patient's
/// baseline.
fn baseline<'a>(
    t: &mut Block<'a>,
    rows: &[(&PatientSummary, usize)],
    strategies: &'a [&'a str],
    groups: &'a [&'a str],
) {
    let s = || rows.iter().map(|r| r.0);
    let p = || s().map(|s| &s.patient);
    t.index("patient", p().map(|p| p.index))
        .category("strategy", strategies, rows.iter().map(|r| r.1))
        .real("age_years", p().map(|p| p.age_years))
        .category("sex", SEX, p().map(|p| (!p.female) as usize))
        .real("bsa_m2", p().map(|p| p.bsa_m2))
        .real("stlv_ml", p().map(|p| p.stlv_ml))
        .real("tlv_ml", p().map(|p| p.tlv_ml))
        .real("flr_ml", s().map(|s| s.left_liver_ml))
        .real(
            "sflr_pct",
            s().map(|s| 100.0 * s.left_liver_ml / s.patient.stlv_ml),
        )
        .category("liver_group", groups, p().map(|p| p.group))
        .flag("ras_mutant", s().map(|s| s.ras_mutant))
        .flag("braf_mutant", s().map(|s| s.braf_mutant))
        .flag("right_sided_primary", s().map(|s| s.right_sided_primary))
        .flag("synchronous", s().map(|s| s.synchronous))
        .count("fong_score", s().map(|s| s.fong_score as u32))
        .count("lesions", s().map(|s| s.lesions as u32))
        .real("largest_mm", s().map(|s| s.largest_mm))
        .real("tumour_ml", s().map(|s| s.tumour_ml))
        .flag("bilobar", s().map(|s| s.bilobar))
        .count("occult_lesions", s().map(|s| s.occult_lesions as u32))
        .flag("extrahepatic_occult", s().map(|s| s.extrahepatic_occult));
}

/// The patient table of a pathway study: one row per patient and strategy, with the patient's
/// baseline, how the path ended, the perioperative outcome, the first recurrence and death.
pub struct PathwayPatientTable<'m> {
    model: &'m PathwayModel,
    strategies: Vec<&'m str>,
    groups: Vec<&'m str>,
    exits: Vec<&'static str>,
    /// Every step key of any strategy, in order of first appearance.
    steps: Vec<&'static str>,
    /// Per strategy, the level of each of its steps in `steps`.
    step_levels: Vec<Vec<usize>>,
    margins: Vec<&'static str>,
    extents: Vec<&'static str>,
    causes: Vec<&'static str>,
}

impl<'m> PathwayPatientTable<'m> {
    pub fn new(model: &'m PathwayModel) -> Self {
        let mut steps: Vec<&'static str> = Vec::new();
        let step_levels = model
            .pathways
            .iter()
            .map(|p| {
                p.steps
                    .iter()
                    .map(|s| match steps.iter().position(|k| *k == s.key()) {
                        Some(i) => i,
                        None => {
                            steps.push(s.key());
                            steps.len() - 1
                        }
                    })
                    .collect()
            })
            .collect();
        PathwayPatientTable {
            model,
            strategies: model.pathways.iter().map(|p| p.name.as_str()).collect(),
            groups: group_levels(&model.base.cohort),
            exits: keys(Exit::ALL, Exit::key),
            steps,
            step_levels,
            margins: keys(Margin::ALL, Margin::key),
            extents: keys(Extent::ALL, Extent::key),
            causes: keys(DeathCause::ALL, DeathCause::key),
        }
    }
}

impl PatientRows for PathwayPatientTable<'_> {
    type Records = PathwayRecords;

    fn rows<'a>(&'a self, records: &'a PathwayRecords) -> Block<'a> {
        let rows = by_row(&records.patients, self.model.pathways.len());
        debug_assert!(
            rows.iter()
                .zip(&records.courses)
                .all(|(r, (index, _))| r.0.patient.index == *index),
            "each course beside its patient"
        );
        let c = || records.courses.iter().map(|(_, c)| c);
        let cs = || rows.iter().map(|r| r.1).zip(c());
        // Operated: the perioperative outcomes apply.
        let op = |c: &PathwayCourse, v: bool| (c.operations > 0).then_some(v);
        let r = || c().map(|c| c.recurrence.as_ref());
        let mut t = Block::new(rows.len());
        baseline(&mut t, &rows, &self.strategies, &self.groups);
        t.category("exit", &self.exits, c().map(|c| level(&Exit::ALL, c.exit)))
            .maybe_category(
                "exit_step",
                &self.steps,
                cs().map(|(k, c)| self.step_levels[k].get(c.exit_step as usize).copied()),
            )
            .count("cycles", c().map(|c| c.cycles))
            .real("path_weeks", c().map(|c| c.path_weeks))
            .count("operations", c().map(|c| c.operations as u32))
            .flag(
                "rendered_disease_free",
                c().map(|c| c.rendered_disease_free),
            )
            .maybe_category(
                "margin",
                &self.margins,
                c().map(|c| c.margin.map(|m| level(&Margin::ALL, m))),
            )
            .maybe_category(
                "extent",
                &self.extents,
                c().map(|c| c.extent.map(|e| level(&Extent::ALL, e))),
            )
            .maybe_real(
                "sflr_at_resection_pct",
                c().map(|c| c.sflr.map(|s| 100.0 * s)),
            )
            .maybe_real("kgr_pct_per_week", c().map(|c| c.kgr_pct_per_week))
            .count("dlm", c().map(|c| c.dlm as u32))
            .flag("sos", c().map(|c| c.injury.sos))
            .flag("cash", c().map(|c| c.injury.cash))
            .maybe_flag("liver_failure", c().map(|c| op(c, c.phlf)))
            .maybe_flag("complication", c().map(|c| op(c, c.morbidity)))
            .maybe_flag("major_complication", c().map(|c| op(c, c.major_morbidity)))
            .maybe_flag("death_90_days", c().map(|c| op(c, c.died_90_days)))
            .maybe_flag("death_30_days", c().map(|c| op(c, c.died_30_days)))
            .maybe_count(
                "dlm_left_viable",
                c().map(|c| (c.operations > 0).then_some(c.dlm_left_viable as u32)),
            )
            .maybe_real(
                "recurrence_months_after_path",
                r().map(|r| r.map(|r| r.months_after_path)),
            )
            .maybe_flag(
                "recurrence_intrahepatic",
                r().map(|r| r.map(|r| r.intrahepatic)),
            )
            .maybe_flag(
                "recurrence_extrahepatic",
                r().map(|r| r.map(|r| r.extrahepatic)),
            )
            .maybe_count(
                "repeat_treatments",
                c().map(|c| c.recurrence.map(|_| c.repeat_treatments as u32)),
            )
            // Survivors are censored at the horizon: exactly its length (the simulated
            // weeks, turned back into months, come to 119.99999999999999), and no death
            // observed.
            .real(
                "death_months",
                c().map(|c| {
                    if c.death_cause == DeathCause::Alive {
                        HORIZON_MONTHS as f64
                    } else {
                        c.death_months
                    }
                }),
            )
            .flag(
                "death_observed",
                c().map(|c| c.death_cause != DeathCause::Alive),
            )
            .category(
                "death_cause",
                &self.causes,
                c().map(|c| level(&DeathCause::ALL, c.death_cause)),
            );
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRATEGIES: &[&str] = &["pve", "lvd"];

    /// Blocks of `rows` rows, patient numbers counting on across blocks.
    fn blocks<'a>(count: usize, rows: usize) -> Vec<Block<'a>> {
        (0..count)
            .map(|b| {
                let mut t = Block::new(rows);
                let r = || 0..rows;
                t.index("patient", r().map(|r| (b * rows + r) as u64))
                    .category("strategy", STRATEGIES, r().map(|r| r % 2))
                    .real("flr_ml", r().map(|r| (b * rows + r) as f64 * 0.5))
                    .maybe_real(
                        "sflr_at_resection_pct",
                        r().map(|r| (r % 3 != 0).then_some(30.0)),
                    )
                    .maybe_category("margin", SEX, r().map(|r| (r % 4 != 0).then_some(r % 2)))
                    .count("cycles", r().map(|r| r as u32))
                    .maybe_count("left", r().map(|r| (r % 5 != 1).then_some(2)))
                    .maybe_flag("failure", r().map(|r| (r % 3 != 1).then_some(r % 2 == 0)))
                    .flag("death_observed", r().map(|r| r % 5 == 0));
                t
            })
            .collect()
    }

    /// What the blocks should read back as.
    fn expected(count: usize, rows: usize) -> DataFrame {
        let n = count * rows;
        let r = |i: usize| i % rows;
        let levels = |l: &[&str]| {
            DataType::from_frozen_categories(FrozenCategories::new(l.iter().copied()).unwrap())
        };
        let cat = |name: &str, l: &[&str], v: Vec<Option<&str>>| {
            Column::new(name.into(), v).cast(&levels(l)).unwrap()
        };
        DataFrame::new(vec![
            Column::new("patient".into(), (0..n as u64).collect::<Vec<_>>()),
            cat(
                "strategy",
                STRATEGIES,
                (0..n).map(|i| Some(STRATEGIES[r(i) % 2])).collect(),
            ),
            Column::new(
                "flr_ml".into(),
                (0..n).map(|i| i as f64 * 0.5).collect::<Vec<_>>(),
            ),
            Column::new(
                "sflr_at_resection_pct".into(),
                (0..n)
                    .map(|i| (r(i) % 3 != 0).then_some(30.0))
                    .collect::<Vec<_>>(),
            ),
            cat(
                "margin",
                SEX,
                (0..n)
                    .map(|i| (r(i) % 4 != 0).then_some(SEX[r(i) % 2]))
                    .collect(),
            ),
            Column::new(
                "cycles".into(),
                (0..n).map(|i| r(i) as u32).collect::<Vec<_>>(),
            ),
            Column::new(
                "left".into(),
                (0..n)
                    .map(|i| (r(i) % 5 != 1).then_some(2u32))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "failure".into(),
                (0..n)
                    .map(|i| (r(i) % 3 != 1).then_some(r(i) % 2 == 0))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "death_observed".into(),
                (0..n).map(|i| r(i) % 5 == 0).collect::<Vec<_>>(),
            ),
        ])
        .unwrap()
    }

    fn write(dir: &Path, count: usize, rows: usize) -> ManifestFile {
        let schema = OnceLock::new();
        let mut stream = PatientStream::new(dir);
        for block in blocks(count, rows) {
            stream
                .append(encode_block(block, &schema).unwrap())
                .unwrap();
        }
        stream.finish().unwrap().expect("rows were written")
    }

    /// One row group per block kept kilobytes per block and column in memory until the
    /// footer, so memory grew with the cohort: blocks share row groups, the rows unchanged,
    /// and the categories' dictionary is written once per row group.
    #[test]
    fn row_groups_gather_several_blocks_and_every_type_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let count = 2 * BLOCKS_PER_ROW_GROUP + 3;
        let described = write(dir.path(), count, 100);

        let mut reader = ParquetReader::new(File::open(dir.path().join(FILE)).unwrap());
        let groups = reader.get_metadata().unwrap().row_groups.len();
        assert_eq!(groups, 3, "{count} blocks make 3 row groups");
        let read = reader.finish().unwrap();
        let expected = expected(count, 100);
        assert_eq!(read.schema(), expected.schema());
        assert!(read.equals_missing(&expected), "{read} != {expected}");

        // The size and hash taken while writing are the file's.
        let bytes = std::fs::read(dir.path().join(FILE)).unwrap();
        assert_eq!(described.bytes, bytes.len() as u64);
        assert_eq!(described.sha256, hex(&Sha256::digest(&bytes)));
    }

    /// Blocks encoded on other threads and in another order still make the same file.
    #[test]
    fn the_bytes_do_not_depend_on_which_thread_encodes_which_block() {
        use rayon::prelude::*;
        let serial = tempfile::tempdir().unwrap();
        let a = write(serial.path(), 11, 64);
        let parallel = tempfile::tempdir().unwrap();
        let schema = OnceLock::new();
        let mut encoded: Vec<(usize, Option<EncodedBlock>)> = blocks(11, 64)
            .into_iter()
            .enumerate()
            .rev()
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|(i, b)| (i, encode_block(b, &schema).unwrap()))
            .collect();
        encoded.sort_by_key(|(i, _)| *i);
        let mut stream = PatientStream::new(parallel.path());
        for (_, b) in encoded {
            stream.append(b).unwrap();
        }
        let b = stream.finish().unwrap().unwrap();
        assert_eq!(a.sha256, b.sha256);
        assert_eq!(
            std::fs::read(serial.path().join(FILE)).unwrap(),
            std::fs::read(parallel.path().join(FILE)).unwrap()
        );
    }

    #[test]
    fn a_value_that_is_not_finite_is_refused_with_its_patient() {
        let mut t = Block::new(2);
        t.index("patient", [7, 8].into_iter())
            .real("weeks", [1.0, f64::NAN].into_iter());
        let e = encode_block(t, &OnceLock::new()).err().expect("refused");
        assert!(e.to_string().contains("patient 8"), "{e}");
        // A null's placeholder is not a value.
        let mut t = Block::new(1);
        t.index("patient", [9].into_iter())
            .maybe_real("kgr", [None].into_iter());
        assert!(encode_block(t, &OnceLock::new()).is_ok());
    }

    #[test]
    #[should_panic(expected = "every column has a value per row")]
    fn a_column_shorter_than_the_block_is_a_bug() {
        let mut t = Block::new(3);
        t.index("patient", 0..2);
    }
}
