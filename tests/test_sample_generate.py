"""The sampler against references: full-recompute greedy decoding, prompts one by one, a mesh,
LoRA merged and not, and the sampling filters against hand-computed cases."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from flax import nnx

from gentool_jax.model.config import ModelConfig
from gentool_jax.model.llama import Llama
from gentool_jax.model.lora import apply_lora, merge_lora
from gentool_jax.parallel.mesh import make_mesh
from gentool_jax.parallel.partition import shard_state
from gentool_jax.sample.generate import generate
from gentool_jax.sample.sampling import SamplingSettings, filter_logits, sample_tokens

CONFIG = ModelConfig(vocab_size=97, hidden_size=32, intermediate_size=64, num_layers=2,
                     num_heads=4, num_kv_heads=2, head_dim=8)
PROMPT_LENGTHS = (5, 17, 3, 9, 30)


def random_model(seed: int = 1) -> Llama:
    return Llama(CONFIG, rngs=nnx.Rngs(seed))


def prompts() -> list[list[int]]:
    rng = np.random.default_rng(0)
    return [rng.integers(1, CONFIG.vocab_size, size=n).tolist() for n in PROMPT_LENGTHS]


def greedy_without_cache(model: Llama, prompt: list[int], steps: int) -> list[int]:
    """Reference: re-run the whole sequence through the model for every new token.

    The sequence sits right-padded in a fixed 64-slot row, so the forward compiles once; the
    causal mask keeps the padding after the last real token from influencing it.
    """
    graphdef, state = nnx.split(model)

    @jax.jit
    def last_logits(state, tokens, length):
        logits, _ = nnx.merge(graphdef, state)(tokens, jnp.arange(64)[None])
        return logits[0, length - 1]

    tokens = list(prompt)
    for _ in range(steps):
        row = jnp.asarray([tokens + [0] * (64 - len(tokens))])
        tokens.append(int(jnp.argmax(last_logits(state, row, len(tokens)))))
    return tokens[len(prompt):]


@pytest.fixture(scope="module")
def model() -> Llama:
    return random_model()


@pytest.fixture(scope="module")
def batched(model) -> list[list[int]]:
    return generate(model, prompts(), max_new_tokens=10, stop_ids=[], batch_size=4, bucket=16)


def test_greedy_equals_full_recompute(model, batched):
    for prompt, out in zip(prompts(), batched):
        assert out == greedy_without_cache(model, prompt, 10)


def test_left_padded_batch_equals_prompts_one_by_one(model, batched):
    for prompt, out in zip(prompts(), batched):
        # bucket 64: a single shape (one compile), padded differently from the batch's 32
        alone = generate(model, [prompt], max_new_tokens=10, stop_ids=[], batch_size=1,
                         bucket=64)
        assert alone[0] == out


def test_stop_ids_end_each_row_and_mask_the_rest(model, batched):
    stop = batched[0][3]
    out = generate(model, prompts(), max_new_tokens=10, stop_ids=[stop, 10_000],
                   batch_size=4, bucket=16)
    for full, cut in zip(batched, out):
        end = full.index(stop) + 1 if stop in full else len(full)
        assert cut == full[:end]
    assert out[0] == batched[0][:4]


def test_sharded_on_a_mesh_matches_single_device(batched):
    mesh = make_mesh(ml_collections.ConfigDict(dict(data=4, fsdp=1, tensor=2)))
    model = random_model()
    graphdef, state = nnx.split(model)
    sharded = nnx.merge(graphdef, shard_state(state, mesh))
    out = generate(sharded, prompts(), max_new_tokens=10, stop_ids=[], batch_size=3,
                   bucket=16, mesh=mesh)
    assert out == batched


def test_lora_merged_and_unmerged_generate_the_same():
    model = random_model()
    lora = ml_collections.ConfigDict(dict(rank=4, alpha=8.0, dropout=0.0, param_dtype="float32",
                                          targets=r".*(q_proj|v_proj|down_proj)$"))
    apply_lora(model, lora, nnx.Rngs(2))
    for _, variable in nnx.to_flat_state(nnx.state(model, nnx.LoRAParam)):
        variable[...] = jax.random.normal(jax.random.key(3), variable.shape) * 0.5
    base = generate(random_model(), prompts(), max_new_tokens=8, stop_ids=[], batch_size=4)
    unmerged = generate(model, prompts(), max_new_tokens=8, stop_ids=[], batch_size=4)
    assert unmerged == [greedy_without_cache(model, p, 8) for p in prompts()]
    merge_lora(model)
    merged = generate(model, prompts(), max_new_tokens=8, stop_ids=[], batch_size=4)
    assert merged == unmerged
    assert merged != base  # the adapters do change the output


def test_sampling_is_reproducible_and_top_k_1_is_greedy(model, batched):
    kwargs = dict(max_new_tokens=10, stop_ids=[], batch_size=4, bucket=16)
    first = generate(model, prompts(), temperature=1.5, seed=7, **kwargs)
    assert first == generate(model, prompts(), temperature=1.5, seed=7, **kwargs)
    assert first != generate(model, prompts(), temperature=1.5, seed=8, **kwargs)
    assert generate(model, prompts(), temperature=2.0, top_k=1, seed=7, **kwargs) == batched
    assert generate(model, prompts(), temperature=2.0, top_p=1e-6, seed=7, **kwargs) == batched


def test_filters_hand_computed():
    logits = jnp.log(jnp.asarray([[0.1, 0.4, 0.2, 0.3]]))
    top2 = filter_logits(logits, SamplingSettings(temperature=1.0, top_k=2))
    assert np.isfinite(np.asarray(top2)).tolist() == [[False, True, False, True]]
    # sorted 0.4, 0.3, 0.2, 0.1: mass before each 0, 0.4, 0.7, 0.9 -> top_p=0.6 keeps 0.4 and 0.3
    nucleus = filter_logits(logits, SamplingSettings(temperature=1.0, top_p=0.6))
    assert np.isfinite(np.asarray(nucleus)).tolist() == [[False, True, False, True]]
    halved = filter_logits(logits, SamplingSettings(temperature=0.5))
    np.testing.assert_allclose(np.asarray(halved), 2 * np.asarray(logits), rtol=1e-6)
    draws = jax.vmap(lambda k: sample_tokens(
        logits, k, SamplingSettings(temperature=1.0, top_p=0.6)))(
        jax.random.split(jax.random.key(0), 2000))
    frequency = np.bincount(np.asarray(draws).ravel(), minlength=4) / 2000
    np.testing.assert_allclose(frequency, [0, 4 / 7, 0, 3 / 7], atol=0.04)


@pytest.mark.parametrize("bad", [dict(temperature=-1.0), dict(top_k=-1), dict(top_p=0.0)])
def test_bad_settings_are_rejected(bad):
    with pytest.raises(ValueError):
        SamplingSettings(**bad)


def test_empty_prompt_is_rejected(model):
    with pytest.raises(ValueError, match="prompt 1 is empty"):
        generate(model, [[1], []], max_new_tokens=2, stop_ids=[])
