#!/usr/bin/env python3
"""Pins vidnas' own math to PyTorch numbers: writes the JSON fixtures that
crates/nn/tests/pinned_ops.rs and crates/diffusion/tests/pinned_math.rs compare against.

Regenerate (deterministic on CPU, one thread), from the repository root:

    ~/.cache/vidnas/venv-torch-2.13.0/bin/python scripts/pin_math.py

or only some fixtures, by file name without `.json` (the others are left as they are; their
last bits can move when regenerated on another machine):

    ~/.cache/vidnas/venv-torch-2.13.0/bin/python scripts/pin_math.py --only temporal_attn3d_stride

It writes:
  crates/nn/tests/fixtures/pinned/temporal_{conv1d,conv3d,attn1d,attn3d,conv2plus1d,attn3d_stride}.json
      one temporal op each (crates/nn/src/temporal.rs): its hyper-parameters (the micro space's:
      kernel size and heads from search-spaces/tiny.json, those of the newer ops from
      search-spaces/tiny-plus.json, 4 groups, the channels of a micro slot that allows the op),
      an input [B*T, C, H, W] with B=2, T=3, H=2, W=3, every weight random and nonzero (the
      zero-initialised output projections too) under the Rust op's variable names, and the
      output, all in f64.
  crates/diffusion/tests/fixtures/pinned/adamw.json
      3 steps of torch.optim.AdamW on two tensors (f32 and f64), non-default hyper-parameters.
  crates/diffusion/tests/fixtures/pinned/ddim_step.json
      one DDIM (eta = 0) step as diffusers' DDIMScheduler.step computes it, epsilon and v,
      with and without clipping x0, at (t, t_prev) = (999, 749) and (249, final step), f64.
  crates/diffusion/tests/fixtures/pinned/schedule.json
      alphas_cumprod of the scaled-linear schedule (diffusers' recipe, in f64 and as diffusers
      computes it in f32) and the noisy input / target of a training step for epsilon and v.

The reference math is written here in plain torch (no diffusers), each function naming the
diffusers code it mirrors. The temporal ops are re-implemented independently of the Rust code
paths: frames are unfolded and tokens gathered with explicit loops, group norm and attention
are written out, conv1d over time runs as a (k, 1, 1) Conv3d, as diffusers' TemporalConvLayer.
"""

import argparse
import json
import math
import os

import torch
import torch.nn.functional as F

GENERATED_BY = "~/.cache/vidnas/venv-torch-2.13.0/bin/python scripts/pin_math.py"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NN_DIR = os.path.join(ROOT, "crates", "nn", "tests", "fixtures", "pinned")
SUPERNET_DIR = os.path.join(ROOT, "crates", "diffusion", "tests", "fixtures", "pinned")


# --------------------------------------------------------------------------------------------
# JSON output: tensors as {"shape": [...], "data": [...]} with every float written exactly
# (Python's repr of the f64 value; an f32 value is written as the f64 it widens to).


