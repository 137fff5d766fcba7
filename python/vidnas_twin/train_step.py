#!/usr/bin/env python3
"""PyTorch reference for `vidnas bench train-step`: the same video model and training step as
the tch `Trainer`, timed step by step on request.

The spatial UNet is diffusers' own `UNet2DConditionModel`, built from the space's backbone
config (the same keys); the forward pass walks its modules in the order of
crates/nn/src/unet.rs and runs a temporal slot after every layer the space names. The temporal
ops are crates/nn/src/temporal.rs op for op (GroupNorm, SiLU, Conv1d over frames with
space folded into the batch or Conv3d, zero-initialised second conv; GroupNorm, Linear proj_in,
sinusoidal frame position, attention with to_q/to_k/to_v without bias and to_out.0 over all
or every stride-th key, zero-initialised proj_out; residual): python/vidnas_twin/temporal.py,
imported. The text encoder re-implements crates/nn/src/text.rs.
One step, as crates/diffusion/src/trainer.rs: a batch of clips, timesteps, caption dropout,
noise, x_t and the epsilon target from the scaled-linear schedule, text encoding, the mean
squared error averaged over the step's paths, backward, global-norm clipping, AdamW
(torch.optim.AdamW; every trainable tensor is updated every step, unused ones with a zero
gradient, as the Rust AdamW does) with linear learning-rate warm-up. Spatial layers and the
text encoder are frozen, as in the supernet stage.

Run by `vidnas bench train-step`, which writes the spec (space, slots, paths per step, batch,
optimiser settings) and passes the Rust model's parameter counts; this script refuses to time
a model whose counts differ. Protocol: one JSON line when ready, then for every `run N` line on
stdin N steps and one JSON line {"ms": [...], "loss": [...]}; `quit` ends it.
"""

import argparse
import json
import math
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

import diffusers
from diffusers import UNet2DConditionModel

# The temporal ops and attention live once, in the twin package (python/vidnas_twin).
# Run as a file (`python python/vidnas_twin/train_step.py`): the package's parent is python/.
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))
from vidnas_twin.temporal import Attention, temporal_op  # noqa: E402


def stage_key(stage):
    """Slot stage as serialised by Rust: {"kind": "down"|"mid"|"up", "block": i}."""
    return (stage["kind"], stage.get("block", 0))


class TextEncoder(nn.Module):
    """crates/nn/src/text.rs, learned variant."""

    def __init__(self, cfg):
        super().__init__()
        d = cfg["dim"]
        self.token_embedding = nn.Embedding(cfg["vocab_size"], d)
        self.position_embedding = nn.Parameter(torch.randn(cfg["max_tokens"], d) * 0.02)
        self.layers = nn.ModuleList()
        for _ in range(cfg["layers"]):
            layer = nn.Module()
            layer.norm1 = nn.LayerNorm(d)
            layer.attn = Attention(d, d, cfg["heads"])
            layer.norm2 = nn.LayerNorm(d)
            layer.fc1 = nn.Linear(d, 4 * d)
            layer.fc2 = nn.Linear(4 * d, d)
            self.layers.append(layer)
        self.final_norm = nn.LayerNorm(d)
        self.null_context = nn.Parameter(torch.randn(cfg["max_tokens"], d) * 0.02)

    def forward(self, ids):
        xs = self.token_embedding(ids) + self.position_embedding.unsqueeze(0)
        for layer in self.layers:
            xs = layer.attn(layer.norm1(xs)) + xs
            xs = layer.fc2(F.gelu(layer.fc1(layer.norm2(xs)))) + xs
        return self.final_norm(xs)

    def encode_with_dropout(self, ids, drop):
        ctx = self.forward(ids)
        if not bool(drop.any()):
            return ctx
        mask = drop.to(ctx.dtype).view(-1, 1, 1)
        null = self.null_context.unsqueeze(0).expand(drop.shape[0], -1, -1)
        return ctx * (1.0 - mask) + null * mask


