//! Forest plot of a validation: each target's simulated value against its published value,
//! one row per target, many targets with different units on one axis.
//!
//! Units differ between targets, so everything is drawn relative to the published value:
//! x = value / published on a log axis, where 1 (a dashed line) is the published value. Each
//! row shows the published interval as a light-grey bar and the simulated value as a marker
//! (green when the target passed, red when it failed; a hollow diamond when the target was used
//! for calibration and so is no test of the model) with its 95% Monte Carlo interval as a
//! whisker. The axis is the narrowest of ×/÷ 1.25, 2, 5 and 10 that holds every ratio; ratios
//! beyond ×/÷ 10 are clamped to the edge, where the marker becomes an outward triangle labelled
//! with the true ratio and a whisker ends in an arrowhead.
//!
//! Same contract as [`super::plots`], whose renderer, embedded font and palette this chart
//! uses: plain data in, `<stem>.png` and `<stem>.svg` out of one drawing routine, identical
//! bytes for identical input.

use std::ops::Range;
use std::path::{Path, PathBuf};

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use super::clinical_plots::{fit_text, text_size, text_style, Key, KEY_MARK_W};
use super::plots::{
    render, tick_label, DrawResult, Figure, PlotError, FONT, PALETTE, REFERENCE_COLOUR,
};

/// One validation target on the forest plot.
pub struct ForestRow {
    /// Label shown at the left, e.g. "5-year survival after resection (Fong 1999)".
    pub label: String,
    /// Published value and its interval (lo <= value <= hi), in the target's own unit.
    pub published: f64,
    pub published_lo: f64,
    pub published_hi: f64,
    /// Simulated value and its 95% Monte Carlo interval, same unit.
    pub simulated: f64,
    pub simulated_lo: f64,
    pub simulated_hi: f64,
    /// Whether the target passed, and whether it was used for calibration.
    pub pass: bool,
    pub calibrated: bool,
}

/// Forest plot of validation targets, one row per target from top to bottom in the given
/// order, on a log axis of the ratio to the published value (see the module documentation).
/// Labels too wide for the label column (about 40% of the width) are shortened with "…".
/// Writes `<stem>.png` and `<stem>.svg` and returns both paths.
///
/// # Errors
/// [`PlotError::Input`] for no rows or more than 100, a published value that is not finite
/// and > 0 (a ratio to it means nothing), or any other value that is NaN or infinite;
/// [`PlotError::Draw`] when a file cannot be written.
pub fn forest_chart(
    stem: &Path,
    title: &str,
    rows: &[ForestRow],
) -> Result<Vec<PathBuf>, PlotError> {
    let fig = ForestFigure::new(title, rows)?;
    render(stem, &fig)
}

const WIDTH: u32 = 1200;
/// Height of one row in pixels; the image grows with the number of rows.
const ROW_H: u32 = 36;
/// Beyond this many rows the image becomes enormous; callers should split the chart.
const MAX_ROWS: usize = 100;
const TITLE_FONT: u32 = 26;
const LABEL_FONT: u32 = 15;
const KEY_FONT: u32 = 15;
const NOTE_FONT: u32 = 13;
/// Widest label in pixels before it is shortened with "…".
const MAX_LABEL_W: i32 = 480;
/// Pixels between a label and the plot.
const LABEL_GAP: i32 = 12;
/// Chart margins, x axis area and the space under the title and key: everything but the rows.
const FRAME_H: u32 = 146;

/// Candidate half-widths of the axis (×/÷ this factor around 1), narrowest first, with their
/// ticks. The widest is also the clamp: ratios beyond it are drawn at the edge.
const SPANS: [(f64, &[f64]); 4] = [
    (1.25, &[0.8, 0.9, 1.0, 1.1, 1.25]),
    (2.0, &[0.5, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0]),
    (5.0, &[0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0]),
    (10.0, &[0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0]),
];
/// Padding beyond the clamp range on each side, as a share of the log span, so markers at the
/// edge are not cut by the axes.
const EDGE_PAD: f64 = 0.03;

