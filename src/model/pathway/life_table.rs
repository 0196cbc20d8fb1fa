//! Death from other causes: a Gompertz hazard by age and sex, fitted to the life table. It
//! fixes each patient's date of death from other causes once, before the path starts, so
//! every strategy competes with the same date.

/// A Gompertz hazard of death from other causes, per year: exp(a + b·age).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gompertz {
    /// Log hazard per year at age 0 (fitted so that the hazard matches the life table).
    pub log_hazard_at_0: f64,
    pub log_hazard_per_year: f64,
}

impl Gompertz {
    /// Years until death from other causes for a person aged `age` with unit exponential
    /// draw `e` (−ln(1 − u)).
    pub fn years_to_death(&self, age: f64, e: f64) -> f64 {
        let h0 = (self.log_hazard_at_0 + self.log_hazard_per_year * age).exp();
        let b = self.log_hazard_per_year;
        if b <= 0.0 {
            return e / h0;
        }
        (1.0 + b * e / h0).ln() / b
    }

    /// Probability of surviving `years` from `age`.
    pub fn survival(&self, age: f64, years: f64) -> f64 {
        let h0 = (self.log_hazard_at_0 + self.log_hazard_per_year * age).exp();
        let b = self.log_hazard_per_year;
        if b <= 0.0 {
            // As the draw: no ageing is a constant hazard (the Gompertz form is 0/0 there).
            return (-h0 * years).exp();
        }
        (-h0 * ((b * years).exp() - 1.0) / b).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A man's life table near the model's: hazard 1% a year at 60, doubling every 8 years.
    const LIFE: Gompertz = Gompertz {
        log_hazard_at_0: -4.605_170_185_988_091 - 60.0 * 0.086_643_397_569_993_16,
        log_hazard_per_year: 0.086_643_397_569_993_16,
    };

    /// Protects the draw of the date of death: the years drawn for a unit exponential `e` are
    /// those at which survival has fallen to exp(−e) (inverse-transform sampling).
    #[test]
    fn years_to_death_inverts_survival() {
        for age in [40.0, 60.0, 80.0] {
            for e in [0.01, 0.3, 1.0, 2.5] {
                let years = LIFE.years_to_death(age, e);
                assert!(years > 0.0);
                let s = LIFE.survival(age, years);
                assert!((s - (-e).exp()).abs() < 1e-12, "age {age}, e {e}: {s}");
            }
        }
    }

    /// Protects the Gompertz survival: it is exp of minus the integrated hazard
    /// exp(a + b·(age + t)), checked against a numerical integral (Simpson), and the hazard at
    /// 60 is the 1% a year the parameters say.
    #[test]
    fn survival_is_the_integrated_gompertz_hazard() {
        let hazard = |t: f64| (LIFE.log_hazard_at_0 + LIFE.log_hazard_per_year * (65.0 + t)).exp();
        let (years, n) = (20.0, 2000);
        let h = years / n as f64;
        let mut integral = hazard(0.0) + hazard(years);
        for i in 1..n {
            integral += hazard(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        integral *= h / 3.0;
        assert!((LIFE.survival(65.0, years) - (-integral).exp()).abs() < 1e-10);
        let at_60 = (LIFE.log_hazard_at_0 + LIFE.log_hazard_per_year * 60.0).exp();
        assert!((at_60 - 0.01).abs() < 1e-12);
        // Older people die sooner.
        assert!(LIFE.survival(80.0, 5.0) < LIFE.survival(60.0, 5.0));
    }

    /// Protects the constant-hazard case of the draw (no ageing): an exponential time.
    #[test]
    fn without_ageing_the_time_to_death_is_exponential() {
        let flat = Gompertz {
            log_hazard_at_0: 0.05f64.ln(),
            log_hazard_per_year: 0.0,
        };
        assert!((flat.years_to_death(70.0, 1.0) - 20.0).abs() < 1e-12);
        assert!((flat.years_to_death(30.0, 0.5) - 10.0).abs() < 1e-12);
        assert!((flat.survival(70.0, 20.0) - (-1.0f64).exp()).abs() < 1e-12);
    }
}