class VideoModel(nn.Module):
    def __init__(self, spec):
        super().__init__()
        b = dict(spec["backbone"])
        self.unet = UNet2DConditionModel(**b)
        self.text = TextEncoder(spec["text"])
        self.temporal = nn.ModuleDict()
        self.slot_of = {}
        # The spec's {groups, hyper, stride} is `temporal_config`'s; "stride" (the strided
        # attentions' stride) is optional: a spec from before strided keys has none.
        t = spec["temporal"]
        cfg = {"groups": t["groups"], "hyper": t["hyper"], "stride": t.get("stride", {})}
        for index, slot in enumerate(spec["slots"]):
            stage, block = stage_key(slot["stage"])
            key = f"{stage}.{block}.{slot['layer']}"
            self.slot_of[key] = index
            kinds = [k for k in slot["allowed"] if k != "none"]
            self.temporal[key.replace(".", "_")] = nn.ModuleDict(
                {k: temporal_op(k, slot["channels"], cfg) for k in kinds}
            )
        self.build = spec["build"]

    def restrict_to(self, arch):
        """Subnet build: keep only the ops of `arch` (the Rust `Build::Subnet`)."""
        for key, index in self.slot_of.items():
            ops = self.temporal[key.replace(".", "_")]
            for kind in list(ops.keys()):
                if kind != arch[index]:
                    del ops[kind]

    def slot(self, key, h, arch, frames):
        index = self.slot_of.get(key)
        if index is None or arch[index] == "none":
            return h
        return self.temporal[key.replace(".", "_")][arch[index]](h, frames)

    def denoise(self, xs, timesteps, context, arch):
        u = self.unet
        b, c, t, hh, ww = xs.shape
        t_emb = u.time_proj(timesteps).to(xs.dtype)
        temb = u.time_embedding(t_emb).repeat_interleave(t, 0)
        ctx = context.repeat_interleave(t, 0)
        h = u.conv_in(xs.permute(0, 2, 1, 3, 4).reshape(b * t, c, hh, ww))
        skips = [h]
        for i, block in enumerate(u.down_blocks):
            attentions = getattr(block, "attentions", None)
            for j, resnet in enumerate(block.resnets):
                h = resnet(h, temb)
                if attentions is not None:
                    h = attentions[j](h, encoder_hidden_states=ctx, return_dict=False)[0]
                h = self.slot(f"down.{i}.{j}", h, arch, t)
                skips.append(h)
            if block.downsamplers is not None:
                h = block.downsamplers[0](h)
                skips.append(h)
        m = u.mid_block
        h = m.resnets[0](h, temb)
        for k, attn in enumerate(getattr(m, "attentions", []) or []):
            h = attn(h, encoder_hidden_states=ctx, return_dict=False)[0]
            h = m.resnets[k + 1](h, temb)
        h = self.slot("mid.0.0", h, arch, t)
        for i, block in enumerate(u.up_blocks):
            attentions = getattr(block, "attentions", None)
            for j, resnet in enumerate(block.resnets):
                h = torch.cat([h, skips.pop()], 1)
                h = resnet(h, temb)
                if attentions is not None:
                    h = attentions[j](h, encoder_hidden_states=ctx, return_dict=False)[0]
                h = self.slot(f"up.{i}.{j}", h, arch, t)
            if block.upsamplers is not None:
                h = block.upsamplers[0](h)
        out = u.conv_out(u.conv_act(u.conv_norm_out(h)))
        _, co, ho, wo = out.shape
        return out.view(b, t, co, ho, wo).permute(0, 2, 1, 3, 4)


def alphas_cumprod(s):
    n = s["train_timesteps"]
    a, b = math.sqrt(s["beta_start"]), math.sqrt(s["beta_end"])
    betas = [(a + (b - a) * i / max(n - 1, 1)) ** 2 for i in range(n)]
    return torch.cumprod(1.0 - torch.tensor(betas, dtype=torch.float64), 0).float()


