"""python -m vidnas_twin.executorch_harness REQUEST.json RESULT.json

The ExecuTorch side of `vidnas latency profile --runtime executorch-xnnpack` and `vidnas
latency validate --runtime executorch-xnnpack` (crates/profile/src/executorch.rs writes the
request and reads the result). Every op signature, or every whole network, is exported with
`torch.export` -> `to_edge_transform_and_lower(partitioner=[XnnpackPartitioner()])` -> `.pte`
and timed with `executorch.runtime` on this machine, with the protocol of the libtorch
profiler (warm-up runs, timed repeats, minimum) and of `latency validate` (interleaved rounds
around a reference network, rounds redone when the reference drifts).

Progress goes to stdout as one JSON object per line (`{"done": 3, "total": 120, "item": ...}`,
with the finished op's `entry` when timing ops, so a caller saves as it goes), errors to stderr
with a non-zero exit. Needs the venv of scripts/install-executorch.sh.
"""

import hashlib
import json
import os
import random
import shutil
import sys
import time
import warnings
from pathlib import Path

import torch

from .load import from_space
from .ops import op_from_signature
from .space import Space
from .deploy import deploy_form

RUNTIME = "executorch-xnnpack"
REQUEST_FORMAT = "vidnas-harness-request/1"
MANIFEST_FORMAT = "vidnas-executorch-bundle/1"
HERE = Path(__file__).resolve().parent
# Bump when deploy.py or `network` change what is exported: cached programs are keyed by it.
DEPLOY_FORM_VERSION = 1


def _quiet():
    warnings.filterwarnings("ignore")
    import logging
    logging.getLogger("torch").setLevel(logging.ERROR)


def executorch_version():
    import importlib.metadata as md
    return md.version("executorch")


def set_threads(threads):
    from executorch.extension.pybindings.portable_lib import _unsafe_reset_threadpool
    _unsafe_reset_threadpool(int(threads))


