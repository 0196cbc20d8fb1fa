//! Charts of the clinical (pathway) studies: the waterfall of each regimen's best response, the spider
//! plot of target lesions over the weeks of treatment, and where patients end under each
//! strategy.
//!
//! Same contract as [`super::plots`], whose renderer, embedded font and palette these charts
//! use: plain data in, `<stem>.png` and `<stem>.svg` out of one drawing routine, identical
//! bytes for identical input. Unlike there, a NaN or infinite value is a [`PlotError::Input`]
//! rather than a gap: these inputs come straight from tallies, where such a value means a bug.
//!
//! Response categories are RECIST 1.1 readings of the change of the target-lesion sum
//! (Eisenhauer et al., Eur J Cancer 2009): progression at +20% or more, partial response at
//! −30% or less, stable disease between. The thresholds are those of
//! [`crate::model::imaging`], so the pictures and the model cannot disagree.

use std::ops::Range;
use std::path::{Path, PathBuf};

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::plots::{
    check_panel_count, ensure_font, render, tick_label, DrawResult, Figure, PlotError, FONT,
    PALETTE, REFERENCE_COLOUR,
};
use crate::model::imaging::{RECIST_PARTIAL_RESPONSE, RECIST_PROGRESSION};

/// One panel of a waterfall: a regimen's histogram of each patient's best change of the
/// target-lesion sum, in percent.
pub struct WaterfallPanel {
    /// Panel heading, e.g. "FOLFOXIRI + bevacizumab (812 patients)".
    pub title: String,
    /// Lower edge of the first bin (typically −100).
    pub lo: f64,
    /// Bin width (typically 1): bin `i` covers `[lo + i·width, lo + (i+1)·width)`.
    pub width: f64,
    /// Patients per bin.
    pub counts: Vec<u64>,
    /// Best overall response by RECIST as the response table counts it (progression, stable,
    /// response = complete or partial): progression there also counts new lesions and growth
    /// from the nadir, which the change from baseline alone cannot show. When given, the
    /// panel's percentages are these; otherwise they are read off the histogram.
    pub best: Option<[u64; 3]>,
}

/// One patient's trajectory in a spider plot.
pub struct SpiderLine {
    /// Time of each reading (e.g. weeks of treatment).
    pub x: Vec<f64>,
    /// Change of the target-lesion sum from baseline at each reading, in percent.
    pub y: Vec<f64>,
    /// When progression was found, on the scale of `x`; `None` if it never was.
    pub progressed_at: Option<f64>,
}

/// One horizontal stacked bar of a flow chart.
pub struct FlowBar {
    /// Text on the left of the bar, e.g. the strategy's name (up to ~40 characters fit).
    pub label: String,
    /// Share of patients in each category (fractions in 0..=1, in the order of the
    /// categories, summing to about 1; a shortfall is left blank).
    pub shares: Vec<f64>,
}

/// Changes of the target-lesion sum at which RECIST reads progression and response (%).
const PROGRESSION_PCT: f64 = 100.0 * RECIST_PROGRESSION;
const RESPONSE_PCT: f64 = 100.0 * RECIST_PARTIAL_RESPONSE;

const PROGRESSION_COLOUR: RGBColor = PALETTE[1]; // vermillion
const RESPONSE_COLOUR: RGBColor = PALETTE[0]; // blue
const STABLE_COLOUR: RGBColor = RGBColor(150, 150, 150);

/// Category colours of the flow chart: Okabe–Ito fills (yellow is fine as an area), the first
/// the strongest, then greys.
const FLOW_PALETTE: [RGBColor; 10] = [
    PALETTE[0],              // blue
    PALETTE[1],              // vermillion
    PALETTE[4],              // orange
    PALETTE[3],              // reddish purple
    RGBColor(153, 153, 153), // grey
    PALETTE[5],              // sky blue
    PALETTE[2],              // bluish green
    RGBColor(77, 77, 77),    // dark grey
    RGBColor(240, 228, 66),  // yellow
    RGBColor(200, 200, 200), // light grey
];

/// The most strategies a flow chart draws; beyond this the bars become unreadable slivers.
pub(crate) const MAX_BARS: usize = 60;

/// Spider lines are clamped to this range of change (%): below −100 is impossible and a
/// tenfold axis for a few fast-growing tumours would flatten everyone else.
const SPIDER_Y_CLAMP: (f64, f64) = (-100.0, 200.0);
/// The spider y axis reaches at least this far up, so the +20% line always has room above.
const SPIDER_Y_MIN_TOP: f64 = 60.0;

// ---------------------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------------------

/// Oncology waterfall: one panel per regimen (up to 16, in a grid), each showing every
/// patient's best change of the target-lesion sum, sorted from the largest increase (left)
/// to the largest decrease (right). The x axis is the share of patients (0–100%), so cohorts
/// of any size draw alike: each histogram bin slopes from its upper to its lower edge across
/// its patients' share, and the bars merge into one filled area. The y axis runs from −100%
/// to +100% (larger increases are drawn at +100%). Dashed lines mark +20% (progression) and
/// −30% (partial response); the area is coloured by category (≥ +20% progression, ≤ −30%
/// response, stable otherwise, judged by the middle of each bin), and each panel prints the
/// share of patients in each category. Writes `<stem>.png` and `<stem>.svg` and returns both
/// paths.
///
/// # Errors
/// [`PlotError::Input`] for no panels or more than 16, a panel without bins or without
/// patients, or a non-finite or non-positive bin width or lower edge; [`PlotError::Draw`]
/// when a file cannot be written.
pub fn waterfall(
    stem: &Path,
    title: &str,
    panels: &[WaterfallPanel],
) -> Result<Vec<PathBuf>, PlotError> {
    let fig = WaterfallFigure::new(title, panels)?;
    render(stem, &fig)
}

