"""Tests of rgnb.mlp.model: shapes, residual-stream retrieval, batching over models, bad configs."""

import math

import pytest
import torch

from rgnb.mlp import model

CFG = model.ModelConfig(vocab_size=5, seq_len=6, width=8, depth=3)


def _tokens(n=4, M=None, seed=0):
    gen = torch.Generator().manual_seed(seed)
    shape = (n, CFG.seq_len) if M is None else (M, n, CFG.seq_len)
    return torch.randint(0, CFG.vocab_size + 1, shape, generator=gen)


def test_shapes_and_param_count():
    params = model.init_params(CFG, [0, 1])
    for name, shape in CFG.shapes().items():
        assert tuple(params[name].shape) == (2, *shape)
    assert sum(p[0].numel() for p in params.values()) == CFG.n_params()
    logits, streams = model.forward(params, _tokens(), return_streams=True)
    assert logits.shape == (2, 4, CFG.seq_len, CFG.vocab_size)
    assert streams.shape == (2, CFG.depth + 1, 4, CFG.seq_len, CFG.width)
    assert model.forward(params, _tokens()).shape == logits.shape


def test_streams_are_the_residual_recursion():
    """h^0 is the embedding sum, the last stream feeds the unembedding, chunking changes nothing."""
    params = model.init_params(CFG, [3])
    toks = _tokens(n=5)
    logits, streams = model.forward(params, toks, return_streams=True)
    h0 = params["tok_emb"][0][toks] + params["pos_emb"][0]
    torch.testing.assert_close(streams[0, 0], h0)
    y = torch.nn.functional.layer_norm(streams[0, -1], (CFG.width,), params["lnf_w"][0], params["lnf_b"][0],
                                       eps=model.LN_EPS)
    torch.testing.assert_close(logits[0], y @ params["out_w"][0] + params["out_b"][0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(model.residual_streams(params, toks, batch_size=2), streams.detach())


def test_token_mixing_is_the_only_path_between_positions():
    """Changing one position's token changes other positions' streams only after a block (mixing)."""
    params = model.init_params(CFG, [1])
    a = _tokens(n=1)
    b = a.clone()
    b[0, 2] = (b[0, 2] + 1) % (CFG.vocab_size + 1)
    sa = model.residual_streams(params, a)[0]
    sb = model.residual_streams(params, b)[0]
    other = [t for t in range(CFG.seq_len) if t != 2]
    assert torch.equal(sa[0][:, other], sb[0][:, other])          # h^0 is per position
    assert (sa[1][:, other] - sb[1][:, other]).abs().max() > 1e-4  # block 1 mixes positions


def test_model_axis_is_independent_and_init_depends_on_seed_only():
    one = model.init_params(CFG, [7])
    many = model.init_params(CFG, [2, 7, 9])
    for k in model.PARAM_NAMES:
        assert torch.equal(many[k][1], one[k][0])
    toks = _tokens(M=3)
    out_many = model.forward(many, toks)
    out_one = model.forward(one, toks[1:2])
    torch.testing.assert_close(out_many[1:2], out_one, rtol=1e-6, atol=1e-6)
    assert not torch.equal(many["ch_w1"][0], many["ch_w1"][2])


def test_masked_losses_match_cross_entropy():
    params = model.init_params(CFG, [0, 1])
    toks = _tokens(n=3)
    targets = toks.clamp(max=CFG.vocab_size - 1)
    mask = torch.rand(toks.shape, generator=torch.Generator().manual_seed(1)) < 0.5
    mask[:, 0] = True
    logits = model.forward(params, toks)
    loss, count = model.masked_losses(logits, targets, mask)
    for m in range(2):
        ref = torch.nn.functional.cross_entropy(logits[m][mask], targets[mask], reduction="sum")
        torch.testing.assert_close(loss[m], ref)
        assert count[m] == mask.sum()
    # an untrained model with small logits is near the uniform loss ln V
    assert abs(float(loss.sum() / count.sum()) - math.log(CFG.vocab_size)) < 1.5


@pytest.mark.parametrize("field,value", [("depth", 0), ("width", 0), ("vocab_size", 1), ("seq_len", 0)])
def test_bad_config_names_the_parameter(field, value):
    kwargs = dict(vocab_size=5, seq_len=6, width=8, depth=3)
    kwargs[field] = value
    with pytest.raises(ValueError, match=field):
        model.ModelConfig(**kwargs)


def test_bad_tokens_shape():
    params = model.init_params(CFG, [0])
    with pytest.raises(ValueError, match="tokens"):
        model.forward(params, torch.zeros(2, CFG.seq_len + 1, dtype=torch.int64))


def test_position_major_forward_is_the_same_model():
    """forward_tmajor on (M, T, N) tokens is forward with positions and sequences swapped, exactly."""
    params = model.init_params(CFG, [0, 4])
    toks = _tokens(n=5, M=2)
    logits, streams = model.forward(params, toks, return_streams=True)
    logits_tm, streams_tm = model.forward_tmajor(params, toks.transpose(1, 2), return_streams=True)
    assert logits_tm.shape == (2, CFG.seq_len, 5, CFG.vocab_size)
    assert torch.equal(logits_tm.transpose(1, 2), logits)
    assert torch.equal(streams_tm.transpose(2, 3), streams)
    assert logits.is_contiguous() and streams.is_contiguous()


def test_folded_layernorm_affine_is_the_product_of_the_affine_output():
    gen = torch.Generator().manual_seed(3)
    M, n, d, H = 2, 7, 5, 6
    y, w, b = torch.randn(M, n, d, generator=gen), torch.randn(M, d, generator=gen), torch.randn(M, d, generator=gen)
    W, c = torch.randn(M, d, H, generator=gen), torch.randn(M, H, generator=gen)
    w_f, b_f = model._folded(w, b, W, c)
    want = torch.bmm(y * w[:, None] + b[:, None], W) + c[:, None]
    torch.testing.assert_close(torch.baddbmm(b_f, y, w_f), want, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(model._layer_norm(y, w, b),
                               torch.nn.functional.layer_norm(y, (d,), eps=model.LN_EPS) * w[:, None] + b[:, None])


# ----------------------------------------------------------------------------------------------- #
# The robustness reading: the same mixer without LayerNorm
# ----------------------------------------------------------------------------------------------- #
NO_LN = model.ModelConfig(vocab_size=5, seq_len=6, width=8, depth=3, layer_norm=False)


def _plain_forward_without_layer_norm(p, toks):
    """The no-LayerNorm mixer written out in the (N, T, d) layout, one model (no model axis)."""
    gelu = torch.nn.functional.gelu
    h = p["tok_emb"][toks] + p["pos_emb"]
    streams = [h]
    for l in range(p["tok_w1"].shape[0]):
        z = gelu(h.transpose(1, 2) @ p["tok_w1"][l] + p["tok_b1"][l]) @ p["tok_w2"][l] + p["tok_b2"][l]
        h = h + z.transpose(1, 2)
        h = h + gelu(h @ p["ch_w1"][l] + p["ch_b1"][l]) @ p["ch_w2"][l] + p["ch_b2"][l]
        streams.append(h)
    return h @ p["out_w"] + p["out_b"], torch.stack(streams)


def test_no_layer_norm_model_is_the_mixer_without_layer_norm():
    gen = torch.Generator().manual_seed(11)  # every parameter random: biases are 0 at initialisation
    params = {k: torch.randn(v.shape, generator=gen) * 0.3 for k, v in model.init_params(NO_LN, [0, 3]).items()}
    assert not model.has_layer_norm(params) and model.has_layer_norm(model.init_params(CFG, [0]))
    assert set(params) == set(model.PARAM_NAMES) - set(model.LAYER_NORM_NAMES) == set(NO_LN.param_names())
    toks = _tokens(n=5)
    logits, streams = model.forward(params, toks, return_streams=True)
    for m in range(2):
        ref_logits, ref_streams = _plain_forward_without_layer_norm({k: v[m] for k, v in params.items()}, toks)
        torch.testing.assert_close(logits[m], ref_logits, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(streams[m], ref_streams, rtol=1e-5, atol=1e-5)
    assert sum(p[0].numel() for p in params.values()) == NO_LN.n_params() < CFG.n_params()


def test_no_layer_norm_init_draws_the_same_weights_as_the_mixer():
    """LayerNorm parameters draw no random numbers: network s of both readings starts from the same weights."""
    with_ln, without = model.init_params(CFG, [5]), model.init_params(NO_LN, [5])
    for k in without:
        assert torch.equal(with_ln[k], without[k])


def test_layer_norm_parameters_all_or_none():
    params = model.init_params(CFG, [0])
    del params["ln2_w"]
    with pytest.raises(ValueError, match="all or none of the LayerNorm parameters"):
        model.forward(params, _tokens())
    with pytest.raises(ValueError, match="layer_norm must be True or False"):
        model.ModelConfig(vocab_size=5, seq_len=6, width=8, depth=3, layer_norm=1)