def lower(module, inputs):
    """`module` lowered through the XNNPACK delegate: (ExecuTorch program bytes, delegation),
    delegation being `xnnpack` (every compute op delegated), `partial` (some ran on portable
    kernels: named in the third value) or `portable` (none delegated)."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    with torch.no_grad():
        exported = torch.export.export(module, inputs)
    edge = to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()])
    delegated, portable = 0, set()
    for node in edge.exported_program().graph_module.graph.nodes:
        if node.op != "call_function":
            continue
        name = str(getattr(node.target, "__name__", node.target))
        if "call_delegate" in name:
            delegated += 1
        elif "getitem" not in name:
            portable.add(name.split(":")[0].replace("<EdgeOpOverload: ", "").strip("<> "))
    if delegated and portable:
        delegation = "partial"
    elif delegated:
        delegation = "xnnpack"
    else:
        delegation = "portable"
    return edge.to_executorch().buffer, delegation, sorted(portable)


class Loaded:
    """A `.pte` loaded into the ExecuTorch runtime with its inputs."""

    def __init__(self, path, inputs):
        from executorch.runtime import Runtime
        self.program = Runtime.get().load_program(str(path))
        self.method = self.program.load_method("forward")
        self.inputs = list(inputs)

    def run(self):
        return self.method.execute(self.inputs)

    def time(self, warmup, repeats):
        for _ in range(warmup):
            self.run()
        times = []
        for _ in range(max(repeats, 1)):
            start = time.perf_counter()
            self.run()
            times.append((time.perf_counter() - start) * 1e3)
        return times


def _progress(done, total, item, entry=None):
    line = {"done": done, "total": total, "item": item}
    if entry is not None:
        line["entry"] = entry
    print(json.dumps(line), flush=True)


def _dtype(name):
    return {"f32": torch.float32, "f16": torch.float16}[name]


def profile_ops(req):
    """Every signature of the request: export, check against eager PyTorch, time."""
    work = Path(req["work_dir"])
    (work / "pte").mkdir(parents=True, exist_ok=True)
    dtype = _dtype(req["dtype"])
    entries = []
    total = len(req["signatures"])
    for i, sig in enumerate(req["signatures"]):
        module, inputs = op_from_signature(sig, batch=req["batch"], dtype=dtype)
        # Random non-zero weights (temporal ops start at zero output), so the check below
        # compares real numbers: the exported deployment form against the eager twin.
        gen = torch.Generator().manual_seed(i)
        with torch.no_grad():
            for p in module.parameters():
                p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * 0.1)
            ref = module(*inputs)
        module = deploy_form(module).eval()
        with torch.no_grad():
            module(*inputs)  # records the deployment form's constants
        try:
            buffer, delegation, portable = lower(module, inputs)
        except Exception as e:  # the signature is the useful part of the message
            raise SystemExit(f"exporting `{sig}` to a .pte failed: {type(e).__name__}: {e}")
        pte = work / "pte" / f"{i:04d}.pte"
        pte.write_bytes(buffer)
        try:
            loaded = Loaded(pte, inputs)
            out = loaded.run()[0]
        except Exception as e:
            raise SystemExit(f"running `{sig}` ({pte}) in the ExecuTorch runtime failed: {e}")
        err = (out.float() - ref.float()).abs().max().item() / max(ref.float().abs().max().item(), 1e-6)
        if err > 1e-3:
            raise SystemExit(f"the ExecuTorch program of `{sig}` differs from eager PyTorch by {err:.1e} "
                             "(relative to its largest output): the export is wrong, not slow")
        times = loaded.time(req["warmup"], req["repeats"])
        entries.append({
            "signature": sig, "times_ms": times,
            "delegation": delegation, "portable_ops": portable,
            "max_rel_error": err, "pte": f"pte/{i:04d}.pte",
            "inputs": [list(t.shape) for t in inputs],
        })
        if not req.get("bundle"):
            pte.unlink()
        # The entry rides on the progress line so the caller can save as it goes.
        _progress(i + 1, total, sig, entries[-1])
    return {"entries": entries}


def network_inputs(space, req):
    """The inputs every network of a request runs on (the same for all: drawn from the seed)."""
    v = space.file["video"]
    b = req["batch"]
    gen = torch.Generator().manual_seed(req.get("seed", 0))
    xs = torch.randn(b, v["channels"], v["frames"], v["height"], v["width"], generator=gen)
    ts = torch.full((b,), 500, dtype=torch.long)
    ctx = torch.randn(b, req["text_tokens"], space.file["backbone"]["cross_attention_dim"], generator=gen)
    return xs, ts, ctx


def network(space, arch, req):
    """The whole denoiser of `arch` (None: the image model, no temporal op: the reference) as
    an exportable module and its inputs."""
    if arch is None:
        model, ops = from_space(space, None, build="image"), ["none"] * len(space.slots)
    else:
        model, ops = from_space(space, arch), space.parse_arch(arch)
    deploy_form(model).eval()
    xs, ts, ctx = network_inputs(space, req)

    class Denoise(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x, t, c):
            return self.model.denoise(x, t, c, arch=ops)

    module = Denoise().eval()
    with torch.no_grad():
        module(xs, ts, ctx)  # records the deployment form's constants
    return module, (xs, ts, ctx)


def _program_key(space, arch, req):
    """What a network's program depends on: space, architecture, seed, batch, text tokens."""
    text = json.dumps([DEPLOY_FORM_VERSION, executorch_version(), space.hash(), arch,
                       req.get("seed", 0), req["batch"], req["text_tokens"]])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _lower_to_cache(space_path, arch, req, pte):
    """Lowers the network of `arch` into `pte` (written whole, then renamed). Runs in a worker
    process of `_lower_all`: one thread each, the workers are the parallelism."""
    _quiet()
    torch.set_num_threads(1)
    space = Space.load(space_path)
    module, inputs = network(space, arch, req)
    try:
        buffer, _, _ = lower(module, inputs)
    except Exception as e:
        raise RuntimeError(f"exporting network `{arch}` to a .pte failed: {type(e).__name__}: {e}")
    tmp = pte.with_suffix(f".pte.{os.getpid()}.tmp")
    tmp.write_bytes(buffer)
    tmp.replace(pte)
    return arch


