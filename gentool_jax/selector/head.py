"""The selection head: which offered tool (or `generate_response`) a query calls for, scored
on the model's own pooled vectors (`selector/encode.py`).

A tool's score is the cosine of the standardised query and tool vectors plus a low-rank
bilinear term `q^T U V^T t` and weights on the tool's word overlap with the query (BM25,
standardised over its toolset: `selector/fit.py`), fitted where `selector.lexical` is on and 0
otherwise: people ask in the words a tool's documentation uses, which the vectors of a small
model blur. One weight is on the overlap alone, one on the overlap times how well the
toolset's best tool matches the query's words at all (`best_overlap`): when nothing offered
shares the query's words, which tool shares a few more says little; when one does, it says a
lot. `generate_response` is one more column scored from the query alone
(`q . a + b`), plus, with `selector.lexical`, a weight on how well the best tool of the
toolset matches the query's words at all (`best_overlap`): the standardised overlap says which
tool matches best, not whether any matches, and raising the tools' scores by their overlap
would otherwise crowd out "no offered tool serves this", which competes with every tool.
With `selector.alignment` on, the tool also gets a weight on its token alignment with the query
(`selector/alignment.py`, standardised over the toolset like the overlap): pooled vectors blur
which words a text holds, token-to-token matching keeps them. It says which tool, not whether
any: a refusal weight on the toolset's best alignment raised the simulated validation splits
and cost BFCL's one-function toolsets, which it pushed towards abstaining (docs/results.md,
"Token alignment").
Starting at the cosine (U, V small) keeps the base model's own, weak, sense of relatedness as
the prior the fit corrects. Without it the simulated held-out splits scored better and BFCL's
one-function toolsets far worse (docs/results.md, "An overlap gain for the head"): on real
documentation the prior is what keeps an offered tool that serves from losing to abstention.
Pure functions over a dict of arrays, so the fit jits and the head saves as one `.npz`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

# The cosine term's temperature: a cosine gap of 0.1 is one logit.
COSINE_SCALE = 10.0


def init_head(hidden: int, rank: int, mean: np.ndarray, scale: float, seed: int, depth: int
              ) -> dict[str, jax.Array]:
    """Fresh head params; `mean`, `scale` standardise vectors and are not trained; `depth`
    records which blocks' states the head reads (`selector/encode.py`)."""
    keys = jax.random.split(jax.random.PRNGKey(seed), 2)
    return {
        "u": jax.random.normal(keys[0], (hidden, rank)) * 0.01,
        "v": jax.random.normal(keys[1], (hidden, rank)) * 0.01,
        "abstain": jnp.zeros((hidden,)),
        "abstain_bias": jnp.zeros(()),
        "lexical": jnp.zeros(()),
        "lexical_gain": jnp.zeros(()),
        "lexical_refusal": jnp.zeros(()),
        "alignment": jnp.zeros(()),
        "mean": jnp.asarray(mean, jnp.float32),
        "scale": jnp.asarray(scale, jnp.float32),
        "depth": np.asarray(depth, np.int32),
    }


TRAINED = ("u", "v", "abstain", "abstain_bias", "lexical", "lexical_gain", "lexical_refusal",
           "alignment")


def scores(head: dict[str, Any], queries: jax.Array, tools: jax.Array, offered: jax.Array,
           lexical: jax.Array, best_overlap: jax.Array, alignment: jax.Array) -> jax.Array:
    """`[n, T + 1]` logits: the T tool slots (`-inf` where `offered` is False), then
    `generate_response`. queries `[n, H]`, tools `[n, T, H]`, offered `[n, T]` bool,
    lexical `[n, T]` (each tool's standardised word overlap with the query), best_overlap
    `[n]` (the toolset's best raw overlap, `log1p` of BM25), alignment `[n, T]` (each tool's
    token alignment with the query, standardised over the toolset)."""
    q = (queries - head["mean"]) / head["scale"]
    t = (tools - head["mean"]) / head["scale"]
    hidden = q.shape[-1]
    cosine = jnp.einsum("nh,nth->nt", _unit(q), _unit(t)) * COSINE_SCALE
    bilinear = jnp.einsum("nr,ntr->nt", q @ head["u"], t @ head["v"]) / hidden
    overlap = (head["lexical"] + head["lexical_gain"] * best_overlap[:, None]) * lexical
    aligned = head["alignment"] * alignment
    tool_scores = jnp.where(offered, cosine + bilinear + overlap + aligned, -jnp.inf)
    refusal = (q @ head["abstain"] / hidden ** 0.5 + head["abstain_bias"]
               - head["lexical_refusal"] * best_overlap)
    return jnp.concatenate([tool_scores, refusal[:, None]], axis=-1)


def _unit(x: jax.Array) -> jax.Array:
    return x / jnp.maximum(jnp.linalg.norm(x, axis=-1, keepdims=True), 1e-6)


def standardisation(vectors: np.ndarray) -> tuple[np.ndarray, float]:
    """(mean `[H]`, one scale: the mean per-dimension standard deviation) of `[N, H]`."""
    return vectors.mean(0), float(vectors.std(0).mean() + 1e-6)
