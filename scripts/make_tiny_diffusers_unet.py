#!/usr/bin/env python3
"""Builds the tiny random diffusers UNets that pin vidnas-nn to diffusers (crates/nn/tests/diffusers_parity.rs).

Regenerate (deterministic on CPU):

    . scripts/env.sh && pip install diffusers==0.42.1
    python scripts/make_tiny_diffusers_unet.py

For each model it writes, under crates/nn/tests/fixtures/<name>/:
  config.json                        diffusers' UNet2DConditionModel config (save_pretrained)
  diffusion_pytorch_model.safetensors its weights, f32 (save_pretrained, safe_serialization=True)
  inputs_outputs.safetensors         sample [2, C, 16, 16], timesteps [2] (int64),
                                     encoder_hidden_states [2, 5, D], diffusers' output (f32)
                                     and output_f64 (the same weights and inputs in f64)

Every weight is random, including the ones diffusers initialises to zero (proj_out, conv_out,
...) and the norms' scales, so a wrong op anywhere changes the output.
"""

import argparse
import json
import os

import diffusers
import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import save_file

MODELS = {
    # The main fixture: two stages, SD-style block mix, conv projections, cross-attention mid block.
    "tiny-diffusers-unet": dict(
        sample_size=16,
        in_channels=4,
        out_channels=4,
        block_out_channels=(16, 32),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16,
        attention_head_dim=4,
        norm_num_groups=8,
    ),
    # The other switches: three stages, two layers per block, linear projections, two transformer
    # layers, per-block lists of equal values, the resnet-only mid block, unflipped and shifted
    # timestep features, another norm eps, 3 pixel channels.
    "tiny-diffusers-unet-variant": dict(
        sample_size=16,
        in_channels=3,
        out_channels=3,
        block_out_channels=(8, 8, 16),
        layers_per_block=2,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "UpBlock2D", "CrossAttnUpBlock2D"),
        mid_block_type="UNetMidBlock2D",
        cross_attention_dim=12,
        attention_head_dim=[2, 2, 2],
        transformer_layers_per_block=[2, 2, 2],
        use_linear_projection=True,
        norm_num_groups=4,
        norm_eps=1e-6,
        flip_sin_to_cos=False,
        freq_shift=1,
    ),
}


def randomise(model: torch.nn.Module, gen: torch.Generator) -> None:
    """Every parameter random: matrices ~ N(0, 1/fan_in), norm scales ~ 1 + N(0, 0.1²), other vectors ~ N(0, 0.1²)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if p.dim() > 1:
                fan_in = p[0].numel()
                p.copy_(noise / fan_in**0.5)
            elif "norm" in name and name.endswith(".weight"):
                p.copy_(1.0 + 0.1 * noise)
            else:
                p.copy_(0.1 * noise)


def make(name: str, config: dict, root: str) -> None:
    out = os.path.join(root, name)
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1234)
    model = UNet2DConditionModel(**config).eval()
    randomise(model, gen)
    model.save_pretrained(out, safe_serialization=True)

    c = model.config
    sample = torch.randn(2, c.in_channels, c.sample_size, c.sample_size, generator=gen)
    timesteps = torch.tensor([10, 700], dtype=torch.int64)
    context = torch.randn(2, 5, c.cross_attention_dim, generator=gen)
    with torch.no_grad():
        output = model(sample, timesteps, encoder_hidden_states=context).sample
        # The same network in f64: vidnas must match it to ~1e-12, which shows that the f32
        # difference is rounding, not a slightly different op.
        model64 = model.double()
        output_f64 = model64(sample.double(), timesteps, encoder_hidden_states=context.double()).sample
    save_file(
        {
            "sample": sample.contiguous(),
            "timesteps": timesteps,
            "encoder_hidden_states": context.contiguous(),
            "output": output.contiguous(),
            "output_f64": output_f64.contiguous(),
        },
        os.path.join(out, "inputs_outputs.safetensors"),
        # One key: safetensors writes several in random order, and the file should be reproducible.
        metadata={"made_by": f"diffusers {diffusers.__version__}, torch {torch.__version__}"},
    )
    params = sum(p.numel() for p in model.parameters())
    sizes = {f: os.path.getsize(os.path.join(out, f)) for f in sorted(os.listdir(out))}
    print(f"{name}: {params} parameters, output |max| {output.abs().max():.3f}")
    print(json.dumps(sizes, indent=2))


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    default_root = os.path.join(here, "..", "crates", "nn", "tests", "fixtures")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=default_root, help="fixtures folder")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for name, config in MODELS.items():
        make(name, config, os.path.normpath(args.out))


if __name__ == "__main__":
    main()
