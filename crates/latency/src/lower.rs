//! Lowering: an architecture on a space becomes the ordered ops the video UNet runs for a batch
//! of clips, mirroring diffusers' `UNet2DConditionModel` (and `crates/nn`, which follows it):
//!
//! ```text
//! time_embedding, conv_in (push)
//! down_blocks.i: per layer j: resnets.j, [attentions.j], [temporal.j]   (layer output: push)
//!                then, except the last block, downsamplers.0          (push)
//! mid_block: resnets.0, [attentions.0, resnets.1 (cross-attention mid blocks only)], [temporal.0]
//! up_blocks.i: per layer j (one more than down): resnets.j (pop, concat), [attentions.j],
//!                [temporal.j]; then, except the last block, upsamplers.0
//! conv_out (conv_norm_out + SiLU + conv_out)
//! ```
//!
//! Spatial ops run on the `frames` images of every clip folded into the batch; the time
//! embedding runs once per clip. Temporal ops sit where the space has slots and the
//! architecture chose an op other than `none`.

use crate::error::LatencyError;
use crate::signature::{OpClass, Signature};
use std::collections::BTreeSet;
use vidnas_space::{Architecture, OpKind, Space, Stage};

/// Shape options of a lowering that the space does not fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LowerOptions {
    /// Text tokens the cross-attention reads (part of `xformer` signatures).
    pub text_tokens: usize,
    /// Clips per forward (scales activation elements, not signatures).
    pub batch: usize,
}

impl LowerOptions {
    pub const DEFAULT_TEXT_TOKENS: usize = 16;

    pub fn new(text_tokens: usize, batch: usize) -> Self {
        Self { text_tokens, batch }
    }
}

impl Default for LowerOptions {
    fn default() -> Self {
        Self {
            text_tokens: Self::DEFAULT_TEXT_TOKENS,
            batch: 1,
        }
    }
}

/// One op of the lowered network.
#[derive(Debug, Clone, PartialEq)]
pub struct LoweredOp {
    /// diffusers-style module name: `down_blocks.1.resnets.0`, `down_blocks.1.temporal.0`.
    pub name: String,
    /// The slot index for a temporal op.
    pub slot: Option<usize>,
    /// The table key (see [`Signature`]).
    pub signature: String,
    pub op_kind: OpClass,
    pub params: u64,
    /// Activation elements for the lowering's batch (see `cost.rs` for the model).
    pub input_elems: u64,
    pub output_elems: u64,
    pub workspace_elems: u64,
    /// The op's output is pushed on the skip stack.
    pub pushes_skip: bool,
    /// The op pops a skip tensor and concatenates it to its input (counted in `input_elems`).
    pub pops_skip: bool,
}

/// Lowers `arch` after checking it against the space.
pub fn lower(
    space: &Space,
    arch: &Architecture,
    opts: &LowerOptions,
) -> Result<Vec<LoweredOp>, LatencyError> {
    space.check_arch(arch)?;
    Ok(lower_ops(space, &arch.ops, opts))
}

/// The temporal op `op` at slot `slot`, or `None` for `none` or an op the space does not declare.
pub fn temporal_signature(space: &Space, slot: usize, op: OpKind) -> Option<Signature> {
    let s = &space.slots[slot];
    let params = space.file.temporal.ops.get(op)?;
    Signature::temporal(
        op,
        s.channels as u64,
        params.hyper()?,
        space.file.backbone.norm_num_groups as u64,
        (s.frames as u64, s.height as u64, s.width as u64),
    )
}

/// Every signature any architecture of the space can produce: the backbone's and every allowed
/// temporal op at every slot. The profiler times exactly these.
pub fn all_signatures(space: &Space, opts: &LowerOptions) -> BTreeSet<String> {
    let none = vec![OpKind::None; space.num_slots()];
    let mut sigs: BTreeSet<String> = lower_ops(space, &none, opts)
        .into_iter()
        .map(|op| op.signature)
        .collect();
    for (i, slot) in space.slots.iter().enumerate() {
        for &op in &slot.allowed {
            if let Some(sig) = temporal_signature(space, i, op) {
                sigs.insert(sig.to_string());
            }
        }
    }
    sigs
}

/// Parameters of the spatial network (every op but the temporal ones).
pub fn backbone_params(space: &Space) -> u64 {
    let none = vec![OpKind::None; space.num_slots()];
    lower_ops(space, &none, &LowerOptions::default())
        .iter()
        .fold(0, |a, op| a.saturating_add(op.params))
}

/// Parameters of the temporal ops `arch` chooses.
pub fn temporal_params(space: &Space, arch: &Architecture) -> u64 {
    arch.ops
        .iter()
        .enumerate()
        .filter_map(|(i, &op)| temporal_signature(space, i, op))
        .fold(0, |a, sig| a.saturating_add(sig.params()))
}

