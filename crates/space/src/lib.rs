//! Search spaces for vidnas: the versioned JSON file format, its validation, the temporal
//! slots derived from a diffusers-style UNet backbone, and architectures (one temporal op per
//! slot) with their canonical encoding, stable id, counting, enumeration, sampling, mutation
//! and crossover.
//!
//! Pure Rust: prediction, search and reporting depend on this crate and must stay testable in
//! seconds without libtorch.
//!
//! Each temporal op is described once, in `ops.rs` ([`OpKind::spec`]); code that decides what
//! an op is matches that description exhaustively, never with a catch-all arm.
#![deny(clippy::wildcard_enum_match_arm)]

mod arch;
mod count;
mod error;
pub mod fixtures;
mod format;
mod ops;
mod region;
mod sampling;
mod slots;
mod space;
mod validate;

pub use arch::Architecture;
pub use count::Sampler;
pub use error::SpaceError;
pub use format::{AttnOp, ConvOp, NoneOp, OpParams, FORMAT_VERSION};
pub use format::{Backbone, Constraints, OpsSpec, Placement, SpaceFile, TemporalSpec, Video};
/// Exact counts ([`Space::count`]); re-exported so callers need no `num-bigint` dependency.
pub use num_bigint::BigUint;
pub use ops::{ConvLayer, Kernel, Keys, Mixing, OpHyper, OpKind, OpSpec, Structure};
pub use sampling::Enumerate;
pub use slots::{Slot, Stage};
pub use space::Space;
