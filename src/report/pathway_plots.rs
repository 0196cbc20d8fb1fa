//! The patient-flow diagram of a pathway strategy: a column of boxes from the start through
//! every step reached to completion, the rendered disease-free, recurrence, repeat treatment
//! and survival at five years, with the patients who left at each step, and how the others
//! left the path, in boxes beside it.
//!
//! Same contract as [`super::plots`], whose renderer, embedded font and palette it uses: plain
//! data in, `<stem>.png` and `<stem>.svg` out of one drawing routine.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::clinical_plots::fit_text;
use super::pathway::Strategy;
use super::plots::{
    colour, render, step_points, thousands, DrawResult, Figure, PlotError, TickedAxis, FONT,
    PALETTE,
};
use crate::engine::pathway::{PathwayTally, LANDMARKS_MONTHS};
use crate::model::pathway::{DeathCause, Exit};

/// What a box stands for (its colour).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoxKind {
    /// The start and the main outcomes.
    Outcome,
    /// A step of the strategy.
    Step,
    /// Patients leaving the path.
    DropOut,
    /// Detail beside the main column.
    Note,
}

/// One box: lines of text.
#[derive(Clone, Debug)]
pub struct FlowBox {
    pub kind: BoxKind,
    pub lines: Vec<String>,
}

/// One row of the diagram: a box in the main column and an optional box beside it.
#[derive(Clone, Debug)]
pub struct FlowRow {
    pub main: FlowBox,
    pub side: Option<FlowBox>,
    /// Whether an arrow comes from the row above: the patients of this box are among those
    /// of the box above (false for a box about all patients again).
    pub joined: bool,
}

/// A patient-flow diagram: a title and rows from top to bottom.
#[derive(Clone, Debug)]
pub struct FlowDiagram {
    pub title: String,
    pub rows: Vec<FlowRow>,
}

fn pct(k: u64, n: u64) -> String {
    if n == 0 {
        "–".into()
    } else {
        format!("{:.1}%", 100.0 * k as f64 / n as f64)
    }
}

/// A count with thousands separators.
fn num(k: u64) -> String {
    thousands(k)
}

fn boxed(kind: BoxKind, lines: Vec<String>) -> FlowBox {
    FlowBox { kind, lines }
}

/// The clinical name of a step of a strategy (its key in the scenario file).
pub(crate) fn step_name(key: &str) -> String {
    let named = match key {
        "chemotherapy" => "Chemotherapy",
        "restage" => "Restaging",
        "alpps_stage1" => "ALPPS, first stage",
        "two_stage_first" => "Two-stage hepatectomy, first stage",
        "second_stage" => "Two-stage hepatectomy, second stage",
        "resect" => "Liver resection",
        "ablate" => "Ablation",
        "primary_simultaneous" => "Resection of the primary, with the liver",
        "primary_separate" => "Resection of the primary, separately",
        "adjuvant" => "Adjuvant chemotherapy",
        "wait" => "Waiting",
        _ => {
            return match crate::model::procedure::Procedure::from_key(key) {
                Some(p) => format!("Portal/hepatic vein occlusion: {}", p.label()),
                None => key.replace('_', " "),
            }
        }
    };
    named.into()
}

/// The clinical name of the way a path ended.
pub(crate) fn exit_name(e: Exit) -> &'static str {
    match e {
        Exit::Completed => "completed",
        Exit::ProgressionTargets => "progression of the target lesions",
        Exit::ProgressionNewLiver => "new liver lesions",
        Exit::ProgressionExtrahepatic => "extrahepatic progression",
        Exit::NotResectable => "not resectable",
        Exit::RemnantTooSmall => "future liver remnant too small",
        Exit::InsufficientGrowth => "insufficient remnant growth",
        Exit::Death => "died before completing the path",
        Exit::NotEligible => "not eligible",
    }
}

/// Per step, from a strategy's tally: patients who reached it, who left the path at it, and
/// who died (of other causes) after the previous step and before reaching this one. A death
/// before a step is recorded at that step without the step being reached, so `ended` holds
/// both; they are told apart by the count of patients who went on from the step before
/// (reached − left), which either reached this step or died before it. Then, step by step,
/// `reached[k] = reached[k−1] − left[k−1] − died_before[k]`, and the patients who completed
/// the path are `reached[last] − left[last]`.
pub(crate) struct StepFlow {
    pub reached: Vec<u64>,
    pub left: Vec<u64>,
    pub died_before: Vec<u64>,
}

