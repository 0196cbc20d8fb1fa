//! Static charts for reports: fan charts of quantiles over time and curve charts.
//!
//! Plain data in, files out: every chart is written once as PNG and once as SVG from a
//! single drawing routine that is generic over the plotters backend, so the two formats
//! can never drift apart. Text uses an embedded DejaVu Sans (ab_glyph), so rendering needs
//! no system font library at run time.
//!
//! Inputs are validated up front (empty or mismatched data is a [`PlotError`]); non-finite
//! values are treated as missing and leave a gap rather than distorting the axes.

use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

#[cfg(test)]
use super::print::crc32;
use super::print::{set_png_width_mm, Scaled};

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

/// One band of a fan chart: quantiles of a quantity over time for one group.
pub struct FanPanel {
    /// Panel heading, e.g. "PVE".
    pub title: String,
    /// x values (weeks since the procedure, 0..=8).
    pub weeks: Vec<f64>,
    /// Quantiles at each week (same length as `weeks`; NaN = missing).
    pub p5: Vec<f64>,
    pub p25: Vec<f64>,
    pub p50: Vec<f64>,
    pub p75: Vec<f64>,
    pub p95: Vec<f64>,
}

/// A horizontal reference line, e.g. a minimum safe sFLR.
pub struct ReferenceLine {
    /// Text drawn beside the line, e.g. "Minimum sFLR 0.30".
    pub label: String,
    /// Level on the y axis; a non-finite level is skipped.
    pub y: f64,
}

/// One curve with an optional pointwise interval band (`lo`/`hi` empty = no band).
pub struct Curve {
    /// Legend text; an empty label leaves the curve out of the legend.
    pub label: String,
    pub x: Vec<f64>,
    /// Same length as `x`; NaN = missing.
    pub y: Vec<f64>,
    /// Band bounds: both empty, or both the same length as `x`.
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

/// Why a chart was not written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The data cannot be plotted (empty, mismatched lengths, no finite values, bad limits).
    #[error("invalid plot input: {0}")]
    Input(String),
    /// Drawing or writing the file failed.
    #[error("cannot draw {path}: {message}")]
    Draw { path: PathBuf, message: String },
    /// The embedded font was rejected by the font loader (a build problem, not bad data).
    #[error("embedded font could not be loaded")]
    Font,
}

/// Okabe–Ito colours, ordered for contrast on white; yellow is left out because thin
/// yellow lines are nearly invisible on a white background.
pub(crate) const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
];
pub(crate) const REFERENCE_COLOUR: RGBColor = RGBColor(60, 60, 60);
pub(crate) const FONT: &str = "sans-serif";
const FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Beyond this many panels the image would become enormous; callers should split the chart.
pub(crate) const MAX_PANELS: usize = 16;

/// A figure of `kind` must have from 1 to [`MAX_PANELS`] panels.
pub(crate) fn check_panel_count(kind: &str, panels: usize) -> Result<(), PlotError> {
    if panels == 0 {
        return Err(PlotError::Input(format!("{kind} has no panels")));
    }
    if panels > MAX_PANELS {
        return Err(PlotError::Input(format!(
            "{kind} has {panels} panels; at most {MAX_PANELS} fit"
        )));
    }
    Ok(())
}

pub(crate) fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Registers the embedded font under "sans-serif" once per process (plotters keeps a
/// global font table; registering again would be harmless but wasteful).
pub(crate) fn ensure_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font)
    }
}

// ---------------------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------------------

/// Fan chart: one small panel per [`FanPanel`] in a two-column grid, each showing the 5–95%
/// band (light), the 25–75% band (darker), the median line, and every [`ReferenceLine`] as a
/// dashed horizontal line with its label. All panels share the y range so groups compare at
/// a glance. Writes `<stem>.png` and `<stem>.svg` and returns both paths.
pub fn fan_chart(
    stem: &Path,
    title: &str,
    y_label: &str,
    panels: &[FanPanel],
    lines: &[ReferenceLine],
) -> Result<Vec<PathBuf>, PlotError> {
    let fig = FanFigure::new(title, y_label, panels, lines)?;
    render(stem, &fig)
}

/// Step chart of several curves on one axis (e.g. cumulative share ready for resection by
/// week, per procedure), with the lo..hi band shaded when present, a legend placed in the
/// emptiest corner, and the y axis from 0 to `y_max` (values outside are clipped to it).
/// Curves are drawn as post-steps: each value holds until the next x. Points are sorted by x.
/// Writes `<stem>.png` and `<stem>.svg` and returns both paths.
pub fn curve_chart(
    stem: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    y_max: f64,
    curves: &[Curve],
) -> Result<Vec<PathBuf>, PlotError> {
    let fig = CurveFigure::new(title, x_label, y_label, y_max, curves, Interpolation::Step)?;
    render(stem, &fig)
}

/// Point chart of several curves on one axis, for discrete x values such as cycle counts
/// (4, 6, 8, 12, …) where a step would suggest values between them: straight segments join
/// consecutive points, every point gets a marker, and the lo..hi band is shaded as a polygon
/// joined linearly (a band with a single point shows as a vertical bar). The x axis ticks sit
/// at the given x values. Validation, clipping to 0..`y_max`, gaps at missing values, legend
/// placement and output are as for [`curve_chart`].
/// Writes `<stem>.png` and `<stem>.svg` and returns both paths.
pub fn point_chart(
    stem: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    y_max: f64,
    curves: &[Curve],
) -> Result<Vec<PathBuf>, PlotError> {
    let fig = CurveFigure::new(
        title,
        x_label,
        y_label,
        y_max,
        curves,
        Interpolation::Linear,
    )?;
    render(stem, &fig)
}

// ---------------------------------------------------------------------------------------
// Rendering to both formats
// ---------------------------------------------------------------------------------------

pub(crate) type DrawResult<DB> =
    Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A validated chart that can draw itself on any plotters backend.
