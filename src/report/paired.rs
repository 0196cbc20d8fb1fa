//! Paired comparison of every strategy with the first on the primary outcome of the
//! hypertrophy study (the pathway study has its own, at several landmarks):
//! the difference from the discordant pairs, its 95% interval, and how much pairing narrowed
//! it against two independent cohorts of the same size.

use super::pathway::{paired_difference, se_ratio, unpaired_se};
use super::stats::enclosing;
use super::table::Table;
use crate::engine::tally::Tally;

/// One strategy against the reference on a share of `n` patients.
struct Pair<'a> {
    name: &'a str,
    /// Patients with the outcome under this strategy.
    k: u64,
    /// Discordant pairs: the outcome here and not under the reference, and the reverse.
    here_only: u64,
    reference_only: u64,
}

fn table(outcome: &str, n: u64, reference: (&str, u64), others: &[Pair<'_>]) -> Table {
    let mut t = Table::new("paired_differences");
    for p in others {
        let d = paired_difference(p.here_only, p.reference_only, n);
        let unpaired = unpaired_se(p.k, reference.1, n);
        let row = t
            .row()
            .text("strategy", p.name)
            .text("reference", reference.0)
            .text("outcome", outcome)
            .count("patients", n);
        let e = d.estimate().map(enclosing);
        row.maybe_real("difference", e.map(|e| e.0))
            .maybe_real("difference_se", d.defined.then_some(d.se))
            .maybe_real("difference_lo95", e.map(|e| e.1))
            .maybe_real("difference_hi95", e.map(|e| e.2))
            .count("better_here", p.here_only)
            .count("better_under_reference", p.reference_only)
            .real("independent_se", unpaired)
            .real("pairing_se_ratio", se_ratio(d.se, unpaired));
    }
    t
}

/// Ready by the last check, against the first strategy.
pub fn hypertrophy(names: &[String], t: &Tally) -> Table {
    if t.waits.is_empty() {
        return Table::new("paired_differences");
    }
    let ready = |s: usize| t.pooled(s).ready();
    let others: Vec<Pair<'_>> = names
        .iter()
        .enumerate()
        .skip(1)
        .map(|(s, name)| Pair {
            name,
            k: ready(s),
            here_only: t.ready_discordant.get(s).map_or(0, |d| d[0]),
            reference_only: t.ready_discordant.get(s).map_or(0, |d| d[1]),
        })
        .collect();
    table(
        "ready_by_last_check",
        t.patients,
        (names.first().map_or("", |s| s.as_str()), ready(0)),
        &others,
    )
}
