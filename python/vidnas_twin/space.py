"""Search-space files (`vidnas-space/1`), their slots and architecture strings, as
crates/space reads them (format.rs, slots.rs, arch.rs).

A space file is kept as a plain dict, normalised to the Rust struct: every defaulted field
filled in and keys in the struct's field order, so `canonical_json` reproduces what
`serde_json::to_string(&SpaceFile)` writes and `space_hash` the Rust `Space::hash`.
"""

import hashlib
import json
import math
from dataclasses import dataclass, field

from .registry import STRUCTURE, is_strided

OP_KINDS = tuple(STRUCTURE)
"""Canonical op order (crates/space/src/ops.rs)."""

# Field order and defaults of the Rust structs (crates/space/src/format.rs). `None` as a
# default means "optional, left out when absent" (skip_serializing_if = "Option::is_none").
_REQUIRED = object()
_VIDEO = [("frames", _REQUIRED), ("height", _REQUIRED), ("width", _REQUIRED),
          ("channels", _REQUIRED), ("vae_scale_factor", 1)]
_BACKBONE = [
    ("sample_size", _REQUIRED), ("in_channels", _REQUIRED), ("out_channels", _REQUIRED),
    ("block_out_channels", _REQUIRED), ("layers_per_block", _REQUIRED),
    ("down_block_types", _REQUIRED), ("up_block_types", _REQUIRED),
    ("mid_block_type", _REQUIRED), ("cross_attention_dim", _REQUIRED),
    ("attention_head_dim", _REQUIRED), ("norm_num_groups", _REQUIRED), ("norm_eps", 1e-5),
    ("flip_sin_to_cos", True), ("freq_shift", 0), ("transformer_layers_per_block", 1),
    ("use_linear_projection", False),
]
_CONV = [("kernel_size", _REQUIRED), ("max_resolution", None)]
_ATTN = [("num_heads", _REQUIRED), ("stride", None), ("max_resolution", None)]
_CONSTRAINTS = [("min_temporal_layers", 0), ("max_temporal_layers", None)]


def _ordered(d, fields, where):
    unknown = set(d) - {k for k, _ in fields}
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}")
    out = {}
    for key, default in fields:
        if key in d and d[key] is not None:
            out[key] = d[key]
        elif default is _REQUIRED:
            raise ValueError(f"{where}.{key} is missing")
        elif default is not None:
            out[key] = default
    return out


def normalise_space_file(d):
    """The space file as the Rust `SpaceFile` holds it: defaults filled, struct field order."""
    out = {"format": d["format"], "name": d["name"]}
    if d.get("notes"):
        out["notes"] = list(d["notes"])
    out["video"] = _ordered(d["video"], _VIDEO, "video")
    out["backbone"] = _ordered(d["backbone"], _BACKBONE, "backbone")
    t = d["temporal"]
    ops_in = t["ops"]
    unknown = set(ops_in) - set(OP_KINDS)
    if unknown:
        raise ValueError(f"temporal.ops: unknown op(s) {sorted(unknown)}")
    ops = {}
    for kind in OP_KINDS:
        if kind not in ops_in or ops_in[kind] is None:
            continue
        structure = STRUCTURE[kind]
        spec = [] if structure is None else _CONV if structure[0] == "conv" else _ATTN
        ops[kind] = _ordered(ops_in[kind], spec, f"temporal.ops.{kind}")
        # `OpParams::fits`: a stride exactly where the keys are strided.
        if spec is _ATTN and ("stride" in ops[kind]) != is_strided(kind):
            raise ValueError(f"temporal.ops.{kind}: " + (
                "needs a `stride` (every stride-th token is a key)" if is_strided(kind)
                else "takes no `stride` (a strided attention such as attn3d_stride takes one)"))
        if ops[kind].get("stride", 1) < 1:
            raise ValueError(f"temporal.ops.{kind}.stride must be at least 1")
    out["temporal"] = {
        "ops": ops,
        "placement": t.get("placement", "every_layer"),
        "constraints": _ordered(t.get("constraints", {}), _CONSTRAINTS, "temporal.constraints"),
    }
    if out["format"] != "vidnas-space/1":
        raise ValueError(f"format `{out['format']}` is not `vidnas-space/1`")
    return out


def _serde_float(x):
    """A float as serde_json writes it (the `ryu` crate's format): the shortest round-trip
    digits, plain decimals for exponents from -5 to 16 (`0.00001`, `1.0`, `1500.0`), else
    `1e-7` / `1.5e17`."""
    if not math.isfinite(x):
        raise ValueError(f"{x} cannot be written as JSON")
    sign = "-" if math.copysign(1.0, x) < 0 else ""
    if x == 0:
        return sign + "0.0"
    mant, _, exp = repr(abs(float(x))).partition("e")
    whole, _, frac = mant.partition(".")
    raw = whole + frac
    digits = raw.lstrip("0")
    # value = 0.<raw> * 10^(len(whole) + exp); drop leading zeros into the exponent.
    kk = len(whole) + (int(exp) if exp else 0) - (len(raw) - len(digits))
    digits = digits.rstrip("0")
    length = len(digits)
    k = kk - length  # value = digits * 10^k
    if 0 <= k and kk <= 16:
        body = digits + "0" * k + ".0"
    elif 0 < kk <= 16:
        body = digits[:kk] + "." + digits[kk:]
    elif -5 < kk <= 0:
        body = "0." + "0" * (-kk) + digits
    elif length == 1:
        body = f"{digits}e{kk - 1}"
    else:
        body = f"{digits[0]}.{digits[1:]}e{kk - 1}"
    return sign + body