def _lower_all(req, todo, done, total):
    """Lowers every (arch, pte) of `todo`, one worker process per core this process may use.
    Lowering is single-threaded Python (~1 min a network) and nothing is timed meanwhile, so
    the workers divide the wait by the core count; each finished program is already in the
    cache when an interrupted run starts again."""
    from concurrent.futures import ProcessPoolExecutor, as_completed
    import multiprocessing

    _progress(done, total, f"{done} networks already lowered in the program cache")
    if not todo:
        return
    jobs = max(1, min(len(os.sched_getaffinity(0)), len(todo)))
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_lower_to_cache, req["space"], arch, req, pte) for arch, pte in todo]
        try:
            for future in as_completed(futures):
                try:
                    arch = future.result()
                except RuntimeError as e:
                    raise SystemExit(str(e))
                done += 1
                _progress(done, total, f"exported {arch or 'the reference (no temporal op)'}")
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def time_networks(req):
    """`latency validate`'s protocol on ExecuTorch: each network's minimum per round. With a
    `program_cache` folder, each lowered network is kept there (written whole, then renamed)
    and reused by the next run: lowering is the slow part (~1 min a network), so an
    interrupted validation resumes where it stopped; missing programs are lowered in parallel
    (`_lower_all`). Only the reference stays loaded: each
    other network is loaded for its turn in a round and run once untimed first (XNNPACK packs
    its weights on the first run), so memory does not grow with the number of networks."""
    space = Space.load(req["space"])
    work = Path(req["work_dir"])
    cache = Path(req["program_cache"]) if req.get("program_cache") else work / "pte"
    cache.mkdir(parents=True, exist_ok=True)
    archs = [None] + req["archs"]
    ptes = [cache / f"{_program_key(space, arch, req)}.pte" for arch in archs]
    missing = [i for i, pte in enumerate(ptes) if not pte.exists()]
    _lower_all(req, [(archs[i], ptes[i]) for i in missing], len(archs) - len(missing), len(archs))
    inputs = network_inputs(space, req)
    programs = []
    for pte in ptes:
        Loaded(pte, inputs).run()  # fails here, naming nothing slow, if the program cannot run
        programs.append((pte, inputs))
    reference, nets = Loaded(*programs[0]), programs[1:]
    reference.time(1, 1)
    repeats = max(req["repeats"], 1)
    baseline = min(reference.time(0, 2 * repeats))
    reference_min = baseline
    round_mins = [[] for _ in nets]
    redone = noisy = 0
    for r in range(req["rounds"]):
        attempts = 0
        while True:
            order = list(range(len(nets)))
            random.Random(req["seed"] ^ (r * 31 + attempts)).shuffle(order)
            before = min(reference.time(0, 2 * repeats))
            mins = [0.0] * len(nets)
            for i in order:
                mins[i] = min(Loaded(*nets[i]).time(1, repeats))
            after = min(reference.time(0, 2 * repeats))
            reference_min = min(reference_min, before, after)
            drift = max(abs(before / baseline - 1), abs(after / baseline - 1))
            if drift <= req["tolerance"] or attempts >= req["max_redo"]:
                noisy += drift > req["tolerance"]
                for i, m in enumerate(mins):
                    round_mins[i].append(m)
                break
            redone += 1
            attempts += 1
        _progress(r + 1, req["rounds"], f"round {r + 1}, reference drift {drift * 100:.1f}%")
    return {"round_mins": round_mins, "reference_ms": reference_min,
            "rounds_redone": redone, "noisy_rounds_kept": noisy}


def write_bundle(req, result):
    """A folder a phone harness can run: the .pte files, manifest.json, the Android runner
    script and the converter of its output (runner_to_csv.py)."""
    work = Path(req["work_dir"])
    manifest = {
        "format": MANIFEST_FORMAT,
        "runtime": RUNTIME,
        "executorch_version": executorch_version(),
        "dtype": req["dtype"], "batch": req["batch"], "text_tokens": req["text_tokens"],
        "threads": req["threads"], "warmup": req["warmup"], "repeats": req["repeats"],
        "ops": [{"signature": e["signature"], "pte": e["pte"], "delegation": e["delegation"],
                 "inputs": e["inputs"]} for e in result["entries"]],
    }
    (work / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for name in ("run_android.sh", "runner_to_csv.py", "README.md"):
        shutil.copy(HERE / "bundle" / name, work / name)
    os.chmod(work / "run_android.sh", 0o755)


def main():
    _quiet()
    if len(sys.argv) != 3:
        raise SystemExit(__doc__.split("\n\n")[0])
    req = json.loads(Path(sys.argv[1]).read_text())
    if req.get("format") != REQUEST_FORMAT:
        raise SystemExit(f"{sys.argv[1]}: format `{req.get('format')}`, expected `{REQUEST_FORMAT}`")
    torch.manual_seed(req.get("seed", 0))
    torch.set_num_threads(req["threads"])
    set_threads(req["threads"])
    if req["task"] == "ops":
        result = profile_ops(req)
        if req.get("bundle"):
            write_bundle(req, result)
    elif req["task"] == "networks":
        result = time_networks(req)
    else:
        raise SystemExit(f"task `{req['task']}`: use ops or networks")
    result.update({"runtime": RUNTIME, "executorch_version": executorch_version(),
                   "torch_version": torch.__version__.split("+")[0], "threads": req["threads"]})
    tmp = Path(sys.argv[2] + ".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(sys.argv[2])


if __name__ == "__main__":
    main()