const PASS_COLOUR: RGBColor = PALETTE[2]; // bluish green
const FAIL_COLOUR: RGBColor = PALETTE[1]; // vermillion
const PUBLISHED_COLOUR: RGBColor = RGBColor(200, 200, 200);
const KEY_MARK_COLOUR: RGBColor = RGBColor(90, 90, 90);
const STRIPE: RGBColor = RGBColor(244, 244, 244);

const MARKER_R: i32 = 7;
/// Half the height of the published-interval bar.
const BAR_HALF_H: i32 = 7;
/// Narrowest published bar in pixels, so an interval of zero width still shows.
const MIN_BAR_W: i32 = 4;

/// Which edge of the axis a ratio was clamped to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Edge {
    Low,
    High,
}

/// A ratio ready to draw: inside the axis, with the edge it was clamped to, if any.
#[derive(Clone, Copy, Debug)]
struct Ratio {
    value: f64,
    clamped: Option<Edge>,
    /// The ratio before clamping, for the note beside a clamped marker.
    raw: f64,
}

impl Ratio {
    fn new(raw: f64, half: f64) -> Self {
        let (lo, hi) = (1.0 / half, half);
        // A NaN (from an overflowing ratio) goes to the low edge rather than off the axis.
        let (value, clamped) = if raw.is_nan() || raw < lo {
            (lo, Some(Edge::Low))
        } else if raw > hi {
            (hi, Some(Edge::High))
        } else {
            (raw, None)
        };
        Self {
            value,
            clamped,
            raw,
        }
    }
}

/// One row after validation, in ratios to the published value.
struct Placed {
    /// The label, shortened to fit the label column.
    label: String,
    published: (Ratio, Ratio),
    simulated: Ratio,
    interval: (Ratio, Ratio),
    pass: bool,
    calibrated: bool,
}

/// An f64 axis of ratios drawn on a log10 scale, with ticks (and grid lines) only at given
/// ratios.
struct RatioAxis {
    /// The axis in log10 units.
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl RatioAxis {
    fn new(half: f64, ticks: &[f64]) -> Self {
        let h = half.log10();
        let pad = 2.0 * h * EDGE_PAD;
        Self {
            inner: (-h - pad..h + pad).into(),
            ticks: ticks.to_vec(),
        }
    }
}

impl Ranged for RatioAxis {
    type ValueType = f64;
    type FormatOption = NoDefaultFormatting;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        // Values are clamped before drawing; this only keeps a stray one finite.
        let r = self.inner.range();
        let log = if *value > 0.0 { value.log10() } else { r.start };
        self.inner.map(&log.clamp(r.start, r.end), limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new() // no minor grid between the given ticks
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        let r = self.inner.range();
        10f64.powf(r.start)..10f64.powf(r.end)
    }
}

impl ValueFormatter<f64> for RatioAxis {
    fn format(value: &f64) -> String {
        tick_label(value)
    }
}

/// The narrowest candidate span holding every ratio (the widest if none does), and its ticks.
fn choose_span(ratios: impl Iterator<Item = f64> + Clone) -> (f64, &'static [f64]) {
    const SLACK: f64 = 1.0 + 1e-9; // a ratio of exactly 0.8 or 1.25 fits ×/÷ 1.25
    SPANS
        .iter()
        .copied()
        .find(|&(half, _)| {
            ratios
                .clone()
                .all(|r| r * SLACK >= 1.0 / half && r <= half * SLACK)
        })
        .unwrap_or(SPANS[SPANS.len() - 1])
}

/// A ratio rounded to two significant digits, for the note beside a clamped marker.
fn ratio_text(r: f64) -> String {
    let scale = 10f64.powf(1.0 - r.abs().log10().floor());
    let rounded = if r != 0.0 && r.is_finite() && scale.is_finite() {
        (r * scale).round() / scale
    } else {
        r
    };
    format!("{}×", tick_label(&rounded))
}

/// A symbol in the key: what the entry looks like in the chart.
#[derive(Clone, Copy)]
enum Mark {
    Dot(RGBColor),
    Diamond(RGBColor),
    Bar,
    Whisker(RGBColor),
    Dashed,
}

/// Top, centre and bottom in pixels of each of `rows` rows of a chart whose y axis runs from 0
/// (bottom) to `rows`, first row on top; `y_of` maps a y value to its pixel.
pub(crate) fn row_pixels(rows: usize, y_of: impl Fn(f64) -> i32) -> Vec<(i32, i32, i32)> {
    let n = rows as f64;
    (0..rows)
        .map(|k| {
            let centre = n - 0.5 - k as f64;
            (y_of(centre + 0.5), y_of(centre), y_of(centre - 0.5))
        })
        .collect()
}

/// Every other row shaded across the plotting area's pixel columns `px`, under the grid, so
/// that a row is easy to follow from its label to its marks.
pub(crate) fn stripe_rows<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    px: &Range<i32>,
    rows: &[(i32, i32, i32)],
) -> DrawResult<DB> {
    for &(top, _, bottom) in rows.iter().skip(1).step_by(2) {
        root.draw(&Rectangle::new(
            [(px.start, top), (px.end, bottom)],
            STRIPE.filled(),
        ))?;
    }
    Ok(())
}