/// Lowers per-slot op choices without checking them (slots with undeclared ops are skipped).
pub(crate) fn lower_ops(space: &Space, ops: &[OpKind], opts: &LowerOptions) -> Vec<LoweredOp> {
    let b = &space.file.backbone;
    let v = &space.file.video;
    let mut l = Lowerer {
        space,
        ops,
        batch: opts.batch as u64,
        out: Vec::new(),
    };
    let ch: Vec<u64> = b.block_out_channels.iter().map(|&c| c as u64).collect();
    let n = ch.len();
    let (t, groups) = (v.frames as u64, b.norm_num_groups as u64);
    let temb = b.time_embed_dim() as u64;
    let res = |level: usize| ((v.height >> level) as u64, (v.width >> level) as u64);
    let resnet = |cin, cout, (h, w): (u64, u64)| Signature::Resnet {
        cin,
        cout,
        temb,
        groups,
        t,
        h,
        w,
    };
    let xformer = |c, (h, w): (u64, u64)| Signature::Transformer {
        c,
        heads: b.attention_head_dim as u64,
        ctx: b.cross_attention_dim as u64,
        tokens: opts.text_tokens as u64,
        layers: b.transformer_layers_per_block as u64,
        linear: b.use_linear_projection,
        groups,
        t,
        h,
        w,
    };

    l.op("time_embedding", Signature::TimeEmbed { c: ch[0], temb });
    let (h, w) = res(0);
    let cin = b.in_channels as u64;
    l.op(
        "conv_in",
        Signature::ConvIn {
            cin,
            cout: ch[0],
            t,
            h,
            w,
        },
    );
    l.push_skip();

    for (i, &c) in ch.iter().enumerate() {
        let p = format!("down_blocks.{i}");
        for j in 0..b.layers_per_block {
            let cin = if j == 0 { ch[i.saturating_sub(1)] } else { c };
            l.op(format!("{p}.resnets.{j}"), resnet(cin, c, res(i)));
            if b.has_cross_attention_down(i) {
                l.op(format!("{p}.attentions.{j}"), xformer(c, res(i)));
            }
            l.temporal(&p, Stage::Down(i), j);
            l.push_skip();
        }
        if i + 1 < n {
            let (h, w) = res(i);
            l.op(
                format!("{p}.downsamplers.0"),
                Signature::Downsample { c, t, h, w },
            );
            l.push_skip();
        }
    }

    let c = ch[n - 1];
    l.op("mid_block.resnets.0", resnet(c, c, res(n - 1)));
    // diffusers builds UNetMidBlock2D inside UNet2DConditionModel with one ResNet only.
    if b.has_mid_attention() {
        l.op("mid_block.attentions.0", xformer(c, res(n - 1)));
        l.op("mid_block.resnets.1", resnet(c, c, res(n - 1)));
    }
    l.temporal("mid_block", Stage::Mid, 0);

    let rev: Vec<u64> = ch.iter().rev().copied().collect();
    for i in 0..n {
        let p = format!("up_blocks.{i}");
        let (out, prev, input) = (rev[i], rev[i.saturating_sub(1)], rev[(i + 1).min(n - 1)]);
        let level = n - 1 - i;
        for j in 0..=b.layers_per_block {
            let skip = if j == b.layers_per_block { input } else { out };
            let cin = if j == 0 { prev } else { out }.saturating_add(skip);
            l.op(format!("{p}.resnets.{j}"), resnet(cin, out, res(level)));
            l.pop_skip();
            if b.has_cross_attention_up(i) {
                l.op(format!("{p}.attentions.{j}"), xformer(out, res(level)));
            }
            l.temporal(&p, Stage::Up(i), j);
        }
        if i + 1 < n {
            let (h, w) = res(level);
            l.op(
                format!("{p}.upsamplers.0"),
                Signature::Upsample { c: out, t, h, w },
            );
        }
    }

    let (h, w) = res(0);
    let cout = b.out_channels as u64;
    l.op(
        "conv_out",
        Signature::ConvOut {
            cin: ch[0],
            cout,
            groups,
            t,
            h,
            w,
        },
    );
    l.out
}

struct Lowerer<'a> {
    space: &'a Space,
    ops: &'a [OpKind],
    batch: u64,
    out: Vec<LoweredOp>,
}

impl Lowerer<'_> {
    fn op(&mut self, name: impl Into<String>, sig: Signature) {
        self.emit(name.into(), None, sig);
    }

    fn emit(&mut self, name: String, slot: Option<usize>, sig: Signature) {
        let act = sig.activations(self.batch);
        self.out.push(LoweredOp {
            name,
            slot,
            signature: sig.to_string(),
            op_kind: sig.class(),
            params: sig.params(),
            input_elems: act.input,
            output_elems: act.output,
            workspace_elems: act.workspace,
            pushes_skip: false,
            pops_skip: false,
        });
    }

    /// The temporal op of the slot at (stage, layer), if the space has that slot and the
    /// architecture put an op there.
    fn temporal(&mut self, prefix: &str, stage: Stage, layer: usize) {
        let Some(slot) = self
            .space
            .slots
            .iter()
            .position(|s| s.stage == stage && s.layer == layer)
        else {
            return;
        };
        if let Some(sig) = temporal_signature(self.space, slot, self.ops[slot]) {
            self.emit(format!("{prefix}.temporal.{layer}"), Some(slot), sig);
        }
    }

    /// The last op's output goes on the skip stack.
    fn push_skip(&mut self) {
        if let Some(op) = self.out.last_mut() {
            op.pushes_skip = true;
        }
    }

    /// The last op popped a skip tensor.
    fn pop_skip(&mut self) {
        if let Some(op) = self.out.last_mut() {
            op.pops_skip = true;
        }
    }
}
