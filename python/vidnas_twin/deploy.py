"""The deployment form of a twin module: the same numbers from ops a mobile delegate takes
whole. `torch.export` of the plain twin leaves GroupNorm, nearest upsampling, decomposed SDPA
and 5-D convs to ExecuTorch's portable kernels (slow, and each one splits the XNNPACK
partition, so lowering a network makes ~100 delegate blobs); a phone deployment rewrites them,
and so does `deploy_form` before the harness exports:

- GroupNorm -> mean/sub/mul/rsqrt over a 4-D view `[N, G, -1, last]` (XNNPACK averages the two
  innermost dims of 4-D tensors); LayerNorm the same over `[..., 1, C]`;
- GEGLU (the transformer's feed-forward) -> two Linears instead of one Linear and a split;
- nearest 2x upsampling -> copies joined with `cat` and a reshape;
- attention -> matmul, softmax, matmul (twin ops; diffusers' via `AttnProcessor`);
- Conv3d -> one Conv2d over time-shifted frames (temporal.py `conv3d_as_conv2d`);
- the frame encoding of temporal attention -> a constant recorded by one eager call;
- strided keys (every stride-th token) -> padding, a 4-D view and a unit-step slice
  (temporal.py `strided_keys`).

`deploy_form(module)` switches every such submodule in place, after weights are loaded.
"""

import torch
from torch import nn

from .temporal import Attention, TemporalAttention, TemporalConv, fold_conv3d


class DelegableGroupNorm(nn.Module):
    """`nn.GroupNorm` (same weights, eps) as mean/var over a 4-D view."""

    def __init__(self, norm):
        super().__init__()
        self.groups, self.eps = norm.num_groups, norm.eps
        self.weight, self.bias = norm.weight, norm.bias

    def forward(self, x):
        shape = x.shape
        g = x.reshape(shape[0], self.groups, -1, shape[-1])
        centred = g - g.mean((2, 3), keepdim=True)
        var = (centred * centred).mean((2, 3), keepdim=True)
        y = (centred * torch.rsqrt(var + self.eps)).reshape(shape)
        affine = (1, -1) + (1,) * (len(shape) - 2)
        return y * self.weight.reshape(affine) + self.bias.reshape(affine)


class DelegableLayerNorm(nn.Module):
    """`nn.LayerNorm` over the last dim of `[N, L, C]`, as mean/var over a 4-D view."""

    def __init__(self, norm):
        super().__init__()
        if len(norm.normalized_shape) != 1:
            raise ValueError("only a LayerNorm over the last dimension has a deployment form")
        self.eps = norm.eps
        self.weight, self.bias = norm.weight, norm.bias

    def forward(self, x):
        # reshape, not unsqueeze/squeeze: XNNPACK takes views, not those copies.
        shape = x.shape
        g = x.reshape(-1, shape[-2], 1, shape[-1])
        centred = g - g.mean((2, 3), keepdim=True)
        var = (centred * centred).mean((2, 3), keepdim=True)
        y = (centred * torch.rsqrt(var + self.eps)).reshape(shape)
        if self.weight is not None:
            y = y * self.weight
        if self.bias is not None:
            y = y + self.bias
        return y


class DelegableGEGLU(nn.Module):
    """diffusers' `GEGLU`: `proj` split into its value and gate halves."""

    def __init__(self, geglu):
        super().__init__()
        w, b = geglu.proj.weight, geglu.proj.bias
        half = w.shape[0] // 2
        self.value = nn.Linear(w.shape[1], half).to(w.dtype)
        self.gate = nn.Linear(w.shape[1], half).to(w.dtype)
        with torch.no_grad():
            self.value.weight.copy_(w[:half]), self.gate.weight.copy_(w[half:])
            self.value.bias.copy_(b[:half]), self.gate.bias.copy_(b[half:])
        self.gelu = geglu.gelu

    def forward(self, x, *args, **kwargs):
        return self.value(x) * self.gelu(self.gate(x))


def nearest_up2x(x):
    """`F.interpolate(x, scale_factor=2, mode="nearest")` for `[N, C, H, W]`."""
    # 4-D views only: XNNPACK concatenates tensors of rank 4 at most.
    n, c, h, w = x.shape
    col = x.reshape(n, c * h, w, 1)
    wide = torch.cat([col, col], 3).reshape(n, c * h, 1, 2 * w)
    return torch.cat([wide, wide], 2).reshape(n, c, 2 * h, 2 * w)


class DelegableUpsample(nn.Module):
    """diffusers' `Upsample2D` (nearest 2x, then its conv) with `nearest_up2x`."""

    def __init__(self, up):
        super().__init__()
        if getattr(up, "use_conv_transpose", False) or getattr(up, "norm", None) is not None:
            raise ValueError("only the nearest-neighbour Upsample2D of UNet2DConditionModel has a deployment form")
        self.conv = up.conv if up.use_conv else None

    def forward(self, x, *args, **kwargs):
        x = nearest_up2x(x)
        return self.conv(x) if self.conv is not None else x


def _replacement(child):
    from diffusers.models.activations import GEGLU
    from diffusers.models.resnet import Upsample2D

    if isinstance(child, nn.GroupNorm):
        return DelegableGroupNorm(child)
    if isinstance(child, nn.LayerNorm):
        return DelegableLayerNorm(child)
    if isinstance(child, Upsample2D):
        return DelegableUpsample(child)
    if isinstance(child, GEGLU):
        return DelegableGEGLU(child)
    return None


def deploy_form(module):
    """`module` (a twin network or op) switched to its deployment form in place; returns it,
    or its replacement when `module` itself is one of the replaced kinds. Run the result once
    eagerly before exporting: temporal attention then keeps its frame encoding as a constant
    buffer (no arange/expand in the exported graph)."""
    from diffusers.models.attention_processor import Attention as DiffusersAttention, AttnProcessor

    root = _replacement(module)
    if root is not None:
        return root
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            new = _replacement(child)
            if new is not None:
                setattr(parent, name, new)
    for m in module.modules():
        if isinstance(m, DiffusersAttention):
            m.set_processor(AttnProcessor())
        elif isinstance(m, Attention):
            m.explicit = True
        elif isinstance(m, TemporalAttention):
            m.record_positions = True
            m.delegable_keys = True
        elif isinstance(m, TemporalConv) and m.spatial:
            m.conv1_2d, m.conv2_2d = fold_conv3d(m.conv1), fold_conv3d(m.conv2)
            m.deployed = {id(m.conv1): m.conv1_2d, id(m.conv2): m.conv2_2d}
    return module
