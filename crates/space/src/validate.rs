//! Checks a parsed file. Each check names the field and how to fix it; structural checks run
//! before slots are derived, slot checks after.

use crate::error::SpaceError;
use crate::format::{Placement, SpaceFile, FORMAT_VERSION};
use crate::ops::{OpKind, Structure};
use crate::slots::Slot;
use std::path::Path;

const DOWN_TYPES: [&str; 2] = ["DownBlock2D", "CrossAttnDownBlock2D"];
const UP_TYPES: [&str; 2] = ["UpBlock2D", "CrossAttnUpBlock2D"];
const MID_TYPES: [&str; 2] = ["UNetMidBlock2DCrossAttn", "UNetMidBlock2D"];
/// Far above any real UNet (tens of slots); keeps counting and sampling memory bounded.
pub(crate) const MAX_SLOTS: usize = 512;

/// The values that divide every one of `values`, as a readable list (for fixes).
/// The largest size, channel count or count a space may give (frames, pixels, channels,
/// layers): beyond it the file is a typo, and cost and memory figures would overflow.
const MAX_SIZE: usize = 65_536;
/// The largest temporal kernel (a kernel of `k` taps spans `k` frames; `k³` for conv3d).
const MAX_KERNEL: usize = 31;

fn too_large(value: usize) -> String {
    format!("{value} is above {MAX_SIZE}, the largest size a space may give")
}

fn common_divisors(values: impl IntoIterator<Item = usize>) -> String {
    let gcd = values.into_iter().fold(0, |a, b| {
        let (mut a, mut b) = (a, b);
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    });
    // Listing costs √gcd steps; absurd channel counts get a short answer instead.
    if gcd > 1 << 32 {
        return format!("the divisors of {gcd}");
    }
    let mut small = Vec::new();
    let mut large = Vec::new();
    let mut d = 1;
    while d * d <= gcd {
        if gcd % d == 0 {
            small.push(d);
            if d * d != gcd {
                large.push(gcd / d);
            }
        }
        d += 1;
    }
    small.extend(large.into_iter().rev());
    let list: Vec<String> = small.iter().map(|d| d.to_string()).collect();
    list.join(", ")
}

