//! A memory estimate checked before a model is built, so that a space whose video shape asks
//! for more memory than the machine has gets an error naming both numbers instead of an abort
//! inside libtorch.
//!
//! The estimate is deliberately rough (within a small factor): parameters with their gradients
//! and two AdamW moments, plus the activations autograd keeps for one step. Each slot's feature
//! map `[B, C, T, H, W]` is kept about [`KEPT_PER_LAYER`] times by the spatial layer before it
//! (ResNet and transformer intermediates); the heaviest temporal op the slot allows adds its
//! attention matrix (`heads × tokens²`) or its convolution intermediates.

use crate::error::TrainError;
use vidnas_nn::{Build, TextEncoderConfig};
use vidnas_space::{OpKind, Space, Structure};

/// Intermediate tensors of one slot's size that a spatial layer keeps for the backward pass.
const KEPT_PER_LAYER: u64 = 16;
const F32: u64 = 4;

/// Bytes one training (or scoring) step needs, roughly.
pub fn estimate_bytes(space: &Space, build: &Build, text: &TextEncoderConfig, batch: usize) -> u64 {
    let b = batch.max(1) as u64;
    let mut activations = 0u64;
    for (i, slot) in space.slots.iter().enumerate() {
        let (c, t, h, w) = (
            slot.channels as u64,
            slot.frames as u64,
            slot.height as u64,
            slot.width as u64,
        );
        let map = b.saturating_mul(c).saturating_mul(t).saturating_mul(h * w);
        activations = activations.saturating_add(map.saturating_mul(KEPT_PER_LAYER));
        let ops: Vec<OpKind> = match build {
            Build::Image => Vec::new(),
            Build::Supernet => slot.allowed.clone(),
            Build::Subnet(arch) => arch.ops.get(i).copied().into_iter().collect(),
        };
        let heaviest = ops
            .iter()
            .map(|op| temporal_op_elems(space, *op, b, c, t, h * w))
            .max()
            .unwrap_or(0);
        activations = activations.saturating_add(heaviest);
    }
    let params = param_count(space, text);
    // Weights, gradients and two optimiser moments.
    params
        .saturating_mul(4)
        .saturating_add(activations)
        .saturating_mul(F32)
}

/// Elements a temporal op keeps for the backward pass beyond its input, from its registry
/// structure: two maps (normalised, activated) per conv stage, or four (normalised, q, k, v)
/// plus the attention matrices: one L×L matrix per sequence and head. (Training memory: the
/// latency crate's inference memory counts only the live maps.)
fn temporal_op_elems(space: &Space, op: OpKind, b: u64, c: u64, t: u64, hw: u64) -> u64 {
    let map = b.saturating_mul(c).saturating_mul(t).saturating_mul(hw);
    match op.spec().structure {
        Structure::Identity => 0,
        Structure::Conv { layers } => map.saturating_mul(2 * layers.len() as u64),
        Structure::Attention { mixes, keys } => {
            let hyper = space.file.temporal.ops.get(op).and_then(|p| p.hyper());
            let heads = hyper.map_or(1, |h| h.size.max(1));
            let stride = hyper.map_or(1, |h| h.stride);
            let (sequences, len) = mixes.sequences(t, hw);
            map.saturating_mul(4).saturating_add(
                b.saturating_mul(sequences)
                    .saturating_mul(heads)
                    .saturating_mul(len.saturating_mul(keys.attended(len, stride))),
            )
        }
    }
}

/// Parameters of the spatial backbone (convolutions and projections at each slot's width) and
/// the text encoder, counted without building anything.
fn param_count(space: &Space, text: &TextEncoderConfig) -> u64 {
    let backbone: u64 = space
        .slots
        .iter()
        .map(|s| {
            let c = s.channels as u64;
            // Two 3×3 convolutions and four attention projections per layer.
            c.saturating_mul(c).saturating_mul(2 * 9 + 4 * 2)
        })
        .fold(0u64, u64::saturating_add);
    let (v, d, l) = (
        text.vocab_size.max(0) as u64,
        text.dim.max(0) as u64,
        text.layers.max(0) as u64,
    );
    let tokens = text.max_tokens.max(0) as u64;
    let text_params = if text.precomputed.is_some() {
        v.saturating_mul(tokens).saturating_mul(d)
    } else {
        v.saturating_mul(d)
            .saturating_add(tokens.saturating_mul(d))
            .saturating_add(l.saturating_mul(12).saturating_mul(d.saturating_mul(d)))
    };
    backbone.saturating_add(text_params)
}

/// The largest `VIDNAS_MEMORY_LIMIT_MB` taken (a petabyte): beyond it the figure is a typo.
const MAX_LIMIT_MB: u64 = 1 << 30;