pub(crate) trait Figure {
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// Width in pixels of a full-page journal figure (174 mm) at 300 dpi, rounded up.
pub(crate) const PRINT_WIDTH_PX: u32 = 2056;
/// The width of the page the PNG is meant for, in millimetres (written into the file).
pub(crate) const PRINT_WIDTH_MM: f64 = 174.0;

/// How many times larger than its screen size (the SVG's) a figure `width` pixels wide is
/// rasterised, so that the PNG is at least [`PRINT_WIDTH_PX`] wide: a whole number, so that
/// every line and letter scales alike and the picture looks the same as on the screen.
pub(crate) fn print_scale(width: u32) -> u32 {
    PRINT_WIDTH_PX.div_ceil(width.max(1)).max(1)
}

pub(crate) fn render(stem: &Path, fig: &impl Figure) -> Result<Vec<PathBuf>, PlotError> {
    ensure_font()?;
    let png = with_suffix(stem, "png");
    let svg = with_suffix(stem, "svg");
    let (w, h) = fig.size();
    let k = print_scale(w);
    draw_to(&png, || {
        let inner = BitMapBackend::new(&png, (w * k, h * k));
        let root = Scaled::new(inner, k).into_drawing_area();
        fig.draw(&root)?;
        root.present()
    })?;
    set_png_width_mm(&png, PRINT_WIDTH_MM).map_err(|e| PlotError::Draw {
        path: png.clone(),
        message: e.to_string(),
    })?;
    draw_to(&svg, || {
        let root = SVGBackend::new(&svg, fig.size()).into_drawing_area();
        fig.draw(&root)?;
        root.present()
    })?;
    Ok(vec![png, svg])
}

/// Writes `text` into the SVG among `paths` as its description (`<desc>`), which the HTML
/// report prints as the figure's caption: what the figure shows and on which patients.
/// Returns `paths` for chaining.
pub(crate) fn caption(paths: Vec<PathBuf>, text: &str) -> Result<Vec<PathBuf>, PlotError> {
    for svg in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
    {
        let fail = |message: String| PlotError::Draw {
            path: svg.clone(),
            message,
        };
        let doc = std::fs::read_to_string(svg).map_err(|e| fail(e.to_string()))?;
        let open = doc
            .find("<svg")
            .and_then(|i| doc[i..].find('>').map(|j| i + j + 1))
            .ok_or_else(|| fail("no <svg> element".into()))?;
        let escaped = text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        let doc = format!("{}\n<desc>{escaped}</desc>{}", &doc[..open], &doc[open..]);
        std::fs::write(svg, doc).map_err(|e| fail(e.to_string()))?;
    }
    Ok(paths)
}

/// The caption written into an SVG document by [`caption`], XML-escaped as it is stored.
pub fn svg_caption(svg: &str) -> Option<&str> {
    let start = svg.find("<desc>")? + "<desc>".len();
    let end = start + svg[start..].find("</desc>")?;
    Some(&svg[start..end])
}

/// Runs one backend's drawing, turning both errors and any panic inside plotters into a
/// `PlotError`: a broken chart must never take down a long simulation run.
fn draw_to<E: std::fmt::Display>(
    path: &Path,
    draw: impl FnOnce() -> Result<(), E>,
) -> Result<(), PlotError> {
    let fail = |message: String| PlotError::Draw {
        path: path.to_path_buf(),
        message,
    };
    match catch_unwind(AssertUnwindSafe(draw)) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(fail(e.to_string())),
        Err(_) => Err(fail("plotting library panicked".into())),
    }
}

/// `<stem>.<ext>`; appended rather than `Path::with_extension` so a stem such as
/// "run.v2/fan" or "fan.sflr" keeps its dots.
fn with_suffix(stem: &Path, ext: &str) -> PathBuf {
    let mut s = stem.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

// ---------------------------------------------------------------------------------------
// Fan chart
// ---------------------------------------------------------------------------------------

struct FanFigure<'a> {
    title: &'a str,
    y_label: &'a str,
    panels: &'a [FanPanel],
    lines: Vec<&'a ReferenceLine>,
    x_range: Range<f64>,
    y_range: Range<f64>,
}

impl<'a> FanFigure<'a> {
    fn new(
        title: &'a str,
        y_label: &'a str,
        panels: &'a [FanPanel],
        lines: &'a [ReferenceLine],
    ) -> Result<Self, PlotError> {
        // Any number of panels: more rows make a taller image (see `size`).
        if panels.is_empty() {
            return Err(PlotError::Input("fan chart has no panels".into()));
        }
        for p in panels {
            let n = p.weeks.len();
            if n == 0 {
                return Err(PlotError::Input(format!(
                    "panel '{}' has no weeks",
                    p.title
                )));
            }
            for (name, v) in p.quantiles() {
                if v.len() != n {
                    return Err(PlotError::Input(format!(
                        "panel '{}': {name} has {} values but weeks has {n}",
                        p.title,
                        v.len()
                    )));
                }
            }
        }
        // Reference lines without a finite level are skipped like any other missing value.
        let lines: Vec<_> = lines.iter().filter(|l| l.y.is_finite()).collect();

        let xs = panels.iter().flat_map(|p| p.weeks.iter().copied());
        let ys = panels
            .iter()
            .flat_map(|p| {
                p.quantiles()
                    .into_iter()
                    .flat_map(|(_, v)| v.iter().copied())
            })
            .chain(lines.iter().map(|l| l.y));
        let x_range = padded_range(xs, 0.02).ok_or_else(|| {
            PlotError::Input(
                "fan chart weeks have no finite values (or their span overflows)".into(),
            )
        })?;
        let y_range = padded_range(ys, 0.06).ok_or_else(|| {
            PlotError::Input("fan chart has no finite y values (or their span overflows)".into())
        })?;
        Ok(Self {
            title,
            y_label,
            panels,
            lines,
            x_range,
            y_range,
        })
    }

    fn grid(&self) -> (usize, usize) {
        let cols = self.panels.len().min(2);
        (self.panels.len().div_ceil(cols), cols)
    }
}

