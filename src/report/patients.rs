//! The per-patient table (`--patient-table`): one row per patient and strategy, streamed to
//! Parquet block by block, so memory does not grow with the cohort.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::io::parquet::write::BatchedWriter;
use polars::prelude::*;

use super::table::Table;
use super::ReportError;
use crate::engine::Records;
use crate::model::conditioning::{Immediate, WaitEnd};
use crate::model::Model;

pub const FILE: &str = "patients.parquet";

pub struct PatientTable<'m> {
    model: &'m Model,
    path: PathBuf,
    writer: Option<BatchedWriter<File>>,
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
            path: dir.join(FILE),
            writer: None,
        }
    }

    /// Append one block of records.
    pub fn write(&mut self, records: &Records) -> Result<(), ReportError> {
        let m = self.model;
        let per = m.strategies.len();
        let mut t = Table::new("patients");
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
                t.row()
                    .count("patient", p.index)
                    .text("strategy", &strategy.name)
                    .real("age_years", p.age_years)
                    .text("sex", if p.female { "female" } else { "male" })
                    .real("bsa_m2", p.bsa_m2)
                    .real("stlv_ml", p.stlv_ml)
                    .real("tlv_ml", p.tlv_ml)
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
        if t.rows() == 0 {
            return Ok(());
        }
        t.check_finite(|row| format!("patient row {row}"))?;
        let df = t.to_dataframe()?;
        if self.writer.is_none() {
            let f = File::create(&self.path).map_err(|e| err(&self.path, e))?;
            let w = ParquetWriter::new(f)
                .batched(&df.schema())
                .map_err(|e| err(&self.path, e))?;
            self.writer = Some(w);
        }
        let w = self.writer.as_mut().expect("created above");
        w.write_batch(&df).map_err(|e| err(&self.path, e))
    }

    /// Close the file; returns its name if anything was written.
    pub fn finish(self) -> Result<Option<String>, ReportError> {
        match self.writer {
            None => Ok(None),
            Some(w) => {
                w.finish().map_err(|e| err(&self.path, e))?;
                Ok(Some(FILE.to_owned()))
            }
        }
    }
}
