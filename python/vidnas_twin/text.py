"""The text conditioning of crates/nn/src/text.rs and the vocabulary of crates/data/src/vocab.rs.

`TextEncoder` is either the learned encoder (token + position embeddings, pre-norm transformer
layers, final LayerNorm) or a precomputed table of prompt embeddings (`prompt_embeddings`,
indexed by prompt row); both hold the learned `null_context` used for dropped captions.
Parameter names are the Rust ones (under `text_encoder.` in a whole model's weights).
"""

import string

import torch
import torch.nn.functional as F
from torch import nn

from .temporal import Attention

PAD, UNK = "<pad>", "<unk>"
PROMPT_TABLE_VAR = "prompt_embeddings"


def words(caption):
    """`vocab::words`: lower-cased words, ASCII punctuation trimmed from their edges."""
    out = []
    for w in caption.split():
        w = w.strip(string.punctuation).lower()
        if w:
            out.append(w)
    return out


class Vocab:
    """`Vocab`: `<pad>` (id 0), `<unk>` (id 1), then words."""

    def __init__(self, tokens):
        tokens = list(tokens)
        if tokens[:2] != [PAD, UNK]:
            raise ValueError(f"the token list must start with {PAD!r}, {UNK!r}")
        self.tokens = tokens
        self.ids = {t: i for i, t in enumerate(tokens)}
        if len(self.ids) != len(tokens):
            raise ValueError("a token appears twice")

    def tokenize(self, caption, max_len):
        """`Vocab::tokenize`: ids padded with 0 to `max_len`; unknown words or too many words are
        an error."""
        ws = words(caption)
        unknown = [w for w in dict.fromkeys(ws) if w not in self.ids]
        if unknown:
            raise ValueError(f"unknown word(s) {unknown} in {caption!r}; known: {' '.join(self.tokens[2:])}")
        if len(ws) > max_len:
            raise ValueError(f"{caption!r} has {len(ws)} words; the model reads at most {max_len}")
        return [self.ids[w] for w in ws] + [0] * (max_len - len(ws))


class EncoderLayer(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.fc2 = nn.Linear(4 * dim, dim)

    def forward(self, xs):
        xs = self.attn(self.norm1(xs)) + xs
        return self.fc2(F.gelu(self.fc1(self.norm2(xs)))) + xs


class TextEncoder(nn.Module):
    """Token ids `[B, max_tokens]` (or prompt rows `[B, 1]` for a precomputed table) -> context
    `[B, max_tokens, dim]`. `config` is the exported `text_encoder` object."""

    def __init__(self, config):
        super().__init__()
        self.config = dict(config)
        c = self.config
        d, tokens = c["dim"], c["max_tokens"]
        self.precomputed = c.get("precomputed") is not None
        if self.precomputed:
            self.register_parameter(
                PROMPT_TABLE_VAR,
                nn.Parameter(torch.zeros(c["vocab_size"], tokens, d), requires_grad=False))
        else:
            self.token_embedding = nn.Embedding(c["vocab_size"], d)
            self.position_embedding = nn.Parameter(torch.randn(tokens, d) * 0.02)
            self.layers = nn.ModuleList(EncoderLayer(d, c["heads"]) for _ in range(c["layers"]))
            self.final_norm = nn.LayerNorm(d)
        self.null_context = nn.Parameter(torch.randn(tokens, d) * 0.02)

    def forward(self, ids):
        ids = ids.long()
        if self.precomputed:
            return getattr(self, PROMPT_TABLE_VAR).index_select(0, ids[:, 0])
        xs = self.token_embedding(ids) + self.position_embedding.unsqueeze(0)
        for layer in self.layers:
            xs = layer(xs)
        return self.final_norm(xs)

    encode = forward

    def null(self, batch):
        """The learned unconditional context `[batch, max_tokens, dim]`."""
        return self.null_context.unsqueeze(0).expand(batch, -1, -1)

    def encode_with_dropout(self, ids, drop):
        """`TextEncoder::encode_with_dropout`: rows where `drop[i]` is true get the null context."""
        ctx = self.forward(ids)
        drop = torch.as_tensor(drop, dtype=torch.bool)
        if not bool(drop.any()):
            return ctx
        mask = drop.to(ctx.dtype).view(-1, 1, 1).to(ctx.device)
        return ctx * (1.0 - mask) + self.null(drop.shape[0]) * mask