pub(crate) fn check_structure(path: &Path, f: &SpaceFile) -> Result<(), SpaceError> {
    let err = |field: &str, msg: String, fix: &str| Err(SpaceError::invalid(path, field, msg, fix));
    if f.format != FORMAT_VERSION {
        return err(
            "format",
            format!("unsupported format version `{}`", f.format),
            &format!("set \"format\": \"{FORMAT_VERSION}\" (the only version this build reads)"),
        );
    }
    if f.name.trim().is_empty() {
        return err(
            "name",
            "the name is empty".into(),
            "give the space a short name",
        );
    }
    let v = &f.video;
    for (field, value) in [("video.frames", v.frames), ("video.height", v.height)]
        .into_iter()
        .chain([("video.width", v.width), ("video.channels", v.channels)])
    {
        if value == 0 {
            return err(
                field,
                "must be positive, got 0".into(),
                "use a positive size",
            );
        }
        if value > MAX_SIZE {
            return err(field, too_large(value), "use a realistic size");
        }
    }
    let b = &f.backbone;
    if b.block_out_channels.is_empty() {
        return err(
            "backbone.block_out_channels",
            "the list is empty".into(),
            "list the output channels of each down block, e.g. [32, 64, 128]",
        );
    }
    if let Some(i) = b.block_out_channels.iter().position(|&c| c > MAX_SIZE) {
        return err(
            &format!("backbone.block_out_channels[{i}]"),
            too_large(b.block_out_channels[i]),
            "use a realistic channel count",
        );
    }
    if let Some(i) = b.block_out_channels.iter().position(|&c| c == 0) {
        return err(
            &format!("backbone.block_out_channels[{i}]"),
            "zero channels".into(),
            "every block needs a positive channel count",
        );
    }
    let n = b.block_out_channels.len();
    for (field, len) in [
        ("backbone.down_block_types", b.down_block_types.len()),
        ("backbone.up_block_types", b.up_block_types.len()),
    ] {
        if len != n {
            return err(
                field,
                format!("has {len} entries but backbone.block_out_channels has {n}"),
                "give one block type per entry of block_out_channels",
            );
        }
    }
    for (i, t) in b.down_block_types.iter().enumerate() {
        if !DOWN_TYPES.contains(&t.as_str()) {
            return err(
                &format!("backbone.down_block_types[{i}]"),
                format!("unsupported block type `{t}`"),
                "use DownBlock2D or CrossAttnDownBlock2D",
            );
        }
    }
    for (i, t) in b.up_block_types.iter().enumerate() {
        if !UP_TYPES.contains(&t.as_str()) {
            return err(
                &format!("backbone.up_block_types[{i}]"),
                format!("unsupported block type `{t}`"),
                "use UpBlock2D or CrossAttnUpBlock2D",
            );
        }
    }
    if !MID_TYPES.contains(&b.mid_block_type.as_str()) {
        return err(
            "backbone.mid_block_type",
            format!("unsupported block type `{}`", b.mid_block_type),
            "use UNetMidBlock2DCrossAttn or UNetMidBlock2D",
        );
    }
    for (field, value) in [
        ("backbone.in_channels", b.in_channels),
        ("backbone.out_channels", b.out_channels),
        ("backbone.layers_per_block", b.layers_per_block),
        ("backbone.cross_attention_dim", b.cross_attention_dim),
        ("backbone.attention_head_dim", b.attention_head_dim),
        ("backbone.norm_num_groups", b.norm_num_groups),
        (
            "backbone.transformer_layers_per_block",
            b.transformer_layers_per_block,
        ),
        ("backbone.sample_size", b.sample_size),
    ] {
        if value == 0 {
            return err(
                field,
                "must be positive, got 0".into(),
                "use a positive value",
            );
        }
        // layers_per_block has its own, tighter limit (the slot count) below.
        if value > MAX_SIZE && field != "backbone.layers_per_block" {
            return err(field, too_large(value), "use a realistic value");
        }
    }
    if v.channels != b.in_channels {
        return err(
            "video.channels",
            format!(
                "is {} but backbone.in_channels is {}",
                v.channels, b.in_channels
            ),
            "make the clip's channels equal the backbone's input channels",
        );
    }
    // More blocks than bits would overflow the shift; no frame is that large anyway.
    let Some(factor) = u32::try_from(n - 1)
        .ok()
        .and_then(|s| 1usize.checked_shl(s))
    else {
        return err(
            "backbone.block_out_channels",
            format!("{n} blocks down-sample more than any frame size allows"),
            "use at most a handful of blocks (diffusers UNets have 3 or 4)",
        );
    };
    for (field, size) in [("video.height", v.height), ("video.width", v.width)] {
        if size % factor != 0 {
            return err(
                field,
                format!("{size} is not divisible by {factor}, the backbone's total down-sampling"),
                &format!("use a multiple of {factor}"),
            );
        }
    }
    for (i, &c) in b.block_out_channels.iter().enumerate() {
        if c % b.norm_num_groups != 0 {
            return err(
                "backbone.norm_num_groups",
                format!(
                    "{} groups do not divide block_out_channels[{i}] = {c}",
                    b.norm_num_groups
                ),
                &format!(
                    "choose a group count that divides every block's channels: one of {}",
                    common_divisors(b.block_out_channels.iter().copied())
                ),
            );
        }
        let has_attn = b.has_cross_attention_down(i) || b.has_cross_attention_up(n - 1 - i);
        if has_attn && c % b.attention_head_dim != 0 {
            return err(
                "backbone.attention_head_dim",
                format!(
                    "{} heads do not divide block_out_channels[{i}] = {c}",
                    b.attention_head_dim
                ),
                &format!(
                    "choose a head count that divides every attention block's channels: one \
                     of {}",
                    common_divisors((0..n).filter_map(|j| {
                        let attn =
                            b.has_cross_attention_down(j) || b.has_cross_attention_up(n - 1 - j);
                        attn.then_some(b.block_out_channels[j])
                    }))
                ),
            );
        }
    }
    let slots = match f.temporal.placement {
        Placement::EveryLayer => b
            .layers_per_block
            .checked_mul(2)
            .and_then(|l| n.checked_mul(l + 1)?.checked_add(1)),
        Placement::LastLayerOfBlock => Some(2 * n + 1),
    };
    if slots.is_none_or(|s| s > MAX_SLOTS) {
        return err(
            "backbone.layers_per_block",
            format!(
                "{} layers in each of {n} blocks give more than {MAX_SLOTS} temporal slots",
                b.layers_per_block
            ),
            "lower layers_per_block, or set temporal.placement to \"last_layer_of_block\"",
        );
    }
    let ops = &f.temporal.ops;
    for (op, kernel) in ops
        .declared()
        .filter_map(|(op, p)| Some((op, p.kernel_size()?)))
    {
        if kernel > MAX_KERNEL {
            return err(
                &format!("temporal.ops.{op}.kernel_size"),
                format!("kernel size {kernel} is above {MAX_KERNEL}"),
                "use an odd kernel size (1, 3, 5)",
            );
        }
        if kernel % 2 == 0 {
            return err(
                &format!("temporal.ops.{op}.kernel_size"),
                format!("kernel size {kernel} is even"),
                "use an odd kernel size (1, 3, 5) so frames stay aligned",
            );
        }
    }
    for (op, heads) in ops
        .declared()
        .filter_map(|(op, p)| Some((op, p.num_heads()?)))
    {
        if heads == 0 {
            return err(
                &format!("temporal.ops.{op}.num_heads"),
                "must be positive, got 0".into(),
                "use at least one head",
            );
        }
    }
    for (op, params) in ops.declared() {
        let field = format!("temporal.ops.{op}.stride");
        match (params.stride(), op.spec().structure.strided()) {
            (Some(_), false) => {
                return err(
                    &field,
                    format!("`{op}` attends to every token and has no stride"),
                    "remove the field (a strided attention such as attn3d_stride takes one)",
                )
            }
            (None, true) => {
                return err(
                    &field,
                    format!("`{op}` attends to every stride-th token and needs its stride"),
                    "add \"stride\": 2 (or larger: each query attends to 1/stride of the tokens)",
                )
            }
            (Some(0), true) => {
                return err(
                    &field,
                    "must be positive, got 0".into(),
                    "use a stride of at least 1 (1 attends to every token)",
                )
            }
            (Some(_), true) | (None, false) => {}
        }
    }
    let c = &f.temporal.constraints;
    if let Some(max) = c.max_temporal_layers {
        if max < c.min_temporal_layers {
            return err(
                "temporal.constraints.max_temporal_layers",
                format!(
                    "{max} is below min_temporal_layers = {}",
                    c.min_temporal_layers
                ),
                "raise max_temporal_layers or lower min_temporal_layers",
            );
        }
    }
    Ok(())
}

