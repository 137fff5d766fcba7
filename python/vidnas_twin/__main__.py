"""python -m vidnas_twin CONFIG [--prompt P] [--device D] [--dtype T] [--repeats N]

Loads an exported vidnas model (configs/<name>.json + its safetensors) into the PyTorch twin,
runs the denoiser once on a noisy clip of the space's shape for the prompt, and prints the
parameter count, the output's shape and statistics, and the median time of N denoiser calls.
"""

import argparse
import json
import statistics
import time

import torch

from .load import load_exported


def main():
    ap = argparse.ArgumentParser(prog="python -m vidnas_twin", description=__doc__.split("\n\n")[1])
    ap.add_argument("config", help="an exported config (format vidnas-arch/1)")
    ap.add_argument("--weights", help="weights to load instead of the file the config names")
    ap.add_argument("--prompt", default="a red square moving left")
    ap.add_argument("--timestep", type=int, default=500)
    ap.add_argument("--device", default="cpu", help="cpu, cuda, mps, ...")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    ap.add_argument("--repeats", type=int, default=5, help="denoiser calls to time")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    config, space, arch, vocab, model = load_exported(args.config, args.weights)
    dtype = getattr(torch, args.dtype)
    model = model.to(args.device, dtype)
    v = space.file["video"]
    gen = torch.Generator().manual_seed(args.seed)
    x_t = torch.randn(1, v["channels"], v["frames"], v["height"], v["width"], generator=gen)
    x_t = x_t.to(args.device, dtype)
    timesteps = torch.tensor([args.timestep], device=args.device)
    ids = model.prompt_ids([args.prompt], vocab).to(args.device)
    times = []
    with torch.no_grad():
        context = model.text_encoder(ids)
        for _ in range(max(args.repeats, 1)):
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            start = time.perf_counter()
            out = model.denoise(x_t, timesteps, context)
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            times.append((time.perf_counter() - start) * 1e3)
    print(json.dumps({
        "config": args.config,
        "arch": "-".join(arch),
        "parameters": sum(t.numel() for t in model.vidnas_state_dict().values()),
        "output_shape": list(out.shape),
        "output_mean": out.float().mean().item(),
        "output_std": out.float().std().item(),
        "denoise_ms_median": statistics.median(times),
        "device": args.device,
        "dtype": args.dtype,
        "torch": torch.__version__,
    }, indent=2))


if __name__ == "__main__":
    main()