/// Spider plot: the change of the target-lesion sum (%) over time for a sample of patients,
/// one thin line per patient from (0, 0) (a point at baseline is added when a line starts
/// later). A line is blue once it has reached −30% and grey while it has not; if the patient
/// progressed, the line turns vermillion from the progression point on, where a dot marks
/// it (a progression time beyond the last reading is marked at the last reading). The y axis
/// spans at least −100..+60% and grows to fit the data up to +200% (higher values are drawn
/// at +200%); dashed lines mark +20% and −30%. Readings are sorted by x. Writes `<stem>.png`
/// and `<stem>.svg` and returns both paths.
///
/// # Errors
/// [`PlotError::Input`] for no lines, a line without readings or with x and y of different
/// lengths, or any NaN or infinite x, y or progression time; [`PlotError::Draw`] when a file
/// cannot be written.
pub fn spider(
    stem: &Path,
    title: &str,
    x_label: &str,
    traces: &[SpiderLine],
) -> Result<Vec<PathBuf>, PlotError> {
    let fig = SpiderFigure::new(title, x_label, traces)?;
    render(stem, &fig)
}

/// Patient flow: one horizontal bar per strategy (labels on the left, first bar on top),
/// stacked from the left by the share of patients in each category, on an x axis of patients
/// (0–100%). Each category keeps its colour in every bar, the first category (e.g.
/// "resected") in the strongest; shares wide enough carry their percentage, and a legend of
/// the categories sits below the plot. Labels too long for the label column (about 40
/// characters) are shortened with "…". Writes `<stem>.png` and `<stem>.svg` and returns both
/// paths.
///
/// # Errors
/// [`PlotError::Input`] for no bars or no categories, more than 60 bars, a bar with a share
/// count other than the number of categories, or shares that are NaN, negative or sum to
/// more than 1.005; [`PlotError::Draw`] when a file cannot be written.
pub fn flow(
    stem: &Path,
    title: &str,
    bars: &[FlowBar],
    categories: &[String],
) -> Result<Vec<PathBuf>, PlotError> {
    let fig = FlowFigure::new(title, bars, categories)?;
    render(stem, &fig)
}

// ---------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// RECIST reading of a change of the target-lesion sum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Category {
    Progression,
    Stable,
    Response,
}

impl Category {
    const ALL: [Category; 3] = [Category::Progression, Category::Stable, Category::Response];

    fn of(change_pct: f64) -> Self {
        if change_pct >= PROGRESSION_PCT {
            Category::Progression
        } else if change_pct <= RESPONSE_PCT {
            Category::Response
        } else {
            Category::Stable
        }
    }

    fn colour(self) -> RGBColor {
        match self {
            Category::Progression => PROGRESSION_COLOUR,
            Category::Stable => STABLE_COLOUR,
            Category::Response => RESPONSE_COLOUR,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Category::Progression => "progression",
            Category::Stable => "stable",
            Category::Response => "response",
        }
    }

    fn key_label(self) -> String {
        match self {
            Category::Progression => format!("progression (≥ {})", signed_pct(PROGRESSION_PCT)),
            Category::Stable => "stable disease".into(),
            Category::Response => {
                format!(
                    "partial or complete response (≤ {})",
                    signed_pct(RESPONSE_PCT)
                )
            }
        }
    }
}

/// "+20%", "−30%" (with a real minus sign).
fn signed_pct(v: f64) -> String {
    format!("{v:+.0}%").replace('-', "−")
}

/// Pixel size of `text` in the embedded font. Layout uses this everywhere (also before any
/// drawing area exists, to size the image), so PNG and SVG are laid out identically. The font
/// is registered first: measured before registration, the text would silently get the
/// fallback size, and the layout would depend on what was drawn earlier in the process.
pub(crate) fn text_size(text: &str, size: u32) -> (i32, i32) {
    let measured = ensure_font()
        .ok()
        .and_then(|()| (FONT, size).into_font().box_size(text).ok());
    match measured {
        Some((w, h)) => (w as i32, h as i32),
        // Only if the embedded font is broken, in which case `render` fails anyway.
        None => (
            (0.6 * f64::from(size) * text.chars().count() as f64) as i32,
            size as i32,
        ),
    }
}

pub(crate) fn text_style(size: u32, colour: RGBColor, hpos: HPos) -> TextStyle<'static> {
    TextStyle {
        font: (FONT, size).into_font(),
        color: colour.to_backend_color(),
        pos: Pos::new(hpos, VPos::Center),
    }
}

/// All values finite, or an input error naming `what` and the first bad value.
fn check_finite(values: &[f64], what: impl Fn() -> String) -> Result<(), PlotError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(PlotError::Input(format!(
            "{}: value {} is {} (NaN and infinities cannot be drawn)",
            what(),
            i + 1,
            values[i]
        ))),
        None => Ok(()),
    }
}

/// A symbol in a key: what the entry looks like in the chart.
#[derive(Clone, Copy)]
enum Mark {
    Swatch(RGBColor),
    Line(RGBColor),
    Dashed(RGBColor),
    Dot(RGBColor),
}

/// A centred, wrapping row of key entries. `M` is what an entry's symbol looks like; the chart
/// that owns the key draws it (see [`Key::draw_with`]).
pub(crate) struct Key<M> {
    pub(crate) entries: Vec<(M, String)>,
    pub(crate) font: u32,
}

/// Width of a key symbol, pixels.
pub(crate) const KEY_MARK_W: i32 = 24;
const KEY_GAP: i32 = 28;
const KEY_TOP: i32 = 4;

impl<M: Copy> Key<M> {
    fn row_height(&self) -> i32 {
        self.font as i32 + 12
    }

    /// Entries per row, each with its x offset from the row's left end, and the row widths.
    fn rows(&self, width: i32) -> Vec<(Vec<(usize, i32)>, i32)> {
        let mut rows: Vec<(Vec<(usize, i32)>, i32)> = Vec::new();
        for (i, (_, text)) in self.entries.iter().enumerate() {
            let w = KEY_MARK_W + 7 + text_size(text, self.font).0;
            match rows.last_mut() {
                Some((row, used)) if *used + KEY_GAP + w <= width => {
                    row.push((i, *used + KEY_GAP));
                    *used += KEY_GAP + w;
                }
                _ => rows.push((vec![(i, 0)], w)),
            }
        }
        rows
    }