/// A white page with the title 16 px below the top (the curve charts' caption margin) and the
/// key under it, drawn by `draw_key`; returns the area left for the chart. The height the two
/// take is fixed plus [`Key::height`] for the page width less 20 px.
pub(crate) fn title_and_key<DB: DrawingBackend, M: Copy>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    key: &Key<M>,
    draw_key: impl FnOnce(&Key<M>, &DrawingArea<DB, Shift>) -> DrawResult<DB>,
) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (_, below_margin) = root.split_vertically(16);
    let body = below_margin.titled(title, (FONT, TITLE_FONT).into_font().color(&BLACK))?;
    let width = root.dim_in_pixel().0 as i32;
    let (key_area, plot) = body.split_vertically(key.height(width - 20) + 6);
    draw_key(key, &key_area)?;
    Ok(plot)
}

/// The forest plot's key.
fn forest_key() -> Key<Mark> {
    let entries = [
        (Mark::Dot(PASS_COLOUR), "simulated, target met"),
        (Mark::Dot(FAIL_COLOUR), "target missed"),
        (Mark::Diamond(KEY_MARK_COLOUR), "used for calibration"),
        (Mark::Whisker(KEY_MARK_COLOUR), "95% Monte Carlo interval"),
        (Mark::Bar, "published interval"),
        (Mark::Dashed, "published value"),
    ];
    Key {
        entries: entries.map(|(m, t)| (m, t.to_owned())).to_vec(),
        font: KEY_FONT,
    }
}

fn draw_key<DB: DrawingBackend>(key: &Key<Mark>, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    key.draw_with(area, |area, mark, x, y| {
        let mid = x + KEY_MARK_W / 2;
        match mark {
            Mark::Dot(c) => marker(area, (mid, y), c, false, None),
            Mark::Diamond(c) => marker(area, (mid, y), c, true, None),
            Mark::Bar => area.draw(&Rectangle::new(
                [(x, y - BAR_HALF_H), (x + KEY_MARK_W, y + BAR_HALF_H)],
                PUBLISHED_COLOUR.filled(),
            )),
            Mark::Whisker(c) => whisker(area, (x, x + KEY_MARK_W), y, c, (None, None)),
            Mark::Dashed => {
                for k in 0..2 {
                    let y0 = y - 9 + 11 * k;
                    area.draw(&PathElement::new(
                        vec![(mid, y0), (mid, y0 + 7)],
                        REFERENCE_COLOUR.stroke_width(2),
                    ))?;
                }
                Ok(())
            }
        }
    })
}