/// Memory this process may still use: `VIDNAS_MEMORY_LIMIT_MB` when set, else the kernel's
/// `MemAvailable`; `None` where neither is known (the check is then skipped). A variable that
/// is set but not a whole number of megabytes in range is refused, never ignored.
pub fn available_bytes() -> Result<Option<u64>, TrainError> {
    if let Some(text) = std::env::var_os("VIDNAS_MEMORY_LIMIT_MB") {
        let text = text.to_string_lossy();
        return match text.trim().parse::<u64>() {
            Ok(mb) if (1..=MAX_LIMIT_MB).contains(&mb) => Ok(Some(mb << 20)),
            _ => Err(TrainError::Config(format!(
                "VIDNAS_MEMORY_LIMIT_MB is `{text}`; set it to a whole number of megabytes from \
                 1 to {MAX_LIMIT_MB}, or unset it to use the memory the kernel reports available"
            ))),
        };
    }
    let Ok(meminfo) = std::fs::read_to_string("/proc/meminfo") else {
        return Ok(None);
    };
    let kb = meminfo
        .lines()
        .find(|l| l.starts_with("MemAvailable:"))
        .and_then(|line| line.split_whitespace().nth(1)?.parse::<u64>().ok());
    Ok(kb.map(|kb| kb.saturating_mul(1024)))
}

/// Refuses, before anything is allocated, a model whose estimated need exceeds the memory
/// available; `what` says which stage and batch (e.g. "training with --batch-size 4").
pub fn check_fits(
    space: &Space,
    build: &Build,
    text: &TextEncoderConfig,
    batch: usize,
    what: &str,
) -> Result<(), TrainError> {
    let need = estimate_bytes(space, build, text, batch);
    check_need(need, available_bytes()?, space, what)
}

fn check_need(
    need: u64,
    available: Option<u64>,
    space: &Space,
    what: &str,
) -> Result<(), TrainError> {
    let Some(available) = available else {
        return Ok(());
    };
    if need <= available {
        return Ok(());
    }
    let v = &space.file.video;
    Err(TrainError::file(
        &space.path,
        format!(
            "{what} needs about {} but {} is available; video.frames/height/width ({}×{}×{}) are too large for this machine: \
             lower them, lower the batch size, or limit attn3d with max_resolution (set VIDNAS_MEMORY_LIMIT_MB to override the available figure)",
            human(need),
            human(available),
            v.frames,
            v.height,
            v.width
        ),
    ))
}

fn human(bytes: u64) -> String {
    let gib = bytes as f64 / (1u64 << 30) as f64;
    if gib >= 1024.0 {
        format!("{:.1} TiB", gib / 1024.0)
    } else {
        format!("{gib:.2} GiB")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_elems_from_the_registry_are_the_former_per_op_formulas() {
        let space = vidnas_space::fixtures::micro();
        let ops = &space.file.temporal.ops;
        let heads1 = ops.attn1d.as_ref().unwrap().num_heads as u64;
        let heads3 = ops.attn3d.as_ref().unwrap().num_heads as u64;
        let (b, c, t, hw) = (2, 8, 4, 16);
        let map = b * c * t * hw;
        let elems = |op| temporal_op_elems(&space, op, b, c, t, hw);
        assert_eq!(elems(OpKind::None), 0);
        assert_eq!(elems(OpKind::Conv1d), map * 4);
        assert_eq!(elems(OpKind::Conv3d), map * 4);
        assert_eq!(elems(OpKind::Attn1d), map * 4 + b * hw * heads1 * t * t);
        assert_eq!(
            elems(OpKind::Attn3d),
            map * 4 + b * heads3 * (t * hw).pow(2)
        );
    }

    #[test]
    fn refusal_names_both_figures_and_acceptance_needs_room() {
        let space = Space::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../search-spaces/tiny.json"
        )))
        .unwrap();
        let err = check_need(3 << 40, Some(2 << 30), &space, "training").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("3.0 TiB") && msg.contains("2.00 GiB"), "{msg}");
        assert!(
            msg.contains("tiny.json") && msg.contains("video.frames"),
            "{msg}"
        );
        assert!(check_need(1 << 30, Some(2 << 30), &space, "training").is_ok());
        assert!(check_need(u64::MAX, None, &space, "training").is_ok());
    }

    #[test]
    fn the_tiny_space_needs_well_under_a_gibibyte_and_grows_with_the_batch() {
        let space = Space::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../search-spaces/tiny.json"
        )))
        .unwrap();
        let text = TextEncoderConfig {
            vocab_size: 40,
            max_tokens: 8,
            dim: space.file.backbone.cross_attention_dim as i64,
            layers: 2,
            heads: 4,
            precomputed: None,
        };
        let one = estimate_bytes(&space, &Build::Supernet, &text, 1);
        let four = estimate_bytes(&space, &Build::Supernet, &text, 4);
        assert!(one < four && four < (1 << 30), "{one} {four}");
    }
}
