#!/usr/bin/env python3
"""Writes the fixtures that pin the PyTorch twin (python/vidnas_twin) to the tch network:
crates/export/tests/twin_parity.rs compares them with what the Rust code computes.

Regenerate (deterministic on CPU, one thread), from the repository root:

    ~/.cache/vidnas/venv-torch-2.13.0/bin/python scripts/twin_fixtures.py

(needs diffusers==0.42.1 in that venv: ~/.cache/vidnas/venv-torch-2.13.0/bin/pip install
diffusers==0.42.1, and for the whole model cargo with libtorch as scripts/env.sh sets it up;
CARGO_TARGET_DIR is honoured). It writes, under crates/export/tests/fixtures/twin/:

  manifest.json
      what each file holds: the command, torch/diffusers versions, every op's hyper-parameters
      and slot, the whole model's prompts, caption dropout and timesteps, and the self-checks'
      errors (twin ops against scripts/pin_math.py's loop re-implementation, in f64).
  temporal_{conv1d,conv3d,attn1d,attn3d}.safetensors
      one temporal op each, built by the twin with the micro space's hyper-parameters at a micro
      slot that allows it: every weight random and nonzero (the zero-initialised conv2/proj_out
      too) under its vidnas name in a whole model (`down_blocks.<i>.temporal.<j>.<op>.…`), the
      input `twin.input` [B*T, C, H, W] with B=2, T=3, H=2, W=3 and the twin's f32 output
      `twin.output`.
  micro_io.safetensors
      one whole exported model against the twin. The model is Rust's own micro export:
      `write_micro_config(dir, &micro(), &twin_micro_model(&micro()))` (crates/export/src/
      fixtures.rs `micro_model`: the micro space, MICRO_ARCH with every op kind, the default
      learned text encoder; then every weight redrawn in name order from libtorch seeded with
      7, see twin_parity.rs), which this script has the ignored test `write_model_for_the_twin`
      of twin_parity.rs write into a temporary folder (or takes from --micro-dir) together with
      tch's outputs for the inputs below, loads with `vidnas_twin.load_exported`, and checks
      against tch's outputs before writing anything. The file holds the inputs
      and the twin's outputs: `x_t` [3, 3, 2, 8, 8], `timesteps` [3] (int64), `token_ids`
      [3, 8] (int64, the manifest's prompts tokenised), `drop` [3] (int64 0/1, caption
      dropout), `context` [3, 8, 16] (text encoder with dropout), `output` [3, 3, 2, 8, 8]
      (denoiser), and `context_f64`, `output_f64`: the same network and inputs in f64. The
      manifest keeps a fingerprint of the weights (sums), so the test tells a changed
      micro_model from a twin mismatch. Only inputs and outputs are committed: the weights
      (~560 KB in f32) are rebuilt by the Rust test from the seed.

Each safetensors file carries the command in its metadata (`generated_by`). Before writing,
the script checks the twin against tch on the micro model (1e-4) and its temporal ops against
scripts/pin_math.py (f64, 1e-12).

    ~/.cache/vidnas/venv-torch-2.13.0/bin/python scripts/twin_fixtures.py \
        --compare-space search-spaces/tiny.json --arch conv1d-conv3d-attn3d-attn1d-none-none-attn1d-conv1d-conv1d-none

writes no fixture: it has tch export that architecture (random weights, the default learned
text encoder) and run the same inputs, loads the export with the twin and prints the largest
differences (exit status 1 above 1e-4).
"""

import argparse
import copy
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import load_file, save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.dont_write_bytecode = True  # no __pycache__ beside the package or pin_math.py

import diffusers  # noqa: E402

import vidnas_twin as vt  # noqa: E402
from vidnas_twin.temporal import STRUCTURE  # noqa: E402

GENERATED_BY = "~/.cache/vidnas/venv-torch-2.13.0/bin/python scripts/twin_fixtures.py"
OUT = os.path.join(ROOT, "crates", "export", "tests", "fixtures", "twin")

# crates/export/src/fixtures.rs MICRO_ARCH: every op kind.
MICRO_ARCH = "conv1d-attn1d-attn3d-conv3d-none-attn1d-conv1d-none-conv3d-attn1d"

