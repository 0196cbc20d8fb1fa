//! `remnant plan`: one patient at the tumour board.

use std::path::PathBuf;

use clap::Args;

use super::{
    bad_input, begin_staging, finish_staging, interrupted, refuse_unsafe_out, runtime, say,
    watch_for_interruption, Failure,
};
use crate::engine::{self, Control, RunPlan};
use crate::model::dist::Dist;
use crate::model::liver::{LiverQuality, RegimenClass, WEEKS_PER_CYCLE};
use crate::model::patient::{Cohort, LiverGroup, RemnantSource};
use crate::model::procedure::Procedure;
use crate::model::volumetry::mosteller_bsa;
use crate::model::Strategy;
use crate::report::{self, output};
use crate::scenario::{Scenario, Study};

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Body surface area, m² (or give --height-cm and --weight-kg).
    #[arg(long)]
    bsa: Option<f64>,
    #[arg(long)]
    height_cm: Option<f64>,
    #[arg(long)]
    weight_kg: Option<f64>,
    /// Future liver remnant volume, mL (or give --sflr-pct).
    #[arg(long)]
    flr_ml: Option<f64>,
    /// Standardized FLR, % of sTLV.
    #[arg(long)]
    sflr_pct: Option<f64>,
    /// Measured total functional liver volume, mL, if known.
    #[arg(long)]
    tlv_ml: Option<f64>,
    /// Liver: normal, steatosis, chemo (more than 12 weeks of chemotherapy), cirrhosis.
    #[arg(long, default_value = "normal")]
    liver: String,
    /// Chemotherapy cycles received (2-week cycles).
    #[arg(long)]
    chemo_cycles: Option<f64>,
    /// Regimen class: none, oxaliplatin, irinotecan, oxaliplatin_irinotecan.
    #[arg(long, default_value = "none")]
    regimen: String,
    /// Age in years.
    #[arg(long, default_value_t = 60.0)]
    age: f64,
    /// pve, pve4, pvl, alpps or all.
    #[arg(long, default_value = "all")]
    procedure: String,
    /// Hypertrophy scenario whose procedure and liver parameters are used
    /// (default: scenarios/hypertrophy-windows.toml).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Simulated courses for this patient.
    #[arg(long, default_value_t = 100_000)]
    draws: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write plan.csv and plots into this folder.
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long)]
    force: bool,
}

fn finite_in(flag: &str, v: f64, lo: f64, hi: f64, unit: &str) -> Result<f64, Failure> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(v)
    } else {
        Err(bad_input(format!(
            "{flag} must be between {lo} and {hi} {unit} (got {v})"
        )))
    }
}

/// The scenario `remnant plan` uses unless told otherwise.
pub const PLAN_SCENARIO: &str = "scenarios/hypertrophy-windows.toml";