impl StepFlow {
    pub(crate) fn of(t: &PathwayTally, steps: usize) -> StepFlow {
        let get = |v: &[u64], k: usize| v.get(k).copied().unwrap_or(0);
        let (mut reached, mut left, mut died_before) = (vec![], vec![], vec![]);
        let mut went_on = t.n;
        for k in 0..steps {
            let r = get(&t.reached, k);
            let died = went_on.saturating_sub(r);
            let l = get(&t.ended, k).saturating_sub(died);
            reached.push(r);
            left.push(l);
            died_before.push(died);
            went_on = r.saturating_sub(l);
        }
        StepFlow {
            reached,
            left,
            died_before,
        }
    }

    /// Patients who passed every step.
    pub(crate) fn completed(&self, n: u64) -> u64 {
        match (self.reached.last(), self.left.last()) {
            (Some(r), Some(l)) => r.saturating_sub(*l),
            _ => n,
        }
    }
}

impl FlowDiagram {
    /// The diagram of one strategy's tally. Every box's count follows from the box above it
    /// and the boxes beside: what reached a step, less those who left there and those who died
    /// before the next step, reached the next step.
    pub(crate) fn of(s: &Strategy) -> FlowDiagram {
        let w = s.t;
        let n = w.n;
        let flow = StepFlow::of(w, s.steps.len());
        let mut rows = vec![FlowRow {
            main: boxed(
                BoxKind::Outcome,
                vec![
                    "Start of the strategy".into(),
                    format!("{} patients", num(n)),
                ],
            ),
            side: None,
            joined: true,
        }];
        for (k, key) in s.steps.iter().enumerate() {
            let get = |v: &[u64]| v.get(k).copied().unwrap_or(0);
            let (skipped, complicated) = (get(&w.skipped), get(&w.complicated));
            let reached = flow.reached[k];
            let mut second = format!("reached: {} ({})", num(reached), pct(reached, n));
            if skipped > 0 {
                second.push_str(&format!(" · not applicable, skipped: {}", num(skipped)));
            }
            let mut side = Vec::new();
            if flow.left[k] > 0 {
                side.push(format!(
                    "left the path at this step: {} ({})",
                    num(flow.left[k]),
                    pct(flow.left[k], n)
                ));
            }
            if let Some(&died) = flow.died_before.get(k + 1).filter(|&&d| d > 0) {
                side.push(format!(
                    "died of other causes before the next step: {}",
                    num(died)
                ));
            }
            if complicated > 0 {
                side.push(format!(
                    "(major complication at this step: {}, {})",
                    num(complicated),
                    pct(complicated, n)
                ));
            }
            let leaves = flow.left[k] > 0 || flow.died_before.get(k + 1).is_some_and(|&d| d > 0);
            let kind = if leaves {
                BoxKind::DropOut
            } else {
                BoxKind::Note
            };
            if k == 0 && flow.died_before[0] > 0 {
                // Nobody can die before the first step (month 0); shown should it ever happen.
                side.push(format!(
                    "died before the first step: {}",
                    num(flow.died_before[0])
                ));
            }
            rows.push(FlowRow {
                main: boxed(
                    BoxKind::Step,
                    vec![format!("{}. {}", k + 1, step_name(key)), second],
                ),
                side: (!side.is_empty()).then(|| boxed(kind, side)),
                joined: true,
            });
        }
        let completed = flow.completed(n);
        let left = n.saturating_sub(completed);
        let mut why = vec![format!(
            "Did not complete the path: {} ({})",
            num(left),
            pct(left, n)
        )];
        for e in Exit::ALL.iter().filter(|&&e| e != Exit::Completed) {
            let k = w.count(*e);
            if k > 0 {
                why.push(format!("   {}: {} ({})", exit_name(*e), num(k), pct(k, n)));
            }
        }
        rows.push(FlowRow {
            main: boxed(
                BoxKind::Outcome,
                vec![
                    "Completed the path".into(),
                    format!("{} ({} of all)", num(completed), pct(completed, n)),
                ],
            ),
            side: (left > 0).then(|| boxed(BoxKind::DropOut, why)),
            joined: true,
        });
        let rdf = w.rendered_disease_free;
        let not_free = completed.saturating_sub(rdf);
        rows.push(FlowRow {
            main: boxed(
                BoxKind::Outcome,
                vec![
                    "Rendered disease-free".into(),
                    format!("{} ({} of all)", num(rdf), pct(rdf, n)),
                ],
            ),
            side: (not_free > 0).then(|| {
                boxed(
                    BoxKind::Note,
                    vec![
                        format!("completed, not disease-free: {}", num(not_free)),
                        "(lesions left, or died within 90 days)".into(),
                    ],
                )
            }),
            joined: true,
        });
        rows.push(FlowRow {
            main: boxed(
                BoxKind::Outcome,
                vec![
                    "Recurrence".into(),
                    format!(
                        "{} ({} of disease-free)",
                        num(w.recurrence),
                        pct(w.recurrence, rdf)
                    ),
                    format!(
                        "intrahepatic {} · extrahepatic {} · liver only {}",
                        num(w.intrahepatic),
                        num(w.extrahepatic),
                        num(w.liver_only)
                    ),
                ],
            ),
            side: Some(boxed(
                BoxKind::Note,
                vec![format!(
                    "no recurrence within follow-up: {}",
                    num(rdf.saturating_sub(w.recurrence))
                )],
            )),
            joined: true,
        });
        let mut repeat_side = vec![format!(
            "not treated again: {}",
            num(w.recurrence.saturating_sub(w.repeat_patients))
        )];
        if w.repeat_treatments > 0 {
            repeat_side.push(format!(
                "({} repeat treatments in all)",
                num(w.repeat_treatments)
            ));
        }
        rows.push(FlowRow {
            main: boxed(
                BoxKind::Outcome,
                vec![
                    "Repeat treatment of a recurrence".into(),
                    format!(
                        "{} ({} of recurrences)",
                        num(w.repeat_patients),
                        pct(w.repeat_patients, w.recurrence)
                    ),
                ],
            ),
            side: Some(boxed(BoxKind::Note, repeat_side)),
            joined: true,
        });
        let last = LANDMARKS_MONTHS[LANDMARKS_MONTHS.len() - 1];
        let years = last / 12;
        let alive = w.alive_at(last);
        let alive_free = w.disease_free_alive_at(last);
        let cause = |c: DeathCause| w.death_causes.get(c as usize).copied().unwrap_or(0);
        let (periop, cancer, other) = (
            cause(DeathCause::Perioperative),
            cause(DeathCause::Cancer),
            cause(DeathCause::OtherCauses),
        );
        let horizon_years = crate::model::pathway::HORIZON_MONTHS / 12;
        rows.push(FlowRow {
            main: boxed(
                BoxKind::Outcome,
                vec![
                    format!("All {} patients: alive at {years} years", num(n)),
                    format!("{} ({} of all)", num(alive), pct(alive, n)),
                    format!(
                        "of the rendered disease-free: {} ({})",
                        num(alive_free),
                        pct(alive_free, rdf)
                    ),
                ],
            ),
            side: Some(boxed(
                BoxKind::Note,
                vec![
                    format!(
                        "Deaths within {horizon_years} years: {}",
                        num(periop + cancer + other)
                    ),
                    format!(
                        "perioperative {} · cancer {} · other causes {}",
                        num(periop),
                        num(cancer),
                        num(other)
                    ),
                    format!(
                        "alive at {horizon_years} years: {}",
                        num(n.saturating_sub(periop + cancer + other))
                    ),
                ],
            )),
            // Survival is of all patients again, not of those in the box above.
            joined: false,
        });
        FlowDiagram {
            title: format!("Patient flow: {} ({} patients)", s.name, num(n)),
            rows,
        }
    }
}

