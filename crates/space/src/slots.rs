//! Temporal slots: the places in the backbone where a temporal op can go, derived from the
//! backbone config and the placement rule.

use crate::format::{Placement, SpaceFile};
use crate::ops::OpKind;
use serde::Serialize;

/// Which part of the UNet a slot sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "block")]
pub enum Stage {
    Down(usize),
    Mid,
    Up(usize),
}

/// One place for a temporal op, with the activation shape it runs at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slot {
    /// Readable name: `down.1.block.0`, `mid.block.0`, `up.2.block.1`.
    pub name: String,
    pub stage: Stage,
    /// Layer index inside its block.
    pub layer: usize,
    pub channels: usize,
    pub frames: usize,
    pub height: usize,
    pub width: usize,
    /// Ops this slot may hold (declared ops that pass their resolution limits), canonical order.
    pub allowed: Vec<OpKind>,
}

impl Slot {
    pub fn allows(&self, op: OpKind) -> bool {
        self.allowed.contains(&op)
    }
}

/// Derives the slots in execution order: down blocks, mid block, up blocks.
/// Assumes the file passed structural validation (list lengths, divisibility).
pub(crate) fn derive_slots(file: &SpaceFile) -> Vec<Slot> {
    let b = &file.backbone;
    let v = &file.video;
    let n = b.block_out_channels.len();
    let declared = declared_ops(file);
    let make = |name: String, stage, layer, channels, level: usize| {
        let (height, width) = (v.height >> level, v.width >> level);
        let allowed = declared
            .iter()
            .filter(|(_, max_res)| max_res.is_none_or(|m| height <= m && width <= m))
            .map(|(op, _)| *op)
            .collect();
        Slot {
            name,
            stage,
            layer,
            channels,
            frames: v.frames,
            height,
            width,
            allowed,
        }
    };
    let layers = |count: usize| -> Vec<usize> {
        match file.temporal.placement {
            Placement::EveryLayer => (0..count).collect(),
            Placement::LastLayerOfBlock => vec![count - 1],
        }
    };
    let mut slots = Vec::new();
    for (i, &c) in b.block_out_channels.iter().enumerate() {
        for j in layers(b.layers_per_block) {
            slots.push(make(format!("down.{i}.block.{j}"), Stage::Down(i), j, c, i));
        }
    }
    let c_mid = b.block_out_channels[n - 1];
    slots.push(make("mid.block.0".into(), Stage::Mid, 0, c_mid, n - 1));
    for i in 0..n {
        let c = b.block_out_channels[n - 1 - i];
        for j in layers(b.layers_per_block + 1) {
            slots.push(make(
                format!("up.{i}.block.{j}"),
                Stage::Up(i),
                j,
                c,
                n - 1 - i,
            ));
        }
    }
    slots
}

/// Declared ops with their resolution limit, canonical order.
fn declared_ops(file: &SpaceFile) -> Vec<(OpKind, Option<usize>)> {
    file.temporal
        .ops
        .declared()
        .map(|(op, params)| (op, params.max_resolution()))
        .collect()
}