class Step:
    def __init__(self, spec, model):
        self.spec = spec
        self.model = model
        v = spec["video"]
        g = torch.Generator().manual_seed(spec["seed"])
        # Random draws are made on the CPU and moved, so every device trains on the same data.
        self.device = torch.device(spec.get("device", "cpu"))
        # Pre-rendered clips in [-1, 1], as the procedural dataset holds them.
        clips = torch.rand(spec["clips"], v["channels"], v["frames"], v["height"], v["width"], generator=g) * 2 - 1
        self.clips = clips.to(self.device)
        self.ac = alphas_cumprod(spec["schedule"]).to(self.device)
        self.params = [p for p in model.parameters() if p.requires_grad]
        for p in self.params:
            p.grad = torch.zeros_like(p)
        self.opt = torch.optim.AdamW(
            self.params, lr=spec["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=spec["weight_decay"]
        )
        self.step = 0

    def run(self):
        s, m = self.spec, self.model
        bsz, text = s["batch_size"], s["text"]
        dev = self.device
        idx = torch.randint(0, s["clips"], (bsz,)).to(dev)
        x0 = self.clips[idx]
        tokens = torch.randint(0, text["vocab_size"], (bsz, text["max_tokens"])).to(dev)
        timesteps = torch.randint(0, s["schedule"]["train_timesteps"], (bsz,)).to(dev)
        drop = (torch.rand(bsz) < s["caption_dropout"]).to(dev)
        noise = torch.randn(x0.shape, dtype=x0.dtype).to(dev)
        a = self.ac[timesteps].view(-1, 1, 1, 1, 1)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        target = noise
        if s["schedule"].get("prediction", "epsilon") == "v":
            target = a.sqrt() * noise - (1 - a).sqrt() * x0
        paths = s["paths"][self.step]
        self.opt.zero_grad(set_to_none=False)
        context = m.text.encode_with_dropout(tokens, drop)
        loss = sum(((m.denoise(xt, timesteps, context, p.split("-")) - target) ** 2).mean() for p in paths) / len(paths)
        total = loss.item()
        if not math.isfinite(total):
            raise SystemExit(f"step {self.step}: non-finite loss {total}")
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, s["grad_clip"])
        lr = s["lr"] * min((self.step + 1) / max(s["warmup_steps"], 1), 1.0)
        for group in self.opt.param_groups:
            group["lr"] = lr
        self.opt.step()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        self.step += 1
        return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spec", required=True, help="spec JSON written by `vidnas bench train-step`")
    ap.add_argument("--expect-params", type=int, required=True, help="parameter count of the tch model")
    ap.add_argument("--expect-trainable", type=int, required=True, help="trainable (temporal) parameters of the tch model")
    args = ap.parse_args()
    with open(args.spec) as f:
        spec = json.load(f)
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(spec["seed"])
    model = VideoModel(spec)
    if spec["build"] == "subnet":
        model.restrict_to(spec["paths"][0][0].split("-"))
    model.unet.requires_grad_(False)
    model.text.requires_grad_(False)
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if (params, trainable) != (args.expect_params, args.expect_trainable):
        parts = {
            "unet (diffusers)": sum(p.numel() for p in model.unet.parameters()),
            "temporal": sum(p.numel() for p in model.temporal.parameters()),
            "text encoder": sum(p.numel() for p in model.text.parameters()),
        }
        sys.exit(
            f"{args.spec}: the PyTorch model differs from the tch model: {params} parameters "
            f"({trainable} trainable) against {args.expect_params} ({args.expect_trainable}); "
            f"by part: {parts}. Fix python/vidnas_twin/train_step.py to build what crates/nn builds "
            f"for this space."
        )
    model.to(torch.device(spec.get("device", "cpu")))
    step = Step(spec, model)
    print(json.dumps({"ready": True, "params": params, "trainable": trainable,
                      "torch": torch.__version__, "diffusers": diffusers.__version__}), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        if cmd[0] != "run" or len(cmd) != 2:
            sys.exit(f"unknown request `{line.strip()}`: use `run N` or `quit`")
        ms, losses = [], []
        for _ in range(int(cmd[1])):
            start = time.perf_counter()
            losses.append(step.run())
            ms.append((time.perf_counter() - start) * 1e3)
        print(json.dumps({"ms": ms, "loss": losses}), flush=True)


if __name__ == "__main__":
    main()
