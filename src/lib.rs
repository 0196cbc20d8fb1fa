//! remnant: Monte Carlo outcome simulator for the surgical treatment of colorectal liver
//! metastases.
//!
//! Layout, from input to output:
//! - [`scenario`]: TOML scenario files, validated into a typed [`scenario::Scenario`];
//! - [`model`]: the simulation core (patients, liver volumetry, hypertrophy, the wait);
//! - [`random`]: keyed ChaCha streams per (seed, parameter draw, patient, purpose);
//! - [`engine`]: parallel cohort runs into exactly mergeable tallies;
//! - [`analysis`]: parameter uncertainty, target-precision rounds, validation judging;
//! - [`report`]: tables, plots and the run manifest;
//! - [`cli`]: the `remnant` command.

// `!(x >= lo)` is how remnant refuses NaN together with out-of-range values: on purpose.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod analysis;
pub mod cli;
pub mod engine;
pub mod model;
pub mod random;
pub mod report;
pub mod scenario;
