//! `[uncertainty]`, the probabilistic sensitivity analysis: how many parameter draws of how many
//! patients, the one-way range of every model number given as a law (declared, or the 2.5th and
//! 97.5th percentiles of its law), and the declared correlations, which must name two such
//! numbers, each pair once, and together form a positive definite matrix (a Gaussian copula).

use rand_distr::{Distribution, StandardNormal};

use super::error::{show, Result};
use super::raw;
use super::validator::Validator;
use super::MAX_PATIENTS;
use crate::model::copula::Copula;
use crate::model::dist::Dist;
use crate::random::StreamKey;

/// Most model numbers given as laws: the one-way tornado chart draws one bar for each.
pub const MAX_UNCERTAIN: usize = crate::report::tornado::MAX_BARS;

/// Most parameter draws a probabilistic sensitivity analysis may ask for.
pub const MAX_DRAWS: u32 = 100_000;

/// `[uncertainty]`: K parameter draws from the laws of the model numbers, N patients each, and
/// a one-way sensitivity analysis of every such number over its low and high values.
#[derive(Clone, Debug, PartialEq)]
pub struct Uncertainty {
    pub draws: u32,
    pub patients_per_draw: u64,
    /// (key, low, high) for every model number given as a law, in scenario order: declared in
    /// `one_way`, or the 2.5th and 97.5th percentiles of its law.
    pub one_way: Vec<(String, f64, f64)>,
    /// Declared correlations, in scenario order.
    pub correlations: Vec<Correlation>,
    /// The laws of the correlated numbers joined by their correlation matrix (none declared:
    /// every number is drawn on its own).
    pub copula: Option<Copula>,
    /// A calibration's weighted posterior draws, when `posterior` names them.
    pub posterior: Option<PosteriorDraws>,
}

/// The weighted particles of a calibration (`posterior.csv` of `remnant calibrate`).
#[derive(Clone, Debug, PartialEq)]
pub struct PosteriorDraws {
    /// The file, as given in the scenario.
    pub file: String,
    /// The calibrated model numbers.
    pub keys: Vec<String>,
    /// One row of values per particle, in the order of `keys`.
    pub particles: Vec<Vec<f64>>,
    /// The particles' weights, as cumulative sums (the last is the total).
    pub cumulative: Vec<f64>,
}

impl PosteriorDraws {
    /// The values of the particle that parameter draw `stream` picks by weight, with a uniform
    /// number of the draw's own stream keyed by "posterior".
    pub fn values(&self, stream: &StreamKey) -> Vec<(String, f64)> {
        use rand::Rng;
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let u: f64 = stream.parameter_stream("posterior").random::<f64>() * total;
        let i = self
            .cumulative
            .partition_point(|&c| c <= u)
            .min(self.particles.len().saturating_sub(1));
        self.keys
            .iter()
            .cloned()
            .zip(self.particles[i].iter().copied())
            .collect()
    }

    /// Read the posterior draws of `text`: a CSV with a header naming `weight` and the
    /// calibrated keys (`particle` and `distance` are ignored), one row per particle.
    pub fn parse(file: &str, text: &str) -> std::result::Result<PosteriorDraws, String> {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header: Vec<&str> = lines
            .next()
            .ok_or("is empty; expected the posterior.csv of remnant calibrate")?
            .split(',')
            .map(str::trim)
            .collect();
        let weight = header
            .iter()
            .position(|h| *h == "weight")
            .ok_or("has no column \"weight\"; expected the posterior.csv of remnant calibrate")?;
        let columns: Vec<usize> = (0..header.len())
            .filter(|&j| !matches!(header[j], "particle" | "weight" | "distance"))
            .collect();
        if columns.is_empty() {
            return Err("names no calibrated model number".into());
        }
        let mut particles = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0.0;
        for (i, line) in lines.enumerate() {
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            if cells.len() != header.len() {
                return Err(format!(
                    "line {}: {} cells under {} columns",
                    i + 2,
                    cells.len(),
                    header.len()
                ));
            }
            let number = |j: usize| -> std::result::Result<f64, String> {
                cells[j]
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| {
                        format!(
                            "line {}: {} is not a number ({:?})",
                            i + 2,
                            header[j],
                            cells[j]
                        )
                    })
            };
            let w = number(weight)?;
            if w < 0.0 {
                return Err(format!("line {}: weight below 0", i + 2));
            }
            total += w;
            cumulative.push(total);
            particles.push(
                columns
                    .iter()
                    .map(|&j| number(j))
                    .collect::<std::result::Result<Vec<_>, _>>()?,
            );
        }
        if !(total > 0.0) {
            return Err("has no particle with a weight above 0".into());
        }
        Ok(PosteriorDraws {
            file: file.to_owned(),
            keys: columns.iter().map(|&j| header[j].to_owned()).collect(),
            particles,
            cumulative,
        })
    }
}

