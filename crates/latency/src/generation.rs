//! Time to generate one clip: text encoder once, the denoiser once per step (twice with
//! classifier-free guidance: a conditional and an unconditional pass), and the VAE decoder once
//! for a latent-space model. The denoiser term comes from a latency table; the text encoder
//! and decoder are not UNet ops, so they are given (measured elsewhere, or timed here) or
//! stated as absent with the reason, never invented.

use crate::error::LatencyError;
use crate::predict::{predict, PredictRequest};
use crate::table::LatencyTable;
use serde::{Deserialize, Serialize};
use vidnas_space::{Architecture, Space};

/// A term of the generation time that is not a UNet op.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ExtraTerm {
    /// Included with this time, from `source` (e.g. "timed on this machine").
    Included { ms: f64, source: String },
    /// Not part of the model's generation (e.g. a pixel-space model has no decoder).
    NotApplicable { reason: String },
    /// Part of generation but with no figure available; the total leaves it out.
    Unknown { reason: String },
}

impl ExtraTerm {
    pub fn ms(&self) -> f64 {
        match self {
            ExtraTerm::Included { ms, .. } => *ms,
            ExtraTerm::NotApplicable { .. } | ExtraTerm::Unknown { .. } => 0.0,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            ExtraTerm::Included { ms, source } => format!("{ms:.2} ms ({source})"),
            ExtraTerm::NotApplicable { reason } => format!("none: {reason}"),
            ExtraTerm::Unknown { reason } => format!("not included: {reason}"),
        }
    }
}

/// The predicted generation time of one clip and its parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationTime {
    pub steps: usize,
    /// Denoiser passes per step: 2 with classifier-free guidance, else 1.
    pub passes_per_step: usize,
    /// One denoiser pass, from the table.
    pub denoiser_pass_ms: f64,
    /// `steps × passes_per_step × denoiser_pass_ms`.
    pub denoiser_ms: f64,
    pub text_encoder: ExtraTerm,
    pub decoder: ExtraTerm,
    /// Denoiser plus every included term.
    pub total_ms: f64,
    /// The table's device, and where the table says it came from.
    pub table_device: String,
}

/// Predicts the generation time of `arch` on `table`'s device.
pub fn generation_time(
    space: &Space,
    arch: &Architecture,
    table: &LatencyTable,
    steps: usize,
    guidance: bool,
    text_encoder: ExtraTerm,
    decoder: ExtraTerm,
) -> Result<GenerationTime, LatencyError> {
    let pass = predict(space, arch, table, &PredictRequest::for_table(table))?;
    let passes_per_step = if guidance { 2 } else { 1 };
    let denoiser_ms = steps as f64 * passes_per_step as f64 * pass.total_ms;
    let total_ms = text_encoder.ms() + denoiser_ms + decoder.ms();
    let d = &table.device;
    let table_device = format!("{}, {} ({})", d.name, d.backend, d.source);
    Ok(GenerationTime {
        steps,
        passes_per_step,
        denoiser_pass_ms: pass.total_ms,
        denoiser_ms,
        text_encoder,
        decoder,
        total_ms,
        table_device,
    })
}

/// The decoder term a space implies when no time is given: none for pixel space, unknown for
/// latents.
pub fn default_decoder(space: &Space) -> ExtraTerm {
    if space.file.video.vae_scale_factor == 1 {
        ExtraTerm::NotApplicable {
            reason: "pixel-space model: the UNet's output is the clip, there is no VAE decoder"
                .into(),
        }
    } else {
        ExtraTerm::Unknown {
            reason: format!(
                "latent-space model (VAE x{}): time the VAE decoder on the device and pass --decoder-ms",
                space.file.video.vae_scale_factor
            ),
        }
    }
}