def tensor_json(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": [float(v) for v in t.double().flatten().tolist()]}


def render(obj, indent=0):
    pad = " " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f'{pad}  {json.dumps(k)}: {render(v, indent + 2)}' for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(v, (dict, list, str)) for v in obj):
        items = [f"{pad}  {render(v, indent + 2)}" for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    if isinstance(obj, list):
        return "[" + ", ".join(render(v) for v in obj) + "]"
    if isinstance(obj, float):
        assert math.isfinite(obj), obj
        return repr(obj)
    return json.dumps(obj)


# --only: the fixture names (file names without `.json`) to write; None writes every one.
ONLY = None
WRITTEN = set()


def write(directory, name, obj):
    stem = name.removesuffix(".json")
    if ONLY is not None and stem not in ONLY:
        return
    WRITTEN.add(stem)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(render(obj) + "\n")
    print(f"wrote {os.path.relpath(path, ROOT)}")


def header(snippet):
    return {
        "generated_by": GENERATED_BY,
        "torch": torch.__version__,
        "snippet": snippet,
    }


# --------------------------------------------------------------------------------------------
# Temporal ops (crates/nn/src/temporal.rs, crates/nn/src/attention.rs).

B, T, H, W = 2, 3, 2, 3
GROUPS = 4  # micro(): backbone.norm_num_groups = 4
GN_EPS = 1e-5  # tch's GroupNormConfig default, as torch.nn.GroupNorm's


def unfold_frames(xs, frames):
    """[B*T, C, H, W] (clip-major: row b*T + t) -> [B, C, T, H, W], element by element."""
    b = xs.shape[0] // frames
    return torch.stack([torch.stack([xs[i * frames + t] for t in range(frames)], 1) for i in range(b)])


def fold_frames(video):
    """[B, C, T, H, W] -> [B*T, C, H, W]."""
    b, _, t, _, _ = video.shape
    return torch.stack([video[i, :, j] for i in range(b) for j in range(t)])


def group_norm(x, groups, weight, bias, eps=GN_EPS):
    """torch.nn.GroupNorm written out: statistics over (C/groups, *spatial), biased variance."""
    n, c = x.shape[:2]
    g = x.reshape(n, groups, -1)
    mean = g.mean(-1, keepdim=True)
    var = ((g - mean) ** 2).mean(-1, keepdim=True)
    y = ((g - mean) / torch.sqrt(var + eps)).reshape(x.shape)
    shape = [1, c] + [1] * (x.dim() - 2)
    return y * weight.reshape(shape) + bias.reshape(shape)


class GroupNorm(torch.nn.Module):
    def __init__(self, groups, channels):
        super().__init__()
        self.groups = groups
        self.weight = torch.nn.Parameter(torch.ones(channels))
        self.bias = torch.nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        y = group_norm(x, self.groups, self.weight, self.bias)
        # Self-check against torch's own kernel.
        assert torch.allclose(y, F.group_norm(x, self.groups, self.weight, self.bias, GN_EPS), atol=1e-12)
        return y


class TemporalConv(torch.nn.Module):
    """norm1 -> SiLU -> conv1 -> norm2 -> SiLU -> conv2, residual; group norm over the whole clip.
    conv1d convolves over time only (written as diffusers' TemporalConvLayer does: a Conv3d with
    a (k, 1, 1) kernel on [B, C, T, H, W]); conv3d over time and space, padding k // 2."""

    def __init__(self, channels, kernel, spatial):
        super().__init__()
        self.kernel, self.spatial = kernel, spatial
        self.norm1 = GroupNorm(GROUPS, channels)
        self.norm2 = GroupNorm(GROUPS, channels)
        conv = torch.nn.Conv3d if spatial else torch.nn.Conv1d
        self.conv1 = conv(channels, channels, kernel, padding=kernel // 2)
        self.conv2 = conv(channels, channels, kernel, padding=kernel // 2)

    def conv(self, layer, video):
        k = self.kernel
        if self.spatial:
            return F.conv3d(video, layer.weight, layer.bias, padding=k // 2)
        weight = layer.weight[:, :, :, None, None]  # [C_out, C_in, k] -> [C_out, C_in, k, 1, 1]
        return F.conv3d(video, weight, layer.bias, padding=(k // 2, 0, 0))

    def forward(self, xs, frames):
        video = unfold_frames(xs, frames)
        h = self.conv(self.conv1, F.silu(self.norm1(video)))
        h = self.conv(self.conv2, F.silu(self.norm2(h)))
        return xs + fold_frames(h)


class Conv2plus1d(TemporalConv):
    """(2+1)-D: norm1 -> SiLU -> conv1 (3x3 within each frame, written as a Conv3d with a
    (1, 3, 3) kernel) -> norm2 -> SiLU -> conv2 (over time, a (k, 1, 1) Conv3d), residual."""

    def __init__(self, channels, kernel):
        super().__init__(channels, kernel, False)
        self.conv1 = torch.nn.Conv2d(channels, channels, 3, padding=1)

    def conv(self, layer, video):
        if layer is self.conv1:
            return F.conv3d(video, layer.weight[:, :, None], layer.bias, padding=(0, 1, 1))
        return super().conv(layer, video)


class Attention(torch.nn.Module):
    """diffusers' Attention (to_q, to_k, to_v without bias, to_out.0) with AttnProcessor's
    head split (channels cut into `heads` contiguous chunks) and softmax(q k^T / sqrt(d)) v.
    With `stride` > 1 the keys and values come from tokens 0, stride, 2*stride, ... of the
    sequence only (strided attention); the queries stay every token."""

    def __init__(self, channels, heads):
        super().__init__()
        self.heads = heads
        self.to_q = torch.nn.Linear(channels, channels, bias=False)
        self.to_k = torch.nn.Linear(channels, channels, bias=False)
        self.to_v = torch.nn.Linear(channels, channels, bias=False)
        self.to_out = torch.nn.ModuleList([torch.nn.Linear(channels, channels)])

    def forward(self, x, stride=1):  # [L, C], one sequence
        length, c = x.shape
        d = c // self.heads

        def split(t):  # [n, C] -> [heads, n, d]
            return t.reshape(t.shape[0], self.heads, d).permute(1, 0, 2)

        # The attended tokens, gathered one by one: positions 0, stride, 2*stride, ... < length.
        keys = []
        position = 0
        while position < length:
            keys.append(x[position])
            position += stride
        assert len(keys) == -(-length // stride)
        context = torch.stack(keys)
        q, k, v = split(self.to_q(x)), split(self.to_k(context)), split(self.to_v(context))
        weights = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(d), dim=-1)
        out = weights @ v
        # Self-check against torch's own kernel.
        assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v), atol=1e-12)
        return self.to_out[0](out.permute(1, 0, 2).reshape(length, c))


def frame_positions(frames, channels):
    """The Rust op's fixed sinusoidal frame encoding [T, C]: [sin | cos] of t * 10000^(-i/half).
    Computed in f32 as the Rust op does (also when the op runs in f64)."""
    pos = torch.arange(frames, dtype=torch.float32).unsqueeze(1)
    half = channels // 2
    freq = (torch.arange(half, dtype=torch.float32) * (-math.log(10000.0) / half)).exp()
    angles = pos * freq.unsqueeze(0)
    enc = torch.cat([angles.sin(), angles.cos()], 1)
    if channels % 2 == 1:
        enc = F.pad(enc, (0, 1))
    return enc


class TemporalAttention(torch.nn.Module):
    """norm -> proj_in -> + frame position -> self-attention -> proj_out, residual, over the
    sequences of `mixes`: "frames" (attn1d) one sequence of T tokens per (clip, y, x); "pixels"
    one of H*W tokens per (clip, frame), row-major; "volume" (attn3d) one of T*H*W tokens per
    clip, frame-major ((t, y, x) in row-major order). Each token gets its frame's position.
    `stride` > 1 (attn3d_stride): each sequence's keys and values are its tokens 0, stride,
    2*stride, ... (after proj_in and the position), the queries all of its tokens."""

    def __init__(self, channels, heads, mixes, stride=1):
        super().__init__()
        assert mixes in ("frames", "pixels", "volume"), mixes
        self.mixes, self.stride = mixes, stride
        self.norm = GroupNorm(GROUPS, channels)
        self.proj_in = torch.nn.Linear(channels, channels)
        self.attn = Attention(channels, heads)
        self.proj_out = torch.nn.Linear(channels, channels)

    def forward(self, xs, frames):
        video = self.norm(unfold_frames(xs, frames))
        b, c, t, h, w = video.shape
        pos = frame_positions(t, c).to(video.dtype)
        out = torch.zeros_like(video)
        if self.mixes == "volume":
            sequences = [[(i, f, y, x) for f in range(t) for y in range(h) for x in range(w)] for i in range(b)]
        elif self.mixes == "pixels":
            sequences = [[(i, f, y, x) for y in range(h) for x in range(w)] for i in range(b) for f in range(t)]
        else:
            sequences = [[(i, f, y, x) for f in range(t)] for i in range(b) for y in range(h) for x in range(w)]
        for seq in sequences:
            tokens = torch.stack([video[i, :, f, y, x] for (i, f, y, x) in seq])
            frame = torch.tensor([f for (_, f, _, _) in seq])
            tokens = self.proj_in(tokens) + pos[frame]
            result = self.proj_out(self.attn(tokens, self.stride))
            for n, (i, f, y, x) in enumerate(seq):
                out[i, :, f, y, x] = result[n]
        return xs + fold_frames(out)


TEMPORAL_SNIPPET = {
    "conv": [
        "video = unfold_frames(xs, T)  # [B*T, C, H, W] -> [B, C, T, H, W], row b*T + t",
        "h = conv(conv1, silu(group_norm(video, 4, norm1)))  # GroupNorm over (C/4, T, H, W), eps 1e-5",
        "h = conv(conv2, silu(group_norm(h, 4, norm2)))",
        "# conv1d: F.conv3d(v, w[:, :, :, None, None], b, padding=(k//2, 0, 0)); conv3d: F.conv3d(v, w, b, padding=k//2)",
        "# conv2plus1d: conv1 F.conv3d(v, w[:, :, None], b, padding=(0, 1, 1)) (3x3 per frame), conv2 as conv1d",
        "out = xs + fold_frames(h)",
    ],
    "attn": [
        "video = group_norm(unfold_frames(xs, T), 4, norm)",
        "# attn1d: a sequence of T tokens per (b, y, x); attn3d: T*H*W tokens per b, frame-major",
        "tokens = proj_in(video[b, :, t, y, x] for each token) + frame_positions(T, C)[t]",
        "q, k, v = (to_q(tokens), to_k(tokens), to_v(tokens)) split into heads of C/heads channels",
        "o = to_out.0(concat_heads(softmax(q @ k^T / sqrt(C/heads)) @ v))",
        "out[b, :, t, y, x] = proj_out(o); out = xs + fold_frames(out)",
    ],
    "attn_stride": [
        "video = group_norm(unfold_frames(xs, T), 4, norm)",
        "# attn3d_stride: T*H*W tokens per b, frame-major, as attn3d",
        "tokens = proj_in(video[b, :, t, y, x] for each token) + frame_positions(T, C)[t]",
        "keys = tokens[0], tokens[s], tokens[2s], ... (every s-th token of the sequence, s = stride; ceil(L/s) of them)",
        "q, k, v = (to_q(tokens), to_k(keys), to_v(keys)) split into heads of C/heads channels",
        "o = to_out.0(concat_heads(softmax(q @ k^T / sqrt(C/heads)) @ v))",
        "out[b, :, t, y, x] = proj_out(o); out = xs + fold_frames(out)",
    ],
}


def randomise(module, generator):
    """Every weight random and nonzero: norms' scales around 1, everything else ~1/sqrt(fan_in)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.startswith("norm") and name.endswith("weight"):
                values = 1.0 + 0.5 * torch.randn(p.shape, generator=generator, dtype=torch.float64)
            elif name.endswith("bias"):
                values = 0.5 * torch.randn(p.shape, generator=generator, dtype=torch.float64)
            else:
                fan_in = p[0].numel()
                values = torch.randn(p.shape, generator=generator, dtype=torch.float64) / math.sqrt(fan_in)
            assert (values != 0).all(), name
            p.copy_(values)


def temporal_fixtures():
    with open(os.path.join(ROOT, "search-spaces", "tiny.json")) as f:
        ops = json.load(f)["temporal"]["ops"]  # micro() keeps tiny's ops
    with open(os.path.join(ROOT, "search-spaces", "tiny-plus.json")) as f:
        ops_plus = json.load(f)["temporal"]["ops"]  # micro_plus() takes tiny-plus's
    # (op, micro slot whose channels the op is built with, module)
    cases = [
        ("conv1d", "down.0.block.0", 8, lambda c: TemporalConv(c, ops["conv1d"]["kernel_size"], False)),
        ("conv3d", "down.0.block.0", 8, lambda c: TemporalConv(c, ops["conv3d"]["kernel_size"], True)),
        ("attn1d", "down.0.block.0", 8, lambda c: TemporalAttention(c, ops["attn1d"]["num_heads"], "frames")),
        # micro() allows attn3d only at 4x4 and below: the 16-channel slots.
        ("attn3d", "down.1.block.0", 16, lambda c: TemporalAttention(c, ops["attn3d"]["num_heads"], "volume")),
        # Declared by search-spaces/tiny-plus.json (fixtures::micro_plus()), kernel 3.
        ("conv2plus1d", "down.0.block.0", 8, lambda c: Conv2plus1d(c, 3)),
        # Declared by tiny-plus.json up to 16x16: T*H*W = 18 tokens, keys 0, 4, ..., 16 (5 of
        # them; 18 is no multiple of the stride, so the last key group is short).
        ("attn3d_stride", "down.0.block.0", 8, lambda c: TemporalAttention(
            c, ops_plus["attn3d_stride"]["num_heads"], "volume", ops_plus["attn3d_stride"]["stride"])),
    ]
    for seed, (op, slot, channels, make) in enumerate(cases):
        generator = torch.Generator().manual_seed(1000 + seed)
        module = make(channels).double()
        randomise(module, generator)
        xs = torch.randn(B * T, channels, H, W, generator=generator, dtype=torch.float64)
        with torch.no_grad():
            out = module(xs, T)
        delta = (out - xs).abs().max().item()
        print(f"  {op}: max |out - xs| = {delta:.3f}, max |out| = {out.abs().max().item():.3f}")
        assert delta > 0.1, "the op must change its input"
        params = {"channels": channels, "groups": GROUPS}
        if op.startswith("conv"):
            params["kernel_size"] = module.kernel
            snippet = TEMPORAL_SNIPPET["conv"]
        else:
            params["num_heads"] = module.attn.heads
            snippet = TEMPORAL_SNIPPET["attn"]
            if module.stride > 1:
                params["stride"] = module.stride
                snippet = TEMPORAL_SNIPPET["attn_stride"]
        write(
            NN_DIR,
            f"temporal_{op}.json",
            {
                **header(snippet),
                "op": op,
                "slot": slot,
                "params": params,
                "batch": B,
                "frames": T,
                "height": H,
                "width": W,
                "dtype": "float64",
                "input": tensor_json(xs),
                "weights": {name: tensor_json(p) for name, p in module.named_parameters()},
                "expected": tensor_json(out),
            },
        )


# --------------------------------------------------------------------------------------------
# AdamW (crates/diffusion/src/adamw.rs) against torch.optim.AdamW.

ADAMW_SNIPPET = [
    "opt = torch.optim.AdamW([a, b], lr=LRS[0], betas=(0.8, 0.9), eps=1e-2, weight_decay=0.1, foreach=False)",
    "for step in range(3):",
    "    opt.param_groups[0]['lr'] = LRS[step]",
    "    a.grad, b.grad = GRADS[step]",
    "    opt.step()  # expected[step] = (a, b); moments = opt.state[p]['exp_avg' | 'exp_avg_sq'] after step 3",
]


def adamw_fixture():
    config = {"beta1": 0.8, "beta2": 0.9, "eps": 1e-2, "weight_decay": 0.1}
    lrs = [0.05, 0.03, 0.02]  # the Rust step takes the (scheduled) lr; torch reads the group's
    generator = torch.Generator().manual_seed(7)
    shapes = {"blocks.0.weight": (2, 3), "blocks.1.bias": (4,)}
    init = {n: torch.randn(s, generator=generator, dtype=torch.float64) for n, s in shapes.items()}
    grads = []
    for step in range(3):
        g = {}
        for n, s in shapes.items():
            # Magnitudes from 1e-3 to 1, so eps (1e-2) matters for some entries and not others.
            scale = 10.0 ** (-3.0 * torch.rand(s, generator=generator, dtype=torch.float64))
            g[n] = torch.randn(s, generator=generator, dtype=torch.float64) * scale
        grads.append(g)
    grads[1]["blocks.1.bias"] = torch.zeros(shapes["blocks.1.bias"], dtype=torch.float64)  # decays anyway

    runs = {}
    for dtype_name, dtype in [("float32", torch.float32), ("float64", torch.float64)]:
        params = {n: torch.nn.Parameter(t.to(dtype).clone()) for n, t in init.items()}
        opt = torch.optim.AdamW(
            list(params.values()),
            lr=lrs[0],
            betas=(config["beta1"], config["beta2"]),
            eps=config["eps"],
            weight_decay=config["weight_decay"],
            foreach=False,
        )
        expected = []
        for step in range(3):
            opt.param_groups[0]["lr"] = lrs[step]
            for n, p in params.items():
                p.grad = grads[step][n].to(dtype)
            opt.step()
            expected.append({n: tensor_json(p) for n, p in params.items()})
        state = {}
        for n, p in params.items():
            state[f"exp_avg.{n}"] = tensor_json(opt.state[p]["exp_avg"])
            state[f"exp_avg_sq.{n}"] = tensor_json(opt.state[p]["exp_avg_sq"])
        runs[dtype_name] = {"expected": expected, "state_after_last_step": state}

    write(
        SUPERNET_DIR,
        "adamw.json",
        {
            **header(ADAMW_SNIPPET),
            "config": config,
            "lrs": lrs,
            "init": {n: tensor_json(t) for n, t in init.items()},
            "grads": [{n: tensor_json(t) for n, t in g.items()} for g in grads],
            "runs": runs,
        },
    )


# --------------------------------------------------------------------------------------------
# Noise schedule (crates/diffusion/src/schedule.rs) and DDIM (crates/diffusion/src/sampler.rs).


def alphas_cumprod(train_timesteps, beta_start, beta_end, dtype):
    """diffusers' scaled_linear schedule (DDPMScheduler / DDIMScheduler.__init__)."""
    betas = torch.linspace(beta_start**0.5, beta_end**0.5, train_timesteps, dtype=dtype) ** 2
    return torch.cumprod(1.0 - betas, dim=0)


def ddim_step(model_output, timestep, prev_timestep, sample, alphas, prediction, clip_sample):
    """diffusers' DDIMScheduler.step with eta = 0, set_alpha_to_one=True (the final step lands
    on alpha = 1), use_clipped_model_output=False, clip_sample_range=1."""
    alpha_prod_t = alphas[timestep]
    alpha_prod_t_prev = alphas[prev_timestep] if prev_timestep >= 0 else torch.tensor(1.0, dtype=alphas.dtype)
    beta_prod_t = 1 - alpha_prod_t
    if prediction == "epsilon":
        pred_original_sample = (sample - beta_prod_t ** (0.5) * model_output) / alpha_prod_t ** (0.5)
        pred_epsilon = model_output
    else:  # v_prediction
        pred_original_sample = (alpha_prod_t**0.5) * sample - (beta_prod_t**0.5) * model_output
        pred_epsilon = (alpha_prod_t**0.5) * model_output + (beta_prod_t**0.5) * sample
    if clip_sample:
        pred_original_sample = pred_original_sample.clamp(-1.0, 1.0)
    pred_sample_direction = (1 - alpha_prod_t_prev) ** (0.5) * pred_epsilon
    return alpha_prod_t_prev ** (0.5) * pred_original_sample + pred_sample_direction


DDIM_SNIPPET = [
    "a = alphas_cumprod[t]; a_prev = alphas_cumprod[t_prev] if t_prev >= 0 else 1.0  # set_alpha_to_one",
    "epsilon: x0 = (x - (1 - a)**0.5 * pred) / a**0.5; eps = pred",
    "v:       x0 = a**0.5 * x - (1 - a)**0.5 * pred; eps = a**0.5 * pred + (1 - a)**0.5 * x",
    "if clamp_x0: x0 = x0.clamp(-1, 1)  # clip_sample, eps not re-derived",
    "expected = a_prev**0.5 * x0 + (1 - a_prev)**0.5 * eps  # eta = 0",
]


def ddim_fixture():
    alphas = alphas_cumprod(1000, 0.00085, 0.012, torch.float64)
    generator = torch.Generator().manual_seed(11)
    x = torch.randn(2, 3, 2, 2, generator=generator, dtype=torch.float64)
    pred = torch.randn(2, 3, 2, 2, generator=generator, dtype=torch.float64)
    cases = []
    # (999, 749): the first step of 4 trailing steps; (249, -1): the last one, to the clean clip.
    for t, t_prev in [(999, 749), (249, -1)]:
        for prediction in ["epsilon", "v"]:
            for clamp in [False, True]:
                out = ddim_step(pred, t, t_prev, x, alphas, prediction, clamp)
                cases.append(
                    {
                        "prediction": prediction,
                        "t": t,
                        "t_next": t_prev if t_prev >= 0 else None,
                        "clamp_x0": clamp,
                        "expected": tensor_json(out),
                    }
                )
    # Clamping must matter in some cases (else the clamp cases pin nothing).
    clamped = [c for c in cases if c["clamp_x0"]]
    unclamped = [c for c in cases if not c["clamp_x0"]]
    assert all(a["expected"] != b["expected"] for a, b in zip(clamped, unclamped))
    write(
        SUPERNET_DIR,
        "ddim_step.json",
        {
            **header(DDIM_SNIPPET),
            "schedule": {"train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012},
            "x": tensor_json(x),
            "pred": tensor_json(pred),
            "cases": cases,
        },
    )


SCHEDULE_SNIPPET = [
    "betas = torch.linspace(beta_start**0.5, beta_end**0.5, n, dtype=dtype) ** 2  # scaled_linear",
    "alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)  # f64, and f32 as diffusers stores it",
    "a = alphas_cumprod_f64[timesteps].view(-1, 1, 1, 1)",
    "x_t = a**0.5 * x0 + (1 - a)**0.5 * noise  # DDPMScheduler.add_noise",
    "target = noise (epsilon) | a**0.5 * noise - (1 - a)**0.5 * x0 (v: DDPMScheduler.get_velocity)",
]


def schedule_record(n, start, end, indices, f64, f32):
    """A schedule's settings and its ᾱ at `indices`, in f64 and as diffusers stores them."""
    return {
        "train_timesteps": n,
        "beta_start": start,
        "beta_end": end,
        "indices": indices,
        "alphas_cumprod_f64": [f64[i].item() for i in indices],
        "alphas_cumprod_diffusers_f32": [f32[i].item() for i in indices],
    }


ZERO_SNR_SNIPPET = [
    "betas = torch.linspace(beta_start**0.5, beta_end**0.5, n, dtype=torch.float64) ** 2",
    "betas = diffusers.schedulers.scheduling_ddim.rescale_zero_terminal_snr(betas)",
    "alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)  # f64; f32: DDIMScheduler(rescale_betas_zero_snr=True)",
    "x_prev = DDIMScheduler.step(v, 999, x_t) with prev 899, v-prediction, no clipping (as ddim_step.json)",
]


def zero_snr_fixture():
    from diffusers import DDIMScheduler
    from diffusers.schedulers.scheduling_ddim import rescale_zero_terminal_snr

    n, start, end = 1000, 0.00085, 0.012
    betas = torch.linspace(start**0.5, end**0.5, n, dtype=torch.float64) ** 2
    f64 = torch.cumprod(1.0 - rescale_zero_terminal_snr(betas), dim=0)
    f32 = DDIMScheduler(num_train_timesteps=n, beta_start=start, beta_end=end,
                        beta_schedule="scaled_linear", rescale_betas_zero_snr=True).alphas_cumprod
    gap = (f32.double() - f64).abs().max().item()
    print(f"  zero-SNR schedule: max |diffusers f32 - f64| = {gap:.2e}, last = {f64[-1].item()}")
    assert f64[-1].item() == 0.0
    indices = [0, 1, 2, 10, 100, 250, 499, 500, 749, 899, 998, 999]
    generator = torch.Generator().manual_seed(17)
    x = torch.randn(2, 3, 2, 2, generator=generator, dtype=torch.float64)
    v = torch.randn(2, 3, 2, 2, generator=generator, dtype=torch.float64)
    x_prev = ddim_step(v, 999, 899, x, f64, "v", False)
    write(
        SUPERNET_DIR,
        "schedule_zero_snr.json",
        {
            **header(ZERO_SNR_SNIPPET),
            **schedule_record(n, start, end, indices, f64, f32),
            "ddim_step": {"t": 999, "t_next": 899, "x": tensor_json(x), "pred": tensor_json(v),
                          "expected": tensor_json(x_prev)},
        },
    )


def schedule_fixture():
    schedules = []
    for n, start, end, indices in [
        (1000, 0.00085, 0.012, [0, 1, 2, 10, 100, 250, 499, 500, 749, 998, 999]),
        (10, 0.001, 0.02, list(range(10))),
        (1, 0.001, 0.02, [0]),
    ]:
        f64 = alphas_cumprod(n, start, end, torch.float64)
        f32 = alphas_cumprod(n, start, end, torch.float32)
        rel = ((f32.double() - f64) / f64).abs().max().item()
        print(f"  schedule n={n}: max relative |diffusers f32 - f64| = {rel:.2e}")
        schedules.append(schedule_record(n, start, end, indices, f64, f32))

    alphas = alphas_cumprod(1000, 0.00085, 0.012, torch.float64)
    generator = torch.Generator().manual_seed(13)
    x0 = torch.randn(3, 2, 2, 2, generator=generator, dtype=torch.float32)
    noise = torch.randn(3, 2, 2, 2, generator=generator, dtype=torch.float32)
    timesteps = [0, 500, 999]
    a = alphas[timesteps].view(-1, 1, 1, 1)
    x0d, noised = x0.double(), noise.double()
    xt = a**0.5 * x0d + (1 - a) ** 0.5 * noised
    targets = {"epsilon": noised, "v": a**0.5 * noised - (1 - a) ** 0.5 * x0d}
    write(
        SUPERNET_DIR,
        "schedule.json",
        {
            **header(SCHEDULE_SNIPPET),
            "alphas_cumprod": schedules,
            "noisy_and_target": {
                "timesteps": timesteps,
                "x0": tensor_json(x0),
                "noise": tensor_json(noise),
                "expected_xt": tensor_json(xt),
                "expected_target": {k: tensor_json(v) for k, v in targets.items()},
            },
        },
    )


def main():
    global ONLY
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="+", metavar="NAME",
                    help="write only these fixtures (file names without .json, e.g. "
                         "temporal_conv1d); default: all")
    args = ap.parse_args()
    ONLY = set(args.only) if args.only else None
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    temporal_fixtures()
    adamw_fixture()
    ddim_fixture()
    schedule_fixture()
    zero_snr_fixture()
    if ONLY is not None and ONLY - WRITTEN:
        raise SystemExit(f"no fixture named {', '.join(sorted(ONLY - WRITTEN))}; "
                         f"written: {', '.join(sorted(WRITTEN)) or 'none'}")


if __name__ == "__main__":
    main()
