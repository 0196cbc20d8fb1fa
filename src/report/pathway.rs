//! Tables and plots of a pathway study.

use std::path::Path;

use super::table::Table;
use super::ReportError;
use crate::engine::pathway::PathwayStudyTally;
use crate::model::pathway::PathwayModel;
use crate::scenario::Scenario;

/// All tables of a pathway run; the first is the summary.
pub fn tables(_scenario: &Scenario, _m: &PathwayModel, _t: &PathwayStudyTally) -> Vec<Table> {
    Vec::new()
}

/// The summary printed after a run.
pub fn summary_text(_summary: Option<&Table>) -> String {
    String::new()
}

/// The plots of a pathway run.
pub fn plots(
    _dir: &Path,
    _m: &PathwayModel,
    _t: &PathwayStudyTally,
) -> Result<Vec<String>, ReportError> {
    Ok(Vec::new())
}
