"""The pure MLP residual stack (MLP-Mixer style, no attention), batched over many models.

A model maps tokens ``x`` (N, T) with ids in ``0..V`` (``V`` = mask id) to logits over the ``V``
real tokens at every position. Its residual stream is

    h^0 = E[x] + P                                  (token + learned position embeddings)
    u^l = h^{l-1} + TokenMLP(LN(h^{l-1}))          (mixes positions, shared over channels)
    h^l = u^l + ChannelMLP(LN(u^l))                 (per position, shared over positions)
    logits = LN(h^L) W_out + b_out

so one residual *block* (depth counts blocks) is one token-mixing sublayer followed by one channel
sublayer, each pre-LayerNorm, as in MLP-Mixer. ``h^0 .. h^L`` are the streams that
:func:`forward` returns on request.

A second reading of "pure MLP residual stack" (the book's robustness check): the same mixer
*without LayerNorm* (``ModelConfig(layer_norm=False)``): every ``LN(.)`` above is the identity and
the LayerNorm parameters do not exist. A parameter dict's architecture is read from its keys.

Parameters are a plain ``dict[str, Tensor]`` whose every entry carries a leading **model axis**
``M``, and layer parameters a second **layer axis** ``L``: M independent models of the same shape
run as one through batched matrix products (``torch.bmm``), never a Python loop over models.
Models of different depth are different parameter dicts (depth groups).

Computation layout (issue 12): the stream is held position-major, (M, T, N, d), so that the token
MLP is one product per model over the T axis and the channel MLP one over d, with no transpose
copies; the LayerNorm gain/shift before the channel MLP and the unembedding are folded into the
weights that read them. :func:`forward` returns the usual (M, N, T, .) layout; the training step
(``rgnb.mlp.step``) uses :func:`forward_tmajor` directly. Same function as the plain layout to float
round-off (tested against the pre-issue-12 forward in ``tests/test_step.py``).

Initialisation (our choice; the paper's is not public): embeddings ``N(0, 1)``; hidden weights
``N(0, 1/fan_in)``; output weights of each sublayer ``N(0, 1/fan_in) / sqrt(2L)`` (GPT-2 style, so
the stream's variance stays O(1) with depth); biases 0; LayerNorm gains 1; unembedding
``N(0, 1/d)``. Each model is drawn from its own CPU generator seeded by its seed alone, so a model's
initial weights do not depend on which ensemble it is trained in.
"""

from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F

from rgnb.metrics import LN_EPS
from rgnb.validate import check_int, check_seed

#: Names of the parameters, in the order they are drawn at initialisation.
PARAM_NAMES = ("tok_emb", "pos_emb",
               "ln1_w", "ln1_b", "tok_w1", "tok_b1", "tok_w2", "tok_b2",
               "ln2_w", "ln2_b", "ch_w1", "ch_b1", "ch_w2", "ch_b2",
               "lnf_w", "lnf_b", "out_w", "out_b")