# Vocab::procedural() (crates/data/src/vocab.rs): the special tokens, "a", colours, shapes and
# motion words in class order. Checked against the vocab of the config Rust writes.
PROCEDURAL_VOCAB = [
    "<pad>", "<unk>", "a", "red", "green", "blue", "yellow", "white", "magenta", "square",
    "circle", "triangle", "cross", "moving", "left", "slow", "fast", "right", "up", "down",
    "rotating", "clockwise", "counterclockwise", "growing", "shrinking", "blinking", "turning",
]

# Op fixtures: input shape and the micro slot each op is built at.
B, T, H, W = 2, 3, 2, 3
OP_SLOTS = {
    "conv1d": "down.0.block.0",
    "conv3d": "down.0.block.0",
    "attn1d": "down.0.block.0",
    "attn3d": "down.1.block.0",  # micro allows attn3d only at 4x4 and below
}

# Whole-model inputs.
PROMPTS = ["a red square moving left", "a blue circle rotating clockwise", "a green triangle growing"]
DROP = [False, False, True]  # the third caption is dropped: its context is the null context
TIMESTEPS = [999, 500, 1]


def micro_space_file():
    """crates/space/src/fixtures.rs `micro()`: tiny shrunk to 2 frames of 8x8, channels
    8/16/16, text width 16, 4 groups, attn3d at 4x4 only."""
    with open(os.path.join(ROOT, "search-spaces", "tiny.json")) as f:
        file = json.load(f)
    file["name"] = "micro"
    file["video"].update(frames=2, height=8, width=8)
    file["backbone"].update(block_out_channels=[8, 16, 16], cross_attention_dim=16, norm_num_groups=4)
    file["temporal"]["ops"]["attn3d"]["max_resolution"] = 4
    return vt.Space(file).file


def randomise(named_params, generator):
    """Every weight random, nonzero and f32: norm scales 1 + N(0, 0.2^2), biases N(0, 0.1^2),
    other tensors N(0, 1/fan_in)."""
    with torch.no_grad():
        for name, p in sorted(named_params):
            noise = torch.randn(p.shape, generator=generator, dtype=torch.float64)
            leaf = name.rsplit(".", 1)[-1]
            if "norm" in name and leaf == "weight":
                values = 1.0 + 0.2 * noise
            elif leaf == "bias":
                values = 0.1 * noise
            else:
                fan_in = p[0].numel() if p.dim() > 1 else p.numel()
                values = noise / math.sqrt(fan_in)
            values = values.float()
            assert (values != 0).all(), name
            p.copy_(values)


