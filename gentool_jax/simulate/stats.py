"""`stats.json`: what a simulated (or imported) dataset contains, computed from the records."""

from __future__ import annotations

from collections import Counter

from gentool_jax.records import Record, toolset_key
from gentool_jax.simulate.similarity import tokenize


def distinct_2(texts: list[str]) -> float:
    """Distinct bigrams / all bigrams over the texts: the usual lexical-diversity ratio."""
    total, seen = 0, set()
    for text in texts:
        words = tokenize(text)
        grams = list(zip(words, words[1:]))
        total += len(grams)
        seen.update(grams)
    return round(len(seen) / total, 4) if total else 0.0


def toolset_groups(records: list[Record]) -> dict:
    """How many records share each toolset (one shared prefix each), as a size histogram."""
    sizes = Counter(Counter(toolset_key(record) for record in records).values())
    groups = sum(sizes.values())
    return {"groups": groups,
            "mean_size": round(len(records) / groups, 3) if groups else 0.0,
            "size_histogram": {str(size): count for size, count in sorted(sizes.items())}}


def compute_stats(splits: dict[str, list[Record]]) -> dict:
    """Counts per split / variant / domain, distinct tools and queries, diversity ratios."""
    per_split = {}
    queries: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    pairs: dict[str, dict] = {}
    domains: Counter = Counter()
    for split, records in splits.items():
        variants = Counter(record["variant"] for record in records)
        per_split[split] = {"records": len(records), "toolset_groups": toolset_groups(records),
                            "queries": len({r["meta"].get("query_id", r["query"])
                                            for r in records}),
                            "variants": dict(sorted(variants.items()))}
        for record in records:
            meta = record.get("meta", {})
            queries.setdefault(meta.get("query_id", record["query"]), record["query"])
            for tool in record["tools"]:
                descriptions.setdefault(tool["name"], tool["description"])
            if "pair_id" in meta:
                info = pairs.setdefault(meta["pair_id"], {"flavour": meta.get("weak_flavour"),
                                                          "both_full": False})
                info["both_full"] |= bool(meta.get("both_full"))
            if record["variant"] == "none":
                domains[meta.get("domain", "")] += 1
    flavours = Counter(info["flavour"] for info in pairs.values())
    both_full = sum(info["both_full"] for info in pairs.values())
    return {
        "splits": per_split,
        "training_samples": per_split.get("train", {}).get("records", 0),
        "distinct_queries": len(queries),
        "distinct_tools": len(descriptions),
        "tool_pairs": len(pairs),
        "domains": len(domains),
        "queries_per_domain": dict(sorted(domains.items())),
        "weak_flavours": dict(sorted((str(k), v) for k, v in flavours.items())),
        "pairs_with_both_full_queries": both_full,
        "both_full_pair_fraction": round(both_full / len(pairs), 4) if pairs else 0.0,
        "distinct_2_queries": distinct_2(list(queries.values())),
        "distinct_2_descriptions": distinct_2(list(descriptions.values())),
    }
