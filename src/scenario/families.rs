//! The families a number's law may take (normal, lognormal, beta, gamma, uniform) and the
//! parameters of each: which are needed, the range of each (shapes bounded so that draws neither
//! underflow nor degenerate), a beta's mean and sd converted to its a and b, a gamma's mean to
//! its scale. What every law shares (its fields, truncation, the allowed range) is `laws.rs`.

use rand_distr::{Beta, Gamma, LogNormal, Normal};

use super::error::{show, Result};
use super::ranges::{closed, open, positive, Range};
use super::raw::RawParam;
use super::validator::Validator;
use crate::model::dist::Law;

/// Smallest shape parameter of a sampled law (gamma shape, beta a and b, Dirichlet parameters,
/// the time constant's shape). A gamma draw of shape α is u^(1/α) times a gamma(1 + α) draw with
/// u ≥ 2^-53, which underflows to exactly zero for α below about 0.05: a liver with no segment
/// volume, a zero time constant, 0/0 downstream.
pub(super) const MIN_SHAPE: f64 = 0.1;

/// Largest shape parameter of a sampled law (beta a and b, gamma shape): a beta of a + b = 10^6
/// or a gamma of shape 10^6 is already a point mass to double precision (assumption: a limit of
/// plausibility, not a published value).
const MAX_SHAPE: f64 = 1e6;

/// Gamma laws with a whole-number shape up to this are sampled exactly as sums of
/// exponentials (Erlang), which is cheaper than the general sampler.
const MAX_ERLANG_SHAPE: f64 = 4.0;

/// The number whose law is read: its key and its law's name, for messages.
#[derive(Clone, Copy)]
pub(super) struct Written<'k> {
    pub(super) key: &'k str,
    pub(super) kind: &'k str,
}

/// A family's untruncated law as its parameters give it: the law, its description, its mean,
/// and its support as (low end, low end attained, high end, high end attained).
pub(super) type Family = (Law, String, f64, (f64, bool, f64, bool));