/// Draws the diagram. Writes `<stem>.png` and `<stem>.svg` and returns both paths.
///
/// # Errors
/// [`PlotError::Input`] for a diagram without rows or with an empty box; [`PlotError::Draw`]
/// when a file cannot be written.
pub fn patient_flow(stem: &Path, diagram: &FlowDiagram) -> Result<Vec<PathBuf>, PlotError> {
    if diagram.rows.is_empty() {
        return Err(PlotError::Input("patient flow has no rows".into()));
    }
    let empty = |b: &FlowBox| b.lines.is_empty();
    if diagram
        .rows
        .iter()
        .any(|r| empty(&r.main) || r.side.as_ref().is_some_and(empty))
    {
        return Err(PlotError::Input("patient flow has an empty box".into()));
    }
    render(stem, &FlowFigure::new(diagram))
}

const WIDTH: i32 = 1200;
const TITLE_H: i32 = 64;
const BOTTOM: i32 = 24;
const MAIN_X: (i32, i32) = (40, 600);
const SIDE_X: (i32, i32) = (660, 1170);
const FONT_SIZE: u32 = 15;
const LINE_H: i32 = 20;
const PAD: i32 = 8;
/// Vertical gap between rows, where the arrow runs.
const GAP: i32 = 26;

/// `c` blended with white, `a` of the colour.
fn tint(c: RGBColor, a: f64) -> RGBColor {
    let f = |x: u8| (255.0 - a * (255.0 - f64::from(x))).round() as u8;
    RGBColor(f(c.0), f(c.1), f(c.2))
}

