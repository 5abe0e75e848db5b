"""Prefix-cached generation against the plain sampler: same greedy tokens for groups of every
size, prefix and suffix lengths across bucket edges, early stops, a mesh and the evaluation's
`run_model`; and the grouping and batch planning on hand-computed cases."""

import jax
import ml_collections
import numpy as np
import pytest
from flax import nnx

from gentool_jax.evaluate.systems import run_model
from gentool_jax.model.config import ModelConfig
from gentool_jax.model.llama import Llama
from gentool_jax.parallel.mesh import make_mesh
from gentool_jax.parallel.partition import shard_state
from gentool_jax.sample import generate as generate_module
from gentool_jax.sample.generate import generate
from gentool_jax.sample.prefix import SharedBatch, plan_batches, shared_prefix_lengths

CONFIG = ModelConfig(vocab_size=97, hidden_size=32, intermediate_size=64, num_layers=2,
                     num_heads=4, num_kv_heads=2, head_dim=8)
NEW = 8


def tokens(rng: np.random.Generator, n: int) -> list[int]:
    return rng.integers(1, CONFIG.vocab_size, size=n).tolist()


def grouped_prompts(groups: list[tuple[int, list[int]]], seed: int = 0
                    ) -> tuple[list[list[int]], list[int]]:
    """Per group (prefix length, suffix lengths): prompts sharing a random prefix, interleaved
    across groups so the sampler must regroup them; and their prefix lengths."""
    rng = np.random.default_rng(seed)
    made = []
    for prefix_length, suffix_lengths in groups:
        prefix = tokens(rng, prefix_length)
        made += [(prefix + tokens(rng, n), prefix_length) for n in suffix_lengths]
    order = rng.permutation(len(made))
    return [made[i][0] for i in order], [made[i][1] for i in order]


@pytest.fixture(scope="module")
def model() -> Llama:
    """A random Llama with its matrices scaled up: attention sharp enough that a wrong RoPE
    offset or an attended pad changes most rows' tokens (at the default scale, few)."""
    graphdef, state = nnx.split(Llama(CONFIG, rngs=nnx.Rngs(1)))
    return nnx.merge(graphdef, jax.tree.map(lambda x: x * 4.0 if x.ndim == 2 else x, state))


@pytest.fixture
def shared_calls(monkeypatch) -> list[int]:
    """Batch sizes of the batches that went through the prefix-cached path, one per batch."""
    calls: list[int] = []
    original = generate_module.prefill_suffixes

    def counting(graphdef, state, cache, tokens, *args, **kwargs):
        calls.append(tokens.shape[0])
        return original(graphdef, state, cache, tokens, *args, **kwargs)

    monkeypatch.setattr(generate_module, "prefill_suffixes", counting)
    return calls


def test_groups_of_every_size_match_the_plain_sampler(model, shared_calls):
    # a group of 6 > batch_size 4, groups of 3 and 2, a singleton, and prefix length 0
    prompts, lengths = grouped_prompts([(20, [3, 5, 1, 9, 4, 2]), (12, [6, 2, 4]), (25, [3, 7]),
                                        (18, [5]), (0, [11, 30])])
    kwargs = dict(max_new_tokens=NEW, stop_ids=[], batch_size=4, bucket=16)
    plain = generate(model, prompts, **kwargs)
    cached = generate(model, prompts, prefix_lengths=lengths, prefix_rows=2, **kwargs)
    assert cached == plain
    # groups by prefix length 25 (2 rows) + 20 (2 of 6) | 20 (4) | 12 (3): three batches
    assert shared_calls == [4, 4, 4]
    assert generate(model, prompts, prefix_lengths=[0] * len(prompts), **kwargs) == plain


@pytest.mark.parametrize("prefix_length, suffix_lengths", [
    (7, [1, 8, 9]),  # prefix inside a bucket, suffixes on both sides of its edge
    (8, [7, 1]),  # prefix exactly one bucket
    (9, [16, 17, 2]),  # prefix just over a bucket, suffixes over one and two buckets
    (17, [1, 1, 1, 1, 1]),  # one-token suffixes, more rows than a batch
])
def test_prefix_and_suffix_lengths_across_buckets(model, prefix_length, suffix_lengths):
    prompts, lengths = grouped_prompts([(prefix_length, suffix_lengths), (3, [2, 5])], seed=1)
    kwargs = dict(max_new_tokens=NEW, stop_ids=[], batch_size=4, bucket=8)
    assert (generate(model, prompts, prefix_lengths=lengths, **kwargs)
            == generate(model, prompts, **kwargs))


def test_a_stop_id_ends_some_rows_early(model):
    prompts, lengths = grouped_prompts([(20, [3, 5, 1, 9]), (12, [6, 2, 4])], seed=2)
    kwargs = dict(max_new_tokens=NEW, batch_size=4, bucket=16)
    full = generate(model, prompts, stop_ids=[], **kwargs)
    stop = full[0][2]
    plain = generate(model, prompts, stop_ids=[stop], **kwargs)
    cached = generate(model, prompts, stop_ids=[stop], prefix_lengths=lengths, **kwargs)
    assert cached == plain
    assert cached[0] == full[0][:full[0].index(stop) + 1]
    assert any(len(out) < NEW for out in cached) and any(len(out) == NEW for out in cached)


