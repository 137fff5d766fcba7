"""One op of a latency-table signature (crates/latency/src/signature.rs) as a module plus
example inputs: the unit a runtime harness exports and times, as `crates/profile/src/ops.rs`
builds it for libtorch. Spatial ops are diffusers' own modules (the ones `UNet2DConditionModel`
builds); temporal ops are the twin's. Frames are folded into the batch, `[batch*t, C, H, W]`.

    module, inputs = op_from_signature("attn1d|c=64|heads=2|groups=8|t=8|h=8|w=8", batch=1)
    out = module(*inputs)
"""

import torch
from torch import nn

from .registry import STRUCTURE, is_strided
from .temporal import temporal_op


def _temporal_keys(op, structure):
    """A temporal op's signature keys: `k` (convolutions) or `heads` (attention), `stride` after
    `heads` where the keys are strided."""
    if structure[0] == "conv":
        size = ("k",)
    else:
        size = ("heads", "stride") if is_strided(op) else ("heads",)
    return ("c", *size, "groups", "t", "h", "w")


# Keys of every signature kind, in their fixed order (SIGNATURES.md): the backbone's, then every
# temporal op of the registry by its structure.
KEYS = {
    "time_embed": ("c", "temb"),
    "conv_in": ("cin", "cout", "t", "h", "w"),
    "resnet": ("cin", "cout", "temb", "groups", "t", "h", "w"),
    "xformer": ("c", "heads", "ctx", "tokens", "layers", "linear", "groups", "t", "h", "w"),
    "down": ("c", "t", "h", "w"),
    "up": ("c", "t", "h", "w"),
    "conv_out": ("cin", "cout", "groups", "t", "h", "w"),
    **{op: _temporal_keys(op, structure)
       for op, structure in STRUCTURE.items() if structure is not None},
}


def parse_signature(text):
    """`kind|key=value|...` -> (kind, {key: int}); the keys must be the kind's, in order."""
    kind, *fields = text.split("|")
    if kind not in KEYS:
        raise ValueError(f"signature `{text}`: unknown kind `{kind}` (known: {', '.join(KEYS)})")
    keys, values = [], {}
    for f in fields:
        key, sep, value = f.partition("=")
        if not sep or not value.isdigit():
            raise ValueError(f"signature `{text}`: `{f}` is not key=unsigned integer")
        keys.append(key)
        values[key] = int(value)
    if tuple(keys) != KEYS[kind]:
        raise ValueError(f"signature `{text}`: keys {keys}, expected {list(KEYS[kind])}")
    return kind, values


class _Call(nn.Module):
    """Runs `inner` the way the UNet calls it (keyword arguments, tuple outputs unpacked)."""

    def __init__(self, inner, call):
        super().__init__()
        self.inner = inner
        self._call = call

    def forward(self, *inputs):
        return self._call(self.inner, *inputs)


def op_from_signature(text, batch=1, dtype=torch.float32, seed=0):
    """The op of `text` for `batch` clips: (module in eval mode, tuple of example inputs)."""
    from diffusers.models.embeddings import TimestepEmbedding, Timesteps
    from diffusers.models.resnet import Downsample2D, ResnetBlock2D, Upsample2D
    from diffusers.models.transformers.transformer_2d import Transformer2DModel

    kind, s = parse_signature(text)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    n = batch * s.get("t", 1)

    def randn(*shape):
        return torch.randn(*shape, generator=gen, dtype=dtype)

    if kind == "time_embed":
        proj, emb = Timesteps(s["c"], True, 0), TimestepEmbedding(s["c"], s["temb"])
        module = _Call(nn.ModuleList([proj, emb]), lambda m, t: m[1](m[0](t).to(dtype)))
        inputs = (torch.full((batch,), 500, dtype=torch.long),)
    elif kind == "conv_in":
        module = nn.Conv2d(s["cin"], s["cout"], 3, padding=1)
        inputs = (randn(n, s["cin"], s["h"], s["w"]),)
    elif kind == "resnet":
        block = ResnetBlock2D(in_channels=s["cin"], out_channels=s["cout"], temb_channels=s["temb"],
                              groups=s["groups"], eps=1e-5)
        module = _Call(block, lambda m, x, e: m(x, e))
        inputs = (randn(n, s["cin"], s["h"], s["w"]), randn(n, s["temb"]))
    elif kind == "xformer":
        block = Transformer2DModel(
            num_attention_heads=s["heads"], attention_head_dim=s["c"] // s["heads"],
            in_channels=s["c"], num_layers=s["layers"], cross_attention_dim=s["ctx"],
            norm_num_groups=s["groups"], use_linear_projection=bool(s["linear"]))
        module = _Call(block, lambda m, x, ctx: m(x, encoder_hidden_states=ctx, return_dict=False)[0])
        inputs = (randn(n, s["c"], s["h"], s["w"]), randn(n, s["tokens"], s["ctx"]))
    elif kind == "down":
        module = Downsample2D(s["c"], use_conv=True, out_channels=s["c"], padding=1, name="op")
        inputs = (randn(n, s["c"], s["h"], s["w"]),)
    elif kind == "up":
        module = Upsample2D(s["c"], use_conv=True, out_channels=s["c"])
        inputs = (randn(n, s["c"], s["h"], s["w"]),)
    elif kind == "conv_out":
        module = nn.Sequential(nn.GroupNorm(s["groups"], s["cin"], eps=1e-5), nn.SiLU(),
                               nn.Conv2d(s["cin"], s["cout"], 3, padding=1))
        inputs = (randn(n, s["cin"], s["h"], s["w"]),)
    else:
        # A signature holds its op's hyper-parameters: `k` (convolutions) or `heads`, and the
        # `stride` of a strided attention.
        cfg = {"groups": s["groups"], "hyper": {kind: s.get("k", s.get("heads", 1))},
               "stride": {kind: s["stride"]} if "stride" in s else {}}
        frames = s["t"]
        module = _Call(temporal_op(kind, s["c"], cfg), lambda m, x: m(x, frames))
        inputs = (randn(n, s["c"], s["h"], s["w"]),)
    return module.to(dtype).eval(), inputs