impl Validator<'_> {
    /// The parameter `name` of the law, which it needs.
    pub(super) fn need(&self, w: Written<'_>, name: &str, x: Option<f64>) -> Result<f64> {
        x.map_or_else(
            || self.err(w.key, format!("is a {} law and needs `{name}`", w.kind)),
            Ok,
        )
    }

    /// The parameter `name`, which must lie in `r`.
    fn check(&self, w: Written<'_>, name: &str, x: f64, r: Range) -> Result<f64> {
        if r.contains(x) {
            Ok(x)
        } else {
            self.err(
                &format!("{}.{name}", w.key),
                format!("must be in {r} (got {})", show(x)),
            )
        }
    }

    /// The parameter `name`, which the law needs and which must lie in `r`.
    fn needed(&self, w: Written<'_>, name: &str, x: Option<f64>, r: Range) -> Result<f64> {
        self.check(w, name, self.need(w, name, x)?, r)
    }

    /// The untruncated law of the family `w.kind` (one of the families: `dist` checks it).
    pub(super) fn family(&self, w: Written<'_>, raw: &RawParam) -> Result<Family> {
        match w.kind {
            "normal" => self.normal(w, raw),
            "lognormal" => self.lognormal(w, raw),
            "beta" => self.beta(w, raw),
            "gamma" => self.gamma(w, raw),
            "uniform" => self.uniform(w, raw),
            _ => unreachable!("kind checked by dist"),
        }
    }

    /// `normal`: `mean` and `sd`.
    fn normal(&self, w: Written<'_>, raw: &RawParam) -> Result<Family> {
        let inf = f64::INFINITY;
        let m = self.need(w, "mean", raw.mean)?;
        let sd = self.needed(w, "sd", raw.sd, positive(inf))?;
        Ok((
            Law::Normal(Normal::new(m, sd).expect("sd > 0")),
            format!("normal(mean {m}, sd {sd})"),
            m,
            (-inf, false, inf, false),
        ))
    }

    /// `lognormal`: `sdlog` and the `median` (or `meanlog`).
    fn lognormal(&self, w: Written<'_>, raw: &RawParam) -> Result<Family> {
        let key = w.key;
        let inf = f64::INFINITY;
        let sdlog = self.needed(w, "sdlog", raw.sdlog, positive(10.0))?;
        let mu = match (raw.median, raw.meanlog) {
            (Some(_), Some(_)) => return self.err(key, "takes `median` or `meanlog`, not both"),
            (Some(med), None) => self.check(w, "median", med, positive(inf))?.ln(),
            (None, Some(ml)) => ml,
            (None, None) => {
                return self.err(key, "is a lognormal law and needs `median` (or `meanlog`)")
            }
        };
        let mean = (mu + sdlog * sdlog / 2.0).exp();
        let law = Law::LogNormal {
            law: LogNormal::new(mu, sdlog).expect("sdlog > 0"),
            meanlog: mu,
            sdlog,
        };
        Ok((
            law,
            format!("lognormal(median {:.6}, sdlog {sdlog})", mu.exp()),
            mean,
            (0.0, false, inf, false),
        ))
    }

    /// `beta`: `a` and `b`, or `mean` and `sd`, converted to a = mν and b = (1 − m)ν with
    /// ν = m(1 − m)/sd² − 1.
    fn beta(&self, w: Written<'_>, raw: &RawParam) -> Result<Family> {
        let key = w.key;
        let (a, b) = match (raw.a, raw.b, raw.mean, raw.sd) {
            (Some(a), Some(b), None, None) => (
                self.check(w, "a", a, closed(MIN_SHAPE, MAX_SHAPE))?,
                self.check(w, "b", b, closed(MIN_SHAPE, MAX_SHAPE))?,
            ),
            (None, None, Some(m), Some(sd)) => {
                let m = self.check(w, "mean", m, open(0.0, 1.0))?;
                let max_sd = (m * (1.0 - m)).sqrt();
                let sd = self.check(w, "sd", sd, open(0.0, max_sd))?;
                let nu = m * (1.0 - m) / (sd * sd) - 1.0;
                let (a, b) = (m * nu, (1.0 - m) * nu);
                let shapes = closed(MIN_SHAPE, MAX_SHAPE);
                if !(shapes.contains(a) && shapes.contains(b)) {
                    return self.err(
                        &format!("{key}.sd"),
                        format!(
                            "gives beta parameters a = {}, b = {}; both must be in {shapes}",
                            show(a),
                            show(b)
                        ),
                    );
                }
                (a, b)
            }
            _ => {
                return self.err(
                    key,
                    "is a beta law and needs either `a` and `b`, or `mean` and `sd`",
                )
            }
        };
        let law = Law::Beta {
            law: Beta::new(a, b).expect("a, b > 0"),
            a,
            b,
        };
        Ok((
            law,
            format!("beta(a {a:.6}, b {b:.6})"),
            a / (a + b),
            (0.0, false, 1.0, false),
        ))
    }

    /// `gamma`: `shape` and the `scale` (or `mean`, scale = mean / shape); whole shapes up to
    /// [`MAX_ERLANG_SHAPE`] are drawn as Erlang sums.
    fn gamma(&self, w: Written<'_>, raw: &RawParam) -> Result<Family> {
        let key = w.key;
        let inf = f64::INFINITY;
        let shape = self.needed(w, "shape", raw.shape, closed(MIN_SHAPE, MAX_SHAPE))?;
        let scale = match (raw.scale, raw.mean) {
            (Some(s), None) => self.check(w, "scale", s, positive(inf))?,
            (None, Some(m)) => self.check(w, "mean", m, positive(inf))? / shape,
            _ => {
                return self.err(
                    key,
                    "is a gamma law and needs `shape` and either `scale` or `mean`",
                )
            }
        };
        if scale == 0.0 {
            return self.err(
                &format!("{key}.mean"),
                "gives a gamma scale (mean / shape) of 0; choose a larger mean",
            );
        }
        let law = if shape.fract() == 0.0 && (1.0..=MAX_ERLANG_SHAPE).contains(&shape) {
            Law::Erlang {
                shape: shape as u32,
                scale,
            }
        } else {
            Law::Gamma {
                law: Gamma::new(shape, scale).expect("shape, scale > 0"),
                shape,
                scale,
            }
        };
        Ok((
            law,
            format!("gamma(shape {shape}, scale {scale:.6})"),
            shape * scale,
            (0.0, false, inf, false),
        ))
    }

    /// `uniform`: `low` and `high`.
    fn uniform(&self, w: Written<'_>, raw: &RawParam) -> Result<Family> {
        let key = w.key;
        let low = self.need(w, "low", raw.low)?;
        let high = self.need(w, "high", raw.high)?;
        if !(low < high) {
            return self.err(
                &format!("{key}.high"),
                format!(
                    "must be greater than low = {} (got {})",
                    show(low),
                    show(high)
                ),
            );
        }
        Ok((
            Law::Uniform { low, high },
            format!("uniform({low}, {high})"),
            (low + high) / 2.0,
            (low, true, high, true),
        ))
    }
}

#[cfg(test)]
mod tests {
    use rand_distr::Beta;

    use super::*;
    use crate::model::dist::Dist;
    use crate::scenario::ranges::PROBABILITY;
    use crate::scenario::testing::{law, refused};

