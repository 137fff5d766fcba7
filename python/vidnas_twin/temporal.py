"""The temporal ops of crates/nn/src/temporal.rs (with the `Attention` of attention.rs), in
plain torch, with the Rust op's parameter names.

The one PyTorch copy of the ops: the twin, the ExecuTorch harness and the PyTorch train-step
benchmark (python/vidnas_twin/train_step.py) import them. The op math is the one
scripts/pin_math.py writes out with explicit loops and crates/nn/tests/pinned_ops.rs pins;
scripts/twin_fixtures.py checks these modules against pin_math's loops in f64 before writing
fixtures.

Every op takes the spatial layout with frames folded into the batch, `[B*T, C, H, W]`
(row b*T + t), and is residual; its last projection (`conv2`, `proj_out`) starts at zero.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from .registry import STRUCTURE, is_strided


class Attention(nn.Module):
    """`Attention` (crates/nn/src/attention.rs), as diffusers': `to_q`/`to_k`/`to_v` without
    bias, `to_out.0` with bias, heads cut as contiguous channel chunks, SDPA."""

    def __init__(self, query_dim, context_dim, heads):
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(query_dim, query_dim, bias=False)
        self.to_k = nn.Linear(context_dim, query_dim, bias=False)
        self.to_v = nn.Linear(context_dim, query_dim, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(query_dim, query_dim)])

    # Deployment form (deploy.py): attention as matmul-softmax-matmul.
    explicit = False

    def forward(self, xs, context=None):
        context = xs if context is None else context

        def split(t):
            n, l, c = t.shape
            return t.view(n, l, self.heads, c // self.heads).transpose(1, 2)

        q, k, v = split(self.to_q(xs)), split(self.to_k(context)), split(self.to_v(context))
        if self.explicit:
            out = explicit_attention(q, k, v)
        else:
            out = F.scaled_dot_product_attention(q, k, v)
        n, _, l, _ = out.shape
        return self.to_out[0](out.transpose(1, 2).reshape(n, l, -1))


def explicit_attention(q, k, v):
    """`softmax(q kᵀ / sqrt(d)) v`: SDPA's numbers from matmul, softmax and mul, which a mobile
    delegate takes whole (torch.export decomposes SDPA into ops XNNPACK leaves to portable
    kernels)."""
    # 3-D bmm: a 4-D matmul exports as expand + bmm, and the delegate leaves expand out.
    n, heads, l, d = q.shape
    q3, k3, v3 = (t.reshape(n * heads, -1, d) for t in (q, k, v))
    scores = torch.bmm(q3, k3.transpose(1, 2)) * (d ** -0.5)
    return torch.bmm(scores.softmax(-1), v3).reshape(n, heads, l, d)


def unfold_frames(xs, frames):
    """`[B*T, C, H, W]` -> `[B, C, T, H, W]` (contiguous, as the Rust op makes it)."""
    n, c, h, w = xs.shape
    return xs.view(n // frames, frames, c, h, w).permute(0, 2, 1, 3, 4).contiguous()


def fold_frames(xs):
    """`[B, C, T, H, W]` -> `[B*T, C, H, W]`."""
    b, c, t, h, w = xs.shape
    return xs.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)


class TemporalConv(nn.Module):
    """`norm1 -> SiLU -> conv1 -> norm2 -> SiLU -> conv2 ...`, residual, one stage per
    `(mixes, size)` of `layers` (the registry's conv layers; size "k" is the op's kernel).
    GroupNorm over the whole clip (C/groups, T, H, W). Over "frames": space folded into the
    batch, Conv1d over time; "pixels": time folded into the batch, Conv2d within each frame;
    "volume": Conv3d over time and space. Padding size // 2; the last conv starts at zero."""

    def __init__(self, channels, layers, kernel, groups):
        super().__init__()
        self.mixes = []
        for i, (mixes, size) in enumerate(layers, 1):
            size = kernel if size == "k" else size
            conv = {"frames": nn.Conv1d, "pixels": nn.Conv2d, "volume": nn.Conv3d}[mixes]
            setattr(self, f"norm{i}", nn.GroupNorm(groups, channels))
            setattr(self, f"conv{i}", conv(channels, channels, size, padding=size // 2))
            self.mixes.append(mixes)
        last = getattr(self, f"conv{len(layers)}")
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        # deploy.py folds the 3-D convs of an all-volume op (conv3d) for mobile runtimes.
        self.spatial = all(m == "volume" for m in self.mixes)
        self.kernel = kernel

    def stages(self):
        return [(getattr(self, f"norm{i}"), getattr(self, f"conv{i}"), m)
                for i, m in enumerate(self.mixes, 1)]

    def apply_conv(self, conv, mixes, video):
        b, ch, t, h, w = video.shape
        if mixes == "volume":
            folded = getattr(self, "deployed", {}).get(id(conv))
            return conv3d_as_conv2d(folded, conv.kernel_size[0], video) if folded else conv(video)
        if mixes == "pixels":
            return conv(fold_frames(video)).view(b, t, ch, h, w).permute(0, 2, 1, 3, 4)
        seq = video.permute(0, 3, 4, 1, 2).reshape(b * h * w, ch, t)
        return conv(seq).view(b, h, w, ch, t).permute(0, 3, 4, 1, 2)

    def forward(self, xs, frames):
        h = unfold_frames(xs, frames)
        for norm, conv, mixes in self.stages():
            h = self.apply_conv(conv, mixes, F.silu(norm(h)))
        return xs + fold_frames(h)


def conv3d_as_conv2d(conv2d, kt, video):
    """A Conv3d (stride 1, padding k // 2) as one 2-D conv over the `kt` time-shifted copies of
    each frame stacked on channels (`fold_conv3d` makes its weights): the same numbers from an
    op every mobile runtime runs. ExecuTorch 1.5.1's XNNPACK delegate does not take 3-D convs
    and its portable convolution kernel only 3-D/4-D inputs, so a Conv3d exported as is does
    not run there."""
    b, c, t, h, w = video.shape
    pad = kt // 2
    frames = F.pad(video, (0, 0, 0, 0, pad, pad)).permute(0, 2, 1, 3, 4)  # [B, T+2p, C, H, W]
    stacked = torch.cat([frames[:, dt:dt + t] for dt in range(kt)], 2).reshape(b * t, kt * c, h, w)
    out = conv2d(stacked)
    return out.view(b, t, -1, h, w).permute(0, 2, 1, 3, 4)


def fold_conv3d(conv):
    """The Conv2d of `conv3d_as_conv2d` for a Conv3d: input channels are (time tap, channel)."""
    co, ci, kt, kh, kw = conv.weight.shape
    out = nn.Conv2d(kt * ci, co, (kh, kw), padding=conv.padding[1:]).to(conv.weight.dtype)
    with torch.no_grad():
        out.weight.copy_(conv.weight.permute(0, 2, 1, 3, 4).reshape(co, kt * ci, kh, kw))
        out.bias.copy_(conv.bias)
    return out


def frame_positions(frames, channels, device=None):
    """Fixed sinusoidal frame encoding `[T, C]`: `[sin | cos](t * 10000^(-i / (C/2)))`, always
    computed in f32 (as the Rust op does, whatever the op's dtype); odd C padded with a zero."""
    pos = torch.arange(frames, dtype=torch.float32, device=device).unsqueeze(1)
    half = channels // 2
    freq = (torch.arange(half, dtype=torch.float32, device=device) * (-math.log(10000.0) / half)).exp()
    angles = pos * freq.unsqueeze(0)
    enc = torch.cat([angles.sin(), angles.cos()], 1)
    if channels % 2 == 1:
        enc = F.pad(enc, (0, 1, 0, 0))
    return enc


def strided_keys(tokens, stride, delegable=False):
    """Every `stride`-th token of each sequence `[N, L, C]` from the first, in order:
    `[N, ceil(L / stride), C]`. `delegable` (deploy.py) takes the same tokens as zero padding to
    a multiple of `stride`, a `[N, K, stride, C]` view and a unit-step slice, which XNNPACK
    delegates (it leaves a strided slice to a portable kernel, splitting the partition)."""
    if not delegable:
        return tokens[:, ::stride]
    n, l, c = tokens.shape
    k = -(-l // stride)
    if k * stride != l:
        tokens = F.pad(tokens, (0, 0, 0, k * stride - l))
    return tokens.reshape(n, k, stride, c)[:, :, :1].reshape(n, k, c)


class TemporalAttention(nn.Module):
    """`norm -> proj_in -> + frame position -> self-attention -> proj_out`, residual, over the
    sequences `mixes` forms: "frames" (attn1d) one sequence of T tokens per (clip, y, x);
    "pixels" one of H*W tokens per (clip, frame), row-major; "volume" (attn3d) one of T*H*W
    tokens per clip, frame-major (t, y, x). Every token gets its frame's position. With
    `stride` > 1 the keys and values are every `stride`-th token of each sequence from the
    first (ceil(L / stride) of them), taken from the same tokens as the queries; stride 1 is
    full attention."""

    def __init__(self, channels, heads, mixes, groups, stride=1):
        super().__init__()
        if mixes not in ("frames", "pixels", "volume"):
            raise ValueError(f"attention mixing `{mixes}`: use frames, pixels or volume")
        if stride < 1:
            raise ValueError(f"attention stride {stride}: must be at least 1")
        self.mixes, self.stride = mixes, stride
        self.norm = nn.GroupNorm(groups, channels)
        self.proj_in = nn.Linear(channels, channels)
        self.attn = Attention(channels, channels, heads)
        self.proj_out = nn.Linear(channels, channels)
        nn.init.zeros_(self.proj_out.weight)
        nn.init.zeros_(self.proj_out.bias)

    # Deployment form (deploy.py): strided keys without a strided slice.
    delegable_keys = False

    def positions(self, t, h, w, c, device=None):
        """The frame encoding added to the tokens: `[1, T, C]` ("frames") or `[1, T*H*W, C]`
        ("pixels" and "volume": each clip's tokens in (t, y, x) order before being cut into
        sequences)."""
        pos = frame_positions(t, c, device)
        if self.mixes != "frames":
            pos = pos.unsqueeze(1).expand(t, h * w, c).reshape(t * h * w, c)
        return pos.unsqueeze(0)

    def forward(self, xs, frames):
        video = self.norm(unfold_frames(xs, frames))
        b, c, t, h, w = video.shape
        if self.mixes == "frames":
            tokens = video.permute(0, 3, 4, 2, 1).reshape(b * h * w, t, c)
        else:
            # Per clip in (t, y, x) order; "pixels" cuts it into frames after the positions.
            tokens = video.permute(0, 2, 3, 4, 1).reshape(b, t * h * w, c)
        tokens = self.proj_in(tokens)
        # Computed in f32 as in Rust, then cast to the tokens' dtype: a no-op in f32 and the
        # same values as Rust's type promotion in f64; in f16/bf16 it keeps the op in half
        # precision (the Rust op promotes the tokens to f32 there and its next Linear fails).
        if getattr(self, "record_positions", False):
            # deploy.py: keep this call's encoding as a constant for the export that follows.
            self.register_buffer("position_table", self.positions(t, h, w, c, xs.device), persistent=False)
            self.position_shape = (t, h, w, c)
            self.record_positions = False
        table = getattr(self, "position_table", None)
        if table is not None and getattr(self, "position_shape", None) == (t, h, w, c):
            tokens = tokens + table.to(tokens.dtype)
        else:
            tokens = tokens + self.positions(t, h, w, c, xs.device).to(tokens.dtype)
        if self.mixes == "pixels":
            tokens = tokens.reshape(b * t, h * w, c)
        # Strided keys: every stride-th token of each sequence, in its order, from the first.
        context = strided_keys(tokens, self.stride, self.delegable_keys) if self.stride > 1 else None
        out = self.proj_out(self.attn(tokens, context))
        if self.mixes == "frames":
            out = out.view(b, h, w, t, c).permute(0, 4, 3, 1, 2)
        else:
            out = out.view(b, t, h, w, c).permute(0, 4, 1, 2, 3)
        return xs + fold_frames(out)


def temporal_op(kind, channels, cfg):
    """`TemporalOp::new`: the op `kind` for `channels`, built from its registry entry with
    `cfg` = `Space.temporal_config()`: {"groups": g, "hyper": {op: kernel_size or num_heads},
    "stride": {op: stride}} ("stride" only where an op is strided). `none` has no layer:
    returns None."""
    if kind not in STRUCTURE:
        raise ValueError(f"unknown temporal op `{kind}`; use one of {', '.join(STRUCTURE)}")
    if STRUCTURE[kind] is None:
        return None
    structure, mixes = STRUCTURE[kind][:2]
    g, hyper = cfg["groups"], cfg["hyper"][kind]
    if structure == "conv":
        return TemporalConv(channels, mixes, hyper, g)
    stride = 1
    if is_strided(kind):
        stride = cfg.get("stride", {}).get(kind)
        if stride is None:
            raise ValueError(f"`{kind}` attends to strided keys but the config gives it no stride "
                             "(cfg[\"stride\"][kind], from the space file's `stride`)")
    return TemporalAttention(channels, hyper, mixes, g, stride)
