//! Tornado chart of a one-way sensitivity analysis: how far the outcome moves when one
//! parameter at a time is set to its low and to its high value, every other parameter staying
//! at its base value.
//!
//! A solid vertical line marks the base outcome (every parameter at its base value). Each
//! parameter gets a row with a bar from the base outcome to the outcome at its low value and
//! another to the outcome at its high value, in two colours. Rows are sorted by swing,
//! |outcome at high − outcome at low|, widest at the top, which gives the chart its shape.
//! When both outcomes lie on the same side of the base, the shorter bar is drawn thinner, on
//! top of the longer one, so neither hides the other. Left of each row: the parameter's label
//! and, in a smaller grey column, its low and high values.
//!
//! Same contract as [`super::plots`], whose renderer, embedded font and palette this chart
//! uses: plain data in, `<stem>.png` and `<stem>.svg` out of one drawing routine, identical
//! bytes for identical input.

use std::ops::Range;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use super::clinical_plots::{fit_text, text_size, text_style, Key, KEY_MARK_W};
use super::forest::{row_pixels, stripe_rows, title_and_key};
use super::plots::{
    render, tick_label, DrawResult, Figure, PlotError, FONT, PALETTE, REFERENCE_COLOUR,
};

/// One parameter of a one-way sensitivity analysis.
pub struct TornadoBar {
    /// Parameter label, e.g. "procedures.alpps.death".
    pub label: String,
    /// The parameter's low and high values (shown in the label area, e.g. "0.0095 – 0.036").
    pub low_value: f64,
    pub high_value: f64,
    /// The outcome with the parameter at its low and at its high value.
    pub outcome_at_low: f64,
    pub outcome_at_high: f64,
}

/// Tornado chart of a one-way sensitivity analysis (see the module documentation): a vertical
/// line at `base`, the outcome with every parameter at its base value, and per parameter a
/// bar from `base` to the outcome at its low value and one to the outcome at its high value.
/// Bars are sorted here by swing |outcome_at_high − outcome_at_low|, widest at the top; bars
/// of equal swing keep their given order. A bar whose outcomes both equal `base` draws nothing
/// but keeps its row and label. The x axis is linear and spans every outcome and `base`, with
/// `x_label` under it. Labels too wide for the label column are shortened with "…".
/// Writes `<stem>.png` and `<stem>.svg` and returns both paths.
///
/// # Errors
/// [`PlotError::Input`] for no bars or more than 100, any value (or `base`) that is NaN or
/// infinite, or outcomes spread too wide for f64 to span; [`PlotError::Draw`] when a file
/// cannot be written.
pub fn tornado_chart(
    stem: &Path,
    title: &str,
    x_label: &str,
    base: f64,
    bars: &[TornadoBar],
) -> Result<Vec<PathBuf>, PlotError> {
    let fig = TornadoFigure::new(title, x_label, base, bars)?;
    render(stem, &fig)
}

const WIDTH: u32 = 1200;
/// Height of one row in pixels; the image grows with the number of bars.
const ROW_H: u32 = 34;
/// Beyond this many bars the image becomes enormous; callers should split the chart.
pub(crate) const MAX_BARS: usize = 100;
const TITLE_FONT: u32 = 26;
const LABEL_FONT: u32 = 15;
/// The low – high values beside each label, and their column heading.
const VALUE_FONT: u32 = 13;
const KEY_FONT: u32 = 15;
/// Widest label in pixels before it is shortened with "…".
const MAX_LABEL_W: i32 = 420;
/// Widest low – high text in pixels before it is shortened (only extreme values get close).
const MAX_VALUES_W: i32 = 220;
/// Pixels between a label, its values and the plot.
const LABEL_GAP: i32 = 12;
/// Chart margins, x axis area and the space under the title and key: everything but the rows.
const FRAME_H: u32 = 154;
/// Room above the plotting area for the heading of the values column.
const HEADING_H: u32 = 24;
/// Padding of the x axis beyond the outcomes on each side, as a share of their span.
const X_PAD: f64 = 0.06;