impl FanPanel {
    fn quantiles(&self) -> [(&'static str, &Vec<f64>); 5] {
        [
            ("p5", &self.p5),
            ("p25", &self.p25),
            ("p50", &self.p50),
            ("p75", &self.p75),
            ("p95", &self.p95),
        ]
    }
}

impl Figure for FanFigure<'_> {
    fn size(&self) -> (u32, u32) {
        // Two rows fit the nominal 1200x800; more rows grow the image instead of squashing.
        let rows = self.grid().0 as u32;
        (1200, if rows <= 2 { 800 } else { 100 + 350 * rows })
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let body = root.titled(self.title, (FONT, 26).into_font().color(&BLACK))?;
        // A one-line key instead of a legend per panel keeps the panels uncluttered.
        let (key, body) = body.split_vertically(26);
        key.draw(&Text::new(
            "Shaded: 5–95% (light) and 25–75% (dark) ranges; line: median",
            (key.dim_in_pixel().0 as i32 / 2, 4),
            TextStyle::from((FONT, 15).into_font())
                .color(&RGBColor(70, 70, 70))
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;

        for (i, (panel, area)) in self
            .panels
            .iter()
            .zip(body.split_evenly(self.grid()))
            .enumerate()
        {
            self.draw_panel(&area, panel, colour(i))?;
        }
        Ok(())
    }
}

impl FanFigure<'_> {
    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        panel: &FanPanel,
        colour: RGBColor,
    ) -> DrawResult<DB> {
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, (FONT, 19).into_font().color(&colour))
            .margin(10)
            .margin_right(18)
            .x_label_area_size(42)
            .y_label_area_size(62)
            .build_cartesian_2d(self.x_range.clone(), self.y_range.clone())?;
        chart
            .configure_mesh()
            .x_desc("Weeks after procedure")
            .y_desc(self.y_label)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .x_label_formatter(&tick_label)
            .y_label_formatter(&tick_label)
            .light_line_style(BLACK.mix(0.04))
            .bold_line_style(BLACK.mix(0.12))
            .draw()?;

        let weeks = &panel.weeks;
        for poly in band_polygons(weeks, &panel.p5, &panel.p95) {
            chart.draw_series(std::iter::once(Polygon::new(
                poly,
                colour.mix(0.2).filled(),
            )))?;
        }
        for poly in band_polygons(weeks, &panel.p25, &panel.p75) {
            chart.draw_series(std::iter::once(Polygon::new(
                poly,
                colour.mix(0.4).filled(),
            )))?;
        }
        for seg in finite_runs(weeks, &panel.p50) {
            chart.draw_series(LineSeries::new(seg, colour.stroke_width(3)))?;
        }

        let (x0, x1) = (self.x_range.start, self.x_range.end);
        let label_style = TextStyle::from((FONT, 14).into_font()).color(&REFERENCE_COLOUR);
        let (plot_w, plot_h) = chart.plotting_area().dim_in_pixel();
        // Data units per pixel, to size label boxes in data space when placing them.
        let per_px = (
            (x1 - x0) / f64::from(plot_w.max(1)),
            (self.y_range.end - self.y_range.start) / f64::from(plot_h.max(1)),
        );
        for line in &self.lines {
            chart.draw_series(DashedLineSeries::new(
                [(x0, line.y), (x1, line.y)],
                9,
                6,
                REFERENCE_COLOUR.stroke_width(2),
            ))?;
            let (w, h) = area.estimate_text_size(&line.label, &label_style)?;
            let (w, h) = (w as i32 + 8, h as i32 + 6); // box with a little padding
            let spot = self.label_spot(panel, line.y, (w, h), per_px);
            // Pixel offsets from the anchor on the line: the box sits just beside the line,
            // translucent so data behind it is not fully hidden.
            let (bx, hpos) = if spot.right {
                (-w - 3, HPos::Right)
            } else {
                (3, HPos::Left)
            };
            let by = if spot.above { -h - 2 } else { 2 };
            let tx = if spot.right { -7 } else { 7 };
            chart.draw_series(std::iter::once(
                EmptyElement::at((if spot.right { x1 } else { x0 }, line.y))
                    + Rectangle::new([(bx, by), (bx + w, by + h)], WHITE.mix(0.7).filled())
                    + Text::new(
                        line.label.clone(),
                        // +2: ab_glyph (PNG) centres text ~3 px high, SVG viewers ~1 px
                        // low; split the difference so both look centred.
                        (tx, by + h / 2 + 2),
                        label_style.pos(Pos::new(hpos, VPos::Center)),
                    ),
            ))?;
        }
        Ok(())
    }

    /// Chooses the end of the line and the side for a reference label so that it covers
    /// as little of the median (heavily penalised) and the 25–75% band as possible; the light
    /// outer band is ignored so labels stay put unless they would hide something. Candidates are
    /// tried right-above, right-below, left-above, left-below; the first best one wins.
    fn label_spot(
        &self,
        p: &FanPanel,
        y: f64,
        (w, h): (i32, i32),
        per_px: (f64, f64),
    ) -> LabelSpot {
        let (bw, bh) = (f64::from(w + 3) * per_px.0, f64::from(h + 2) * per_px.1);
        let Range { start: x0, end: x1 } = self.x_range;
        let candidates = [(true, true), (true, false), (false, true), (false, false)];
        let score = |&(right, above): &(bool, bool)| {
            let xs = if right { (x1 - bw, x1) } else { (x0, x0 + bw) };
            let ys = if above { (y, y + bh) } else { (y - bh, y) };
            // A box that would stick out of the plot is as bad as covering the median.
            let outside = ys.0 < self.y_range.start || ys.1 > self.y_range.end;
            let covered = |lo: &[f64], hi: &[f64]| covered_columns(&p.weeks, lo, hi, xs, ys);
            1000 * usize::from(outside) + 10 * covered(&p.p50, &p.p50) + covered(&p.p25, &p.p75)
        };
        let (right, above) = candidates
            .into_iter()
            .min_by_key(score)
            .unwrap_or((true, true));
        LabelSpot { right, above }
    }
}

/// Placement of a reference-line label: at which end of the line, and on which side.
struct LabelSpot {
    right: bool,
    above: bool,
}

/// Counts sample columns across `xs` where the piecewise-linear band lo..hi (a line when
/// lo == hi) reaches into the box `xs` × `ys`.
fn covered_columns(x: &[f64], lo: &[f64], hi: &[f64], xs: (f64, f64), ys: (f64, f64)) -> usize {
    const SAMPLES: usize = 40;
    let extent = |t: f64| Some((interpolate(x, lo, t)?, interpolate(x, hi, t)?));
    let mut prev = None;
    let mut hits = 0;
    for k in 0..=SAMPLES {
        let t = xs.0 + (xs.1 - xs.0) * k as f64 / SAMPLES as f64;
        let here = extent(t);
        // Joining with the previous sample catches steep lines passing between samples.
        if let Some((a, b)) = join(prev, here) {
            if a <= ys.1 && b >= ys.0 {
                hits += 1;
            }
        }
        prev = here;
    }
    hits
}

/// Smallest interval covering both extents (either may be missing).
fn join(a: Option<(f64, f64)>, b: Option<(f64, f64)>) -> Option<(f64, f64)> {
    match (a, b) {
        (Some(a), Some(b)) => Some((a.0.min(b.0), a.1.max(b.1))),
        (a, b) => b.or(a),
    }
}