/// The simulated value at `(x, y)` in pixels: a filled circle, a hollow diamond when
/// `calibrated`, or a triangle pointing off the axis when the value was clamped to an edge.
fn marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    colour: RGBColor,
    calibrated: bool,
    clamped: Option<Edge>,
) -> DrawResult<DB> {
    let outline: Vec<(i32, i32)> = match clamped {
        None if !calibrated => return area.draw(&Circle::new((x, y), MARKER_R, colour.filled())),
        None => vec![(x, y - 9), (x + 9, y), (x, y + 9), (x - 9, y)],
        Some(edge) => {
            let s = if edge == Edge::High { 1 } else { -1 };
            vec![(x - 6 * s, y - 9), (x + 8 * s, y), (x - 6 * s, y + 9)]
        }
    };
    if calibrated {
        area.draw(&Polygon::new(outline.clone(), WHITE.filled()))?;
        let mut closed = outline.clone();
        closed.push(outline[0]);
        area.draw(&PathElement::new(closed, colour.stroke_width(3)))
    } else {
        area.draw(&Polygon::new(outline, colour.filled()))
    }
}

/// A horizontal interval from `x.0` to `x.1` at height `y` in pixels, with end caps, or an
/// arrowhead pointing off the axis at an end that was clamped.
fn whisker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x0, x1): (i32, i32),
    y: i32,
    colour: RGBColor,
    clamped: (Option<Edge>, Option<Edge>),
) -> DrawResult<DB> {
    area.draw(&PathElement::new(
        vec![(x0, y), (x1, y)],
        colour.stroke_width(2),
    ))?;
    for (x, edge) in [(x0, clamped.0), (x1, clamped.1)] {
        match edge {
            None => area.draw(&PathElement::new(
                vec![(x, y - 6), (x, y + 6)],
                colour.stroke_width(2),
            ))?,
            Some(e) => {
                let s = if e == Edge::High { 1 } else { -1 };
                area.draw(&Polygon::new(
                    vec![(x + 2 * s, y), (x - 7 * s, y - 5), (x - 7 * s, y + 5)],
                    colour.filled(),
                ))?
            }
        }
    }
    Ok(())
}

struct ForestFigure {
    /// The title, shortened to the width of the image.
    title: String,
    rows: Vec<Placed>,
    /// Width of the label column in pixels.
    label_w: i32,
    /// The axis spans 1/half .. half (plus a little padding).
    half: f64,
    ticks: &'static [f64],
    key: Key<Mark>,
}

impl ForestFigure {
    fn new(title: &str, rows: &[ForestRow]) -> Result<Self, PlotError> {
        if rows.is_empty() {
            return Err(PlotError::Input("forest plot has no rows".into()));
        }
        if rows.len() > MAX_ROWS {
            return Err(PlotError::Input(format!(
                "forest plot has {} rows; at most {MAX_ROWS} fit",
                rows.len()
            )));
        }
        for (i, r) in rows.iter().enumerate() {
            if !(r.published.is_finite() && r.published > 0.0) {
                return Err(PlotError::Input(format!(
                    "forest plot row {} '{}': the published value must be finite and > 0 to \
                     draw ratios to it, got {}",
                    i + 1,
                    r.label,
                    r.published
                )));
            }
            let values = [
                ("published_lo", r.published_lo),
                ("published_hi", r.published_hi),
                ("simulated", r.simulated),
                ("simulated_lo", r.simulated_lo),
                ("simulated_hi", r.simulated_hi),
            ];
            if let Some((name, v)) = values.iter().find(|(_, v)| !v.is_finite()) {
                return Err(PlotError::Input(format!(
                    "forest plot row {} '{}': {name} is {v} (NaN and infinities cannot be drawn)",
                    i + 1,
                    r.label
                )));
            }
        }

        let ratios = rows.iter().flat_map(|r| {
            [
                r.published_lo,
                r.published_hi,
                r.simulated,
                r.simulated_lo,
                r.simulated_hi,
            ]
            .map(|v| v / r.published)
        });
        let (half, ticks) = choose_span(ratios);
        let ratio = |v: f64, r: &ForestRow| Ratio::new(v / r.published, half);
        // Intervals are drawn from the smaller to the larger end, whichever way they came.
        let ends = |a: f64, b: f64, r: &ForestRow| (ratio(a.min(b), r), ratio(a.max(b), r));
        let placed: Vec<Placed> = rows
            .iter()
            .map(|r| Placed {
                label: fit_text(&r.label, LABEL_FONT, MAX_LABEL_W),
                published: ends(r.published_lo, r.published_hi, r),
                simulated: ratio(r.simulated, r),
                interval: ends(r.simulated_lo, r.simulated_hi, r),
                pass: r.pass,
                calibrated: r.calibrated,
            })
            .collect();
        let label_w = placed
            .iter()
            .map(|p| text_size(&p.label, LABEL_FONT).0)
            .max()
            .unwrap_or(0)
            .max(40)
            + 2 * LABEL_GAP;
        Ok(Self {
            title: fit_text(title, TITLE_FONT, WIDTH as i32 - 40),
            rows: placed,
            label_w,
            half,
            ticks,
            key: forest_key(),
        })
    }
}