def test_sharded_on_a_mesh_matches_single_device(model, shared_calls):
    prompts, lengths = grouped_prompts([(20, [3, 5, 1, 9, 4]), (12, [6, 2, 4]), (9, [5])],
                                       seed=3)
    kwargs = dict(max_new_tokens=NEW, stop_ids=[], bucket=16)
    single = generate(model, prompts, batch_size=4, **kwargs)
    mesh = make_mesh(ml_collections.ConfigDict(dict(data=4, fsdp=1, tensor=2)))
    graphdef, state = nnx.split(model)
    sharded = nnx.merge(graphdef, shard_state(state, mesh))
    # batch 3 and 1 prefix row are rounded up to the 4 data shards
    out = generate(sharded, prompts, batch_size=3, prefix_lengths=lengths, prefix_rows=1,
                   mesh=mesh, **kwargs)
    assert out == single
    assert shared_calls


def test_shared_prefix_lengths_hand_computed():
    prompts = [[1, 2, 3, 4, 5], [1, 2, 3, 9], [1, 2, 3, 4, 7, 7],  # key a: common [1, 2, 3]
               [5, 6], [5, 6, 7],  # key b: common [5, 6], capped at shortest 2 - 1
               [8, 8, 8],  # key c alone
               [1, 2, 3, 4], [4, 3]]  # key d: nothing in common
    keys = ["a", "a", "a", "b", "b", "c", "d", "d"]
    assert shared_prefix_lengths(prompts, keys) == [3, 3, 3, 1, 1, 0, 0, 0]
    assert shared_prefix_lengths([[1, 2], [1, 2]], [0, 0]) == [1, 1]  # identical prompts
    with pytest.raises(ValueError, match="2 keys for 1 prompts"):
        shared_prefix_lengths([[1]], ["a", "b"])


def test_plan_batches_hand_computed():
    a, b, c = [1, 1, 1], [2, 2], [3, 3, 3, 3]
    prompts = [a + [5], a + [6, 6], b + [7], a + [8], c + [9], b + [1, 1], a + [2], [4, 4],
               c + [5], [9, 9, 9]]
    lengths = [3, 3, 2, 3, 4, 2, 3, 0, 0, 2]  # prompt 8 opts out; prompt 9 has prefix [9, 9]
    plain, batches = plan_batches(prompts, lengths, batch_size=3, prefix_rows=2)
    assert plain == [4, 7, 8, 9]  # prefix length 0, and groups of one
    # longest prefix first; a's four rows split 3 + 1, the rest sharing a batch with b
    assert batches == [SharedBatch([tuple(a)], [(1, 0), (0, 0), (3, 0)]),
                       SharedBatch([tuple(a), tuple(b)], [(6, 0), (5, 1), (2, 1)])]
    _, limited = plan_batches(prompts, lengths, batch_size=8, prefix_rows=1)
    assert [len(batch.prefixes) for batch in limited] == [1, 1]
    with pytest.raises(ValueError, match="prefix length 4 of prompt 0"):
        plan_batches([[1, 2, 3, 4]], [4], batch_size=2, prefix_rows=1)
    with pytest.raises(ValueError, match="1 prefix lengths for 2 prompts"):
        plan_batches([[1], [2]], [0], batch_size=2, prefix_rows=1)
    with pytest.raises(ValueError, match="prefix_rows must be >= 1"):
        plan_batches([[1], [2]], [0, 0], batch_size=2, prefix_rows=0)


def _tool(name: str, description: str) -> dict:
    return {"name": name, "description": description,
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                           "required": ["city"]}}


def test_run_model_groups_records_by_toolset(tiny_model_dir, monkeypatch):
    from gentool_jax.model.loading import load_model
    from gentool_jax.model.registry import load_tokenizer

    weather, stocks, mail = (_tool("hourly_forecast", "Hourly weather for a city."),
                             _tool("stock_quote", "The latest price of a stock."),
                             _tool("send_email", "Send an email message."))
    toolsets = [[weather, stocks]] * 3 + [[stocks, mail]] * 2 + [[stocks, weather], [mail]]
    queries = ["Rain in Lisbon tomorrow?", "Is it sunny in Oslo?", "Wind in Rome this evening?",
               "Price of ACME?", "Mail Bob the notes.", "Rain in Paris?", "Mail Ann."]
    records = [{"id": str(i), "query": q, "tools": t} for i, (q, t) in
               enumerate(zip(queries, toolsets))]
    model, tokenizer = load_model(tiny_model_dir), load_tokenizer(tiny_model_dir)
    sample = ml_collections.ConfigDict(dict(max_new_tokens=6, temperature=0.0, top_k=0,
                                            top_p=1.0, batch_size=4, prompt_bucket=32,
                                            constrain="none"))
    seen = []
    original = generate_module.generate_with_outcomes

    def recording(*args, **kwargs):
        seen.append(kwargs["prefix_lengths"])
        return original(*args, **kwargs)

    monkeypatch.setattr(generate_module, "generate_with_outcomes", recording)
    run = lambda cache: run_model("tiny", model, tokenizer, records, sample_config=sample,
                                  tool_style="compact", prefix_cache=cache)
    cached, plain = run(True), run(False)
    assert [g.text for g in cached.generations] == [g.text for g in plain.generations]
    assert seen[1] is None
    lengths = seen[0]
    # same tools in the same order share everything up to the query; reordered ones do not
    assert lengths[0] == lengths[1] == lengths[2] > 50 and lengths[3] == lengths[4] > 50
    assert lengths[5:] == [0, 0]
    assert cached.info["prompts_sharing_a_prefix"] == 5
