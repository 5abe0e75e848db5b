"""How much BFCL's functions overlap with the tools we train on (`<out>/leakage.md`, `.json`).

Three tests per distinct BFCL function (name + description) against every distinct tool of the
training split (`<workdir>/data/train.jsonl` or `bfcl --train-data=FILE`):

- exact name: the same name;
- normalized name: the same words after splitting snake_case, camelCase, dots and dashes and
  lower-casing (`getWeather` = `get_weather` = `Get-Weather`), exact matches included;
- description: token Jaccard of the two descriptions (lower-cased words, identifiers split,
  stop words dropped: `simulate.similarity.tokenize`) at least a threshold (0.5 by default)
  against the most similar training description.

Counts per category (distinct functions, and questions whose gold function matches) with the
top examples. `python -m gentool_jax.evaluate.bfcl.leakage TRAIN.jsonl --out=DIR [--data=..]`
measures it without a model; `gentool-jax bfcl` writes it next to its report.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from gentool_jax.atomic import write_json, write_text
from gentool_jax.importers.weaken import name_words
from gentool_jax.records import DEFAULT_TOOL, Record, read_records
from gentool_jax.simulate.similarity import tokenize

THRESHOLD = 0.5
TOP = 10


def normalize_name(name: str) -> str:
    return "_".join(name_words(name))


def _tokens(text: str) -> frozenset[str]:
    return frozenset(tokenize(text))


def training_tools(path: str | Path) -> list[dict[str, Any]]:
    """The distinct (name, description) tools of a training JSONL, in first-seen order."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for record in read_records(path):
        for tool in record["tools"]:
            seen.setdefault((tool["name"], tool["description"]), tool)
    return list(seen.values())