/// Linear interpolation of y at `t` between the neighbouring finite points, if any bracket it.
fn interpolate(x: &[f64], y: &[f64], t: f64) -> Option<f64> {
    (1..x.len().min(y.len())).find_map(|i| {
        let ((xa, ya), (xb, yb)) = ((x[i - 1], y[i - 1]), (x[i], y[i]));
        let finite = xa.is_finite() && xb.is_finite() && ya.is_finite() && yb.is_finite();
        let inside = t >= xa.min(xb) && t <= xa.max(xb);
        if !(finite && inside) {
            None
        } else if xa == xb {
            Some(ya)
        } else {
            Some(ya + (yb - ya) * (t - xa) / (xb - xa))
        }
    })
}

// ---------------------------------------------------------------------------------------
// Curve chart
// ---------------------------------------------------------------------------------------

/// How a curve chart joins consecutive points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Interpolation {
    /// Post-steps: each value holds until the next x (cumulative shares over time).
    Step,
    /// Straight segments with a marker at every point (discrete x values).
    Linear,
}

/// At most this many x ticks are placed at the data's own x values; beyond that the axis
/// falls back to evenly spaced ticks.
const MAX_POINT_TICKS: usize = 20;
/// Data-value ticks closer than this share of the x span are thinned so labels do not collide.
const MIN_TICK_GAP: f64 = 0.04;
/// Marker radius in pixels for point charts.
const MARKER_SIZE: i32 = 5;

/// Marker shapes of a point chart: circle, square, triangle, diamond.
const MARKER_SHAPES: usize = 4;

/// The outline of curve `i`'s marker around (0, 0), in pixels (a circle as a 16-gon, for the
/// legend; the points themselves use a true circle).
fn marker_shape(i: usize) -> Vec<(i32, i32)> {
    let s = MARKER_SIZE;
    match i % MARKER_SHAPES {
        0 => (0..16)
            .map(|k| {
                let a = k as f64 * std::f64::consts::TAU / 16.0;
                (
                    (f64::from(s) * a.cos()).round() as i32,
                    (f64::from(s) * a.sin()).round() as i32,
                )
            })
            .collect(),
        1 => vec![
            (-s + 1, -s + 1),
            (s - 1, -s + 1),
            (s - 1, s - 1),
            (-s + 1, s - 1),
        ],
        2 => vec![(0, -s - 1), (s + 1, s), (-s - 1, s)],
        _ => vec![(0, -s - 1), (s + 1, 0), (0, s + 1), (-s - 1, 0)],
    }
}

/// `shape` moved `dx` pixels to the right.
fn shifted(shape: &[(i32, i32)], dx: i32) -> Vec<(i32, i32)> {
    shape.iter().map(|&(x, y)| (x + dx, y)).collect()
}

/// An f64 axis with ticks (and grid lines) only at given values. plotters' own
/// `WithKeyPoints` has no f64 value formatter, which the mesh requires.
pub(crate) struct TickedAxis {
    pub(crate) inner: RangedCoordf64,
    pub(crate) ticks: Vec<f64>,
}

impl Ranged for TickedAxis {
    type ValueType = f64;
    type FormatOption = NoDefaultFormatting;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new() // no minor grid between the given values
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }
}

impl ValueFormatter<f64> for TickedAxis {
    fn format(value: &f64) -> String {
        tick_label(value)
    }
}

/// One curve after cleaning: finite points sorted by x, band kept only where both ends are finite.
struct CleanCurve<'a> {
    label: &'a str,
    line: Vec<Vec<(f64, f64)>>,
    band: Vec<Vec<(f64, f64, f64)>>,
}

struct CurveFigure<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    curves: Vec<CleanCurve<'a>>,
    x_range: Range<f64>,
    y_max: f64,
    interpolation: Interpolation,
}

impl<'a> CurveFigure<'a> {
    fn new(
        title: &'a str,
        x_label: &'a str,
        y_label: &'a str,
        y_max: f64,
        curves: &'a [Curve],
        interpolation: Interpolation,
    ) -> Result<Self, PlotError> {
        if curves.is_empty() {
            return Err(PlotError::Input("curve chart has no curves".into()));
        }
        if !(y_max.is_finite() && y_max > 0.0) {
            return Err(PlotError::Input(format!(
                "y_max must be finite and > 0, got {y_max}"
            )));
        }
        for c in curves {
            let n = c.x.len();
            if n == 0 {
                return Err(PlotError::Input(format!(
                    "curve '{}' has no points",
                    c.label
                )));
            }
            let band_ok =
                (c.lo.is_empty() && c.hi.is_empty()) || (c.lo.len() == n && c.hi.len() == n);
            if c.y.len() != n || !band_ok {
                return Err(PlotError::Input(format!(
                    "curve '{}': x has {n} values, y {}, lo {}, hi {} (lo/hi must be empty or match x)",
                    c.label,
                    c.y.len(),
                    c.lo.len(),
                    c.hi.len()
                )));
            }
        }
        let clamp = |v: f64| v.clamp(0.0, y_max);
        let curves: Vec<_> = curves
            .iter()
            .map(|c| CleanCurve {
                label: &c.label,
                line: sorted_runs(&c.x, &[&c.y])
                    .into_iter()
                    .map(|run| run.into_iter().map(|(x, v)| (x, clamp(v[0]))).collect())
                    .collect(),
                band: if c.lo.is_empty() {
                    Vec::new()
                } else {
                    sorted_runs(&c.x, &[&c.lo, &c.hi])
                        .into_iter()
                        .map(|run| {
                            run.into_iter()
                                .map(|(x, v)| (x, clamp(v[0]), clamp(v[1])))
                                .collect()
                        })
                        .collect()
                },
            })
            .collect();
        let x_range =
            padded_range(curves.iter().flat_map(CleanCurve::xs), 0.02).ok_or_else(|| {
                PlotError::Input(
                    "curve chart has no finite points (or their x span overflows)".into(),
                )
            })?;
        Ok(Self {
            title,
            x_label,
            y_label,
            curves,
            x_range,
            y_max,
            interpolation,
        })
    }