    /// Height of the key in pixels, with a little room above it, for an area `width` + 20
    /// pixels wide.
    pub(crate) fn height(&self, width: i32) -> i32 {
        KEY_TOP + self.rows(width).len() as i32 * self.row_height()
    }

    /// Draws the key centred in `area`; `mark` draws one symbol in the box of width
    /// [`KEY_MARK_W`] whose left end and vertical centre are `(x, y)`.
    pub(crate) fn draw_with<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        mark: impl Fn(&DrawingArea<DB, Shift>, M, i32, i32) -> DrawResult<DB>,
    ) -> DrawResult<DB> {
        let width = area.dim_in_pixel().0 as i32;
        let style = text_style(self.font, RGBColor(40, 40, 40), HPos::Left);
        for (r, (row, used)) in self.rows(width - 20).into_iter().enumerate() {
            let left = (width - used) / 2;
            let y = KEY_TOP + r as i32 * self.row_height() + self.row_height() / 2;
            for (i, dx) in row {
                let (m, text) = &self.entries[i];
                let x = left + dx;
                mark(area, *m, x, y)?;
                // +1: text centred by the font box sits a little high in both backends.
                area.draw(&Text::new(
                    text.clone(),
                    (x + KEY_MARK_W + 7, y + 1),
                    style.clone(),
                ))?;
            }
        }
        Ok(())
    }
}

impl Key<Mark> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        self.draw_with(area, |area, mark, x, y| {
            let (a, b) = ((x, y), (x + KEY_MARK_W, y));
            match mark {
                Mark::Swatch(c) => area.draw(&Rectangle::new(
                    [(x, y - 7), (x + KEY_MARK_W, y + 7)],
                    c.filled(),
                )),
                Mark::Line(c) => area.draw(&PathElement::new(vec![a, b], c.stroke_width(3))),
                Mark::Dashed(c) => {
                    for k in 0..3 {
                        let x0 = x + 9 * k;
                        area.draw(&PathElement::new(
                            vec![(x0, y), (x0 + 6, y)],
                            c.stroke_width(2),
                        ))?;
                    }
                    Ok(())
                }
                Mark::Dot(c) => area.draw(&Circle::new((x + KEY_MARK_W / 2, y), 5, c.filled())),
            }
        })
    }
}

/// A dashed horizontal reference line across the chart, labelled at one end on one side in a
/// translucent box so lines behind it stay visible.
fn reference_line<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    x: &Range<f64>,
    y: f64,
    label: &str,
    (at_right, above): (bool, bool),
    font: u32,
) -> DrawResult<DB> {
    chart.draw_series(DashedLineSeries::new(
        [(x.start, y), (x.end, y)],
        9,
        6,
        REFERENCE_COLOUR.stroke_width(2),
    ))?;
    let (w, h) = text_size(label, font);
    let (w, h) = (w + 8, h + 6);
    let bx = if at_right { -w - 3 } else { 3 };
    let by = if above { -h - 2 } else { 2 };
    let (tx, hpos) = if at_right {
        (-7, HPos::Right)
    } else {
        (7, HPos::Left)
    };
    chart.draw_series(std::iter::once(
        EmptyElement::at((if at_right { x.end } else { x.start }, y))
            + Rectangle::new([(bx, by), (bx + w, by + h)], WHITE.mix(0.75).filled())
            + Text::new(
                label.to_string(),
                (tx, by + h / 2 + 1),
                text_style(font, REFERENCE_COLOUR, hpos),
            ),
    ))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Waterfall
// ---------------------------------------------------------------------------------------

/// A panel ready to draw: its outline by category and the share in each category.
struct WaterfallShape<'a> {
    title: &'a str,
    /// Filled polygons over the x axis of patients (%), in drawing order.
    areas: Vec<(Category, Vec<(f64, f64)>)>,
    /// Share of patients (%) in each of [`Category::ALL`].
    shares: [f64; 3],
    /// Whether the shares are the best overall response of the response table.
    best: bool,
}

struct WaterfallFigure<'a> {
    title: &'a str,
    panels: Vec<WaterfallShape<'a>>,
}

const WATERFALL_Y: Range<f64> = -100.0..100.0;

impl<'a> WaterfallFigure<'a> {
    fn new(title: &'a str, panels: &'a [WaterfallPanel]) -> Result<Self, PlotError> {
        check_panel_count("waterfall", panels.len())?;
        let panels = panels
            .iter()
            .map(WaterfallShape::new)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { title, panels })
    }

    fn grid(&self) -> (usize, usize) {
        let n = self.panels.len();
        let cols = match n {
            1 => 1,
            2..=4 => 2,
            5..=9 => 3,
            _ => 4,
        };
        (n.div_ceil(cols), cols)
    }

    fn key(&self) -> Key<Mark> {
        let mut entries: Vec<(Mark, String)> = Category::ALL
            .iter()
            .map(|c| (Mark::Swatch(c.colour()), c.key_label()))
            .collect();
        entries.push((Mark::Dashed(REFERENCE_COLOUR), "RECIST thresholds".into()));
        Key { entries, font: 15 }
    }
}