const LOW_COLOUR: RGBColor = PALETTE[0]; // blue
const HIGH_COLOUR: RGBColor = PALETTE[1]; // vermillion
const VALUE_COLOUR: RGBColor = RGBColor(100, 100, 100);

/// Half the height of a bar; a shorter bar on the same side as a longer one is half as tall.
const BAR_HALF_H: i32 = 11;
/// Narrowest bar in pixels, so an outcome that differs from the base at all still shows.
const MIN_BAR_W: i32 = 2;

/// A number to 4 significant digits, as short as possible: "0.0095", "0.036", "42",
/// "0.3333", and "1.235e4" or "-2.5e-5" outside 0.001 ≤ |v| < 10000.
fn compact(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{}", if v == 0.0 { 0.0 } else { v });
    }
    // Rounded to 4 significant digits first, so the exponent is that of the printed value.
    let sci = format!("{v:.3e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| s.trim_end_matches('0').trim_end_matches('.').to_string();
    if (-3..4).contains(&exp) {
        let rounded: f64 = sci.parse().unwrap_or(v);
        trim(&format!("{rounded:.*}", (3 - exp) as usize))
    } else {
        format!("{}e{exp}", trim(mantissa))
    }
}

/// One bar after validation and sorting.
struct Row {
    /// The label, shortened to fit the label column.
    label: String,
    /// "low – high".
    values: String,
    outcome_at_low: f64,
    outcome_at_high: f64,
}

struct TornadoFigure {
    /// The title and axis description, shortened to the width of the image.
    title: String,
    x_label: String,
    base: f64,
    /// Widest swing first.
    rows: Vec<Row>,
    /// Widths in pixels of the label column and of the values column.
    label_w: i32,
    values_w: i32,
    x_range: Range<f64>,
    key: Key<Mark>,
}

impl TornadoFigure {
    fn new(title: &str, x_label: &str, base: f64, bars: &[TornadoBar]) -> Result<Self, PlotError> {
        if bars.is_empty() {
            return Err(PlotError::Input("tornado chart has no bars".into()));
        }
        if bars.len() > MAX_BARS {
            return Err(PlotError::Input(format!(
                "tornado chart has {} bars; at most {MAX_BARS} fit",
                bars.len()
            )));
        }
        if !base.is_finite() {
            return Err(PlotError::Input(format!(
                "tornado chart: the base outcome is {base} (NaN and infinities cannot be drawn)"
            )));
        }
        for (i, b) in bars.iter().enumerate() {
            let values = [
                ("low_value", b.low_value),
                ("high_value", b.high_value),
                ("outcome_at_low", b.outcome_at_low),
                ("outcome_at_high", b.outcome_at_high),
            ];
            if let Some((name, v)) = values.iter().find(|(_, v)| !v.is_finite()) {
                return Err(PlotError::Input(format!(
                    "tornado chart bar {} '{}': {name} is {v} (NaN and infinities cannot be drawn)",
                    i + 1,
                    b.label
                )));
            }
        }
        let x_range = outcome_range(base, bars)?;

        let swing = |b: &TornadoBar| (b.outcome_at_high - b.outcome_at_low).abs();
        let mut sorted: Vec<&TornadoBar> = bars.iter().collect();
        // Stable: bars of equal swing keep their given order.
        sorted.sort_by(|a, b| swing(b).total_cmp(&swing(a)));
        let rows: Vec<Row> = sorted
            .into_iter()
            .map(|b| Row {
                label: fit_text(&b.label, LABEL_FONT, MAX_LABEL_W),
                values: fit_text(
                    &format!("{} – {}", compact(b.low_value), compact(b.high_value)),
                    VALUE_FONT,
                    MAX_VALUES_W,
                ),
                outcome_at_low: b.outcome_at_low,
                outcome_at_high: b.outcome_at_high,
            })
            .collect();
        let widest = |texts: &mut dyn Iterator<Item = &str>, font: u32| {
            texts.map(|t| text_size(t, font).0).max().unwrap_or(0)
        };
        let label_w = widest(&mut rows.iter().map(|r| r.label.as_str()), LABEL_FONT).max(40);
        let values_w = widest(
            &mut rows
                .iter()
                .map(|r| r.values.as_str())
                .chain([VALUES_HEADING]),
            VALUE_FONT,
        );
        let key = vec![
            (
                Mark::Swatch(LOW_COLOUR),
                "parameter at its low value".into(),
            ),
            (
                Mark::Swatch(HIGH_COLOUR),
                "parameter at its high value".into(),
            ),
            (
                Mark::Line,
                format!("all parameters at their base values: {}", compact(base)),
            ),
        ];
        Ok(Self {
            title: fit_text(title, TITLE_FONT, WIDTH as i32 - 40),
            x_label: fit_text(x_label, 17, WIDTH as i32 - 200),
            base,
            rows,
            label_w,
            values_w,
            x_range,
            key: Key {
                entries: key,
                font: KEY_FONT,
            },
        })
    }