impl Figure for ForestFigure {
    fn size(&self) -> (u32, u32) {
        let rows = ROW_H * self.rows.len() as u32;
        (
            WIDTH,
            FRAME_H + self.key.height(WIDTH as i32 - 20) as u32 + rows,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let plot = title_and_key(root, &self.title, &self.key, draw_key)?;

        let n = self.rows.len() as f64;
        let mut chart = ChartBuilder::on(&plot)
            .margin(16)
            .margin_right(30)
            .x_label_area_size(50)
            .y_label_area_size(self.label_w)
            .build_cartesian_2d(RatioAxis::new(self.half, self.ticks), 0.0..n)?;

        // Every other row shaded, under the grid, so a row is easy to follow across.
        let (px, _) = chart.plotting_area().get_pixel_range();
        let row_y = row_pixels(self.rows.len(), |v| chart.backend_coord(&(1.0, v)).1);
        stripe_rows(root, &px, &row_y)?;

        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc("simulated ÷ published (log scale; 1 = the published value)")
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 17))
            .x_label_formatter(&tick_label)
            .light_line_style(BLACK.mix(0.04))
            .bold_line_style(BLACK.mix(0.12))
            .draw()?;
        chart.draw_series(DashedLineSeries::new(
            [(1.0, 0.0), (1.0, n)],
            9,
            6,
            REFERENCE_COLOUR.stroke_width(2),
        ))?;