    /// Tick positions for a point chart: the distinct x values of the data (thinned where
    /// they would crowd each other), or evenly spaced ticks when there are too many.
    fn x_ticks(&self) -> Vec<f64> {
        let mut xs: Vec<f64> = self.curves.iter().flat_map(CleanCurve::xs).collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        if xs.len() > MAX_POINT_TICKS {
            let even: RangedCoordf64 = self.x_range.clone().into();
            return even.key_points(10);
        }
        let gap = MIN_TICK_GAP * (self.x_range.end - self.x_range.start);
        let mut ticks: Vec<f64> = Vec::with_capacity(xs.len());
        for x in xs {
            match ticks.last() {
                Some(&t) if x - t < gap => {}
                _ => ticks.push(x),
            }
        }
        ticks
    }

    /// Picks the corner whose legend-sized box overlaps the fewest curve/band samples, so
    /// the legend does not hide data (cumulative curves usually leave the upper left free).
    fn legend_position(&self) -> SeriesLabelPosition {
        let (w, h) = (1200.0 - 110.0, 800.0 - 130.0); // approximate plotting area in pixels
        let chars = self
            .curves
            .iter()
            .map(|c| c.label.chars().count())
            .max()
            .unwrap_or(0);
        let fx = ((50.0 + 9.0 * chars as f64) / w).min(0.9);
        let entries = self.curves.iter().filter(|c| !c.label.is_empty()).count();
        let fy = ((14.0 + 24.0 * entries as f64) / h).min(0.9);
        let Range { start: xa, end: xb } = self.x_range;
        let span = xb - xa;
        let corners = [
            (
                SeriesLabelPosition::UpperLeft,
                (xa, xa + fx * span),
                (self.y_max * (1.0 - fy), self.y_max),
            ),
            (
                SeriesLabelPosition::UpperRight,
                (xb - fx * span, xb),
                (self.y_max * (1.0 - fy), self.y_max),
            ),
            (
                SeriesLabelPosition::LowerRight,
                (xb - fx * span, xb),
                (0.0, self.y_max * fy),
            ),
            (
                SeriesLabelPosition::LowerLeft,
                (xa, xa + fx * span),
                (0.0, self.y_max * fy),
            ),
        ];
        corners
            .into_iter()
            .min_by_key(|(_, xs, ys)| self.hits(*xs, *ys)) // first minimum wins: prefers upper left
            .map(|(pos, _, _)| pos)
            .unwrap_or(SeriesLabelPosition::UpperLeft)
    }

    /// Counts sample columns in which some curve or band reaches into the box.
    fn hits(&self, (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> usize {
        const SAMPLES: usize = 60;
        let mut hits = 0;
        for c in &self.curves {
            let mut prev: Option<(f64, f64)> = None;
            for k in 0..=SAMPLES {
                let x = x0 + (x1 - x0) * k as f64 / SAMPLES as f64;
                let here = c.extent_at(x, self.interpolation);
                // Joining with the previous sample also catches vertical step jumps.
                if let Some((lo, hi)) = join(prev, here) {
                    if lo <= y1 && hi >= y0 {
                        hits += 1;
                    }
                }
                prev = here;
            }
        }
        hits
    }
}

impl CleanCurve<'_> {
    fn xs(&self) -> impl Iterator<Item = f64> + '_ {
        let line = self.line.iter().flatten().map(|p| p.0);
        line.chain(self.band.iter().flatten().map(|p| p.0))
    }

    /// Vertical extent of the curve and its band at `x` under the chart's interpolation.
    fn extent_at(&self, x: f64, interpolation: Interpolation) -> Option<(f64, f64)> {
        let line = self.line.iter().filter_map(|run| {
            let (px, val) = (|p: &(f64, f64)| p.0, |p: &(f64, f64)| (p.1, p.1));
            match interpolation {
                Interpolation::Step => step_at(run, x, px, val),
                Interpolation::Linear => linear_at(run, x, px, val),
            }
        });
        let band = self.band.iter().filter_map(|run| {
            let (px, val) = (|p: &(f64, f64, f64)| p.0, |p: &(f64, f64, f64)| (p.1, p.2));
            match interpolation {
                Interpolation::Step => step_at(run, x, px, val),
                Interpolation::Linear => linear_at(run, x, px, val),
            }
        });
        line.chain(band).reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
    }
}

/// Value of a sorted run at `x` if `x` lies within the run (last point with px <= x).
fn step_at<T>(
    run: &[T],
    x: f64,
    px: impl Fn(&T) -> f64,
    val: impl Fn(&T) -> (f64, f64),
) -> Option<(f64, f64)> {
    let last = run.last()?;
    if x < px(&run[0]) || x > px(last) {
        return None;
    }
    let i = run.partition_point(|p| px(p) <= x);
    Some(val(&run[i.saturating_sub(1)]))
}

/// Value of a sorted run at `x` if `x` lies within the run, joining neighbouring points by
/// straight lines (both components interpolated alike).
fn linear_at<T>(
    run: &[T],
    x: f64,
    px: impl Fn(&T) -> f64,
    val: impl Fn(&T) -> (f64, f64),
) -> Option<(f64, f64)> {
    let last = run.last()?;
    if x < px(&run[0]) || x > px(last) {
        return None;
    }
    let i = run.partition_point(|p| px(p) <= x);
    let a = &run[i.saturating_sub(1)];
    let Some(b) = run.get(i) else {
        return Some(val(a)); // x is the last point
    };
    let (xa, xb) = (px(a), px(b));
    let (va, vb) = (val(a), val(b));
    let t = if xb > xa { (x - xa) / (xb - xa) } else { 0.0 };
    Some((va.0 + (vb.0 - va.0) * t, va.1 + (vb.1 - va.1) * t))
}

impl Figure for CurveFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (1200, 800)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(self.title, (FONT, 26).into_font().color(&BLACK))
            .margin(16)
            .margin_right(28)
            .x_label_area_size(50)
            .y_label_area_size(72);
        match self.interpolation {
            Interpolation::Step => {
                let chart = builder.build_cartesian_2d(self.x_range.clone(), 0.0..self.y_max)?;
                self.draw_chart(chart)
            }
            Interpolation::Linear => {
                let x = TickedAxis {
                    inner: self.x_range.clone().into(),
                    ticks: self.x_ticks(),
                };
                let chart = builder.build_cartesian_2d(x, 0.0..self.y_max)?;
                self.draw_chart(chart)
            }
        }
    }
}