pub(crate) fn check_slots(path: &Path, f: &SpaceFile, slots: &[Slot]) -> Result<(), SpaceError> {
    let err = |field: &str, msg: String, fix: &str| Err(SpaceError::invalid(path, field, msg, fix));
    for s in slots {
        if s.allowed.is_empty() {
            return err(
                "temporal.ops",
                format!("slot `{}` ({}×{}) allows no op", s.name, s.height, s.width),
                "declare \"none\" or raise an op's max_resolution",
            );
        }
        for (op, heads) in f
            .temporal
            .ops
            .declared()
            .filter_map(|(op, p)| Some((op, p.num_heads()?)))
        {
            if s.allows(op) && s.channels % heads != 0 {
                return err(
                    &format!("temporal.ops.{op}.num_heads"),
                    format!(
                        "{} heads do not divide the {} channels of slot `{}`",
                        heads, s.channels, s.name
                    ),
                    &format!(
                        "choose a head count that divides the channels of every slot \
                         allowing {op}: one of {}",
                        common_divisors(slots.iter().filter(|s| s.allows(op)).map(|s| s.channels))
                    ),
                );
            }
        }
    }
    // A stride past a sequence's length would leave one key: the op would no longer be the
    // attention the space means, so the range is the shortest sequence the op runs on.
    for (op, stride, mixes) in f.temporal.ops.declared().filter_map(|(op, p)| {
        let Structure::Attention { mixes, .. } = op.spec().structure else {
            return None;
        };
        Some((op, p.stride()?, mixes))
    }) {
        let length = |s: &Slot| {
            mixes
                .sequences(s.frames as u64, (s.height * s.width) as u64)
                .1
        };
        if let Some(shortest) = slots
            .iter()
            .filter(|s| s.allows(op))
            .min_by_key(|s| length(s))
        {
            let tokens = length(shortest);
            if stride as u64 > tokens {
                return err(
                    &format!("temporal.ops.{op}.stride"),
                    format!(
                        "stride {stride} is larger than the {tokens} tokens of a sequence at slot `{}` ({}×{}×{})",
                        shortest.name, shortest.frames, shortest.height, shortest.width
                    ),
                    &format!("use a stride from 1 to {tokens}"),
                );
            }
        }
    }
    let capable = slots
        .iter()
        .filter(|s| s.allowed.iter().any(|o| o.is_temporal()))
        .count();
    let min = f.temporal.constraints.min_temporal_layers;
    if min > capable {
        return err(
            "temporal.constraints.min_temporal_layers",
            format!("asks for {min} temporal layers but only {capable} slots can hold one"),
            &format!("use at most {capable}"),
        );
    }
    let forced = slots.iter().filter(|s| !s.allows(OpKind::None)).count();
    if let Some(max) = f.temporal.constraints.max_temporal_layers {
        if forced > max {
            return err(
                "temporal.constraints.max_temporal_layers",
                format!("{forced} slots cannot be `none`, more than the maximum {max}"),
                "declare the `none` op or raise max_temporal_layers",
            );
        }
    }
    Ok(())
}