fn colours(kind: BoxKind) -> (RGBColor, RGBColor) {
    match kind {
        BoxKind::Outcome => (tint(PALETTE[0], 0.18), PALETTE[0]),
        BoxKind::Step => (RGBColor(240, 240, 240), RGBColor(110, 110, 110)),
        BoxKind::DropOut => (tint(PALETTE[1], 0.15), PALETTE[1]),
        BoxKind::Note => (WHITE, RGBColor(150, 150, 150)),
    }
}

fn box_height(b: &FlowBox) -> i32 {
    b.lines.len() as i32 * LINE_H + 2 * PAD - 4
}

struct FlowFigure<'a> {
    diagram: &'a FlowDiagram,
    /// Box texts fitted to their columns.
    main: Vec<Vec<String>>,
    side: Vec<Option<Vec<String>>>,
    /// Top of each row and the height of the whole image.
    tops: Vec<i32>,
    height: i32,
}

impl<'a> FlowFigure<'a> {
    fn new(diagram: &'a FlowDiagram) -> Self {
        let fit_all = |b: &FlowBox, (x0, x1): (i32, i32)| -> Vec<String> {
            b.lines
                .iter()
                .map(|l| fit_text(l, FONT_SIZE, x1 - x0 - 2 * PAD))
                .collect()
        };
        let main = diagram
            .rows
            .iter()
            .map(|r| fit_all(&r.main, MAIN_X))
            .collect();
        let side = diagram
            .rows
            .iter()
            .map(|r| r.side.as_ref().map(|b| fit_all(b, SIDE_X)))
            .collect();
        let mut tops = Vec::new();
        let mut y = TITLE_H;
        for r in &diagram.rows {
            tops.push(y);
            let h = box_height(&r.main).max(r.side.as_ref().map_or(0, box_height));
            y += h + GAP;
        }
        FlowFigure {
            diagram,
            main,
            side,
            tops,
            height: y - GAP + BOTTOM,
        }
    }
}

fn draw_box<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (x0, x1): (i32, i32),
    y0: i32,
    kind: BoxKind,
    lines: &[String],
) -> DrawResult<DB> {
    let (fill, border) = colours(kind);
    let y1 = y0 + lines.len() as i32 * LINE_H + 2 * PAD - 4;
    root.draw(&Rectangle::new([(x0, y0), (x1, y1)], fill.filled()))?;
    root.draw(&Rectangle::new(
        [(x0, y0), (x1, y1)],
        border.stroke_width(2),
    ))?;
    for (i, line) in lines.iter().enumerate() {
        // The first line of a main-column box is its heading.
        let style = TextStyle {
            font: (FONT, FONT_SIZE).into_font(),
            color: BLACK.to_backend_color(),
            pos: Pos::new(HPos::Left, VPos::Center),
        };
        root.draw(&Text::new(
            line.clone(),
            (x0 + PAD, y0 + PAD + i as i32 * LINE_H + LINE_H / 2 - 2),
            style,
        ))?;
    }
    Ok(())
}