pub fn plan(a: PlanArgs) -> Result<(), Failure> {
    refuse_unsafe_out(a.out.as_deref())?;
    let path = a
        .scenario
        .clone()
        .unwrap_or_else(|| PathBuf::from(PLAN_SCENARIO));
    let mut scenario = Scenario::load(&path).map_err(|e| bad_input(e.to_string()))?;
    let Study::Hypertrophy(mut model) = scenario.study.clone() else {
        return Err(bad_input(format!(
            "{}: a {} study; `remnant plan` plans FLR conditioning for one patient and needs a hypertrophy study such as {PLAN_SCENARIO}",
            path.display(),
            scenario.study.key()
        )));
    };
    let bsa = match (a.bsa, a.height_cm, a.weight_kg) {
        (Some(b), None, None) => finite_in("--bsa", b, 0.9, 3.2, "m²")?,
        (None, Some(h), Some(w)) => {
            let h = finite_in("--height-cm", h, 120.0, 230.0, "cm")?;
            let w = finite_in("--weight-kg", w, 30.0, 250.0, "kg")?;
            mosteller_bsa(h, w)
        }
        _ => {
            return Err(bad_input(
                "give either --bsa, or both --height-cm and --weight-kg",
            ))
        }
    };
    let age = finite_in("--age", a.age, 18.0, 110.0, "years")?;
    let m = &mut model;
    // The planning table reports sFLR at every week it lists.
    m.weekly_moments = true;
    let stlv = m.cohort.standard_volume.stlv_ml(bsa);
    let tlv = match a.tlv_ml {
        Some(t) => finite_in("--tlv-ml", t, 300.0, 5000.0, "mL")?,
        None => stlv,
    };
    let flr = match (a.flr_ml, a.sflr_pct) {
        (Some(f), None) => finite_in("--flr-ml", f, 1.0, 5000.0, "mL")?,
        (None, Some(p)) => finite_in("--sflr-pct", p, 1.0, 100.0, "%")? / 100.0 * stlv,
        _ => return Err(bad_input("give either --flr-ml or --sflr-pct")),
    };
    if flr > tlv {
        return Err(bad_input(format!("the remnant ({flr:.0} mL) cannot be larger than the whole liver ({tlv:.0} mL); check --flr-ml and --tlv-ml")));
    }
    let (quality, long_chemo) = match a.liver.as_str() {
        "normal" => (LiverQuality::Normal, false),
        "steatosis" => (LiverQuality::Steatosis, false),
        "cirrhosis" => (LiverQuality::Cirrhosis, false),
        "chemo" => (LiverQuality::Normal, true),
        other => {
            return Err(bad_input(format!(
                "--liver must be normal, steatosis, chemo or cirrhosis (got \"{other}\")"
            )))
        }
    };
    let cycles = match a.chemo_cycles {
        Some(c) => finite_in("--chemo-cycles", c, 0.0, 100.0, "cycles")?,
        None if long_chemo => {
            (m.safe_remnant.long_chemotherapy_weeks / WEEKS_PER_CYCLE).floor() + 1.0
        }
        None => 0.0,
    };
    let regimen = RegimenClass::from_key(&a.regimen)
        .ok_or_else(|| bad_input(format!("--regimen must be none, oxaliplatin, irinotecan or oxaliplatin_irinotecan (got \"{}\")", a.regimen)))?;
    let procedures: Vec<Procedure> = match a.procedure.as_str() {
        "all" => m.procedures.iter().map(|p| p.procedure).collect(),
        key => vec![Procedure::from_key(key).ok_or_else(|| {
            bad_input(format!(
                "--procedure must be pve, pve4, pvl, alpps or all (got \"{key}\")"
            ))
        })?],
    };
    for p in &procedures {
        if !m.procedures.iter().any(|q| q.procedure == *p) {
            return Err(bad_input(format!(
                "{} has no parameters for {}; choose another --scenario",
                path.display(),
                p.key()
            )));
        }
    }
    if a.draws == 0 || a.draws > 100_000_000 {
        return Err(bad_input(format!(
            "--draws must be from 1 to 100000000 (got {})",
            a.draws
        )));
    }
    // The patient as a cohort of identical people: only the course after the procedure varies.
    m.cohort = Cohort::new(
        Dist::fixed(age),
        0.0,
        Dist::fixed(bsa),
        m.cohort.standard_volume,
        Dist::fixed(tlv / stlv),
        Some(Dist::fixed(0.0)),
        RemnantSource::Fraction(Dist::fixed(flr / tlv)),
        None,
        vec![LiverGroup {
            name: "patient".into(),
            share: 1.0,
            quality,
            regimen,
            chemotherapy_cycles: Dist::fixed(cycles),
        }],
    );
    m.strategies = procedures
        .iter()
        .map(|p| Strategy {
            name: p.label().to_owned(),
            procedure: *p,
        })
        .collect();
    scenario.run.patients = a.draws;
    scenario.run.seed = a.seed;
    scenario.run.name = "plan".into();

    // Signals are watched before the staging folder exists, so that a SIGTERM never leaves it.
    let stop = watch_for_interruption();
    let staging = match &a.out {
        Some(out) => Some(begin_staging(out, a.force)?),
        None => None,
    };
    let plan = RunPlan {
        quantiles: true,
        ..RunPlan::new(a.seed, 0..a.draws)
    };
    let control = Control {
        stop: Some(stop),
        ..Control::default()
    };
    let tally = match engine::run(&model, &plan, &control, |_| Ok::<(), ()>(())) {
        Ok(t) => t,
        Err(e) => {
            if let Some(st) = staging {
                st.abandon();
            }
            return Err(match e {
                engine::EngineError::Interrupted { .. } => interrupted(),
                engine::EngineError::Sink(()) => runtime("plan simulation failed"),
            });
        }
    };
    let table = report::tables::plan(&model, &tally, &[1, 2, 3, 4, 6, 8]);
    let thr = 100.0
        * model
            .safe_remnant
            .threshold(quality, cycles * WEEKS_PER_CYCLE);
    // The folder is committed before the terminal output, which may fail (a closed pipe).
    let written = match staging {
        Some(st) => {
            let result = (|| -> Result<(), report::ReportError> {
                let mut files = report::write_table(&st.dir, &table)?;
                files.extend(report::hypertrophy_plots(
                    &st.dir,
                    scenario.run.quantiles,
                    &model,
                    &tally,
                )?);
                output::write_plain_manifest(&st.dir, &files)
            })()
            .map_err(runtime);
            Some(finish_staging(st, result, stop)?.1)
        }
        None => None,
    };
    say(format!(
        "Patient: BSA {bsa:.2} m², sTLV {stlv:.0} mL, FLR {flr:.0} mL, sFLR {:.1}% ({} liver, {cycles} cycles); safe sFLR {thr:.0}%",
        100.0 * flr / stlv,
        a.liver
    ))?;
    say(report::tables::plan_text(&table))?;
    if let Some(dir) = written {
        say(format!("written: {}", dir.display()))?;
    }
    Ok(())
}