impl<'a> WaterfallShape<'a> {
    fn new(p: &'a WaterfallPanel) -> Result<Self, PlotError> {
        let fail = |why: String| {
            Err(PlotError::Input(format!(
                "waterfall panel '{}': {why}",
                p.title
            )))
        };
        let n = p.counts.len();
        let hi = p.lo + n as f64 * p.width;
        if !(p.lo.is_finite() && p.width.is_finite() && p.width > 0.0 && hi.is_finite()) {
            return fail(format!(
                "bins need a finite lower edge and a finite width > 0, got lo {} and width {}",
                p.lo, p.width
            ));
        }
        if n == 0 {
            return fail("no bins".into());
        }
        let total: u64 = p.counts.iter().sum();
        if total == 0 {
            return fail("no patients (every bin is empty)".into());
        }
        let share = |cum: u64| 100.0 * cum as f64 / total as f64;
        let clamp = |v: f64| v.clamp(WATERFALL_Y.start, WATERFALL_Y.end);

        // Largest change first: walk the bins downwards; each bin's patients spread evenly
        // from its upper to its lower edge over their share of the x axis.
        let mut areas: Vec<(Category, Vec<(f64, f64)>)> = Vec::new();
        let mut in_category = [0u64; 3];
        let mut cum = 0;
        for (i, &c) in p.counts.iter().enumerate().rev().filter(|&(_, &c)| c > 0) {
            let lower = p.lo + i as f64 * p.width;
            let category = Category::of(lower + 0.5 * p.width);
            let (s0, s1) = (share(cum), share(cum + c));
            cum += c;
            in_category[category as usize] += c; // discriminants follow `Category::ALL`
            let top = (s0, clamp(lower + p.width));
            let bottom = (s1, clamp(lower));
            match areas.last_mut() {
                Some((k, pts)) if *k == category => pts.extend([top, bottom]),
                _ => areas.push((category, vec![top, bottom])),
            }
        }
        // Close each outline along the zero line.
        for (_, pts) in &mut areas {
            let (x0, x1) = (pts[0].0, pts[pts.len() - 1].0);
            pts.extend([(x1, 0.0), (x0, 0.0)]);
        }
        let shares = match p.best {
            Some(best) => {
                let n = best.iter().sum::<u64>().max(1) as f64;
                best.map(|k| 100.0 * k as f64 / n)
            }
            None => in_category.map(share),
        };
        Ok(Self {
            title: &p.title,
            areas,
            shares,
            best: p.best.is_some(),
        })
    }
}

impl Figure for WaterfallFigure<'_> {
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = self.grid();
        let width = if cols <= 2 { 1200 } else { 400 * cols as u32 };
        let panel_h = (width / cols as u32 * 3 / 4).clamp(360, 640);
        (width, 84 + panel_h * rows as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let body = root.titled(self.title, (FONT, 26).into_font().color(&BLACK))?;
        let key = self.key();
        let (key_area, body) = body.split_vertically(key.height(self.size().0 as i32 - 20) + 6);
        key.draw(&key_area)?;
        for (panel, area) in self.panels.iter().zip(body.split_evenly(self.grid())) {
            draw_waterfall_panel(&area, panel)?;
        }
        Ok(())
    }
}

fn draw_waterfall_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &WaterfallShape,
) -> DrawResult<DB> {
    let x = 0.0..100.0;
    let mut chart = ChartBuilder::on(area)
        .caption(panel.title, (FONT, 18).into_font().color(&BLACK))
        .margin(10)
        .margin_right(18)
        .x_label_area_size(42)
        .y_label_area_size(58)
        .build_cartesian_2d(x.clone(), WATERFALL_Y)?;
    chart
        .configure_mesh()
        .x_desc("patients (%)")
        .y_desc("best change of target lesions (%)")
        .x_labels(6)
        .y_labels(5)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .x_label_formatter(&tick_label)
        .y_label_formatter(&tick_label)
        .light_line_style(BLACK.mix(0.04))
        .bold_line_style(BLACK.mix(0.12))
        .draw()?;
    for (category, outline) in &panel.areas {
        chart.draw_series(std::iter::once(Polygon::new(
            outline.clone(),
            category.colour().filled(),
        )))?;
    }
    chart.draw_series(LineSeries::new(
        [(0.0, 0.0), (100.0, 0.0)],
        BLACK.stroke_width(1),
    ))?;

    // The curve falls from left to right: above +20% only on the left, below −30% only on
    // the right, so the labels go to the free ends.
    let progression = format!("{} progression", signed_pct(PROGRESSION_PCT));
    let response = format!("{} partial response", signed_pct(RESPONSE_PCT));
    reference_line(
        &mut chart,
        &x,
        PROGRESSION_PCT,
        &progression,
        (true, true),
        12,
    )?;
    reference_line(&mut chart, &x, RESPONSE_PCT, &response, (false, false), 12)?;

    // Shares per category in the upper right, which the falling curve leaves free.
    // Stable grey is too pale for text; the darker reference grey reads better.
    let lines: Vec<(String, RGBColor)> = Category::ALL
        .iter()
        .zip(panel.shares)
        .map(|(&c, s)| {
            let ink = match c {
                Category::Stable => REFERENCE_COLOUR,
                _ => c.colour(),
            };
            (format!("{} {s:.1}%", c.name()), ink)
        })
        .collect();
    let lines: Vec<(String, RGBColor)> = if panel.best {
        std::iter::once(("best response (RECIST):".to_string(), REFERENCE_COLOUR))
            .chain(lines)
            .collect()
    } else {
        lines
    };
    let font = 13;
    let w = lines
        .iter()
        .map(|(t, _)| text_size(t, font).0)
        .max()
        .unwrap_or(0)
        + 12;
    let line_h = font as i32 + 5;
    let h = line_h * lines.len() as i32 + 6;
    let corner = (x.end, WATERFALL_Y.end);
    chart.draw_series(std::iter::once(
        EmptyElement::at(corner)
            + Rectangle::new([(-w - 4, 4), (-4, 4 + h)], WHITE.mix(0.8).filled()),
    ))?;
    chart.draw_series(lines.into_iter().enumerate().map(|(k, (text, colour))| {
        EmptyElement::at(corner)
            + Text::new(
                text,
                (-10, 7 + line_h * k as i32 + line_h / 2 + 1),
                text_style(font, colour, HPos::Right),
            )
    }))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Spider
// ---------------------------------------------------------------------------------------

/// One trajectory ready to draw: the part before progression (or all of it), the part after,
/// and the progression point.
struct SpiderShape {
    before: Vec<(f64, f64)>,
    /// Whether the part before progression reaches the response threshold.
    responded: bool,
    after: Vec<(f64, f64)>,
    progression: Option<(f64, f64)>,
}

struct SpiderFigure<'a> {
    title: &'a str,
    x_label: &'a str,
    lines: Vec<SpiderShape>,
    x_range: Range<f64>,
    y_range: Range<f64>,
}