    /// Width of the area left of the plot: label, values and the gaps around them.
    fn left_w(&self) -> i32 {
        self.label_w + self.values_w + 3 * LABEL_GAP
    }
}

/// Heading of the values column.
const VALUES_HEADING: &str = "low – high";

/// The x axis: every outcome and the base, padded on each side.
fn outcome_range(base: f64, bars: &[TornadoBar]) -> Result<Range<f64>, PlotError> {
    let (lo, hi) = bars
        .iter()
        .flat_map(|b| [b.outcome_at_low, b.outcome_at_high])
        .fold((base, base), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let span = hi - lo;
    let pad = if span > 0.0 {
        span * X_PAD
    } else {
        // Nothing moves the outcome: a window around the base so the axis is not empty.
        lo.abs().max(1.0) * 0.1
    };
    let range = (lo - pad)..(hi + pad);
    if range.start.is_finite() && range.end.is_finite() && range.end - range.start > 0.0 {
        Ok(range)
    } else {
        Err(PlotError::Input(format!(
            "tornado chart: outcomes from {lo} to {hi} span too wide a range to draw"
        )))
    }
}

/// A symbol in the key.
#[derive(Clone, Copy)]
enum Mark {
    Swatch(RGBColor),
    /// The base line.
    Line,
}

fn draw_key<DB: DrawingBackend>(key: &Key<Mark>, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    key.draw_with(area, |area, mark, x, y| match mark {
        Mark::Swatch(c) => area.draw(&Rectangle::new(
            [(x, y - 7), (x + KEY_MARK_W, y + 7)],
            c.filled(),
        )),
        Mark::Line => {
            let mid = x + KEY_MARK_W / 2;
            area.draw(&PathElement::new(
                vec![(mid, y - 9), (mid, y + 9)],
                REFERENCE_COLOUR.stroke_width(2),
            ))
        }
    })
}

impl Figure for TornadoFigure {
    fn size(&self) -> (u32, u32) {
        let rows = ROW_H * self.rows.len() as u32;
        (
            WIDTH,
            FRAME_H + HEADING_H + self.key.height(WIDTH as i32 - 20) as u32 + rows,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let plot = title_and_key(root, &self.title, &self.key, draw_key)?;

        let n = self.rows.len() as f64;
        let mut chart = ChartBuilder::on(&plot)
            .margin(16)
            .margin_top(16 + HEADING_H)
            .margin_right(30)
            .x_label_area_size(50)
            .y_label_area_size(self.left_w())
            .build_cartesian_2d(self.x_range.clone(), 0.0..n)?;

        let (px, py) = chart.plotting_area().get_pixel_range();
        let row_y = row_pixels(self.rows.len(), |v| chart.backend_coord(&(self.base, v)).1);
        stripe_rows(root, &px, &row_y)?;

        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(10)
            .x_desc(self.x_label.as_str())
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 17))
            .x_label_formatter(&tick_label)
            .light_line_style(BLACK.mix(0.04))
            .bold_line_style(BLACK.mix(0.12))
            .draw()?;

        let x = |v: f64| chart.backend_coord(&(v, 0.0)).0;
        let x_base = x(self.base);
        let values_right = px.start - LABEL_GAP;
        let label_right = values_right - self.values_w - LABEL_GAP;
        root.draw(&Text::new(
            VALUES_HEADING,
            (values_right, py.start - HEADING_H as i32 / 2),
            text_style(VALUE_FONT, VALUE_COLOUR, HPos::Right),
        ))?;
        for (row, &(_, y, _)) in self.rows.iter().zip(&row_y) {
            // The longer bar first, so a shorter one on the same side stays visible on top.
            let mut ends = [
                (row.outcome_at_low, LOW_COLOUR),
                (row.outcome_at_high, HIGH_COLOUR),
            ];
            let dist = |v: f64| (v - self.base).abs();
            if dist(ends[1].0) > dist(ends[0].0) {
                ends.swap(0, 1);
            }
            let same_side = (ends[0].0 - self.base) * (ends[1].0 - self.base) > 0.0;
            for (k, &(v, colour)) in ends.iter().enumerate() {
                if v == self.base {
                    continue;
                }
                let half = if k == 1 && same_side {
                    BAR_HALF_H / 2
                } else {
                    BAR_HALF_H
                };
                let xv = x(v);
                let (a, b) = if v > self.base {
                    (x_base, xv.max(x_base + MIN_BAR_W))
                } else {
                    (xv.min(x_base - MIN_BAR_W), x_base)
                };
                root.draw(&Rectangle::new(
                    [(a, y - half), (b, y + half)],
                    colour.filled(),
                ))?;
            }

            // Labels and values go left of the plot, outside the plotting area.
            root.draw(&Text::new(
                row.label.clone(),
                (label_right, y + 1),
                text_style(LABEL_FONT, BLACK, HPos::Right),
            ))?;
            root.draw(&Text::new(
                row.values.clone(),
                (values_right, y + 1),
                text_style(VALUE_FONT, VALUE_COLOUR, HPos::Right),
            ))?;
        }
        // The base line over the bars, across every row.
        root.draw(&PathElement::new(
            vec![(x_base, py.start), (x_base, py.end)],
            REFERENCE_COLOUR.stroke_width(2),
        ))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::forest::tests::{keep, svg_escaped};

    const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

    fn bar(label: &str, values: (f64, f64), outcomes: (f64, f64)) -> TornadoBar {
        TornadoBar {
            label: label.into(),
            low_value: values.0,
            high_value: values.1,
            outcome_at_low: outcomes.0,
            outcome_at_high: outcomes.1,
        }
    }

    const BASE: f64 = 0.412;

    /// Six parameters, deliberately not in order of swing: outcomes on both sides of the base,
    /// both on one side, one that does not move the outcome, and text that SVG must escape.
    fn parameters() -> Vec<TornadoBar> {
        vec![
            bar("procedures.alpps.death", (0.0095, 0.036), (0.431, 0.377)),
            bar("model.regeneration.rate", (1.8, 3.1), (0.322, 0.489)),
            bar("cohort.tumour_volume_ml", (120.0, 480.0), (0.405, 0.412)),
            bar(
                "model.planner.min_sflr <ISGLS> & \"B\"",
                (0.2, 0.3),
                (0.452, 0.36),
            ),
            bar("cohort.age_years", (55.0, 75.0), (0.412, 0.412)),
            bar("procedures.pve.dropout", (0.05, 0.15), (0.425, 0.433)),
        ]
    }

    /// Labels top to bottom for `parameters()`, by swing: 0.167, 0.092, 0.054, 0.008,
    /// 0.007, 0.
    const SORTED: [usize; 6] = [1, 3, 0, 5, 2, 4];

    /// The y coordinate of the SVG text element whose content is exactly `text`.
    fn text_y(svg: &str, text: &str) -> f64 {
        let escaped = svg_escaped(text);
        svg.split("<text")
            .skip(1)
            .find_map(|element| {
                let (attributes, rest) = element.split_once('>')?;
                let content = rest.split("</text>").next()?.trim();
                let y = attributes.split(" y=\"").nth(1)?.split('"').next()?;
                (content == escaped).then(|| y.parse().unwrap())
            })
            .unwrap_or_else(|| panic!("{text:?} missing from SVG"))
    }

    #[test]
    fn tornado_chart_is_deterministic_and_labels_every_bar() {
        let dir = tempfile::tempdir().unwrap();
        let bars = parameters();
        let title = "One-way sensitivity of resection within 12 weeks";
        let draw = |name: &str| {
            tornado_chart(
                &dir.path().join(name),
                title,
                "patients resected within 12 weeks (share)",
                BASE,
                &bars,
            )
            .unwrap()
        };
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
        for text in [
            "parameter at its low value",
            "parameter at its high value",
            "all parameters at their base values: 0.412",
            "low – high",
            "0.0095 – 0.036",
            "120 – 480",
        ] {
            assert!(svg.contains(text), "{text:?} missing from SVG");
        }
        for b in &bars {
            let label = svg_escaped(&b.label);
            assert!(svg.contains(&label), "label {label:?} missing from SVG");
        }
        keep(&a, "tornado_demo");
    }

    /// Rows run from the widest swing at the top to the narrowest, whatever the given order;
    /// the bar that does not move the outcome keeps its row and label but draws no bar.
    #[test]
    fn bars_are_sorted_by_swing_widest_on_top() {
        let dir = tempfile::tempdir().unwrap();
        let bars = parameters();
        let fig = TornadoFigure::new("t", "x", BASE, &bars).unwrap();
        let labels: Vec<&str> = fig.rows.iter().map(|r| r.label.as_str()).collect();
        let expected: Vec<&str> = SORTED.iter().map(|&i| bars[i].label.as_str()).collect();
        assert_eq!(labels, expected);

        let paths = tornado_chart(&dir.path().join("sorted"), "t", "x", BASE, &bars).unwrap();
        let svg = std::fs::read_to_string(&paths[1]).unwrap();
        let ys: Vec<f64> = SORTED
            .iter()
            .map(|&i| text_y(&svg, &bars[i].label))
            .collect();
        assert!(ys.windows(2).all(|w| w[0] < w[1]), "{ys:?}");
        // The same order in the text of the SVG, top bar first.
        let at: Vec<usize> = SORTED
            .iter()
            .map(|&i| svg.find(&svg_escaped(&bars[i].label)).unwrap())
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");

        // One key swatch per colour, plus a bar per parameter whose outcome at that end
        // differs from the base: every low end moves but cohort.age_years; every high end
        // moves but cohort.age_years and cohort.tumour_volume_ml.
        let fill = |c: RGBColor| format!("fill=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2);
        assert_eq!(svg.matches(&fill(LOW_COLOUR)).count(), 1 + 5, "low bars");
        assert_eq!(svg.matches(&fill(HIGH_COLOUR)).count(), 1 + 4, "high bars");

        // Reversing the input changes nothing but the order of equal swings (none here).
        let reversed: Vec<TornadoBar> = parameters().into_iter().rev().collect();
        let again = tornado_chart(&dir.path().join("reversed"), "t", "x", BASE, &reversed).unwrap();
        assert!(std::fs::read(&again[1]).unwrap() == std::fs::read(&paths[1]).unwrap());
    }

    #[test]
    fn size_grows_with_the_bars_and_long_labels_are_shortened() {
        let mut bars = parameters();
        let long = "x".repeat(300);
        bars[1].label = long.clone();
        let fig = TornadoFigure::new("t", "x", BASE, &bars).unwrap();
        let short = &fig.rows[0].label;
        assert!(short.ends_with('…') && short.len() < long.len(), "{short}");
        assert!(text_size(short, LABEL_FONT).0 <= MAX_LABEL_W);
        assert_eq!(fig.rows[1].label, bars[3].label);
        let one = TornadoFigure::new("t", "x", BASE, &bars[..1]).unwrap();
        assert_eq!(fig.size().0, 1200);
        assert_eq!(fig.size().1 - one.size().1, 5 * ROW_H);
    }

    /// The axis holds every outcome and the base with some room; nothing moving still
    /// gives an axis.
    #[test]
    fn axis_spans_every_outcome_and_the_base() {
        let r = outcome_range(BASE, &parameters()).unwrap();
        let (lo, hi) = (0.322, 0.489);
        assert!(r.start < lo && r.end > hi, "{r:?}");
        assert!(
            r.start > lo - 0.2 * (hi - lo) && r.end < hi + 0.2 * (hi - lo),
            "{r:?}"
        );
        let r = outcome_range(10.0, &[bar("b", (0.0, 1.0), (12.0, 13.0))]).unwrap();
        assert!(r.start < 10.0 && r.end > 13.0, "{r:?}");
        let r = outcome_range(5.0, &[bar("flat", (0.0, 1.0), (5.0, 5.0))]).unwrap();
        assert!(r.start < 5.0 && r.end > 5.0, "{r:?}");
        let huge = [bar("huge", (0.0, 1.0), (-f64::MAX, f64::MAX))];
        assert!(matches!(
            outcome_range(0.0, &huge),
            Err(PlotError::Input(_))
        ));
    }

    #[test]
    fn values_are_written_to_four_significant_digits() {
        assert_eq!(compact(0.0095), "0.0095");
        assert_eq!(compact(0.036), "0.036");
        assert_eq!(compact(1.0 / 3.0), "0.3333");
        assert_eq!(compact(42.0), "42");
        assert_eq!(compact(120.0), "120");
        assert_eq!(compact(1234.56), "1235");
        assert_eq!(compact(9.99996), "10");
        assert_eq!(compact(9999.6), "1e4");
        assert_eq!(compact(123456.0), "1.235e5");
        assert_eq!(compact(0.001), "0.001");
        assert_eq!(compact(0.00025), "2.5e-4");
        assert_eq!(compact(-2.5e-5), "-2.5e-5");
        assert_eq!(compact(-0.5), "-0.5");
        assert_eq!(compact(0.0), "0");
        assert_eq!(compact(-0.0), "0");
    }

    #[test]
    fn invalid_input_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("bad");
        let input_error =
            |base: f64, bars: &[TornadoBar]| match tornado_chart(&stem, "t", "x", base, bars) {
                Err(PlotError::Input(message)) => message,
                other => panic!("expected an input error, got {other:?}"),
            };
        assert!(input_error(BASE, &[]).contains("no bars"));
        assert!(input_error(f64::NAN, &parameters()).contains("base outcome is NaN"));
        type Field = fn(&mut TornadoBar) -> &mut f64;
        let fields: [(&str, Field); 4] = [
            ("low_value", |b| &mut b.low_value),
            ("high_value", |b| &mut b.high_value),
            ("outcome_at_low", |b| &mut b.outcome_at_low),
            ("outcome_at_high", |b| &mut b.outcome_at_high),
        ];
        for (name, field) in fields {
            for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                let mut bars = parameters();
                *field(&mut bars[3]) = bad;
                let message = input_error(BASE, &bars);
                assert!(
                    message.contains("bar 4 'model.planner.min_sflr <ISGLS> & \"B\"'")
                        && message.contains(&format!("{name} is {bad}")),
                    "{message}"
                );
            }
        }
        let many: Vec<TornadoBar> = (0..=MAX_BARS)
            .map(|i| bar(&format!("p{i}"), (0.0, 1.0), (0.0, 1.0)))
            .collect();
        assert!(input_error(0.5, &many).contains("101 bars"));
        let huge = [bar("huge", (0.0, 1.0), (-f64::MAX, f64::MAX))];
        assert!(input_error(0.0, &huge).contains("too wide"));
        assert!(!dir.path().join("bad.png").exists());
        assert!(!dir.path().join("bad.svg").exists());

        // Exactly 100 bars, and bars that all sit at the base, are drawable.
        assert!(tornado_chart(&stem, "t", "x", 0.5, &many[..MAX_BARS]).is_ok());
        let flat = [bar("flat", (1.0, 2.0), (-3.0, -3.0))];
        assert!(tornado_chart(&stem, "t", "x", -3.0, &flat).is_ok());
    }
}