impl CurveFigure<'_> {
    /// Mesh, bands, curves and legend on a built chart; generic over the x coordinate so
    /// point charts can place their ticks at the data's x values.
    fn draw_chart<'a, DB, X>(
        &self,
        mut chart: ChartContext<'a, DB, Cartesian2d<X, RangedCoordf64>>,
    ) -> DrawResult<DB>
    where
        DB: DrawingBackend + 'a,
        X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let linear = self.interpolation == Interpolation::Linear;
        // Straight segments for point charts; post-steps otherwise.
        let path = |points: Vec<(f64, f64)>| {
            if linear {
                points
            } else {
                step_points(points)
            }
        };
        chart
            .configure_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 17))
            .x_label_formatter(&tick_label)
            .y_label_formatter(&tick_label)
            .light_line_style(BLACK.mix(0.04))
            .bold_line_style(BLACK.mix(0.12))
            .draw()?;

        // Bands first so every line stays on top of every band.
        for (i, c) in self.curves.iter().enumerate() {
            for run in &c.band {
                if linear && run.len() == 1 {
                    // A lone point has no area to shade: show its interval as a bar.
                    let (x, lo, hi) = run[0];
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(x, lo), (x, hi)],
                        colour(i).mix(0.4).stroke_width(3),
                    )))?;
                    continue;
                }
                let upper = path(run.iter().map(|p| (p.0, p.2)).collect());
                let lower = path(run.iter().map(|p| (p.0, p.1)).collect());
                let poly = band_polygon(upper, lower);
                chart.draw_series(std::iter::once(Polygon::new(
                    poly,
                    colour(i).mix(0.18).filled(),
                )))?;
            }
        }
        for (i, c) in self.curves.iter().enumerate() {
            let style = colour(i).stroke_width(3);
            let marker = colour(i).filled();
            // Point charts: every other curve dashed and each its own marker shape, so that
            // curves running close together (rare risks near zero) stay apart.
            let dashed = linear && i % 2 == 1;
            let shape = marker_shape(i);
            for (k, run) in c.line.iter().enumerate() {
                let series = if dashed {
                    chart.draw_series(DashedLineSeries::new(path(run.clone()), 12, 7, style))?
                } else {
                    chart.draw_series(LineSeries::new(path(run.clone()), style))?
                };
                // One legend entry per labelled curve, however many gaps split it.
                if k == 0 && !c.label.is_empty() {
                    let shape = shape.clone();
                    if linear && dashed {
                        series.label(c.label).legend(move |(x, y)| {
                            EmptyElement::at((x, y))
                                + PathElement::new(vec![(0, 0), (8, 0)], style)
                                + PathElement::new(vec![(16, 0), (24, 0)], style)
                                + Polygon::new(shifted(&shape, 12), marker)
                        });
                    } else if linear {
                        series.label(c.label).legend(move |(x, y)| {
                            EmptyElement::at((x, y))
                                + PathElement::new(vec![(0, 0), (24, 0)], style)
                                + Polygon::new(shifted(&shape, 12), marker)
                        });
                    } else {
                        series.label(c.label).legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 24, y)], style)
                        });
                    }
                }
                if linear && i % MARKER_SHAPES == 0 {
                    chart.draw_series(run.iter().map(|&p| Circle::new(p, MARKER_SIZE, marker)))?;
                } else if linear {
                    chart.draw_series(
                        run.iter()
                            .map(|&p| EmptyElement::at(p) + Polygon::new(shape.clone(), marker)),
                    )?;
                }
            }
        }
        if self.curves.iter().all(|c| c.label.is_empty()) {
            return Ok(()); // an empty legend box would only hide data
        }
        chart
            .configure_series_labels()
            .position(self.legend_position())
            .margin(12)
            .label_font((FONT, 15))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .draw()?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Data helpers
// ---------------------------------------------------------------------------------------

/// Short tick text: "2" rather than "2.0", and scientific notation where plain decimals
/// would be unreadably long or round to zero.
pub(crate) fn tick_label(v: &f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        return format!("{v:.2e}");
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// A count with thousands separators: 20,000.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// min..max of the finite values, widened by `frac` of the span on each side; a constant
/// series gets a unit-scale window so plotters never sees an empty range.
fn padded_range(values: impl Iterator<Item = f64>, frac: f64) -> Option<Range<f64>> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold(None, |acc: Option<(f64, f64)>, v| match acc {
            None => Some((v, v)),
            Some((a, b)) => Some((a.min(v), b.max(v))),
        })?;
    let span = hi - lo;
    let pad = if span > 0.0 {
        span * frac
    } else {
        lo.abs().max(1.0) * 0.1
    };
    let range = (lo - pad)..(hi + pad);
    // Spans near f64::MAX overflow; refuse them rather than hand plotters infinities.
    (range.start.is_finite() && range.end.is_finite() && range.end - range.start > 0.0)
        .then_some(range)
}

/// Splits paired series into runs of consecutive points where both values are finite;
/// a missing value ends a run so lines show a gap instead of a misleading bridge.
fn finite_runs(x: &[f64], y: &[f64]) -> Vec<Vec<(f64, f64)>> {
    split_runs(
        x.iter()
            .zip(y)
            .map(|(&x, &y)| (x.is_finite() && y.is_finite()).then_some((x, y))),
    )
}

/// Closed polygons for the band between `lo` and `hi`, one per run of finite points.
fn band_polygons(x: &[f64], lo: &[f64], hi: &[f64]) -> Vec<Vec<(f64, f64)>> {
    let points = x.iter().zip(lo.iter().zip(hi)).map(|(&x, (&l, &h))| {
        (x.is_finite() && l.is_finite() && h.is_finite()).then_some((x, l, h))
    });
    split_runs(points)
        .into_iter()
        .map(|run| {
            let upper = run.iter().map(|p| (p.0, p.2)).collect();
            band_polygon(upper, run.iter().map(|p| (p.0, p.1)).collect())
        })
        .collect()
}

/// Outline of a band: along the upper edge, then back along the lower edge.
fn band_polygon(upper: Vec<(f64, f64)>, lower: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    upper.into_iter().chain(lower.into_iter().rev()).collect()
}

/// Runs of finite points sorted by x, for curves given in any order. Rows are sorted first
/// and then split where any of `cols` is missing.
fn sorted_runs(x: &[f64], cols: &[&Vec<f64>]) -> Vec<Vec<(f64, Vec<f64>)>> {
    let mut rows: Vec<(f64, Vec<f64>)> = (0..x.len())
        .filter(|&i| x[i].is_finite())
        .map(|i| (x[i], cols.iter().map(|c| c[i]).collect()))
        .collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    split_runs(
        rows.into_iter()
            .map(|(x, v)| v.iter().all(|v| v.is_finite()).then_some((x, v))),
    )
}