def canonical_json(obj):
    """Compact JSON as serde_json::to_string writes it (dict order kept)."""
    if isinstance(obj, dict):
        return "{" + ",".join(json.dumps(k) + ":" + canonical_json(v) for k, v in obj.items()) + "}"
    if isinstance(obj, list):
        return "[" + ",".join(canonical_json(v) for v in obj) + "]"
    if isinstance(obj, float):
        return _serde_float(obj)
    return json.dumps(obj, ensure_ascii=False)


def space_hash(file):
    """`Space::hash`: the first 16 hex digits of SHA-256 of the re-serialised file."""
    data = canonical_json(normalise_space_file(file)).encode()
    return hashlib.sha256(data).hexdigest()[:16]


def arch_id(ops):
    """`Architecture::id`: the first 10 hex digits of SHA-256 of the `-`-joined encoding."""
    return hashlib.sha256("-".join(ops).encode()).hexdigest()[:10]


@dataclass
class Slot:
    name: str  # down.1.block.0, mid.block.0, up.2.block.1
    stage: str  # "down" | "mid" | "up"
    block: int  # block index (0 for mid)
    layer: int  # layer inside the block
    channels: int
    frames: int
    height: int
    width: int
    allowed: list = field(default_factory=list)


class Space:
    """A space file with its slots (execution order: down blocks, mid, up blocks)."""

    def __init__(self, file, path="<memory>"):
        self.file = normalise_space_file(file)
        self.path = str(path)
        self.slots = _derive_slots(self.file)

    @classmethod
    def load(cls, path):
        with open(path) as f:
            return cls(json.load(f), path)

    @property
    def name(self):
        return self.file["name"]

    def hash(self):
        return space_hash(self.file)

    def slot_index(self, name):
        for i, s in enumerate(self.slots):
            if s.name == name:
                return i
        return None

    def parse_arch(self, text):
        """`Space::parse_arch`: one op per slot joined by `-`, each allowed at its slot, within
        the temporal-layer constraints. Returns the list of op names."""
        parts = text.strip().split("-")
        if len(parts) != len(self.slots):
            raise ValueError(
                f"architecture `{text}` has {len(parts)} ops but space `{self.name}` has "
                f"{len(self.slots)} slots ({', '.join(s.name for s in self.slots)})")
        for op, slot in zip(parts, self.slots):
            if op not in slot.allowed:
                raise ValueError(
                    f"architecture `{text}`: slot `{slot.name}` ({slot.height}x{slot.width}) does not "
                    f"allow `{op}`; allowed there: {', '.join(slot.allowed)}")
        c = self.file["temporal"]["constraints"]
        k = sum(op != "none" for op in parts)
        lo, hi = c.get("min_temporal_layers", 0), c.get("max_temporal_layers", len(self.slots))
        if not lo <= k <= hi:
            raise ValueError(f"architecture `{text}` has {k} temporal layers; space `{self.name}` "
                             f"needs between {lo} and {hi}")
        return parts

    def slot_map(self, ops):
        """`Architecture::slot_map`: {slot name: op}, sorted by name (a Rust BTreeMap)."""
        return dict(sorted((s.name, op) for s, op in zip(self.slots, ops)))

    def temporal_config(self):
        """`OpShape::of` for every declared op (crates/nn/src/temporal.rs): the backbone's
        groups, each op's size hyper-parameter (`kernel_size` or `num_heads`) and the strided
        ops' `stride`."""
        return temporal_config(self.file["backbone"]["norm_num_groups"], self.file["temporal"]["ops"])


def temporal_config(groups, ops):
    """{"groups": groups, "hyper": {op: kernel_size or num_heads}, "stride": {op: stride}} for
    the space file's `temporal.ops` entries ("stride" holds the entries that have one)."""
    return {
        "groups": groups,
        "hyper": {k: v.get("kernel_size", v.get("num_heads", 1)) for k, v in ops.items()},
        "stride": {k: v["stride"] for k, v in ops.items() if "stride" in v},
    }


def _derive_slots(file):
    """crates/space/src/slots.rs `derive_slots`."""
    b, v, t = file["backbone"], file["video"], file["temporal"]
    ch = b["block_out_channels"]
    n = len(ch)
    declared = [(k, spec.get("max_resolution")) for k, spec in t["ops"].items()]

    def make(name, stage, block, layer, channels, level):
        h, w = v["height"] >> level, v["width"] >> level
        allowed = [k for k, m in declared if m is None or (h <= m and w <= m)]
        return Slot(name, stage, block, layer, channels, v["frames"], h, w, allowed)

    def layers(count):
        if t["placement"] == "every_layer":
            return range(count)
        if t["placement"] == "last_layer_of_block":
            return [count - 1]
        raise ValueError(f"temporal.placement `{t['placement']}` is unknown")

    slots = []
    for i, c in enumerate(ch):
        for j in layers(b["layers_per_block"]):
            slots.append(make(f"down.{i}.block.{j}", "down", i, j, c, i))
    slots.append(make("mid.block.0", "mid", 0, 0, ch[-1], n - 1))
    for i in range(n):
        for j in layers(b["layers_per_block"] + 1):
            slots.append(make(f"up.{i}.block.{j}", "up", i, j, ch[n - 1 - i], n - 1 - i))
    return slots
