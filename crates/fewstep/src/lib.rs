//! The stages after export: fine-tune the exported architecture into the multi-step teacher,
//! then distil it adversarially into a few-step (4-step) student, the last stage of SnapGen-V.
//!
//! - [`finetune`]: stand-alone training of the exported architecture (the supernet crate's
//!   trainer of the diffusion core) with checkpoints and resume.
//! - [`teacher`]: a resumable pool of teacher results (prompt, noise seed, multi-step DDIM clip).
//! - [`discriminator`]: the teacher's frozen encoder with trainable spatio-temporal heads,
//!   conditioned on the pooled text embedding (projection discriminator).
//! - [`losses`]: hinge adversarial losses and the pseudo-Huber reconstruction distance.
//! - [`distill`]: the adversarial distillation trainer; [`distill_config`] its settings;
//!   [`checkpoint`] its checkpoints and per-step losses.
//! - [`stage`]: the `vidnas distill` stage over a run folder; [`eval`] its few-step figures.

pub mod checkpoint;
pub mod discriminator;
pub mod distill;
pub mod distill_config;
mod error;
pub mod eval;
pub mod finetune;
pub mod losses;
mod run;
pub mod stage;
pub mod teacher;

pub use checkpoint::StepLosses;
pub use discriminator::Discriminator;
pub use distill::{check_single_process, Distiller};
pub use distill_config::{DistillConfig, RealSource, RecWeighting};
pub use error::FewStepError;
pub use eval::FewStepEval;
pub use finetune::{finetune, FinetuneInfo, FinetuneRequest};
pub use stage::{distill, DistillInfo, DistillRequest};
pub use teacher::{PoolConfig, TeacherPool};
