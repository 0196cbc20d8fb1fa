//! Common random numbers across strategies: every procedure draws from a stream identified by
//! its key, so adding a procedure (LVD), removing it, or putting it first leaves the results of
//! every other strategy byte for byte as they were.

use remnant::engine::{run, Control, RunPlan};
use remnant::report::{table::Table, tables};
use remnant::scenario::Scenario;

const WINDOWS: &str = include_str!("../scenarios/hypertrophy-windows.toml");

/// The LVD strategy as the bundled scenario writes it (the last strategy).
const LVD_STRATEGY: &str = "\n[[strategies]]\nname = \"LVD\"\nprocedure = \"lvd\"\n";

fn summary(text: &str) -> Table {
    let s = Scenario::parse("windows-variant.toml", text).unwrap();
    let m = s.hypertrophy().unwrap();
    let tally = run(m, &RunPlan::new(11, 0..20_000), &Control::default(), |_| {
        Ok::<(), ()>(())
    })
    .unwrap();
    tables::summary(m, &tally)
}

/// Every column of the rows of `strategy`, as text, in row order.
fn rows_of(t: &Table, strategy: &str) -> Vec<Vec<String>> {
    let names: Vec<&str> = t.columns().map(|(n, _)| n).collect();
    t.rows_where(&[("strategy", strategy)])
        .map(|r| {
            names
                .iter()
                .map(|n| match t.text(n, r) {
                    Some(s) => s.to_owned(),
                    None => format!("{:?}", t.real(n, r)),
                })
                .collect()
        })
        .collect()
}

/// Protects the key-derived stream ids: LVD's rows do not exist without it, and every other
/// strategy's rows are identical with LVD last, with LVD first, and without LVD (whose numbers the
/// scenario then does not take from the default model).
#[test]
fn adding_or_reordering_a_procedure_leaves_the_other_strategies_unchanged() {
    assert!(
        WINDOWS.trim_end().ends_with(LVD_STRATEGY.trim_end()),
        "the bundled scenario's last strategy moved"
    );
    let without = WINDOWS
        .trim_end()
        .strip_suffix(LVD_STRATEGY.trim_end())
        .unwrap()
        .to_owned();
    let first_strategy = WINDOWS.find("[[strategies]]").unwrap();
    let lvd_first = {
        let t = WINDOWS
            .trim_end()
            .strip_suffix(LVD_STRATEGY.trim_end())
            .unwrap();
        format!(
            "{}{}\n{}",
            &t[..first_strategy],
            LVD_STRATEGY.trim_start(),
            &t[first_strategy..]
        )
    };
    let base = summary(WINDOWS);
    let variants = [
        ("without LVD", summary(&without)),
        ("LVD first", summary(&lvd_first)),
    ];
    assert!(rows_of(&variants[0].1, "LVD").is_empty());
    assert_eq!(rows_of(&variants[1].1, "LVD"), rows_of(&base, "LVD"));
    for strategy in ["PVE", "PVE+seg4", "PVL", "ALPPS"] {
        let want = rows_of(&base, strategy);
        assert!(!want.is_empty(), "{strategy} has no rows");
        for (variant, table) in &variants {
            assert_eq!(rows_of(table, strategy), want, "{strategy}, {variant}");
        }
    }
}
