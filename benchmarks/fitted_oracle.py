"""Can selection on new wordings be learned from the base model's representation at all?

    python benchmarks/fitted_oracle.py --data DIR [--eval validation validation_wording]
        [--train-n 4000] [--layers 15 30] [--rank 64] [--steps 400]

`benchmarks/embedding_oracle.py` asks whether the frozen base model's vectors already put a
query next to the tool that serves it (weakly: gold 0.27-0.34 among five). This asks the
next question: given the training split, can a small learned map on those same frozen vectors
pick the gold tool for wordings it was not fitted on? Each query and each offered tool
(`name: description`) is encoded alone by the frozen model (mean-pooled hidden states at a few
layers, HF transformers, torch being a benchmark dependency); a low-rank bilinear score
`q^T (I + U V^T) t` per layer is fitted with softmax cross-entropy over each training record's
offered tools, and then scored on the `--eval` splits (file name stems in DIR): how often the
top-scoring offered tool is gold, on the tool-needing records.

With `--adapter` the vectors come from a fine-tuned model (a PEFT export of a training run)
instead: does fine-tuning keep what the base model represents, or wear it away?

With `--context` the query side is no longer the query alone: it is the hidden state at the
position where the model, reading its whole prompt (`data.tool_style="compact"`, the tools
listed before the query), predicts the first token of the first ranked name, i.e. where a
GenTool reply makes its choice. Fitted against the same isolated tool vectors, it asks whether
that position already carries the query's meaning in a form a map can match to the tools, or
whether the prompt's layout keeps it from getting there.

Reading it: if the fitted map reaches the held-out-wording split (`validation_wording`, written
by `simulate.wording_validation=true`) well above chance, the information is in the base
model's representation and a fine-tuning recipe that lands at chance there is failing to use
it; if it stays near the unfitted cosine, new wordings are beyond what this model represents,
and no recipe on it should be expected to read them. Fitting and scoring take a few minutes on
two cores; most of it is encoding.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.domain_oracle import TOOL_VARIANTS, read  # noqa: E402


def tool_text(tool: dict) -> str:
    return f"{tool['name']}: {tool.get('description', '')}"


def encode(model, tokenizer, texts: list[str], layers: list[int],
           batch: int = 32) -> dict[str, np.ndarray]:
    """Text -> `[len(layers), hidden]` mean-pooled hidden states, each text alone."""
    import torch

    out: dict[str, np.ndarray] = {}
    texts = sorted(texts, key=len)  # similar lengths share a batch: less padding
    for start in range(0, len(texts), batch):
        chunk = texts[start:start + batch]
        encoded = tokenizer(chunk, return_tensors="pt", padding=True,
                            add_special_tokens=False)
        with torch.no_grad():
            states = model(**encoded, output_hidden_states=True).hidden_states
        mask = encoded["attention_mask"][:, :, None].float()
        for layer_index, layer in enumerate(layers):
            pooled = (states[layer] * mask).sum(1) / mask.sum(1)
            for row, text in enumerate(chunk):
                out.setdefault(text, np.zeros((len(layers), pooled.shape[-1]), np.float32))
                out[text][layer_index] = pooled[row].numpy()
    return out


def decision_prefix(record: dict, tokenizer, style: str) -> list[int]:
    """Prompt and target tokens up to, not including, the first token of the first ranked
    name: the last position of this prefix is where the choice is predicted."""
    from gentool_jax.data.decisions import decision_spans, token_char_ends, tokens_of_span
    from gentool_jax.data.render import encode_example, encode_prompt, target_text

    example = encode_example(record, tokenizer, style=style, include_ranking=True,
                             include_call=False, ranking_target="useful")
    start = len(encode_prompt(record, tokenizer, style))
    target = target_text(record, include_ranking=True, include_call=False,
                         ranking_target="useful")
    ends = token_char_ends(tokenizer, example.tokens[start:-1], target)
    first = start + int(tokens_of_span(ends, decision_spans(target, record).first_ranked)[0])
    return list(example.tokens[:first])


def encode_decisions(model, tokenizer, records: list[dict], layers: list[int],
                     style: str = "compact") -> dict[str, np.ndarray]:
    """Record id -> `[len(layers), hidden]` hidden states at its decision position."""
    import torch

    out: dict[str, np.ndarray] = {}
    for record in records:
        ids = torch.tensor([decision_prefix(record, tokenizer, style)])
        with torch.no_grad():
            states = model(ids, output_hidden_states=True).hidden_states
        out[record["id"]] = np.stack([states[layer][0, -1].numpy() for layer in layers])
    return out


ABSTAIN = "generate_response"


def candidates(records: list[dict], vectors: dict[str, np.ndarray], width: int | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Queries `[n, L, H]`, offered tools `[n, T, L, H]` (zero-padded), a score mask `[n, T]`
    (0 where a tool is offered, -inf on padding) and the gold index `[n]`; gold is `T` (one
    past the tools: the abstain column `scores` appends) where the call is `generate_response`."""
    width = width or max(len(r["tools"]) for r in records)
    layers, hidden = next(iter(vectors.values())).shape
    queries = np.stack([vectors.get(r["id"], vectors.get(r["query"])) for r in records])
    tools = np.zeros((len(records), width, layers, hidden), np.float32)
    gold = np.zeros(len(records), np.int64)
    valid = np.zeros((len(records), width), bool)
    for i, record in enumerate(records):
        names = [t["name"] for t in record["tools"]]
        for j, tool in enumerate(record["tools"]):
            tools[i, j] = vectors[tool_text(tool)]
            valid[i, j] = True
        call = record["call"]["name"]
        gold[i] = width if call == ABSTAIN else names.index(call)
    return queries, tools, np.where(valid, 0.0, -np.inf).astype(np.float32), gold