impl<'a> SpiderFigure<'a> {
    fn new(title: &'a str, x_label: &'a str, traces: &[SpiderLine]) -> Result<Self, PlotError> {
        if traces.is_empty() {
            return Err(PlotError::Input("spider plot has no lines".into()));
        }
        let lines = traces
            .iter()
            .enumerate()
            .map(|(i, t)| SpiderShape::new(i, t))
            .collect::<Result<Vec<_>, _>>()?;
        let points = || lines.iter().flat_map(|l| l.before.iter().chain(&l.after));
        let (mut x0, mut x1, mut y1) = (0.0f64, 0.0f64, SPIDER_Y_MIN_TOP);
        for &(x, y) in points() {
            (x0, x1, y1) = (x0.min(x), x1.max(x), y1.max(y));
        }
        if x1 - x0 <= 0.0 {
            x1 = x0 + 1.0; // only baseline readings: give the axis a unit of width
        }
        let y0 = SPIDER_Y_CLAMP.0;
        let (px, py) = (0.02 * (x1 - x0), 0.03 * (y1 - y0));
        Ok(Self {
            title,
            x_label,
            lines,
            x_range: (x0 - px)..(x1 + px),
            y_range: (y0 - py)..(y1 + py),
        })
    }

    fn key(&self) -> Key<Mark> {
        let entries = vec![
            (
                Mark::Line(RESPONSE_COLOUR),
                format!("after reaching {}", signed_pct(RESPONSE_PCT)),
            ),
            (Mark::Line(STABLE_COLOUR), "not (yet) responding".into()),
            (Mark::Line(PROGRESSION_COLOUR), "after progression".into()),
            (Mark::Dot(PROGRESSION_COLOUR), "progression found".into()),
            (Mark::Dashed(REFERENCE_COLOUR), "RECIST thresholds".into()),
        ];
        Key { entries, font: 15 }
    }
}

impl SpiderShape {
    fn new(index: usize, t: &SpiderLine) -> Result<Self, PlotError> {
        let what = |v: &str| format!("spider line {}: {v}", index + 1);
        if t.x.is_empty() || t.x.len() != t.y.len() {
            return Err(PlotError::Input(format!(
                "{} has {} x and {} y values (need the same number, at least one)",
                what("line"),
                t.x.len(),
                t.y.len()
            )));
        }
        check_finite(&t.x, || what("x"))?;
        check_finite(&t.y, || what("y"))?;
        if let Some(p) = t.progressed_at {
            check_finite(&[p], || what("progressed_at"))?;
        }
        let (lo, hi) = SPIDER_Y_CLAMP;
        let mut pts: Vec<(f64, f64)> =
            t.x.iter()
                .zip(&t.y)
                .map(|(&x, &y)| (x, y.clamp(lo, hi)))
                .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        if pts[0].0 > 0.0 {
            pts.insert(0, (0.0, 0.0));
        }

        let (before, after, progression) = match t.progressed_at {
            Some(at) => {
                let (b, a, here) = split_at(&pts, at);
                (b, a, Some(here))
            }
            None => (pts, Vec::new(), None),
        };
        // Blue from the first reading at or below the response threshold on.
        let responded = before
            .iter()
            .any(|p| Category::of(p.1) == Category::Response);
        Ok(Self {
            before,
            responded,
            after,
            progression,
        })
    }
}

type Points = Vec<(f64, f64)>;

/// A line sorted by x, cut at `at` (clamped to its x range): the part up to the cut, the part
/// from it, and the cut point (interpolated between readings), which both parts share.
fn split_at(pts: &[(f64, f64)], at: f64) -> (Points, Points, (f64, f64)) {
    let at = at.clamp(pts[0].0, pts[pts.len() - 1].0);
    let k = pts.partition_point(|p| p.0 < at);
    let here = if k == 0 {
        pts[0]
    } else {
        let ((xa, ya), (xb, yb)) = (pts[k - 1], pts[k]);
        let f = if xb > xa { (at - xa) / (xb - xa) } else { 1.0 };
        (at, ya + f * (yb - ya))
    };
    let mut before = pts[..k].to_vec();
    before.push(here);
    let mut after = vec![here];
    after.extend(pts[k..].iter().filter(|p| p.0 > at));
    (before, after, here)
}

impl Figure for SpiderFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (1200, 800)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let body = root.titled(self.title, (FONT, 26).into_font().color(&BLACK))?;
        let key = self.key();
        let (key_area, body) = body.split_vertically(key.height(1180) + 6);
        key.draw(&key_area)?;
        let mut chart = ChartBuilder::on(&body)
            .margin(16)
            .margin_right(28)
            .x_label_area_size(50)
            .y_label_area_size(72)
            .build_cartesian_2d(self.x_range.clone(), self.y_range.clone())?;
        chart
            .configure_mesh()
            .x_desc(self.x_label)
            .y_desc("change of the target-lesion sum (%)")
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 17))
            .x_label_formatter(&tick_label)
            .y_label_formatter(&tick_label)
            .light_line_style(BLACK.mix(0.04))
            .bold_line_style(BLACK.mix(0.12))
            .draw()?;
        let x = self.x_range.clone();
        chart.draw_series(LineSeries::new(
            [(x.start, 0.0), (x.end, 0.0)],
            BLACK.stroke_width(1),
        ))?;

        // Grey lines first, then blue, then vermillion, so the colours that carry news stay
        // on top; a blue line turns blue at its first response reading.
        let mut layers: [Vec<Vec<(f64, f64)>>; 3] = Default::default();
        for l in &self.lines {
            if l.responded {
                let k = l
                    .before
                    .iter()
                    .position(|p| Category::of(p.1) == Category::Response)
                    .unwrap_or(0);
                layers[0].push(l.before[..=k].to_vec());
                layers[1].push(l.before[k..].to_vec());
            } else {
                layers[0].push(l.before.clone());
            }
            if l.after.len() > 1 {
                layers[2].push(l.after.clone());
            }
        }
        let colours = [STABLE_COLOUR, RESPONSE_COLOUR, PROGRESSION_COLOUR];
        for (paths, colour) in layers.iter().zip(colours) {
            for path in paths.iter().filter(|p| p.len() > 1) {
                chart.draw_series(LineSeries::new(
                    path.iter().copied(),
                    colour.mix(0.8).stroke_width(2),
                ))?;
            }
        }
        chart.draw_series(self.lines.iter().filter_map(|l| l.progression).map(|p| {
            EmptyElement::at(p)
                + Circle::new((0, 0), 5, WHITE.filled())
                + Circle::new((0, 0), 4, PROGRESSION_COLOUR.filled())
        }))?;

        // Every line starts at (0, 0), so the left end is the least crowded place for labels.
        let progression = format!("{} progression", signed_pct(PROGRESSION_PCT));
        let response = format!("{} partial response", signed_pct(RESPONSE_PCT));
        reference_line(
            &mut chart,
            &x,
            PROGRESSION_PCT,
            &progression,
            (false, true),
            14,
        )?;
        reference_line(&mut chart, &x, RESPONSE_PCT, &response, (false, false), 14)?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Flow