fn split_runs<T>(items: impl Iterator<Item = Option<T>>) -> Vec<Vec<T>> {
    let mut runs = vec![Vec::new()];
    for item in items {
        match item {
            Some(p) => runs.last_mut().expect("runs is never empty").push(p),
            None if runs.last().is_some_and(|r| !r.is_empty()) => runs.push(Vec::new()),
            None => {}
        }
    }
    runs.retain(|r| !r.is_empty());
    runs
}

/// Post-step path through the points: hold each value until the next x, then jump.
pub(crate) fn step_points(points: impl IntoIterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (x, y) in points {
        if let Some(&(_, prev_y)) = out.last() {
            out.push((x, prev_y));
        }
        out.push((x, y));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

    fn panel(title: &str, shift: f64) -> FanPanel {
        let weeks: Vec<f64> = (0..=8).map(f64::from).collect();
        let median: Vec<f64> = weeks.iter().map(|w| 0.22 + shift + 0.012 * w).collect();
        let off = |d: f64| {
            median
                .iter()
                .zip(&weeks)
                .map(|(m, w)| m + d * (1.0 + 0.1 * w))
                .collect()
        };
        FanPanel {
            title: title.into(),
            p5: off(-0.06),
            p25: off(-0.025),
            p75: off(0.025),
            p95: off(0.06),
            p50: median.clone(),
            weeks,
        }
    }

    fn curve(label: &str, rate: f64, band: bool) -> Curve {
        let x: Vec<f64> = (0..=8).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|w| 1.0 - (-rate * w).exp()).collect();
        let (lo, hi) = if band {
            (
                y.iter().map(|v| (v - 0.05).max(0.0)).collect(),
                y.iter().map(|v| (v + 0.05).min(1.0)).collect(),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        Curve {
            label: label.into(),
            x,
            y,
            lo,
            hi,
        }
    }

    fn check_outputs(paths: &[PathBuf], title: &str) {
        assert_eq!(paths.len(), 2);
        let png = std::fs::read(&paths[0]).expect("png written");
        assert!(png.starts_with(&PNG_SIGNATURE), "not a PNG");
        assert!(
            png.len() > 20_000,
            "PNG suspiciously small: {} bytes",
            png.len()
        );
        let svg = std::fs::read_to_string(&paths[1]).expect("svg written");
        assert!(svg.contains("<svg"));
        assert!(svg.contains(title), "title text missing from SVG");
    }

    #[test]
    fn fan_chart_writes_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let mut with_gap = panel("ALPPS", 0.1);
        with_gap.p50[4] = f64::NAN;
        with_gap.p95[5] = f64::NAN;
        let panels = [panel("PVE", 0.0), with_gap, panel("PVE+HVE", 0.05)];
        let lines = [
            ReferenceLine {
                label: "Minimum sFLR 0.30".into(),
                y: 0.30,
            },
            ReferenceLine {
                label: "ignored".into(),
                y: f64::NAN,
            },
        ];
        let title = "Future liver remnant after portal vein embolisation";
        let paths = fan_chart(&dir.path().join("fan"), title, "sFLR", &panels, &lines).unwrap();
        assert_eq!(paths[0], dir.path().join("fan.png"));
        assert_eq!(paths[1], dir.path().join("fan.svg"));
        check_outputs(&paths, title);
    }

    #[test]
    fn curve_chart_writes_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let mut gappy = curve("ALPPS", 0.9, false);
        gappy.y[3] = f64::NAN;
        let curves = [curve("PVE", 0.15, true), curve("PVE+HVE", 0.3, true), gappy];
        let title = "Share ready for resection";
        let paths = curve_chart(
            &dir.path().join("ready"),
            title,
            "Weeks",
            "Share of patients",
            1.0,
            &curves,
        )
        .unwrap();
        check_outputs(&paths, title);
    }

    /// Discrete x values (cycle counts): straight segments, markers, ticks at the given
    /// values, and the same bytes on every render.
    #[test]
    fn point_chart_is_deterministic_and_ticks_at_the_data() {
        let dir = tempfile::tempdir().unwrap();
        let n = [4.0, 6.0, 8.0, 10.0, 12.0, 16.0];
        let mut curves: Vec<Curve> = (0..3)
            .map(|k| {
                let y: Vec<f64> = n.iter().map(|c| 10.0 * k as f64 + 2.0 * c).collect();
                Curve {
                    label: format!("measure {k}"),
                    x: n.to_vec(),
                    lo: y.iter().map(|v| v - 3.0).collect(),
                    hi: y.iter().map(|v| v + 3.0).collect(),
                    y,
                }
            })
            .collect();
        curves[1].y[2] = f64::NAN; // a gap, not an error
        curves[2].lo[1] = f64::NAN; // leaves a one-point band at N = 4
        let title = "Resecting after N cycles";
        let draw = |name: &str| {
            point_chart(
                &dir.path().join(name),
                title,
                "cycles (N)",
                "patients (%)",
                100.0,
                &curves,
            )
            .unwrap()
        };
        let (a, b) = (draw("a"), draw("b"));
        check_outputs(&a, title);
        for (a, b) in a.iter().zip(&b) {
            assert_eq!(
                std::fs::read(a).unwrap(),
                std::fs::read(b).unwrap(),
                "{a:?}"
            );
        }
        // Differs from the stepped drawing of the same data.
        let step = curve_chart(
            &dir.path().join("step"),
            title,
            "cycles (N)",
            "patients (%)",
            100.0,
            &curves,
        )
        .unwrap();
        assert_ne!(
            std::fs::read(&a[1]).unwrap(),
            std::fs::read(&step[1]).unwrap()
        );

        let fig = CurveFigure::new(title, "x", "y", 100.0, &curves, Interpolation::Linear).unwrap();
        assert_eq!(fig.x_ticks(), n.to_vec());
        // Tick text sits on its own line inside <text>; drop whitespace before matching.
        let svg: String = std::fs::read_to_string(&a[1])
            .unwrap()
            .split_whitespace()
            .collect();
        for tick in ["4", "6", "8", "10", "12", "16"] {
            assert!(
                svg.contains(&format!(">{tick}</text>")),
                "tick {tick} missing"
            );
        }
        assert!(!svg.contains(">14</text>"), "tick between data values");
        assert!(svg.contains("<circle"), "no markers drawn");
    }

    #[test]
    fn point_chart_rejects_nan_and_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("bad");
        let good = || curve("PVE", 0.2, true);
        let chart = |y_max: f64, curves: &[Curve]| point_chart(&stem, "t", "x", "y", y_max, curves);
        for y_max in [f64::NAN, f64::INFINITY, 0.0] {
            assert!(matches!(chart(y_max, &[good()]), Err(PlotError::Input(_))));
        }
        let mut all_nan = good();
        all_nan.y.fill(f64::NAN);
        all_nan.lo.fill(f64::NAN);
        assert!(matches!(chart(1.0, &[all_nan]), Err(PlotError::Input(_))));
        let mut nan_x = good();
        nan_x.x.fill(f64::NAN);
        assert!(matches!(chart(1.0, &[nan_x]), Err(PlotError::Input(_))));
        let mut short = good();
        short.lo.pop();
        assert!(matches!(chart(1.0, &[short]), Err(PlotError::Input(_))));
        assert!(chart(1.0, &[]).is_err());
        assert!(!dir.path().join("bad.png").exists());
    }

    #[test]
    fn linear_extent_interpolates_between_points() {
        let run = [(0.0, 0.0, 10.0), (2.0, 4.0, 6.0)];
        let (px, val) = (|p: &(f64, f64, f64)| p.0, |p: &(f64, f64, f64)| (p.1, p.2));
        assert_eq!(linear_at(&run, 1.0, px, val), Some((2.0, 8.0)));
        assert_eq!(linear_at(&run, 2.0, px, val), Some((4.0, 6.0)));
        assert_eq!(linear_at(&run, 2.5, px, val), None);
        assert_eq!(step_at(&run, 1.0, px, val), Some((0.0, 10.0)));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("bad");

        let mut short = panel("PVE", 0.0);
        short.p75.pop();
        let err = fan_chart(&stem, "t", "y", &[short], &[]).unwrap_err();
        assert!(matches!(err, PlotError::Input(_)), "{err}");
        assert!(fan_chart(&stem, "t", "y", &[], &[]).is_err());

        let mut c = curve("PVE", 0.2, true);
        c.hi.pop();
        assert!(matches!(
            curve_chart(&stem, "t", "x", "y", 1.0, &[c]),
            Err(PlotError::Input(_))
        ));
        let mut c = curve("PVE", 0.2, false);
        c.y.push(0.5);
        assert!(curve_chart(&stem, "t", "x", "y", 1.0, &[c]).is_err());
        assert!(curve_chart(&stem, "t", "x", "y", 1.0, &[]).is_err());
        assert!(curve_chart(&stem, "t", "x", "y", f64::NAN, &[curve("a", 0.2, false)]).is_err());

        // All-NaN data has nothing to scale the axes to.
        let mut nan = panel("PVE", 0.0);
        for v in [
            &mut nan.p5,
            &mut nan.p25,
            &mut nan.p50,
            &mut nan.p75,
            &mut nan.p95,
        ] {
            v.fill(f64::NAN);
        }
        assert!(fan_chart(&stem, "t", "y", &[nan], &[]).is_err());
        assert!(!dir.path().join("bad.png").exists());
    }

    /// Protects the print resolution: the PNG is a whole multiple of the figure's (the
    /// SVG's) size and at least 300 dpi across a 174 mm page, says so in its pHYs chunk (with
    /// a valid CRC), and the SVG keeps the screen size.
    #[test]
    fn png_is_at_print_resolution() {
        assert_eq!(print_scale(1200), 2);
        assert_eq!(print_scale(400), 6);
        assert_eq!(print_scale(3000), 1);
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        let dir = tempfile::tempdir().unwrap();
        let paths = curve_chart(
            &dir.path().join("print"),
            "t",
            "x",
            "y",
            1.0,
            &[curve("a", 0.2, true)],
        )
        .unwrap();
        let png = std::fs::read(&paths[0]).unwrap();
        let be = |i: usize| u32::from_be_bytes([png[i], png[i + 1], png[i + 2], png[i + 3]]);
        let (w, h) = (be(16), be(20));
        assert_eq!((w, h), (2400, 1600));
        let dpi_at_174_mm = f64::from(w) / (174.0 / 25.4);
        assert!(w >= PRINT_WIDTH_PX && dpi_at_174_mm >= 300.0, "{w} px");
        let at = png
            .windows(4)
            .position(|c| c == b"pHYs")
            .expect("pHYs chunk");
        let per_metre = be(at + 4);
        assert_eq!(be(at + 8), per_metre);
        assert_eq!(png[at + 12], 1, "unit: metre");
        assert_eq!(be(at + 13), crc32(&png[at..at + 13]));
        let printed_mm = 1000.0 * f64::from(w) / f64::from(per_metre);
        assert!((printed_mm - PRINT_WIDTH_MM).abs() < 0.1, "{printed_mm} mm");
        let svg = std::fs::read_to_string(&paths[1]).unwrap();
        assert!(svg.contains("width=\"1200\"") && svg.contains("height=\"800\""));
    }

    /// Protects the captions: written into the SVG as its description, escaped, and read
    /// back for the report; the PNG is left alone.
    #[test]
    fn caption_is_carried_in_the_svg() {
        let dir = tempfile::tempdir().unwrap();
        let paths = curve_chart(
            &dir.path().join("c"),
            "t",
            "x",
            "y",
            1.0,
            &[curve("a", 0.2, false)],
        )
        .unwrap();
        let png = std::fs::read(&paths[0]).unwrap();
        let paths = caption(paths, "All 1,000 patients; n < 5 & more").unwrap();
        assert_eq!(std::fs::read(&paths[0]).unwrap(), png);
        let svg = std::fs::read_to_string(&paths[1]).unwrap();
        assert!(svg.trim_start().starts_with("<svg"));
        assert_eq!(
            svg_caption(&svg),
            Some("All 1,000 patients; n &lt; 5 &amp; more")
        );
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(20_000), "20,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn unwritable_path_is_a_draw_error() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("missing-dir").join("fan");
        let err = fan_chart(&stem, "t", "y", &[panel("PVE", 0.0)], &[]).unwrap_err();
        assert!(matches!(err, PlotError::Draw { .. }), "{err}");
    }
}
