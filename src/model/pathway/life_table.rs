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
        (-h0 * ((b * years).exp() - 1.0) / b).exp()
    }
}