        let x = |r: Ratio| chart.backend_coord(&(r.value, 0.0)).0;
        for (row, &(_, y, _)) in self.rows.iter().zip(&row_y) {
            let colour = if row.pass { PASS_COLOUR } else { FAIL_COLOUR };

            let (a, b) = (x(row.published.0), x(row.published.1));
            let widen = (MIN_BAR_W - (b - a)).max(0);
            let (a, b) = (a - widen / 2, b + (widen + 1) / 2);
            root.draw(&Rectangle::new(
                [(a, y - BAR_HALF_H), (b, y + BAR_HALF_H)],
                PUBLISHED_COLOUR.filled(),
            ))?;

            let (lo, hi) = row.interval;
            whisker(root, (x(lo), x(hi)), y, colour, (lo.clamped, hi.clamped))?;
            let s = row.simulated;
            marker(root, (x(s), y), colour, row.calibrated, s.clamped)?;
            if let Some(edge) = s.clamped {
                // The true ratio, just inside the edge above the whisker.
                let (dx, hpos) = match edge {
                    Edge::High => (-12, HPos::Right),
                    Edge::Low => (12, HPos::Left),
                };
                root.draw(&Text::new(
                    ratio_text(s.raw),
                    (x(s) + dx, y - 11),
                    text_style(NOTE_FONT, REFERENCE_COLOUR, hpos),
                ))?;
            }

            // Labels go in the label column, outside the plotting area.
            root.draw(&Text::new(
                row.label.clone(),
                (px.start - LABEL_GAP, y + 1),
                text_style(LABEL_FONT, BLACK, HPos::Right),
            ))?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

    fn row(label: &str, published: f64, ratio: f64, pass: bool, calibrated: bool) -> ForestRow {
        let simulated = published * ratio;
        ForestRow {
            label: label.into(),
            published,
            published_lo: 0.85 * published,
            published_hi: 1.2 * published,
            simulated,
            simulated_lo: 0.93 * simulated,
            simulated_hi: 1.07 * simulated,
            pass,
            calibrated,
        }
    }

    /// Fourteen targets in several units: passes, a failure, calibrated targets (one failed),
    /// a clamped ratio each way, a published value without an interval, and text that SVG
    /// must escape.
    fn targets() -> Vec<ForestRow> {
        let mut rows = vec![
            row(
                "5-year survival after resection (Fong 1999)",
                0.37,
                1.04,
                true,
                false,
            ),
            row(
                "Recurrence after resection (de Jong 2009)",
                0.674,
                0.97,
                true,
                false,
            ),
            row("5-year recurrence-free survival", 0.257, 1.3, false, false),
            row("First recurrence in the liver only", 0.43, 0.95, true, true),
            row("Median overall survival, months", 42.0, 0.9, true, false),
            row("sFLR gain after PVE, % points", 9.7, 1.12, true, true),
            row("Kinetic growth rate, %/week", 2.4, 1.6, false, true),
            row(
                "Post-hepatectomy liver failure <ISGLS B> & C",
                0.08,
                0.4,
                false,
                false,
            ),
            row(
                "Drop-out before stage 2 (ALPPS registry)",
                0.1,
                23.0,
                false,
                false,
            ),
            row("90-day mortality after ALPPS", 0.09, 0.03, false, false),
            row("Conversion rate, FOLFOXIRI + bev", 0.29, 1.0, true, false),
            row(
                "Objective response rate (RECIST 1.1)",
                0.65,
                0.98,
                true,
                true,
            ),
            row("Time to resection, weeks", 13.0, 1.05, true, false),
            row(
                "Repeat hepatectomy \"within 3 years\"",
                0.21,
                0.88,
                true,
                false,
            ),
        ];
        rows[10].published_lo = rows[10].published;
        rows[10].published_hi = rows[10].published;
        rows
    }

    /// What plotters writes into an SVG for `text`.
    pub(crate) fn svg_escaped(text: &str) -> String {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&apos;")
    }

    /// REMNANT_KEEP_PLOTS=<folder> keeps a copy of the chart, to look at.
    pub(crate) fn keep(paths: &[PathBuf], name: &str) {
        if let Ok(folder) = std::env::var("REMNANT_KEEP_PLOTS") {
            for p in paths {
                let ext = p.extension().unwrap().to_string_lossy();
                std::fs::copy(p, Path::new(&folder).join(format!("{name}.{ext}"))).unwrap();
            }
        }
    }

    #[test]
    fn forest_chart_is_deterministic_and_labels_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let rows = targets();
        assert_eq!(rows.len(), 14);
        let title = "Validation against published values";
        let draw = |name: &str| forest_chart(&dir.path().join(name), title, &rows).unwrap();
        let (a, b) = (draw("a"), draw("b"));
        assert_eq!(a, vec![dir.path().join("a.png"), dir.path().join("a.svg")]);
        let png = std::fs::read(&a[0]).unwrap();
        assert!(png.starts_with(&PNG_SIGNATURE), "not a PNG");
        for (a, b) in a.iter().zip(&b) {
            assert!(
                std::fs::read(a).unwrap() == std::fs::read(b).unwrap(),
                "{a:?} differs"
            );
        }
        let svg = std::fs::read_to_string(&a[1]).unwrap();
        assert!(svg.contains(title), "title missing from SVG");
        for r in &rows {
            let label = svg_escaped(&r.label);
            assert!(svg.contains(&label), "label {label:?} missing from SVG");
        }
        // The clamped ratios are written beside their markers.
        assert!(svg.contains("23×") && svg.contains("0.03×"));
        keep(&a, "forest_demo");
    }