#: The LayerNorm gains and shifts (absent from a model without LayerNorm).
LAYER_NORM_NAMES = ("ln1_w", "ln1_b", "ln2_w", "ln2_b", "lnf_w", "lnf_b")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Shape of one model: ``vocab_size`` V real tokens (input vocabulary V + 1 with the mask id),
    ``seq_len`` T, ``width`` d, ``depth`` L residual blocks, hidden sizes of the two MLPs as
    multiples of T (token MLP) and d (channel MLP)."""

    vocab_size: int
    seq_len: int
    width: int
    depth: int
    token_mult: int = 2
    channel_mult: int = 4
    layer_norm: bool = True

    def __post_init__(self) -> None:
        check_int("vocab_size", self.vocab_size, 2)
        check_int("seq_len", self.seq_len, 1)
        check_int("width", self.width, 1)
        check_int("depth", self.depth, 1)
        check_int("token_mult", self.token_mult, 1)
        check_int("channel_mult", self.channel_mult, 1)
        if not isinstance(self.layer_norm, bool):
            raise ValueError(f"layer_norm must be True or False, got {self.layer_norm!r}")

    @property
    def token_hidden(self) -> int:
        return self.token_mult * self.seq_len

    @property
    def channel_hidden(self) -> int:
        return self.channel_mult * self.width

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Shape of every parameter of ONE model (no model axis), in :data:`PARAM_NAMES` order."""
        V, T, d, L = self.vocab_size, self.seq_len, self.width, self.depth
        Ht, Hc = self.token_hidden, self.channel_hidden
        shapes = {"tok_emb": (V + 1, d), "pos_emb": (T, d),
                  "ln1_w": (L, d), "ln1_b": (L, d), "tok_w1": (L, T, Ht), "tok_b1": (L, Ht),
                  "tok_w2": (L, Ht, T), "tok_b2": (L, T),
                  "ln2_w": (L, d), "ln2_b": (L, d), "ch_w1": (L, d, Hc), "ch_b1": (L, Hc),
                  "ch_w2": (L, Hc, d), "ch_b2": (L, d),
                  "lnf_w": (d,), "lnf_b": (d,), "out_w": (d, V), "out_b": (V,)}
        if not self.layer_norm:
            shapes = {k: v for k, v in shapes.items() if k not in LAYER_NORM_NAMES}
        return shapes

    def param_names(self) -> tuple[str, ...]:
        """Names of this architecture's parameters, in the order they are drawn."""
        return tuple(self.shapes())

    def n_params(self) -> int:
        """Number of parameters of one model."""
        return sum(math.prod(s) for s in self.shapes().values())

    def flops_per_sequence(self) -> float:
        """Forward FLOPs (2 per multiply-add) of one sequence, matrix products only."""
        T, d, L = self.seq_len, self.width, self.depth
        per_block = 2 * (2 * d * T * self.token_hidden) + 2 * (2 * T * d * self.channel_hidden)
        return float(L * per_block + 2 * T * d * self.vocab_size)


def init_one(config: ModelConfig, seed: int) -> dict[str, torch.Tensor]:
    """Initial parameters of one model (no model axis), float32 on the CPU, drawn from ``seed`` only."""
    check_seed("seed", seed)
    gen = torch.Generator().manual_seed(int(seed))
    shapes = config.shapes()
    out_scale = 1.0 / math.sqrt(2.0 * config.depth)
    params: dict[str, torch.Tensor] = {}
    for name in shapes:  # LayerNorm parameters draw nothing: with or without them the same weights
        shape = shapes[name]
        if name in ("tok_emb", "pos_emb"):
            p = torch.randn(shape, generator=gen)
        elif name.endswith("_w") and name.startswith("ln"):
            p = torch.ones(shape)
        elif name in ("tok_w1", "ch_w1", "tok_w2", "ch_w2", "out_w"):
            fan_in = shape[-2]
            p = torch.randn(shape, generator=gen) / math.sqrt(fan_in)
            if name in ("tok_w2", "ch_w2"):
                p = p * out_scale
        else:  # biases and LayerNorm shifts
            p = torch.zeros(shape)
        params[name] = p.to(torch.float32)
    return params


