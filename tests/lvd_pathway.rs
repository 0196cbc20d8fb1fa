//! Liver venous deprivation (LVD) in a pathway study: as a conditioning step (`step = "lvd"`)
//! and as the first stage of a two-stage hepatectomy (`procedure = "lvd"`), with the growth law
//! and risks of `scenarios/hypertrophy-windows.toml`.

use remnant::engine::pathway::PathwayStudyTally;
use remnant::engine::{run, Control, RunPlan};
use remnant::model::pathway::{Exit, PathwayModel, Step};
use remnant::model::procedure::Procedure;
use remnant::scenario::{Scenario, Study};

mod common;

const PVE_CHEMOTHERAPY: &str = include_str!("../scenarios/pve-chemotherapy.toml");

const CHEMOTHERAPY: &str = "{ step = \"chemotherapy\", regimen_ras_wild_type = \"folfox_anti_egfr\", regimen_ras_mutant = \"folfox_bev\", cycles = 6 }";

/// `[procedures.lvd]` of the default model, as written there.
fn lvd_table() -> &'static str {
    let model = common::DEFAULT_MODEL;
    let start = model.find("[procedures.lvd]").unwrap();
    let end = start + model[start..].find("\n\n").unwrap_or(model.len() - start);
    model[start..end].trim_end()
}

/// The PVE-chemotherapy scenario with LVD's table and two strategies that use LVD.
fn with_lvd() -> String {
    format!(
        "{PVE_CHEMOTHERAPY}\n{table}\n\n[[strategies]]\nname = \"chemotherapy, LVD, resection\"\nsteps = [\n  {CHEMOTHERAPY},\n  {{ step = \"lvd\", weeks = 4, policy = \"anatomical\" }},\n  {{ step = \"resect\", policy = \"anatomical\" }},\n]\n\n[[strategies]]\nname = \"chemotherapy, two-stage with LVD\"\nsteps = [\n  {CHEMOTHERAPY},\n  {{ step = \"two_stage_first\", procedure = \"lvd\", weeks = 4, policy = \"anatomical\" }},\n  {{ step = \"two_stage_second\" }},\n]\n",
        table = lvd_table()
    )
}

fn model(text: &str) -> PathwayModel {
    let s = Scenario::parse("pve-chemotherapy-lvd.toml", text).unwrap();
    let Study::Pathway(m) = s.study else {
        panic!("a pathway study")
    };
    m
}

fn simulate(m: &PathwayModel, patients: u64) -> PathwayStudyTally {
    run(
        m,
        &RunPlan::new(5, 0..patients),
        &Control::default(),
        |_| Ok::<(), ()>(()),
    )
    .unwrap()
}

fn exits(t: &PathwayStudyTally, s: usize, exit: Exit) -> u64 {
    let i = Exit::ALL.iter().position(|&e| e == exit).unwrap();
    t.strategies[s].exits[i]
}

/// Protects LVD in pathway studies: both steps load with LVD as their procedure, LVD occludes
/// and grows the remnant (on the same patients as PVE, more are occluded, fewer leave with a
/// remnant too small or not grown, more complete the path; the two-stage path completes for
/// some), and the scenario's own strategies give the same tallies with or without the LVD
/// strategies.
#[test]
fn lvd_is_a_conditioning_step_and_a_two_stage_first_procedure() {
    let m = model(&with_lvd());
    let n = m.pathways.len();
    let lvd = n - 2;
    let two_stage = n - 1;
    assert!(m.pathways[lvd].steps.iter().any(|st| matches!(
        st,
        Step::Conditioning {
            procedure: Procedure::Lvd,
            ..
        }
    )));
    assert!(m.pathways[two_stage].steps.iter().any(|st| matches!(
        st,
        Step::FirstStage {
            procedure: Procedure::Lvd,
            ..
        }
    )));
    let patients = 6000;
    let t = simulate(&m, patients);
    let pve = 0; // "chemotherapy, PVE, resection": the same path with PVE
    assert_eq!(m.pathways[pve].name, "chemotherapy, PVE, resection");
    let (a, b) = (&t.strategies[pve], &t.strategies[lvd]);
    assert!(
        b.occluded > a.occluded,
        "occluded: LVD {} vs PVE {}",
        b.occluded,
        a.occluded
    );
    // LVD's larger growth is offered to smaller remnants (the planner expects its median
    // growth), and more of them reach the resection.
    let not_grown =
        |s: usize| exits(&t, s, Exit::RemnantTooSmall) + exits(&t, s, Exit::InsufficientGrowth);
    assert!(
        not_grown(lvd) < not_grown(pve),
        "remnant too small or not grown: LVD {} vs PVE {}",
        not_grown(lvd),
        not_grown(pve)
    );
    assert!(exits(&t, lvd, Exit::Completed) > exits(&t, pve, Exit::Completed));
    let staged = &t.strategies[two_stage];
    assert!(staged.occluded > 100 && staged.occluded_completed > 0);

    // The bundled strategies are not moved by the LVD ones.
    let alone = simulate(&model(PVE_CHEMOTHERAPY), patients);
    for (s, tally) in alone.strategies.iter().enumerate() {
        assert_eq!(
            serde_json::to_string(tally).unwrap(),
            serde_json::to_string(&t.strategies[s]).unwrap(),
            "strategy {s}"
        );
    }
}

/// An LVD step in a scenario without `[procedures.lvd]` takes LVD's numbers from the default
/// model: the same numbers as the table written out, marked as the default model's.
#[test]
fn an_lvd_step_without_its_table_takes_the_default_models() {
    let written = Scenario::parse("lvd.toml", &with_lvd()).unwrap();
    let text = with_lvd().replace(lvd_table(), "");
    let s = Scenario::parse("no-lvd.toml", &text).unwrap();
    let lvd = |s: &Scenario| -> Vec<(String, f64)> {
        s.parameters
            .iter()
            .filter(|p| p.key.starts_with("procedures.lvd."))
            .map(|p| (p.key.clone(), p.value))
            .collect()
    };
    assert_eq!(lvd(&s).len(), 7);
    assert_eq!(lvd(&s), lvd(&written));
    assert!(s
        .parameters
        .iter()
        .filter(|p| p.key.starts_with("procedures.lvd."))
        .all(|p| p.from == remnant::scenario::defaults::Origin::DefaultModel));
}