def _best_jaccard(queries: list[frozenset[str]], keys: list[frozenset[str]]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """For each query set, the best Jaccard against `keys` and that key's index."""
    if not queries or not keys:
        return np.zeros(len(queries)), np.zeros(len(queries), dtype=np.int64)
    shared = sorted(set().union(*queries) & set().union(*keys))
    column = {token: i for i, token in enumerate(shared)}

    def matrix(sets: list[frozenset[str]]) -> np.ndarray:
        out = np.zeros((len(sets), max(len(shared), 1)), dtype=np.float32)
        for row, tokens in enumerate(sets):
            out[row, [column[t] for t in tokens if t in column]] = 1.0
        return out

    inter = matrix(queries) @ matrix(keys).T
    sizes_q = np.array([len(s) for s in queries], dtype=np.float32)[:, None]
    sizes_k = np.array([len(s) for s in keys], dtype=np.float32)[None, :]
    union = sizes_q + sizes_k - inter
    jaccard = np.where(union > 0, inter / np.maximum(union, 1.0), 0.0)
    best = jaccard.argmax(axis=1)
    return jaccard[np.arange(len(queries)), best], best


def leakage_report(categories: dict[str, list[Record]], train: list[dict[str, Any]],
                   threshold: float = THRESHOLD, top: int = TOP) -> dict[str, Any]:
    """Overlap counts per category and top examples (see the module docstring)."""
    train_names = {tool["name"] for tool in train}
    train_normal: dict[str, str] = {}
    for tool in train:
        train_normal.setdefault(normalize_name(tool["name"]), tool["name"])
    train_descriptions = list(dict.fromkeys(tool["description"] for tool in train))
    functions: dict[tuple[str, str], dict[str, Any]] = {}
    for records in categories.values():
        for record in records:
            for tool in record["tools"]:
                functions.setdefault((tool["name"], tool["description"]), tool)
    keys = list(functions)
    scores, best = _best_jaccard([_tokens(d) for _, d in keys],
                                 [_tokens(d) for d in train_descriptions])
    verdict = {}
    for i, (name, description) in enumerate(keys):
        normal = normalize_name(name)
        verdict[keys[i]] = {
            "name": name, "exact_name": name in train_names,
            "normalized_name": normal in train_normal,
            "train_name": train_normal.get(normal, ""),
            "jaccard": round(float(scores[i]), 4),
            "train_description": train_descriptions[best[i]] if train_descriptions else "",
            "description": description}
    report: dict[str, Any] = {"threshold": threshold, "training_tools": len(train),
                              "categories": {}}
    for category, records in categories.items():
        own = list(dict.fromkeys((t["name"], t["description"]) for r in records
                                 for t in r["tools"]))
        rows = [verdict[key] for key in own]
        described = [row for row in rows if row["jaccard"] >= threshold]
        gold = [next(((t["name"], t["description"]) for t in r["tools"]
                      if t["name"] == r["call"]["name"]), None) for r in records
                if r["call"]["name"] != DEFAULT_TOOL]
        gold_hits = [key for key in gold if key is not None and (
            verdict[key]["normalized_name"] or verdict[key]["jaccard"] >= threshold)]
        report["categories"][category] = {
            "questions": len(records), "functions": len(rows),
            "exact_name": sum(row["exact_name"] for row in rows),
            "normalized_name": sum(row["normalized_name"] for row in rows),
            "description_jaccard": len(described),
            "any": sum(row["normalized_name"] or row["jaccard"] >= threshold for row in rows),
            "questions_with_gold_overlap": len(gold_hits),
            "max_jaccard": max((row["jaccard"] for row in rows), default=0.0),
            "examples": {
                "exact_name": [row["name"] for row in rows if row["exact_name"]][:top],
                "normalized_name": [f"{row['name']} ~ {row['train_name']}" for row in rows
                                    if row["normalized_name"] and not row["exact_name"]][:top],
                "description": [
                    {"name": row["name"], "jaccard": row["jaccard"],
                     "description": row["description"],
                     "train_description": row["train_description"]}
                    for row in sorted(rows, key=lambda r: -r["jaccard"])[:top]
                    if row["jaccard"] > 0]}}
    return report


def _line(text: str, width: int = 120) -> str:
    """A description on one line (docstring-style ones span several), cut to `width`."""
    return " ".join(text.split())[:width]


def render_leakage(report: dict[str, Any], train_path: str = "",
                   title: str = "BFCL functions vs our training tools") -> str:
    lines = [f"# {title}", "",
             f"- training tools (distinct name + description): {report['training_tools']}"
             + (f" from `{train_path}`" if train_path else ""),
             f"- description match: token Jaccard >= {report['threshold']} against the most "
             "similar training description; normalized names split case, underscores, dots "
             "and dashes (exact matches included)", "",
             "| category | questions | functions | exact name | normalized name | "
             f"description J>={report['threshold']} | any | questions with gold overlap | "
             "max J |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for category, c in report["categories"].items():
        lines.append(f"| {category} | {c['questions']} | {c['functions']} | {c['exact_name']} | "
                     f"{c['normalized_name']} | {c['description_jaccard']} | {c['any']} | "
                     f"{c['questions_with_gold_overlap']} | {c['max_jaccard']:.3f} |")
    for category, c in report["categories"].items():
        examples = c["examples"]
        lines += ["", f"## {category}", ""]
        lines.append("- exact names: " + (", ".join(f"`{n}`" for n in examples["exact_name"])
                                          or "none"))
        lines.append("- normalized names: " + (", ".join(
            f"`{n}`" for n in examples["normalized_name"]) or "none"))
        lines.append("- most similar descriptions:")
        lines += [f"  - {e['jaccard']:.3f} `{e['name']}`: \"{_line(e['description'])}\" ~ "
                  f"\"{_line(e['train_description'])}\"" for e in examples["description"][:5]]
    return "\n".join(lines) + "\n"


def write_leakage(out_dir: str | Path, categories: dict[str, list[Record]],
                  train_path: str | Path, threshold: float = THRESHOLD) -> dict[str, Any]:
    """Compute the report and write `leakage.json` and `leakage.md` into `out_dir`."""
    report = leakage_report(categories, training_tools(train_path), threshold)
    report["train_data"] = str(train_path)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "leakage.json", report)
    write_text(out_dir / "leakage.md", render_leakage(report, str(train_path)))
    return report


def main(argv: list[str] | None = None) -> int:
    from configs import base
    from gentool_jax.evaluate.bfcl.source import CATEGORIES, load_category, open_source

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("train", help="training JSONL (e.g. runs/default/data/train.jsonl)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--data", default="", help="BFCL directory or wheel (default: pinned)")
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    args = parser.parse_args(argv)
    source = open_source(base.get_config(), args.data)
    categories = {c: load_category(source, c) for c in CATEGORIES}
    report = write_leakage(args.out, categories, args.train, args.threshold)
    print(render_leakage(report, args.train))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