    /// Ratios close to 1 get the narrow axis, ticked at 0.8 … 1.25; a calibrated target
    /// clamped at the edge keeps its hollow outline.
    #[test]
    fn close_ratios_get_a_narrow_axis() {
        let dir = tempfile::tempdir().unwrap();
        let mut rows: Vec<ForestRow> = targets()
            .into_iter()
            .filter(|r| (0.8..=1.25).contains(&(r.simulated_hi / r.published)))
            .collect();
        let fig = ForestFigure::new("t", &rows).unwrap();
        assert_eq!(fig.half, 1.25);
        let paths = forest_chart(&dir.path().join("narrow"), "Close to published", &rows).unwrap();
        let svg: String = std::fs::read_to_string(&paths[1])
            .unwrap()
            .split_whitespace()
            .collect();
        for tick in ["0.8", "0.9", "1", "1.1", "1.25"] {
            assert!(
                svg.contains(&format!(">{tick}</text>")),
                "tick {tick} missing"
            );
        }
        keep(&paths, "forest_narrow");

        rows[0].calibrated = true;
        rows[0].simulated = 50.0 * rows[0].published;
        let paths = forest_chart(&dir.path().join("wide"), "Clamped", &rows).unwrap();
        assert!(std::fs::read_to_string(&paths[1]).unwrap().contains("50×"));
        keep(&paths, "forest_clamped_calibrated");
    }

    #[test]
    fn size_grows_with_the_rows_and_long_labels_are_shortened() {
        let mut rows = targets();
        let long = "x".repeat(300);
        rows[0].label = long.clone();
        let fig = ForestFigure::new("t", &rows).unwrap();
        let short = &fig.rows[0].label;
        assert!(short.ends_with('…') && short.len() < long.len(), "{short}");
        assert!(text_size(short, LABEL_FONT).0 <= MAX_LABEL_W);
        assert_eq!(fig.rows[1].label, rows[1].label);
        let one = ForestFigure::new("t", &rows[..1]).unwrap();
        assert_eq!(fig.size().0, 1200);
        assert_eq!(fig.size().1 - one.size().1, 13 * ROW_H);
    }

    #[test]
    fn axis_is_the_narrowest_span_that_holds_every_ratio() {
        let span = |rs: &[f64]| choose_span(rs.iter().copied()).0;
        assert_eq!(span(&[0.8, 1.0, 1.25]), 1.25);
        assert_eq!(span(&[0.79, 1.0]), 2.0);
        assert_eq!(span(&[1.0, 4.9]), 5.0);
        assert_eq!(span(&[0.0, 1.0]), 10.0);
        assert_eq!(span(&[1.0, 1e6]), 10.0);

        let r = Ratio::new(23.0, 10.0);
        assert_eq!((r.value, r.clamped), (10.0, Some(Edge::High)));
        let r = Ratio::new(-0.5, 10.0);
        assert_eq!((r.value, r.clamped), (0.1, Some(Edge::Low)));
        let r = Ratio::new(0.5, 10.0);
        assert_eq!((r.value, r.clamped), (0.5, None));
        assert_eq!(ratio_text(23.4), "23×");
        assert_eq!(ratio_text(0.03417), "0.034×");
        assert_eq!(ratio_text(0.0), "0×");
        assert_eq!(ratio_text(f64::INFINITY), "inf×");
    }

    #[test]
    fn invalid_input_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("bad");
        let input_error = |rows: &[ForestRow]| match forest_chart(&stem, "t", rows) {
            Err(PlotError::Input(message)) => message,
            other => panic!("expected an input error, got {other:?}"),
        };
        assert!(input_error(&[]).contains("no rows"));
        for published in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let mut rows = targets();
            rows[3].published = published;
            let message = input_error(&rows);
            assert!(
                message.contains("First recurrence in the liver only")
                    && message.contains("finite and > 0"),
                "{message}"
            );
        }
        let mut rows = targets();
        rows[5].simulated_hi = f64::NAN;
        assert!(input_error(&rows).contains("simulated_hi is NaN"));
        let mut rows = targets();
        rows[0].published_lo = f64::NEG_INFINITY;
        assert!(input_error(&rows).contains("published_lo"));
        let many: Vec<ForestRow> = (0..=MAX_ROWS)
            .map(|i| row(&format!("target {i}"), 1.0, 1.0, true, false))
            .collect();
        input_error(&many);
        assert!(!dir.path().join("bad.png").exists());
        assert!(!dir.path().join("bad.svg").exists());

        // A zero simulated value or a zero-width interval is drawable.
        let mut rows = targets();
        rows[0].simulated = 0.0;
        rows[0].simulated_lo = 0.0;
        rows[1].published_lo = 0.0;
        assert!(forest_chart(&stem, "t", &rows).is_ok());
    }
}
