"""How many tokens the gold replies of record files take: what `sample.max_new_tokens` must hold.

    python benchmarks/reply_lengths.py --model smollm2-135m-instruct \\
        data/dev/dev.jsonl runs/default/data/test_*.jsonl [--budget 128 256]

A reply cut by the token budget has no complete call, so it scores as a wrong selection
however good its opening was. Per file: the longest gold reply (ranking and call, as
`data/render.target_text` writes it) and how many exceed each budget.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gentool_jax.data.render import target_text  # noqa: E402
from gentool_jax.model.model_cache import cache_root  # noqa: E402
from gentool_jax.model.registry import load_tokenizer  # noqa: E402
from gentool_jax.records import read_records  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--model", default="smollm2-135m-instruct",
                        help="a model directory, or a model name in the gentool-jax cache")
    parser.add_argument("--budget", type=int, nargs="+", default=[128, 256])
    args = parser.parse_args()

    model_dir = Path(args.model)
    if not model_dir.is_dir():
        model_dir = cache_root() / "models" / args.model
    tokenizer = load_tokenizer(model_dir)
    for path in args.files:
        lengths = sorted(
            len(tokenizer(target_text(record, include_ranking=True, include_call=True),
                          add_special_tokens=False)["input_ids"])
            for record in read_records(path, any_scenario=True))
        over = ", ".join(f"over {budget}: {sum(n > budget for n in lengths)}"
                         for budget in args.budget)
        print(f"{path}: {len(lengths)} replies, longest {lengths[-1]} tokens; {over}")


if __name__ == "__main__":
    main()