def standardized(vectors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Centred, and scaled to unit mean variance per layer, over the vectors given."""
    stack = np.stack(list(vectors.values()))  # [items, L, H]
    mean, scale = stack.mean(0), stack.std(0).mean(-1, keepdims=True) + 1e-6
    return {key: (v - mean) / scale for key, v in vectors.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--eval", nargs="+", default=["validation", "validation_wording"])
    parser.add_argument("--train-n", type=int, default=4000)
    parser.add_argument("--eval-n", type=int, default=600)
    parser.add_argument("--layers", type=int, nargs="+", default=[15, 30])
    parser.add_argument("--rank", type=int, default=64)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--base", default="smollm2-135m-instruct")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--adapter", type=Path, default=None,
                        help="a PEFT adapter (an exported checkpoint) applied to the base model")
    parser.add_argument("--context", action="store_true",
                        help="query side: the in-prompt hidden state at the decision position")
    parser.add_argument("--lexical", action="store_true",
                        help="add each tool's BM25 score against the query (per record, over "
                             "its own toolset) as a feature with a learned weight, and its "
                             "best score to the generate_response column")
    parser.add_argument("--cache", type=Path, default=None,
                        help="an .npz of encoded vectors (same --layers, --base and "
                             "--adapter): read if present, extended with what it lacks")
    parser.add_argument("--with-none", action="store_true",
                        help="all variants; generate_response is a candidate with a learned "
                             "query-side score; reports pooled TSA and abstention F1")
    args = parser.parse_args()

    import ml_collections
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from gentool_jax.model.registry import resolve_model

    torch.manual_seed(args.seed)
    path = resolve_model(ml_collections.ConfigDict(dict(name=args.base, cache_dir="")))
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    tokenizer.padding_side = "right"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32).eval()
    if args.adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(args.adapter)).merge_and_unload().eval()

    rng = random.Random(args.seed)

    kept = ("none", *TOOL_VARIANTS) if args.with_none else TOOL_VARIANTS

    def needing(split: str, n: int) -> list[dict]:
        records = [r for r in read(args.data / f"{split}.jsonl") if r["variant"] in kept]
        return rng.sample(records, min(n, len(records)))

    train = needing("train", args.train_n)
    evals = {split: needing(split, args.eval_n) for split in args.eval}
    everything = [r for rs in (train, *evals.values()) for r in rs]
    texts = {tool_text(t) for r in everything for t in r["tools"]}
    if not args.context:
        texts |= {r["query"] for r in everything}
    started = time.perf_counter()
    cached = {}
    if args.cache is not None and args.cache.is_file():
        with np.load(args.cache) as saved:
            cached = dict(zip(saved["texts"].tolist(), saved["vectors"]))
    missing = sorted(texts - set(cached))
    vectors = {**cached, **encode(model, tokenizer, missing, args.layers)} if missing else cached
    if args.cache is not None and missing:
        keys = sorted(vectors)
        np.savez(args.cache, texts=np.array(keys), vectors=np.stack([vectors[k] for k in keys]))
    if args.context:
        vectors = {**standardized(vectors),
                   **standardized(encode_decisions(model, tokenizer, everything, args.layers))}
    else:
        vectors = standardized(vectors)
    prompts = f" and {len(everything)} prompts" if args.context else ""
    adapted = f" + {args.adapter}" if args.adapter else ""
    print(f"encoded {len(missing)} texts ({len(texts) - len(missing)} cached){prompts} in "
          f"{time.perf_counter() - started:.0f} s "
          f"({args.base}{adapted}, frozen, layers {args.layers})")

    width = max(len(r["tools"]) for r in everything)

    def lexical(records: list[dict]) -> np.ndarray:
        """`[n, width]` BM25 of each offered tool, scaled by the record's best (0 on padding)."""
        from gentool_jax.baselines.lexical import tool_scores

        out = np.zeros((len(records), width), np.float32)
        for i, record in enumerate(records):
            scores = np.asarray(tool_scores(record), np.float32)
            out[i, :len(scores)] = scores / 10.0
        return out

    def tensors(records: list[dict]):
        arrays = [torch.from_numpy(a) for a in candidates(records, vectors, width)]
        return [*arrays, torch.from_numpy(lexical(records))] if args.lexical else arrays

    q_train, t_train, pad_train, gold_train, *lex_train = tensors(train)
    n_layers, hidden = q_train.shape[1:]
    u = torch.nn.Parameter(torch.randn(n_layers, hidden, args.rank) * 0.01)
    v = torch.nn.Parameter(torch.randn(n_layers, hidden, args.rank) * 0.01)
    abstain = torch.nn.Parameter(torch.zeros(n_layers, hidden))
    abstain_bias = torch.nn.Parameter(torch.zeros(n_layers))
    lexical_weights = torch.nn.Parameter(torch.zeros(2))  # tool score, best score -> refusal
    optimizer = torch.optim.AdamW([u, v, abstain, abstain_bias, lexical_weights], lr=args.lr,
                                  weight_decay=0.01)

    def scores(q, t, pad, fitted: bool, lex=None):
        """`[n, L, T (+1)]`: cosine, plus the low-rank bilinear term when fitted; with
        `--with-none` one more column, `generate_response`, scored from the query alone."""
        cos = torch.einsum("nlh,ntlh->nlt", torch.nn.functional.normalize(q, dim=-1),
                           torch.nn.functional.normalize(t, dim=-1)) * 10
        if fitted:
            cos = cos + torch.einsum("nlr,ntlr->nlt", torch.einsum("nlh,lhr->nlr", q, u),
                                     torch.einsum("ntlh,lhr->ntlr", t, v)) / hidden
        if fitted and lex is not None:
            cos = cos + lexical_weights[0] * lex[:, None, :]
        cos = cos + pad[:, None, :]
        if not args.with_none:
            return cos
        refusal = torch.einsum("nlh,lh->nl", q, abstain) / hidden ** 0.5 + abstain_bias
        if fitted and lex is not None:
            refusal = refusal + lexical_weights[1] * lex.max(-1).values[:, None]
        if not fitted:  # unfitted: abstain when no tool's cosine clears the median one
            refusal = cos.max(-1).values.median() * torch.ones_like(refusal)
        return torch.cat([cos, refusal[..., None]], -1)

    for _ in range(args.steps):
        batch = torch.randint(0, len(train), (256,))
        logits = scores(q_train[batch], t_train[batch], pad_train[batch], True,
                        lex_train[0][batch] if lex_train else None)
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]),
            gold_train[batch].repeat_interleave(n_layers))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"fitted rank-{args.rank} bilinear maps on {len(train)} tool-needing training "
          f"records, {args.steps} steps; last training loss {loss.item():.3f}")

    rows = [("train (fitted on)", train), *evals.items()]
    if args.with_none:
        report_with_none(rows, tensors, scores, args.layers)
        if args.lexical:
            print(f"lexical weights (tool score, best score -> refusal): "
                  f"{lexical_weights.detach().numpy().round(3).tolist()}")
        return
    print("| split | n | uniform | " + " | ".join(
        f"L{layer} cosine | L{layer} fitted" for layer in args.layers) + " |")
    print("|---|---|---|" + "---|---|" * len(args.layers))
    for name, records in rows:
        q, t, pad, gold, *_ = tensors(records)
        with torch.no_grad():
            cells = []
            for fitted in (False, True):
                picks = scores(q, t, pad, fitted).argmax(-1)  # [n, L]
                cells.append((picks == gold[:, None]).float().mean(0).tolist())
        uniform = float(np.mean([1 / len(r["tools"]) for r in records]))
        per_layer = " | ".join(f"{cells[0][i]:.3f} | {cells[1][i]:.3f}"
                               for i in range(len(args.layers)))
        print(f"| {name} | {len(records)} | {uniform:.3f} | {per_layer} |")