def load_pin_math():
    """scripts/pin_math.py's loop re-implementation of the temporal ops (imported, not copied:
    an independent reference for the self-check)."""
    spec = importlib.util.spec_from_file_location("pin_math", os.path.join(ROOT, "scripts", "pin_math.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pin_reference(pin, op, channels, cfg):
    """pin_math's loop module for the twin op `op`, chosen by the op's registry entry (what the
    twin builds it from): its mixing, kernel or heads, and the stride of strided keys."""
    structure, mixes = STRUCTURE[op][:2]
    hyper = cfg["hyper"][op]
    if structure == "attention":
        return pin.TemporalAttention(channels, hyper, mixes, cfg.get("stride", {}).get(op, 1))
    if mixes == [("pixels", 3), ("frames", "k")]:
        return pin.Conv2plus1d(channels, hyper)
    if mixes in ([("frames", "k")] * 2, [("volume", "k")] * 2):
        return pin.TemporalConv(channels, hyper, mixes[0][0] == "volume")
    raise ValueError(f"{op}: pin_math has no loop form of {STRUCTURE[op]}")


def metadata():
    # One key only: safetensors writes several in an unstable order.
    return {"generated_by": GENERATED_BY}


def prefix_of(space, slot_name, op):
    """The vidnas variable path of `op` at `slot_name`: `<block>.temporal.<layer>.<op>.`."""
    slot = space.slots[space.slot_index(slot_name)]
    block = {"down": f"down_blocks.{slot.block}", "mid": "mid_block", "up": f"up_blocks.{slot.block}"}[slot.stage]
    return f"{block}.temporal.{slot.layer}.{op}."


def op_fixtures(space, pin):
    cfg = space.temporal_config()
    entries = {}
    for seed, (op, slot_name) in enumerate(OP_SLOTS.items()):
        slot = space.slots[space.slot_index(slot_name)]
        assert op in slot.allowed, (op, slot_name)
        gen = torch.Generator().manual_seed(2000 + seed)
        twin = vt.temporal_op(op, slot.channels, cfg)
        # f32 weights and input: what the fixture stores and tch runs.
        randomise(list(twin.named_parameters()), gen)
        xs = torch.randn(B * T, slot.channels, H, W, generator=gen)
        with torch.no_grad():
            out = twin(xs, T)
            # Self-check in f64 against pin_math's loops with the same (f32-valued) weights.
            twin64 = vt.temporal_op(op, slot.channels, cfg).double()
            twin64.load_state_dict(twin.state_dict())
            ref = pin_reference(pin, op, slot.channels, cfg).double()
            assert cfg["groups"] == pin.GROUPS
            ref.load_state_dict(twin.state_dict())
            out64 = twin64(xs.double(), T)
            ref64 = ref(xs.double(), T)
        self_err = (out64 - ref64).abs().max().item()
        f32_err = (out.double() - ref64).abs().max().item()
        assert self_err < 1e-12, f"{op}: twin differs from pin_math in f64 by {self_err:e}"
        assert f32_err < 1e-5, f"{op}: f32 twin differs from the f64 reference by {f32_err:e}"
        delta = (out - xs).abs().max().item()
        assert delta > 0.1, f"{op}: the op must change its input"
        prefix = prefix_of(space, slot_name, op)
        tensors = {prefix + k: v.contiguous() for k, v in twin.state_dict().items()}
        tensors["twin.input"] = xs.contiguous()
        tensors["twin.output"] = out.contiguous()
        name = f"temporal_{op}.safetensors"
        save_file(tensors, os.path.join(OUT, name), metadata=metadata())
        params = {"channels": slot.channels, "groups": cfg["groups"]}
        params["kernel_size" if op.startswith("conv") else "num_heads"] = cfg["hyper"][op]
        if op in cfg["stride"]:
            params["stride"] = cfg["stride"][op]
        entries[op] = {
            "file": name,
            "slot": slot_name,
            "prefix": prefix,
            "params": params,
            "batch": B,
            "frames": T,
            "height": H,
            "width": W,
            "max_abs_output": round(out.abs().max().item(), 4),
            "self_check_f64_vs_pin_math": float(f"{self_err:.2e}"),
            "self_check_f32_vs_f64": float(f"{f32_err:.2e}"),
        }
        print(f"  {op}: |out - in| max {delta:.3f}; twin f64 vs pin_math {self_err:.1e}, twin f32 vs f64 {f32_err:.1e}")
    return entries


RUST_WRITER = "write_model_for_the_twin"
MICRO_SEED = 7  # twin_parity.rs MICRO_SEED (twin_micro_model), for the manifest
TOL = 1e-4  # twin_parity.rs TOL


def clip_inputs(space, folder):
    """The whole-model inputs for `space` (a clip drawn from seed 3001, the prompts, caption
    dropout and timesteps above), written where the Rust writer reads them."""
    v = space.file["video"]
    gen = torch.Generator().manual_seed(3001)
    x_t = torch.randn(len(PROMPTS), v["channels"], v["frames"], v["height"], v["width"], generator=gen)
    timesteps = torch.tensor(TIMESTEPS, dtype=torch.int64)
    with open(os.path.join(folder, "inputs.json"), "w") as f:
        json.dump({"prompts": PROMPTS, "drop": DROP}, f)
    save_file({"x_t": x_t, "timesteps": timesteps}, os.path.join(folder, "inputs.safetensors"))
    return x_t, timesteps


def run_rust_writer(folder, space_path=None, arch=None):
    """Runs the ignored test of twin_parity.rs that exports a model into `folder` (the micro
    export `write_micro_config(dir, &micro(), &twin_micro_model(&micro()))`, or `arch` of the
    space file `space_path` as twin.json) and writes tch's outputs for the folder's inputs to
    rust_io.safetensors."""
    cmd = (". scripts/env.sh && cargo test -q -p vidnas-export --test twin_parity -- "
           f"--ignored --exact {RUST_WRITER}")
    env = dict(os.environ, VIDNAS_TWIN_DIR=folder)
    shown = f"VIDNAS_TWIN_DIR={folder}"
    if space_path is not None:
        env.update(VIDNAS_TWIN_SPACE=os.path.abspath(space_path), VIDNAS_TWIN_ARCH=arch)
        shown += f" VIDNAS_TWIN_SPACE={space_path} VIDNAS_TWIN_ARCH={arch}"
    print(f"  running: {shown} bash -c '{cmd}'")
    subprocess.run(["bash", "-c", cmd], cwd=ROOT, env=env, check=True)


def fingerprint(tensors):
    """Count, parameters, sum and sum of squares (f64) of every weight: twin_parity.rs checks
    twin_micro_model still gives the weights the twin's outputs were computed from."""
    values = [t.double() for _, t in sorted(tensors.items())]
    return {
        "tensors": len(values),
        "parameters": sum(v.numel() for v in values),
        "sum": sum(v.sum().item() for v in values),
        "sum_of_squares": sum((v * v).sum().item() for v in values),
    }


def twin_outputs(folder, config_name, x_t, timesteps):
    """Loads the exported model in `folder` with the twin and runs the inputs; compares token
    ids, context and output with tch's (rust_io.safetensors). Returns a dict of results."""
    config, space, arch, vocab, twin = vt.load_exported(os.path.join(folder, config_name))
    assert space.hash() == config["provenance"]["space_hash"], \
        f"twin space hash {space.hash()} != Rust's {config['provenance']['space_hash']}"
    ids = twin.prompt_ids(PROMPTS, vocab)
    with torch.no_grad():
        context = twin.text_encoder.encode_with_dropout(ids, DROP)
        output = twin.denoise(x_t, timesteps, context)
        # The temporal path matters: the same network without its temporal ops differs.
        image = twin.denoise(x_t, timesteps, context, ["none"] * len(arch))
    rust = load_file(os.path.join(folder, "rust_io.safetensors"))
    assert torch.equal(rust["token_ids"], ids), (rust["token_ids"], ids)
    errors = {
        "context": (rust["context"] - context).abs().max().item(),
        "output": (rust["output"] - output).abs().max().item(),
    }
    return {
        "config": config, "space": space, "arch": arch, "vocab": vocab, "twin": twin, "ids": ids,
        "context": context, "output": output, "errors": errors,
        "temporal_effect": (output - image).abs().max().item(),
        "weights": load_file(os.path.join(folder, config["weights"])),
    }


def micro_model_fixture(folder):
    x_t, timesteps = clip_inputs(vt.Space(micro_space_file()), folder)
    if not os.path.exists(os.path.join(folder, "rust_io.safetensors")):
        run_rust_writer(folder)
    r = twin_outputs(folder, "micro.json", x_t, timesteps)
    config, space, arch, twin = r["config"], r["space"], r["arch"], r["twin"]
    # The Rust micro space is the one derived here; the twin's canonical JSON gives its hash.
    assert space.file == micro_space_file(), "micro() differs from tiny.json shrunk as in fixtures.rs"
    assert "-".join(arch) == MICRO_ARCH and r["vocab"].tokens == PROCEDURAL_VOCAB
    assert max(r["errors"].values()) <= TOL, f"the twin differs from tch: {r['errors']}"
    # The same network built from the space file and the architecture string.
    other = vt.from_space(space.file, MICRO_ARCH, text_config=config["text_encoder"]).eval()
    other.load_vidnas_state_dict(r["weights"])
    ids, context, output = r["ids"], r["context"], r["output"]
    with torch.no_grad():
        again = other.denoise(x_t, timesteps, other.text_encoder.encode_with_dropout(ids, DROP))
    assert torch.equal(output, again), "from_space + weights differs from load_exported"
    # The same network in f64: tch in f64 must match it to rounding (~1e-15), which shows that
    # the f32 difference is rounding too, not a slightly different op.
    twin64 = copy.deepcopy(twin).double()
    with torch.no_grad():
        context64 = twin64.text_encoder.encode_with_dropout(ids, DROP)
        output64 = twin64.denoise(x_t.double(), timesteps, context64)
    f32_vs_f64 = (output.double() - output64).abs().max().item()
    temporal_effect = r["temporal_effect"]
    assert temporal_effect > 1e-2, f"temporal ops change the output by only {temporal_effect}"
    save_file(
        {
            "x_t": x_t.contiguous(),
            "timesteps": timesteps,
            "token_ids": ids.contiguous(),
            "drop": torch.tensor([int(d) for d in DROP], dtype=torch.int64),
            "context": context.contiguous(),
            "output": output.contiguous(),
            "context_f64": context64.contiguous(),
            "output_f64": output64.contiguous(),
        },
        os.path.join(OUT, "micro_io.safetensors"),
        metadata=metadata(),
    )
    fp = fingerprint(r["weights"])
    print(f"  micro: {fp['parameters']} parameters in {fp['tensors']} tensors, |output| max "
          f"{output.abs().max():.3f}, temporal ops change it by up to {temporal_effect:.4f}; "
          f"twin f32 vs f64 {f32_vs_f64:.1e}; twin vs tch: context {r['errors']['context']:.1e}, "
          f"output {r['errors']['output']:.1e}")
    return {
        "model": f"write_micro_config(dir, &micro(), &twin_micro_model(&micro())) (micro_model "
                 f"with every weight redrawn from seed {MICRO_SEED}), written by twin_parity.rs "
                 f"{RUST_WRITER}",
        "weights_fingerprint": fp,
        "io": "micro_io.safetensors",
        "arch": MICRO_ARCH,
        "prompts": PROMPTS,
        "drop": DROP,
        "timesteps": TIMESTEPS,
        "max_abs_output": round(output.abs().max().item(), 4),
        "max_abs_temporal_effect": round(temporal_effect, 4),
        "self_check_f32_vs_f64": float(f"{f32_vs_f64:.2e}"),
    }


def compare_space(space_path, arch):
    """--compare-space: `arch` of `space_path` built by tch (random weights) and by the twin
    from the same exported files; prints the largest differences. Writes no fixture."""
    space = vt.Space.load(space_path)
    with tempfile.TemporaryDirectory() as tmp:
        x_t, timesteps = clip_inputs(space, tmp)
        run_rust_writer(tmp, space_path, arch)
        r = twin_outputs(tmp, "twin.json", x_t, timesteps)
    e = r["errors"]
    print(f"{space_path} {arch}: max |tch - twin| context {e['context']:.2e}, output {e['output']:.2e} "
          f"(outputs reach {r['output'].abs().max():.2f}; temporal ops change them by up to "
          f"{r['temporal_effect']:.3f})")
    return max(e.values()) <= TOL


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--micro-dir", help="a folder holding what twin_parity.rs "
                    f"{RUST_WRITER} wrote (micro.json, micro.safetensors, rust_io.safetensors for "
                    "this script's inputs); default: run it into a temporary folder")
    ap.add_argument("--compare-space", metavar="SPACE",
                    help="instead of writing fixtures, compare tch and the twin on --arch of this "
                    "space file (random weights, the default text encoder)")
    ap.add_argument("--arch", help="architecture for --compare-space")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    if args.compare_space:
        if not args.arch:
            ap.error("--compare-space needs --arch")
        sys.exit(0 if compare_space(args.compare_space, args.arch) else 1)
    os.makedirs(OUT, exist_ok=True)
    space_file = micro_space_file()
    space = vt.Space(space_file, "micro.json")
    pin = load_pin_math()
    print("temporal ops:")
    ops = op_fixtures(space, pin)
    print("whole model:")
    if args.micro_dir:
        model = micro_model_fixture(args.micro_dir)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            model = micro_model_fixture(tmp)
    manifest = {
        "generated_by": GENERATED_BY,
        "torch": torch.__version__.split("+")[0],
        "diffusers": diffusers.__version__,
        "temporal_ops": ops,
        "micro_model": model,
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        f.write(json.dumps(manifest, indent=2) + "\n")
    sizes = {f: os.path.getsize(os.path.join(OUT, f)) for f in sorted(os.listdir(OUT))}
    print(f"wrote {os.path.relpath(OUT, ROOT)}: {sum(sizes.values())} bytes {sizes}")


if __name__ == "__main__":
    main()