def init_params(config: ModelConfig, seeds, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """Parameters of ``len(seeds)`` models stacked on a leading model axis, on ``device``.

    Model ``m`` is exactly ``init_one(config, seeds[m])``.
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must name at least one model")
    ones = [init_one(config, s) for s in seeds]
    return {k: torch.stack([p[k] for p in ones]).to(device).contiguous() for k in config.param_names()}


def depth_of(params: dict[str, torch.Tensor]) -> int:
    """Depth L of a parameter dict."""
    return int(params["tok_w1"].shape[1])


def has_layer_norm(params: dict[str, torch.Tensor]) -> bool:
    """Whether a parameter dict is the mixer with LayerNorm (its LayerNorm parameters are present)."""
    present = [k in params for k in LAYER_NORM_NAMES]
    if any(present) and not all(present):
        raise ValueError(f"params must hold all or none of the LayerNorm parameters {LAYER_NORM_NAMES}")
    return all(present)


def _layer_norm(h: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """LayerNorm over the last axis of ``h`` (M, ..., d) with per-model gain/shift (M, d), one fused affine pass."""
    shape = (w.shape[0],) + (1,) * (h.ndim - 2) + (w.shape[-1],)
    return torch.addcmul(b.reshape(shape), F.layer_norm(h, h.shape[-1:], eps=LN_EPS), w.reshape(shape))


def _normalise(h: torch.Tensor) -> torch.Tensor:
    """LayerNorm over the last axis without gain/shift (those are folded into the next product)."""
    return F.layer_norm(h, h.shape[-1:], eps=LN_EPS)


def _folded(w_ln: torch.Tensor, b_ln: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor):
    """Fold a LayerNorm gain/shift (M, d) into the product that reads it: ``(y w + b) W + c = y (w W) + (b W + c)``.

    ``weight`` (M, d, H), ``bias`` (M, H); returns the folded (M, d, H) weight and (M, 1, H) bias.
    """
    return w_ln[:, :, None] * weight, torch.baddbmm(bias[:, None, :], b_ln[:, None, :], weight)


def _run(params: dict[str, torch.Tensor], tokens_tm: torch.Tensor, keep_streams: bool):
    """The forward pass in the position-major layout the step computes in.

    ``tokens_tm`` (M, T, N) int64 (position-major: ``tokens.transpose(1, 2)``). The stream is kept as
    (M, T, N, d), so that token mixing is one product per model over the T axis,
    ``W1^T (T -> Ht) @ y (T, N d)``, and channel mixing one product over d, ``y (T N, d) @ W1``,
    neither with a transpose copy. LayerNorm gains/shifts of the channel MLP and the unembedding
    are folded into their weights; without LayerNorm (:func:`has_layer_norm`) the products read
    the stream itself. Returns logits (M, T, N, V) and, with ``keep_streams``, the list of streams
    h^0..h^L, each (M, T, N, d) (else None).
    """
    layer_norm = has_layer_norm(params)
    emb = params["tok_emb"]
    M, vocab_in, d = emb.shape
    L = depth_of(params)
    T, N = tokens_tm.shape[1], tokens_tm.shape[2]
    onehot = F.one_hot(tokens_tm.reshape(M, T * N), vocab_in).to(emb.dtype)  # gather as a product: cheap backward
    h = torch.bmm(onehot, emb).reshape(M, T, N, d) + params["pos_emb"][:, :, None, :]  # (M, T, N, d)
    streams = [h]
    for l in range(L):
        # token mixing: across positions (the T axis), shared over channels and sequences
        y = (_layer_norm(h, params["ln1_w"][:, l], params["ln1_b"][:, l]) if layer_norm else h).reshape(M, T, N * d)
        z = F.gelu(torch.baddbmm(params["tok_b1"][:, l, :, None], params["tok_w1"][:, l].transpose(1, 2), y))
        z = torch.baddbmm(params["tok_b2"][:, l, :, None], params["tok_w2"][:, l].transpose(1, 2), z)
        h = h + z.reshape(M, T, N, d)
        # channel MLP: per position
        if layer_norm:
            w1, b1 = _folded(params["ln2_w"][:, l], params["ln2_b"][:, l], params["ch_w1"][:, l], params["ch_b1"][:, l])
            x = _normalise(h)
        else:
            w1, b1, x = params["ch_w1"][:, l], params["ch_b1"][:, l, None, :], h
        z = F.gelu(torch.baddbmm(b1, x.reshape(M, T * N, d), w1))
        z = torch.baddbmm(params["ch_b2"][:, l, None, :], z, params["ch_w2"][:, l])
        h = h + z.reshape(M, T, N, d)
        if keep_streams:
            streams.append(h)
    if layer_norm:
        w_out, b_out = _folded(params["lnf_w"], params["lnf_b"], params["out_w"], params["out_b"])
        x = _normalise(h)
    else:
        w_out, b_out, x = params["out_w"], params["out_b"][:, None, :], h
    logits = torch.baddbmm(b_out, x.reshape(M, T * N, d), w_out).reshape(M, T, N, -1)
    return logits, (streams if keep_streams else None)


def forward_tmajor(params: dict[str, torch.Tensor], tokens_tm: torch.Tensor, return_streams: bool = False):
    """The forward pass in the position-major layout the step computes in.

    ``tokens_tm`` (M, T, N) int64 (position-major: ``tokens.transpose(1, 2)``). Returns logits
    (M, T, N, V), and with ``return_streams`` also the streams (M, L + 1, T, N, d). See :func:`_run`.
    """
    logits, streams = _run(params, tokens_tm, return_streams)
    return (logits, torch.stack(streams, dim=1)) if return_streams else logits


def _check_tokens(params: dict[str, torch.Tensor], tokens: torch.Tensor) -> torch.Tensor:
    """``tokens`` as (M, N, T) (a shared (N, T) batch expanded over the models), or a ValueError."""
    M = params["tok_emb"].shape[0]
    T = params["pos_emb"].shape[1]
    if tokens.ndim == 2:
        tokens = tokens.unsqueeze(0).expand(M, -1, -1)
    if tokens.ndim != 3 or tokens.shape[0] != M or tokens.shape[2] != T:
        raise ValueError(f"tokens must have shape (N, {T}) or ({M}, N, {T}), got {tuple(tokens.shape)}")
    return tokens


def forward(params: dict[str, torch.Tensor], tokens: torch.Tensor, return_streams: bool = False):
    """Run M models on a batch.

    ``tokens``: (M, N, T) int64 (one batch per model) or (N, T) (the same batch for every model),
    ids in ``0..V``. Returns logits (M, N, T, V) float32; with ``return_streams=True`` returns
    ``(logits, streams)`` with ``streams`` (M, L + 1, N, T, d), ``streams[:, l] = h^l``.
    Computed in the position-major layout (:func:`_run`) and transposed back.
    """
    tokens = _check_tokens(params, tokens)
    logits, streams = _run(params, tokens.transpose(1, 2), return_streams)
    logits = logits.transpose(1, 2).contiguous()
    if return_streams:
        return logits, torch.stack([h.transpose(1, 2) for h in streams], dim=1)
    return logits


def residual_streams(params: dict[str, torch.Tensor], tokens: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """``h^0..h^L`` for every model without gradients, in chunks of ``batch_size`` sequences.

    ``tokens`` (N, T) or (M, N, T); returns (M, L + 1, N, T, d) float32 on the parameters' device.
    """
    check_int("batch_size", batch_size, 1)
    n = tokens.shape[-2]
    with torch.no_grad():
        parts = [forward(params, tokens[..., i:i + batch_size, :], return_streams=True)[1]
                 for i in range(0, n, batch_size)]
    return torch.cat(parts, dim=2)


def masked_losses(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed cross-entropy over masked positions and the number of them, per model.

    ``logits`` (M, N, T, V); ``targets`` and ``mask`` (M, N, T) or (N, T). Returns
    ``(loss_sum (M,), count (M,))`` in nats; ``loss_sum / count`` is nats per masked token.
    """
    M = logits.shape[0]
    if targets.ndim == 2:
        targets = targets.unsqueeze(0).expand(M, -1, -1)
        mask = mask.unsqueeze(0).expand(M, -1, -1)
    logp = torch.log_softmax(logits, dim=-1)
    nll = -logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    maskf = mask.to(logits.dtype)
    return (nll * maskf).sum(dim=(1, 2)), maskf.sum(dim=(1, 2))