/// A declared correlation between two model numbers given as laws.
#[derive(Clone, Debug, PartialEq)]
pub struct Correlation {
    pub between: [String; 2],
    /// Correlation of the two numbers' normal scores.
    pub rho: f64,
    pub source: String,
}

impl Uncertainty {
    /// The correlated numbers' values in parameter draw `stream`: each number's normal score
    /// comes from its own stream keyed by (seed, draw, key), the stream an uncorrelated number
    /// draws its value from.
    pub fn correlated_values(&self, stream: &StreamKey) -> Vec<(String, f64)> {
        let Some(c) = &self.copula else {
            return Vec::new();
        };
        let z: Vec<f64> = c
            .keys
            .iter()
            .map(|k| StandardNormal.sample(&mut stream.parameter_stream(k)))
            .collect();
        c.keys.iter().cloned().zip(c.values(&z)).collect()
    }
}

impl Validator<'_> {
    /// `[uncertainty]`.
    pub(super) fn uncertainty(&self, u: &raw::RawUncertainty) -> Result<Uncertainty> {
        if u.draws < 1 || u.draws > MAX_DRAWS as i64 {
            return self.err(
                "uncertainty.draws",
                format!(
                    "must be a whole number from 1 to {MAX_DRAWS} (got {})",
                    u.draws
                ),
            );
        }
        if u.patients_per_draw < 1 || u.patients_per_draw as u64 > MAX_PATIENTS {
            return self.err(
                "uncertainty.patients_per_draw",
                format!(
                    "must be a whole number from 1 to {MAX_PATIENTS} (got {})",
                    u.patients_per_draw
                ),
            );
        }
        let posterior = match &u.posterior {
            None => None,
            Some(name) => Some(self.posterior(name)?),
        };
        if posterior.is_none() && !self.parameters.iter().any(|p| p.uncertain) {
            return self.err(
                "uncertainty",
                format!(
                    "needs at least one model number given as a law (for instance {{ dist = \"beta\", mean = 0.1, sd = 0.02, source = \"…\" }}) or a calibration's posterior (posterior = \"…/posterior.csv\"); all {} are fixed",
                    self.parameters.len()
                ),
            );
        }
        if let Some(p) = self
            .parameters
            .iter()
            .filter(|p| p.uncertain)
            .nth(MAX_UNCERTAIN)
        {
            return self.err(
                &p.key,
                format!("is model number {} given as a law; at most {MAX_UNCERTAIN} can be (the one-way chart shows one bar for each): give the least influential ones as fixed values", MAX_UNCERTAIN + 1),
            );
        }
        for key in u.one_way.keys() {
            if !self.parameters.iter().any(|p| p.uncertain && &p.key == key) {
                return self.err(
                    "uncertainty.one_way",
                    format!("names {key:?}, which is not a model number given as a law"),
                );
            }
        }
        let mut one_way = Vec::new();
        for p in self.parameters.iter().filter(|p| p.uncertain) {
            let (low, high) = match u.one_way.get(&p.key) {
                Some(v) => match v.as_slice() {
                    &[low, high] if low.is_finite() && high.is_finite() && low < high => {
                        (low, high)
                    }
                    _ => {
                        return self.err(
                            "uncertainty.one_way",
                            format!(
                                "{:?} must be [low, high] with low < high (got {v:?})",
                                p.key
                            ),
                        )
                    }
                },
                None => p.range.unwrap_or((p.value, p.value)),
            };
            one_way.push((p.key.clone(), low, high));
        }
        let (correlations, copula) = self.correlations(&u.correlations)?;
        Ok(Uncertainty {
            draws: u.draws as u32,
            patients_per_draw: u.patients_per_draw as u64,
            one_way,
            correlations,
            copula,
            posterior,
        })
    }

    /// `uncertainty.posterior`: a calibration's posterior draws, relative to the scenario file,
    /// whose every key is a model number of this scenario and no number given as a law.
    fn posterior(&self, name: &str) -> Result<PosteriorDraws> {
        let key = "uncertainty.posterior";
        let here = std::path::Path::new(self.sources.file())
            .parent()
            .unwrap_or(std::path::Path::new("."));
        let path = here.join(name);
        let text = match super::input::read_scenario_text(&path) {
            Ok(t) => t,
            Err(e) => return self.err(key, format!("{}: {e}", path.display())),
        };
        let draws = match PosteriorDraws::parse(name, &text) {
            Ok(d) => d,
            Err(e) => return self.err(key, format!("{}: {e}", path.display())),
        };
        for k in &draws.keys {
            match self.parameters.iter().find(|p| &p.key == k) {
                None => {
                    return self.err(
                        key,
                        format!("{} names {k:?}, which is not a model number of this scenario", path.display()),
                    )
                }
                Some(p) if p.uncertain => {
                    return self.err(
                        key,
                        format!("{k:?} is both given as a law and drawn from the posterior {}; give it as a fixed value", path.display()),
                    )
                }
                Some(_) => {}
            }
        }
        Ok(draws)
    }

    /// `uncertainty.correlations`: pairs of model numbers given as laws, each pair once, whose
    /// correlations together form a positive definite matrix.
    fn correlations(
        &self,
        raw: &[raw::RawCorrelation],
    ) -> Result<(Vec<Correlation>, Option<Copula>)> {
        let mut correlations: Vec<Correlation> = Vec::new();
        for (i, c) in raw.iter().enumerate() {
            let k = |f: &str| format!("uncertainty.correlations[{i}].{f}");
            let [a, b] = c.between.as_slice() else {
                return self.err(
                    &k("between"),
                    format!(
                        "must name two model numbers given as laws, for instance between = [\"procedures.alpps.growth_median\", \"procedures.pve.growth_median\"] (got {} names)",
                        c.between.len()
                    ),
                );
            };
            for key in [a, b] {
                if !self.laws.iter().any(|(l, _)| l == key) {
                    return self.err(
                        &k("between"),
                        format!("names {key:?}, which is not a model number given as a law"),
                    );
                }
            }
            if a == b {
                return self.err(&k("between"), format!("names {a:?} twice"));
            }
            if !(c.rho > -1.0 && c.rho < 1.0) {
                return self.err(
                    &k("rho"),
                    format!("must be in (-1, 1) (got {})", show(c.rho)),
                );
            }
            if c.source.trim().is_empty() {
                return self.err(
                    &k("source"),
                    "must say where the correlation comes from, or that it is an assumption",
                );
            }
            if let Some(j) = correlations.iter().position(|d| {
                (&d.between[0] == a && &d.between[1] == b)
                    || (&d.between[0] == b && &d.between[1] == a)
            }) {
                return self.err(
                    &k("between"),
                    format!("correlates {a:?} and {b:?} again (already in correlations[{j}])"),
                );
            }
            correlations.push(Correlation {
                between: [a.clone(), b.clone()],
                rho: c.rho,
                source: c.source.clone(),
            });
        }
        if correlations.is_empty() {
            return Ok((correlations, None));
        }
        // The correlated numbers in scenario order, and their matrix.
        let (keys, laws): (Vec<String>, Vec<Dist>) = self
            .laws
            .iter()
            .filter(|(key, _)| correlations.iter().any(|c| c.between.contains(key)))
            .cloned()
            .unzip();
        let n = keys.len();
        let at = |key: &String| keys.iter().position(|k| k == key).unwrap_or(0);
        let mut matrix = vec![0.0; n * n];
        for i in 0..n {
            matrix[i * n + i] = 1.0;
        }
        for c in &correlations {
            let (i, j) = (at(&c.between[0]), at(&c.between[1]));
            matrix[i * n + j] = c.rho;
            matrix[j * n + i] = c.rho;
        }
        match Copula::new(keys, laws, &matrix) {
            Some(copula) => Ok((correlations, Some(copula))),
            None => self.err(
                "uncertainty.correlations",
                "cannot all hold together (their correlation matrix is not positive definite); weaken some of them",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::testing::{edit, error, parse, record, WINDOWS};
    use crate::scenario::Scenario;

    /// The hypertrophy scenario with the growth medians of PVE, PVL and ALPPS given as laws,
    /// and an `[uncertainty]` table ending with `extra`.
    fn psa(extra: &str) -> String {
        let law = |median: f64| {
            format!("{{ dist = \"lognormal\", median = {median}, sdlog = 0.2, truncate = [0.05, 5], source = \"s\" }}")
        };
        let text = edit(
            WINDOWS,
            "[procedures.alpps]\n",
            &format!("[procedures.alpps]\ngrowth_median = {}\n", law(0.8)),
        );
        format!(
            "{text}\n[procedures.pve]\ngrowth_median = {}\n\n[procedures.pvl]\ngrowth_median = {}\n\n[uncertainty]\ndraws = 10\npatients_per_draw = 100\n{extra}",
            law(0.36),
            law(0.3),
        )
    }

    const PVE: &str = "procedures.pve.growth_median";
    const PVL: &str = "procedures.pvl.growth_median";
    const ALPPS: &str = "procedures.alpps.growth_median";

    /// Protects the default one-way range: the 2.5th and 97.5th percentiles of each law, in
    /// the order the numbers are validated (procedures by name).
    #[test]
    fn one_way_ranges_default_to_the_central_95_percent_of_each_law() {
        let s = parse(&psa(""));
        let u = s.run.uncertainty.as_ref().unwrap();
        assert_eq!((u.draws, u.patients_per_draw), (10, 100));
        let keys: Vec<&str> = u.one_way.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(keys, [ALPPS, PVE, PVL]);
        for (key, low, high) in &u.one_way {
            assert_eq!(record(&s, key).range, Some((*low, *high)), "{key}");
        }
        // Lognormal, median 0.36, sdlog 0.2: 0.36 exp(±1.96 × 0.2), up to sampling.
        let (_, low, high) = u.one_way[1];
        assert!(
            (low / (0.36 * (-0.392f64).exp()) - 1.0).abs() < 0.03,
            "{low}"
        );
        assert!(
            (high / (0.36 * 0.392f64.exp()) - 1.0).abs() < 0.03,
            "{high}"
        );
        assert!(u.correlations.is_empty() && u.copula.is_none());
        assert!(u.correlated_values(&StreamKey::new(1, 1)).is_empty());
    }

    #[test]
    fn a_declared_one_way_range_replaces_the_percentiles() {
        let s = parse(&psa(&format!("one_way = {{ \"{PVL}\" = [0.2, 0.5] }}\n")));
        let u = s.run.uncertainty.unwrap();
        assert_eq!(u.one_way[2], (PVL.to_owned(), 0.2, 0.5));
        // Only a number given as a law has a one-way range.
        let (key, _, message) = error(&psa("one_way = { \"procedures.pve.death\" = [0, 0.01] }\n"));
        assert_eq!(key, "uncertainty.one_way");
        assert!(
            message.contains(
                "names \"procedures.pve.death\", which is not a model number given as a law"
            ),
            "{message}"
        );
    }

    /// Protects against a correlation of a number with itself, which the copula would take as
    /// a second, contradictory entry on the diagonal.
    #[test]
    fn a_correlation_between_a_number_and_itself_is_refused() {
        let text = psa(&format!(
            "correlations = [{{ between = [\"{PVE}\", \"{PVE}\"], rho = 0.5, source = \"s\" }}]\n"
        ));
        let (key, _, message) = error(&text);
        assert_eq!(key, "uncertainty.correlations[0].between");
        assert!(
            message.ends_with(&format!("names \"{PVE}\" twice")),
            "{message}"
        );
    }

    #[test]
    fn a_correlation_names_two_laws_once_with_rho_inside_and_a_source() {
        let c = |between: &str, rho: &str, source: &str| {
            psa(&format!(
                "correlations = [{{ between = [\"{PVE}\", \"{PVL}\"], rho = 0.3, source = \"s\" }}, {{ between = [{between}], rho = {rho}, source = \"{source}\" }}]\n"
            ))
        };
        let (key, _, message) = error(&c(
            &format!("\"{PVE}\", \"procedures.pve.death\""),
            "0.3",
            "s",
        ));
        assert_eq!(key, "uncertainty.correlations[1].between");
        assert!(
            message.contains("not a model number given as a law"),
            "{message}"
        );
        let (key, _, message) = error(&c(&format!("\"{PVE}\""), "0.3", "s"));
        assert_eq!(key, "uncertainty.correlations[1].between");
        assert!(message.contains("(got 1 names)"), "{message}");
        let (key, _, message) = error(&c(&format!("\"{PVE}\", \"{ALPPS}\""), "1", "s"));
        assert_eq!(key, "uncertainty.correlations[1].rho");
        assert!(message.ends_with("must be in (-1, 1) (got 1)"), "{message}");
        let (key, _, _) = error(&c(&format!("\"{PVE}\", \"{ALPPS}\""), "0.3", " "));
        assert_eq!(key, "uncertainty.correlations[1].source");
        let (key, _, message) = error(&c(&format!("\"{PVL}\", \"{PVE}\""), "0.3", "s"));
        assert_eq!(key, "uncertainty.correlations[1].between");
        assert!(
            message.contains("again (already in correlations[0])"),
            "{message}"
        );
    }

    #[test]
    fn correlations_that_cannot_hold_together_are_refused() {
        let text = psa(&format!(
            "correlations = [\n  {{ between = [\"{PVE}\", \"{PVL}\"], rho = 0.9, source = \"s\" }},\n  {{ between = [\"{PVL}\", \"{ALPPS}\"], rho = 0.9, source = \"s\" }},\n  {{ between = [\"{PVE}\", \"{ALPPS}\"], rho = -0.9, source = \"s\" }},\n]\n"
        ));
        let (key, _, message) = error(&text);
        assert_eq!(key, "uncertainty.correlations");
        assert!(message.contains("not positive definite"), "{message}");
    }

    /// Protects the copula's use: the correlated numbers' values of a draw, reproducible, each
    /// inside its law's truncation.
    #[test]
    fn declared_correlations_join_their_laws_in_a_copula() {
        let text = psa(&format!(
            "correlations = [{{ between = [\"{PVE}\", \"{ALPPS}\"], rho = 0.5, source = \"s\" }}]\n"
        ));
        let u = parse(&text).run.uncertainty.unwrap();
        let copula = u.copula.as_ref().unwrap();
        // In the order of validation, not the order the correlation names them.
        assert_eq!(copula.keys, [ALPPS, PVE]);
        assert_eq!(u.correlations[0].between, [PVE, ALPPS]);
        let stream = StreamKey::new(3, 9);
        let values = u.correlated_values(&stream);
        assert_eq!(values, u.correlated_values(&stream));
        assert_eq!(values.len(), 2);
        assert!(values.iter().all(|(_, x)| (0.05..=5.0).contains(x)));
        // The draw's scenario takes them.
        let drawn = Scenario::parse_draw("s.toml", &text, Some(&stream), &values).unwrap();
        assert_eq!(record(&drawn, ALPPS).value, values[0].1);
        assert_eq!(record(&drawn, PVE).value, values[1].1);
        assert_ne!(record(&drawn, PVL).value, record(&parse(&text), PVL).value);
    }

    #[test]
    fn an_analysis_needs_draws_patients_and_a_law() {
        let (key, _, message) = error(&psa("").replace("draws = 10", "draws = 0"));
        assert_eq!(key, "uncertainty.draws");
        assert!(message.contains("from 1 to 100000 (got 0)"), "{message}");
        let (key, _, _) =
            error(&psa("").replace("patients_per_draw = 100", "patients_per_draw = -5"));
        assert_eq!(key, "uncertainty.patients_per_draw");
        let fixed = format!("{WINDOWS}\n[uncertainty]\ndraws = 10\npatients_per_draw = 100\n");
        let (key, _, message) = error(&fixed);
        assert_eq!(key, "uncertainty");
        assert!(
            message.contains("needs at least one model number given as a law"),
            "{message}"
        );
    }

    const KD: &str = "model.chemotherapy.regimens.folfox.kd_per_week";

    /// Protects the draw of a calibration's particles: by weight (a particle of weight 0 is
    /// never drawn), reproducible from the draw's stream, different across draws.
    #[test]
    fn posterior_draws_pick_particles_by_weight() {
        let csv = format!(
            "particle,weight,distance,{KD}\n0,0.0,0.1,0.01\n1,0.75,0.2,0.05\n2,0.25,0.3,0.07\n"
        );
        let p = PosteriorDraws::parse("posterior.csv", &csv).unwrap();
        assert_eq!(p.keys, [KD]);
        let values: Vec<f64> = (1..=400)
            .map(|d| p.values(&StreamKey::new(5, d))[0].1)
            .collect();
        assert!(values.iter().all(|&x| x == 0.05 || x == 0.07));
        let share = values.iter().filter(|&&x| x == 0.05).count() as f64 / 400.0;
        assert!((share - 0.75).abs() < 0.08, "{share}");
        assert_eq!(
            p.values(&StreamKey::new(5, 3)),
            p.values(&StreamKey::new(5, 3))
        );
        for bad in [
            "",
            "particle,distance\n",
            "weight\n1\n",
            "weight,x\n1\n",
            "weight,x\nz,1\n",
            "weight,x\n0,1\n",
            "weight,x\n-1,1\n",
        ] {
            assert!(PosteriorDraws::parse("p.csv", bad).is_err(), "{bad:?}");
        }
    }

    /// A scenario's parameter draws take the calibrated numbers from the posterior, and a
    /// posterior naming a number the scenario does not have is refused at the key.
    #[test]
    fn a_scenario_draws_calibrated_numbers_from_a_posterior() {
        let dir = tempfile::tempdir().unwrap();
        let csv = format!("particle,weight,distance,{KD}\n0,0.5,0.1,0.04\n1,0.5,0.2,0.06\n");
        std::fs::write(dir.path().join("posterior.csv"), csv).unwrap();
        std::fs::write(
            dir.path().join("bad.csv"),
            "particle,weight,distance,model.nothing\n0,1,0.1,0.04\n",
        )
        .unwrap();
        let file = dir.path().join("s.toml");
        let text = |posterior: &str| {
            format!(
                "{}\n[uncertainty]\ndraws = 2\npatients_per_draw = 10\nposterior = \"{posterior}\"\n",
                include_str!("../../scenarios/become.toml")
            )
        };
        let name = file.display().to_string();
        let s = Scenario::parse(&name, &text("posterior.csv")).unwrap_or_else(|e| panic!("{e}"));
        let u = s.run.uncertainty.as_ref().unwrap();
        let p = u.posterior.as_ref().unwrap();
        let stream = StreamKey::new(1, 1);
        let set = p.values(&stream);
        let drawn =
            Scenario::parse_draw(&name, &text("posterior.csv"), Some(&stream), &set).unwrap();
        assert_eq!(record(&drawn, KD).value, set[0].1);
        assert!([0.04, 0.06].contains(&set[0].1));
        let e = Scenario::parse(&name, &text("bad.csv"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("uncertainty.posterior") && e.contains("model.nothing"),
            "{e}"
        );
        let e = Scenario::parse(&name, &text("missing.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("uncertainty.posterior"), "{e}");
    }
}