    /// Protects the conversion of a beta law's mean and sd to its a and b: with
    /// ν = m(1 − m)/sd² − 1, a = mν and b = (1 − m)ν.
    #[test]
    fn a_beta_law_given_by_mean_and_sd_gets_its_a_and_b() {
        let text = "x = { dist = \"beta\", mean = 0.1, sd = 0.02, source = \"s\" }";
        let (d, records, _) = law(text, PROBABILITY);
        let d = d.unwrap();
        let nu = 0.1 * 0.9 / (0.02f64 * 0.02) - 1.0; // 224
        let (a, b) = (0.1 * nu, 0.9 * nu);
        let expected = Dist::new(
            Law::Beta {
                law: Beta::new(a, b).unwrap(),
                a,
                b,
            },
            None,
            "beta(a 22.400000, b 201.600000)".into(),
            a / (a + b),
        );
        assert_eq!(d, expected);
        assert!((d.mean - 0.1).abs() < 1e-12);
        assert_eq!(records, ["beta(a 22.400000, b 201.600000)"]);
    }

    #[test]
    fn a_beta_sd_its_mean_cannot_have_is_refused() {
        // The largest sd of a law on [0, 1] with mean 0.1 is sqrt(0.1 × 0.9) = 0.3.
        let (key, _, message) = refused(
            "x = { dist = \"beta\", mean = 0.1, sd = 0.31, source = \"s\" }",
            PROBABILITY,
        );
        assert_eq!(key, "x.sd");
        assert!(message.contains("x.sd must be in (0, 0.3"), "{message}");
        // A valid sd whose a or b falls below the smallest shape.
        let (key, _, message) = refused(
            "x = { dist = \"beta\", mean = 0.01, sd = 0.09, source = \"s\" }",
            PROBABILITY,
        );
        assert_eq!(key, "x.sd");
        assert!(message.contains("gives beta parameters a = "), "{message}");
        let (key, _, message) = refused(
            "x = { dist = \"beta\", a = 2, source = \"s\" }",
            PROBABILITY,
        );
        assert_eq!(key, "x");
        assert!(
            message.contains("either `a` and `b`, or `mean` and `sd`"),
            "{message}"
        );
    }

    /// Protects the fast sampler: a gamma law of whole shape up to 4 is drawn as an Erlang sum,
    /// with the scale `mean / shape`.
    #[test]
    fn a_gamma_law_by_its_mean_gets_its_scale_and_whole_shapes_are_erlang() {
        let wide = closed(0.0, f64::INFINITY);
        let (d, _, _) = law(
            "x = { dist = \"gamma\", shape = 2, mean = 24, source = \"s\" }",
            wide,
        );
        assert_eq!(
            d.unwrap(),
            Dist::new(
                Law::Erlang {
                    shape: 2,
                    scale: 12.0
                },
                None,
                "gamma(shape 2, scale 12.000000)".into(),
                24.0
            )
        );
        let (d, _, _) = law(
            "x = { dist = \"gamma\", shape = 2.5, scale = 4, source = \"s\" }",
            wide,
        );
        let d = d.unwrap();
        assert_eq!(d.description, "gamma(shape 2.5, scale 4.000000)");
        assert_eq!(d.mean, 10.0);
        let (key, _, _) = refused(
            "x = { dist = \"gamma\", shape = 0.05, scale = 4, source = \"s\" }",
            wide,
        );
        assert_eq!(key, "x.shape");
        let (key, _, message) = refused(
            "x = { dist = \"gamma\", shape = 2, scale = 4, mean = 8, source = \"s\" }",
            wide,
        );
        assert_eq!(key, "x");
        assert!(message.contains("either `scale` or `mean`"), "{message}");
    }

    #[test]
    fn a_lognormal_law_takes_its_median_or_its_meanlog() {
        let wide = positive(1000.0);
        let (d, _, _) = law(
            "x = { dist = \"lognormal\", median = 30, sdlog = 0.5, truncate = [1, 500], source = \"s\" }",
            wide,
        );
        let d = d.unwrap();
        assert!((d.mean - (30f64.ln() + 0.125).exp()).abs() < 1e-9);
        assert!(d
            .description
            .starts_with("lognormal(median 30.000000, sdlog 0.5)"));
        let (key, _, message) = refused(
            "x = { dist = \"lognormal\", median = 30, meanlog = 3, sdlog = 0.5, truncate = [1, 500], source = \"s\" }",
            wide,
        );
        assert_eq!(key, "x");
        assert!(
            message.contains("takes `median` or `meanlog`, not both"),
            "{message}"
        );
    }
}