def report_with_none(rows, tensors, scores, layers: list[int]) -> None:
    """Per split and layer (fitted map): gold on tool-needing records, `none` answered
    `generate_response`, pooled TSA, abstention F1, and the always-abstain TSA."""
    import torch

    print("| split | layer | n | tool-needing | none | pooled TSA | abstention F1 | abstain-all |")
    print("|---|---|---|---|---|---|---|---|")
    for name, records in rows:
        q, t, pad, gold, *lex = tensors(records)
        with torch.no_grad():
            picks = scores(q, t, pad, True, lex[0] if lex else None).argmax(-1)  # [n, L]
        refuse_col = t.shape[1]
        gold_refuses = gold == refuse_col
        for index, layer in enumerate(layers):
            pick = picks[:, index]
            correct = pick == gold
            said = pick == refuse_col
            both = (said & gold_refuses).sum().item()
            precision = both / max(said.sum().item(), 1)
            recall = both / max(gold_refuses.sum().item(), 1)
            f1 = 2 * precision * recall / max(precision + recall, 1e-9)
            print(f"| {name} | {layer} | {len(records)} | "
                  f"{correct[~gold_refuses].float().mean().item():.3f} | "
                  f"{correct[gold_refuses].float().mean().item():.3f} | "
                  f"{correct.float().mean().item():.3f} | {f1:.3f} | "
                  f"{gold_refuses.float().mean().item():.3f} |")


if __name__ == "__main__":
    main()