// ---------------------------------------------------------------------------------------

struct FlowFigure<'a> {
    title: &'a str,
    bars: &'a [FlowBar],
    /// Bar labels, shortened with "…" where they would not fit the label column.
    labels: Vec<String>,
    label_w: i32,
    key: Key<Mark>,
}

const FLOW_WIDTH: u32 = 1200;
const FLOW_BAR_H: u32 = 52;
const FLOW_LABEL_FONT: u32 = 16;
/// Beyond this the stacked shares are not "about 1": the input is wrong, not rounded.
const FLOW_SUM_TOLERANCE: f64 = 0.005;

impl<'a> FlowFigure<'a> {
    fn new(
        title: &'a str,
        bars: &'a [FlowBar],
        categories: &'a [String],
    ) -> Result<Self, PlotError> {
        if bars.is_empty() || categories.is_empty() {
            return Err(PlotError::Input(format!(
                "flow chart needs bars and categories, got {} bars and {} categories",
                bars.len(),
                categories.len()
            )));
        }
        if bars.len() > MAX_BARS {
            return Err(PlotError::Input(format!(
                "flow chart has {} bars; at most {MAX_BARS} fit",
                bars.len()
            )));
        }
        for b in bars {
            if b.shares.len() != categories.len() {
                return Err(PlotError::Input(format!(
                    "flow bar '{}' has {} shares for {} categories",
                    b.label,
                    b.shares.len(),
                    categories.len()
                )));
            }
            check_finite(&b.shares, || format!("flow bar '{}' shares", b.label))?;
            let sum: f64 = b.shares.iter().sum();
            if b.shares.iter().any(|&s| s < 0.0) || sum > 1.0 + FLOW_SUM_TOLERANCE {
                return Err(PlotError::Input(format!(
                    "flow bar '{}': shares must be fractions ≥ 0 summing to at most 1, got {:?}",
                    b.label, b.shares
                )));
            }
        }
        let max_w = (0.42 * f64::from(FLOW_WIDTH)) as i32;
        let labels: Vec<String> = bars
            .iter()
            .map(|b| fit_text(&b.label, FLOW_LABEL_FONT, max_w))
            .collect();
        let label_w = labels
            .iter()
            .map(|l| text_size(l, FLOW_LABEL_FONT).0)
            .max()
            .unwrap_or(0)
            + 24;
        let key = Key {
            entries: categories
                .iter()
                .enumerate()
                .map(|(i, c)| (Mark::Swatch(flow_colour(i)), c.clone()))
                .collect(),
            font: 15,
        };
        Ok(Self {
            title,
            bars,
            labels,
            label_w,
            key,
        })
    }

    fn key_height(&self) -> i32 {
        self.key.height(FLOW_WIDTH as i32 - 20) + 16
    }
}

fn flow_colour(i: usize) -> RGBColor {
    FLOW_PALETTE[i % FLOW_PALETTE.len()]
}

/// `text`, or its longest prefix with "…" that is at most `max_w` pixels wide.
pub(crate) fn fit_text(text: &str, font: u32, max_w: i32) -> String {
    if text_size(text, font).0 <= max_w {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    (1..chars.len())
        .rev()
        .map(|n| format!("{}…", chars[..n].iter().collect::<String>().trim_end()))
        .find(|s| text_size(s, font).0 <= max_w)
        .unwrap_or_else(|| "…".into())
}

impl Figure for FlowFigure<'_> {
    fn size(&self) -> (u32, u32) {
        let bars = FLOW_BAR_H * self.bars.len() as u32;
        (FLOW_WIDTH, (60 + 32 + bars + 60) + self.key_height() as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let body = root.titled(self.title, (FONT, 26).into_font().color(&BLACK))?;
        let body_h = body.dim_in_pixel().1 as i32;
        let (plot, key_area) = body.split_vertically(body_h - self.key_height());
        let n = self.bars.len() as f64;
        let x = 0.0..100.0;
        let mut chart = ChartBuilder::on(&plot)
            .margin(16)
            .margin_right(30)
            .x_label_area_size(50)
            .y_label_area_size(self.label_w)
            .build_cartesian_2d(x.clone(), 0.0..n)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(11)
            .x_desc("patients (%)")
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 17))
            .x_label_formatter(&tick_label)
            .light_line_style(BLACK.mix(0.04))
            .bold_line_style(BLACK.mix(0.12))
            .draw()?;

        let share_font = 14;
        for (k, (bar, label)) in self.bars.iter().zip(&self.labels).enumerate() {
            // First bar on top.
            let row = n - 1.0 - k as f64;
            let (y0, y1) = (row + 0.16, row + 0.84);
            let mut cum = 0.0f64;
            for (i, &s) in bar.shares.iter().enumerate() {
                let (a, b) = ((100.0 * cum).min(100.0), (100.0 * (cum + s)).min(100.0));
                cum += s;
                if b <= a {
                    continue;
                }
                let colour = flow_colour(i);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(a, y0), (b, y1)],
                    colour.filled(),
                )))?;
                let text = format!("{:.0}%", 100.0 * s);
                let (pa, pb) = (
                    chart.backend_coord(&(a, row)).0,
                    chart.backend_coord(&(b, row)).0,
                );
                if pb - pa >= text_size(&text, share_font).0 + 8 {
                    let ink = if luminance(colour) < 140.0 {
                        WHITE
                    } else {
                        BLACK
                    };
                    chart.draw_series(std::iter::once(
                        EmptyElement::at(((a + b) / 2.0, row + 0.5))
                            + Text::new(text, (0, 1), text_style(share_font, ink, HPos::Center)),
                    ))?;
                }
            }
            // Labels go in the label column, outside the plotting area: drawn on the root in
            // backend pixels.
            let (px, py) = chart.backend_coord(&(x.start, row + 0.5));
            root.draw(&Text::new(
                label.clone(),
                (px - 12, py + 1),
                text_style(FLOW_LABEL_FONT, BLACK, HPos::Right),
            ))?;
        }
        let (_, key_area) = key_area.split_vertically(10);
        self.key.draw(&key_area)?;
        Ok(())
    }
}