fn arrow<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    from: (i32, i32),
    to: (i32, i32),
) -> DrawResult<DB> {
    let colour = RGBColor(80, 80, 80);
    root.draw(&PathElement::new(vec![from, to], colour.stroke_width(2)))?;
    let head = if from.0 == to.0 {
        // Down.
        vec![(to.0 - 6, to.1 - 9), (to.0 + 6, to.1 - 9), to]
    } else {
        // Right.
        vec![(to.0 - 9, to.1 - 6), (to.0 - 9, to.1 + 6), to]
    };
    root.draw(&Polygon::new(head, colour.filled()))?;
    Ok(())
}

impl Figure for FlowFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (WIDTH as u32, self.height.max(1) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        root.draw(&Text::new(
            self.diagram.title.clone(),
            (WIDTH / 2, 18),
            TextStyle {
                font: (FONT, 24).into_font(),
                color: BLACK.to_backend_color(),
                pos: Pos::new(HPos::Center, VPos::Top),
            },
        ))?;
        let centre = (MAIN_X.0 + MAIN_X.1) / 2;
        for (i, row) in self.diagram.rows.iter().enumerate() {
            let top = self.tops[i];
            let h = box_height(&row.main);
            draw_box(root, MAIN_X, top, row.main.kind, &self.main[i])?;
            if let (Some(side), Some(lines)) = (&row.side, &self.side[i]) {
                draw_box(root, SIDE_X, top, side.kind, lines)?;
                let y = top + h.min(box_height(side)) / 2;
                arrow(root, (MAIN_X.1, y), (SIDE_X.0 - 2, y))?;
            }
            let joined = self.diagram.rows.get(i + 1).is_some_and(|r| r.joined);
            if let (Some(&next), true) = (self.tops.get(i + 1), joined) {
                arrow(root, (centre, top + h), (centre, next - 2))?;
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Survival curves with the numbers at risk
// ---------------------------------------------------------------------------------------

/// One strategy's survival curve, as the counts it is made of.
#[derive(Clone, Debug)]
pub struct SurvivalCurve {
    /// Legend text.
    pub label: String,
    /// Patients in the curve's denominator.
    pub n: u64,
    /// Patients still event-free at the start of month m, m = 0..=horizon: the curve is
    /// `at_risk[m] / n` and, with nobody censored before the horizon, the number at risk.
    pub at_risk: Vec<u64>,
}

/// Months at which the x axis has a tick and the numbers at risk are printed: every `every`
/// months from 0 to `horizon`.
pub(crate) fn month_ticks(horizon: usize, every: usize) -> Vec<usize> {
    (0..=horizon).step_by(every.max(1)).collect()
}

/// Survival curves in percent (0–100%) as steps by month, x ticks every 12 months, and under
/// the axis the number at risk of each curve at each tick (its row numbered as in the legend).
/// Writes `<stem>.png` and `<stem>.svg` and returns both paths.
///
/// # Errors
/// [`PlotError::Input`] without curves, with a curve without patients or points, or with
/// curves of different lengths; [`PlotError::Draw`] when a file cannot be written.
pub fn survival_chart(
    stem: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    curves: &[SurvivalCurve],
) -> Result<Vec<PathBuf>, PlotError> {
    super::plots::check_panel_count("survival chart", curves.len())?;
    let months = curves[0].at_risk.len();
    for c in curves {
        if c.n == 0 || c.at_risk.is_empty() || c.at_risk.len() != months {
            return Err(PlotError::Input(format!(
                "survival curve '{}': {} patients, {} months (the first curve has {months})",
                c.label,
                c.n,
                c.at_risk.len()
            )));
        }
    }
    render(
        stem,
        &SurvivalFigure {
            title,
            x_label,
            y_label,
            curves,
            ticks: month_ticks(months - 1, 12),
        },
    )
}

struct SurvivalFigure<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    curves: &'a [SurvivalCurve],
    ticks: Vec<usize>,
}

const SURVIVAL_CHART_H: i32 = 760;
const AT_RISK_HEAD: i32 = 30;
const AT_RISK_ROW: i32 = 20;
const AT_RISK_FONT: u32 = 14;

impl SurvivalFigure<'_> {
    /// Curves past the palette's length are dashed so that no two look the same.
    fn dashed(i: usize) -> bool {
        (i / PALETTE.len()) % 2 == 1
    }
}

impl Figure for SurvivalFigure<'_> {
    fn size(&self) -> (u32, u32) {
        let rows = self.curves.len() as i32;
        let h = SURVIVAL_CHART_H + AT_RISK_HEAD + rows * AT_RISK_ROW + 14;
        (WIDTH as u32, h as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let (top, table) = root.split_vertically(SURVIVAL_CHART_H);
        let horizon = (self.curves[0].at_risk.len() - 1) as f64;
        let pad = 0.015 * horizon.max(1.0);
        let x = TickedAxis {
            inner: (-pad..horizon + pad).into(),
            ticks: self.ticks.iter().map(|&m| m as f64).collect(),
        };
        let mut chart = ChartBuilder::on(&top)
            .caption(self.title, (FONT, 24).into_font().color(&BLACK))
            .margin(16)
            .margin_right(28)
            .x_label_area_size(50)
            .y_label_area_size(72)
            .build_cartesian_2d(x, 0.0..100.0)?;
        chart
            .configure_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 17))
            .y_labels(11)
            .y_label_formatter(&|v: &f64| format!("{v:.0}%"))
            .light_line_style(BLACK.mix(0.04))
            .bold_line_style(BLACK.mix(0.12))
            .draw()?;
        for (i, c) in self.curves.iter().enumerate() {
            let n = c.n as f64;
            let points = step_points(
                c.at_risk
                    .iter()
                    .enumerate()
                    .map(|(m, &k)| (m as f64, 100.0 * k as f64 / n)),
            );
            let style = colour(i).stroke_width(3);
            let label = format!("{}  {}", i + 1, c.label);
            if Self::dashed(i) {
                chart
                    .draw_series(DashedLineSeries::new(points, 10, 6, style))?
                    .label(label)
                    .legend(move |(x, y)| {
                        EmptyElement::at((x, y))
                            + PathElement::new(vec![(0, 0), (9, 0)], style)
                            + PathElement::new(vec![(15, 0), (24, 0)], style)
                    });
            } else {
                chart
                    .draw_series(LineSeries::new(points, style))?
                    .label(label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .margin(12)
            .label_font((FONT, 15))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .draw()?;

        // The numbers at risk, each under its tick.
        let xs: Vec<i32> = self
            .ticks
            .iter()
            .map(|&m| chart.backend_coord(&(m as f64, 0.0)).0)
            .collect();
        let grey = RGBColor(60, 60, 60);
        table.draw(&Text::new(
            "Number at risk",
            (16, 8),
            TextStyle::from((FONT, 15).into_font())
                .color(&grey)
                .pos(Pos::new(HPos::Left, VPos::Top)),
        ))?;
        for (i, c) in self.curves.iter().enumerate() {
            let y = AT_RISK_HEAD + i as i32 * AT_RISK_ROW + AT_RISK_ROW / 2;
            let c_i = colour(i);
            let style = TextStyle::from((FONT, AT_RISK_FONT).into_font())
                .color(&c_i)
                .pos(Pos::new(HPos::Center, VPos::Center));
            table.draw(&PathElement::new(
                vec![(16, y), (34, y)],
                colour(i).stroke_width(3),
            ))?;
            table.draw(&Text::new(format!("{}", i + 1), (46, y), style.clone()))?;
            for (&m, &x) in self.ticks.iter().zip(&xs) {
                table.draw(&Text::new(thousands(c.at_risk[m]), (x, y), style.clone()))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Protects the flow diagram's bookkeeping: one row per step between the start and the
    /// outcomes, drop-outs only where patients left, a death before a step (recorded at that
    /// step, which was not reached) told apart from leaving there, every box's count the
    /// one above less those beside it, and a drawing in both formats.
    #[test]
    fn flow_diagram_has_a_row_per_step_and_draws() {
        let mut t = PathwayTally::new(3);
        t.n = 100;
        t.reached = vec![100, 80, 78];
        // Step 3: 2 died before it (not reached), 3 left at it.
        t.ended = vec![20, 0, 5];
        t.exits[Exit::Completed as usize] = 75;
        t.exits[Exit::ProgressionTargets as usize] = 20;
        t.exits[Exit::NotResectable as usize] = 3;
        t.exits[Exit::Death as usize] = 2;
        t.rendered_disease_free = 70;
        t.recurrence = 40;
        t.death_causes[DeathCause::Alive as usize] = 100;
        let s = Strategy {
            name: "a strategy with a name long enough to be noticed",
            steps: vec!["chemotherapy", "restage", "resect"],
            timing: crate::model::clinical::Timing::AsSoonAsResectable,
            t: &t,
        };
        let flow = StepFlow::of(&t, 3);
        assert_eq!(flow.left, vec![20, 0, 3]);
        assert_eq!(flow.died_before, vec![0, 0, 2]);
        for k in 0..2 {
            assert_eq!(
                flow.reached[k] - flow.left[k] - flow.died_before[k + 1],
                flow.reached[k + 1]
            );
        }
        assert_eq!(flow.completed(t.n), t.count(Exit::Completed));
        let d = FlowDiagram::of(&s);
        assert_eq!(d.rows.len(), 1 + 3 + 5);
        assert_eq!(d.rows[1].main.lines[0], "1. Chemotherapy");
        assert_eq!(d.rows[1].side.as_ref().unwrap().kind, BoxKind::DropOut);
        let before_resection = d.rows[2].side.as_ref().unwrap();
        assert_eq!(
            before_resection.lines,
            vec!["died of other causes before the next step: 2"]
        );
        assert!(d.rows[3].main.lines[1].starts_with("reached: 78 "));
        let why = d.rows[4].side.as_ref().unwrap();
        assert!(why.lines[0].contains("25"), "{:?}", why.lines);
        assert_eq!(why.lines.len(), 4);
        assert!(d.rows[4].main.lines[1].starts_with("75 "));
        assert!(!d.rows.last().unwrap().joined);
        let dir = tempfile::tempdir().unwrap();
        let files = patient_flow(&dir.path().join("flow"), &d).unwrap();
        assert_eq!(files.len(), 2);
        let svg = std::fs::read_to_string(&files[1]).unwrap();
        assert!(svg.contains("Patient flow"));
        assert!(svg.contains("Liver resection"));
        assert!(patient_flow(
            &dir.path().join("none"),
            &FlowDiagram {
                title: "x".into(),
                rows: vec![]
            }
        )
        .is_err());
    }

    /// Protects the survival chart's axis and table: ticks every 12 months from 0 to the
    /// horizon, and the numbers at risk printed are the counts the curve is drawn from.
    #[test]
    fn survival_chart_ticks_yearly_and_prints_the_numbers_at_risk() {
        assert_eq!(
            month_ticks(120, 12),
            vec![0, 12, 24, 36, 48, 60, 72, 84, 96, 108, 120]
        );
        assert_eq!(month_ticks(30, 12), vec![0, 12, 24]);
        let at_risk: Vec<u64> = (0..=120).map(|m| 20_000 - 150 * m as u64).collect();
        let curves = [SurvivalCurve {
            label: "a".into(),
            n: 20_000,
            at_risk: at_risk.clone(),
        }];
        let dir = tempfile::tempdir().unwrap();
        let files = survival_chart(&dir.path().join("s"), "t", "x", "y", &curves).unwrap();
        // Text sits on its own line inside <text>; drop whitespace before matching.
        let svg: String = std::fs::read_to_string(&files[1])
            .unwrap()
            .split_whitespace()
            .collect();
        for m in month_ticks(120, 12) {
            let text = format!(">{}<", thousands(at_risk[m]));
            assert!(svg.contains(&text), "{text} not in the SVG");
        }
        assert!(svg.contains(">100%<") && svg.contains(">0%<"));
        assert!(svg.contains(">108<"));
        let bad = SurvivalCurve {
            label: "b".into(),
            n: 0,
            at_risk: at_risk.clone(),
        };
        assert!(survival_chart(&dir.path().join("b"), "t", "x", "y", &[bad]).is_err());
    }
}