/// Perceived brightness (0–255) of a colour, to pick black or white text on it.
fn luminance(c: RGBColor) -> f64 {
    0.299 * f64::from(c.0) + 0.587 * f64::from(c.1) + 0.114 * f64::from(c.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// Draws twice into fresh stems and checks both formats exist, look like what they claim,
    /// carry the title, and are byte-identical between the two renders.
    fn check_deterministic(
        draw: impl Fn(&Path) -> Result<Vec<PathBuf>, PlotError>,
        title: &str,
    ) -> Vec<PathBuf> {
        let dir = tempfile::tempdir().unwrap();
        let first = draw(&dir.path().join("a")).unwrap();
        let second = draw(&dir.path().join("b")).unwrap();
        assert_eq!(
            first,
            vec![dir.path().join("a.png"), dir.path().join("a.svg")]
        );
        let png = std::fs::read(&first[0]).unwrap();
        assert!(png.starts_with(&PNG_SIGNATURE), "not a PNG");
        assert!(
            png.len() > 10_000,
            "PNG suspiciously small: {} bytes",
            png.len()
        );
        let svg = std::fs::read_to_string(&first[1]).unwrap();
        assert!(
            svg.contains("<svg") && svg.contains(title),
            "title missing from SVG"
        );
        for (a, b) in first.iter().zip(&second) {
            assert!(
                std::fs::read(a).unwrap() == std::fs::read(b).unwrap(),
                "{a:?} differs"
            );
        }
        // REMNANT_KEEP_PLOTS=<folder> keeps a copy of every chart drawn, to look at.
        if let Ok(keep) = std::env::var("REMNANT_KEEP_PLOTS") {
            static DRAWN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let k = DRAWN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            for p in &first {
                let ext = p.extension().unwrap().to_string_lossy();
                let name = format!("{}-{k}.{ext}", title.replace(' ', "_"));
                std::fs::copy(p, Path::new(&keep).join(name)).unwrap();
            }
        }
        first
    }

    /// A bell of best changes centred at `centre` (%), 1% bins from −100.
    fn panel(title: &str, centre: f64, patients: f64) -> WaterfallPanel {
        let counts = (0..200)
            .map(|i| {
                let mid = -100.0 + i as f64 + 0.5;
                let z = (mid - centre) / 30.0;
                (patients / 75.0 * (-0.5 * z * z).exp()).round() as u64
            })
            .collect();
        WaterfallPanel {
            title: title.into(),
            lo: -100.0,
            width: 1.0,
            counts,
            best: None,
        }
    }

    fn trace(i: usize) -> SpiderLine {
        let x: Vec<f64> = (0..=8).map(|k| 6.0 * f64::from(k)).collect();
        let depth = -70.0 + 11.0 * i as f64;
        let regrowth = if i.is_multiple_of(3) { 4.0 } else { 0.5 };
        let y: Vec<f64> = x
            .iter()
            .map(|&w| depth * (1.0 - (-w / 10.0).exp()) + regrowth * (w - 12.0).max(0.0))
            .collect();
        // Fast regrowers progress at week 36, anyone above +20% at once.
        let progressed_at = x
            .iter()
            .zip(&y)
            .find(|&(&w, &v)| v >= 20.0 || (i.is_multiple_of(3) && w >= 36.0))
            .map(|(&w, _)| w);
        SpiderLine {
            x,
            y,
            progressed_at,
        }
    }

    fn outcomes() -> Vec<String> {
        [
            "resected",
            "progression target lesions",
            "progression new liver lesions",
            "progression extrahepatic",
            "never resectable",
            "remnant too small",
            "insufficient growth after conditioning",
            "death after conditioning",
        ]
        .map(String::from)
        .to_vec()
    }

    fn bars() -> Vec<FlowBar> {
        let bar = |label: &str, r: f64| FlowBar {
            label: label.into(),
            shares: vec![r, 0.08, 0.05, 0.04, 0.9 - r - 0.17, 0.05, 0.04, 0.01],
        };
        vec![
            bar("upfront", 0.22),
            bar("as soon as resectable", 0.41),
            bar("after 4 cycles", 0.38),
            bar("after 12 cycles, then PVE when the remnant is small", 0.33),
            bar("maximal response", 0.30),
        ]
    }

    #[test]
    fn waterfall_is_deterministic_for_one_and_many_panels() {
        let title = "Best change of the target lesions";
        check_deterministic(
            |s| waterfall(s, title, &[panel("FOLFOX", -25.0, 900.0)]),
            title,
        );
        // Odd sizes and extreme bins: everyone in the top bin of one panel, tiny cohorts.
        let mut grown = panel("all grew", 0.0, 0.0);
        grown.counts[199] = 3;
        let panels = [
            panel("FOLFOX (900)", -25.0, 900.0),
            panel("FOLFOXIRI (40)", -45.0, 40.0),
            grown,
            panel("FOLFIRI + cetuximab (12000)", -35.0, 12_000.0),
            WaterfallPanel {
                title: "10% bins".into(),
                lo: -100.0,
                width: 10.0,
                counts: vec![
                    9, 3, 5, 8, 12, 20, 30, 40, 45, 40, 30, 20, 12, 8, 5, 3, 2, 1, 1, 4,
                ],
                best: Some([7, 100, 190]),
            },
        ];
        check_deterministic(|s| waterfall(s, title, &panels), title);
    }

    /// The outline falls monotonically from the largest increase to the largest decrease
    /// and covers the whole x axis, and the category shares add up to 100%.
    #[test]
    fn waterfall_outline_is_sorted_and_complete() {
        let p = panel("FOLFOX", -25.0, 900.0);
        let shape = WaterfallShape::new(&p).unwrap();
        let kinds: Vec<Category> = shape.areas.iter().map(|a| a.0).collect();
        assert_eq!(kinds, Category::ALL);
        let top: Vec<(f64, f64)> = shape
            .areas
            .iter()
            .flat_map(|(_, pts)| pts[..pts.len() - 2].to_vec())
            .collect();
        assert_eq!(top[0].0, 0.0);
        assert!((top[top.len() - 1].0 - 100.0).abs() < 1e-9);
        assert!(top.windows(2).all(|w| w[1].0 >= w[0].0 && w[1].1 <= w[0].1));
        assert!((shape.shares.iter().sum::<f64>() - 100.0).abs() < 1e-9);
        // Bin [19, 20) is stable and [20, 21) progression; [−31, −30) response.
        assert_eq!(Category::of(19.5), Category::Stable);
        assert_eq!(Category::of(20.5), Category::Progression);
        assert_eq!(Category::of(-29.5), Category::Stable);
        assert_eq!(Category::of(-30.5), Category::Response);
    }

    #[test]
    fn spider_is_deterministic() {
        let traces: Vec<SpiderLine> = (0..12).map(trace).collect();
        assert!(traces.iter().any(|t| t.progressed_at.is_some()));
        assert!(traces.iter().any(|t| t.progressed_at.is_none()));
        let title = "Target lesions of the first 12 patients";
        check_deterministic(
            |s| spider(s, title, "weeks of chemotherapy", &traces),
            title,
        );

        // Lines starting late, huge growth (clamped), progression beyond the last reading.
        let odd = [
            SpiderLine {
                x: vec![12.0, 6.0],
                y: vec![450.0, 80.0],
                progressed_at: Some(100.0),
            },
            SpiderLine {
                x: vec![0.0],
                y: vec![0.0],
                progressed_at: None,
            },
        ];
        check_deterministic(|s| spider(s, title, "weeks", &odd), title);
    }

    #[test]
    fn spider_splits_at_progression() {
        let t = SpiderLine {
            x: vec![6.0, 12.0, 18.0],
            y: vec![-40.0, -20.0, 10.0],
            progressed_at: Some(15.0),
        };
        let s = SpiderShape::new(0, &t).unwrap();
        assert_eq!(
            s.before,
            vec![(0.0, 0.0), (6.0, -40.0), (12.0, -20.0), (15.0, -5.0)]
        );
        assert_eq!(s.after, vec![(15.0, -5.0), (18.0, 10.0)]);
        assert_eq!(s.progression, Some((15.0, -5.0)));
        assert!(s.responded);
    }

    #[test]
    fn flow_is_deterministic() {
        let title = "Where patients end under each strategy";
        let (b, c) = (bars(), outcomes());
        check_deterministic(|s| flow(s, title, &b, &c), title);
        // A label far beyond the column is shortened, not spilled over the bars.
        let long = [FlowBar {
            label: "x".repeat(200),
            shares: vec![0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        }];
        check_deterministic(|s| flow(s, title, &long, &c), title);
        assert!(fit_text(&"x".repeat(200), 16, 200).ends_with('…'));
    }

    #[test]
    fn invalid_input_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("bad");
        let input = |r: Result<Vec<PathBuf>, PlotError>| {
            assert!(matches!(r, Err(PlotError::Input(_))), "{r:?}");
        };

        input(waterfall(&stem, "t", &[]));
        let empty = WaterfallPanel {
            counts: vec![0; 200],
            ..panel("none", 0.0, 0.0)
        };
        input(waterfall(&stem, "t", &[empty]));
        let no_bins = WaterfallPanel {
            counts: Vec::new(),
            ..panel("none", 0.0, 0.0)
        };
        input(waterfall(&stem, "t", &[no_bins]));
        input(waterfall(
            &stem,
            "t",
            &[WaterfallPanel {
                lo: f64::NAN,
                ..panel("p", 0.0, 90.0)
            }],
        ));
        input(waterfall(
            &stem,
            "t",
            &[WaterfallPanel {
                width: 0.0,
                ..panel("p", 0.0, 90.0)
            }],
        ));
        let many: Vec<WaterfallPanel> = (0..17).map(|_| panel("p", 0.0, 90.0)).collect();
        input(waterfall(&stem, "t", &many));

        input(spider(&stem, "t", "weeks", &[]));
        let mut nan = trace(1);
        nan.y[3] = f64::NAN;
        input(spider(&stem, "t", "weeks", &[nan]));
        let mut short = trace(1);
        short.x.pop();
        input(spider(&stem, "t", "weeks", &[short]));
        let none = SpiderLine {
            x: Vec::new(),
            y: Vec::new(),
            progressed_at: None,
        };
        input(spider(&stem, "t", "weeks", &[none]));
        let at_nan = SpiderLine {
            progressed_at: Some(f64::NAN),
            ..trace(2)
        };
        input(spider(&stem, "t", "weeks", &[at_nan]));

        let c = outcomes();
        input(flow(&stem, "t", &[], &c));
        input(flow(&stem, "t", &bars(), &[]));
        let mut b = bars();
        b[1].shares[2] = f64::NAN;
        input(flow(&stem, "t", &b, &c));
        let mut b = bars();
        b[0].shares.pop();
        input(flow(&stem, "t", &b, &c));
        let mut b = bars();
        b[0].shares[0] = 0.9; // sums to 1.58
        input(flow(&stem, "t", &b, &c));
        let mut b = bars();
        b[0].shares[1] = -0.01;
        input(flow(&stem, "t", &b, &c));

        assert!(!dir.path().join("bad.png").exists());
    }

    #[test]
    fn unwritable_path_is_a_draw_error() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("missing-dir").join("flow");
        let err = flow(&stem, "t", &bars(), &outcomes()).unwrap_err();
        assert!(matches!(err, PlotError::Draw { .. }), "{err}");
    }
}
