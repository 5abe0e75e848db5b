"""Expand the hand-written development set sources into `data/dev/dev.jsonl` (DESIGN §2).

    python data/dev/build.py            # write data/dev/dev.jsonl
    python data/dev/build.py --check    # exit 1 if the committed file differs from a rebuild
    python data/dev/build.py --group-by=style --out=/tmp/dev_by_style.jsonl  # scenario per style

The content (every tool, description, query and gold argument) is written by hand in
`data/dev/source/`: `pool.json` holds distractor tools shared by many toolsets, each
`families_*.json` holds query families. A family is one (strong, weak) tool pair of one domain
and documentation style, its own near-miss decoys, an ordered list of irrelevant tools (its
toolset size N), and one or more queries with the gold arguments for both tools. This script
only applies the mechanical rules, the same way every time:

- four variants per query: `none` (the N irrelevant tools), `weak` / `strong` (the first N-1
  irrelevant tools plus that tool), `both` (the first N-2 plus both): relevant tools replace
  irrelevant ones, so a family's toolset size stays N (as in the paper);
- presentation order: a shuffle seeded by the query id and variant (Python's `random.Random`
  with a string seed, stable across runs and platforms);
- ranking (DESIGN §2): strong, then weak, then `generate_response`, then the irrelevant tools
  in presentation order; the gold call is the strong tool's (strong, both), the weak tool's
  (weak) or `generate_response` (none).

It also checks what a person can get wrong when writing the sources: tool schemas (the
project's own validator), unknown or clashing tool names, and gold arguments against the
tool's JSON schema, nested objects and arrays included. The dev set is for choosing the data
recipe only; it must never be used for training (docs/dev_set.md).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gentool_jax.records import (  # noqa: E402
    DEFAULT_TOOL,
    VARIANTS,
    dump_record,
    validate_record,
    validate_tool,
)

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "source"
OUTPUT = HERE / "dev.jsonl"
SCENARIO = "dev_handwritten"
STYLES = ("terse", "verbose", "rest", "sdk", "instructive")
FLAVOURS = ("partial", "coarse", "vague", "broad")
GROUPINGS = ("style", "domain", "weak_flavour")
FAMILY_KEYS = {"pair_id", "domain", "style", "weak_flavour", "both_full", "strong", "weak",
               "decoys", "irrelevant", "queries"}


class SourceError(ValueError):
    """A mistake in the hand-written sources, with the family it is in."""


def schema_errors(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    """What `value` breaks in the JSON schema `schema` (type, enum, required and undefined
    object keys, array items), recursively; empty when it fits."""
    kinds = schema.get("type", "string")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    checks = {"string": lambda v: isinstance(v, str),
              "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
              "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
              "boolean": lambda v: isinstance(v, bool), "array": lambda v: isinstance(v, list),
              "object": lambda v: isinstance(v, dict), "null": lambda v: v is None}
    if not any(checks[kind](value) for kind in kinds):
        return [f"{path}: expected {'/'.join(kinds)}, got {json.dumps(value)}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: {json.dumps(value)} is not one of {schema['enum']}"]
    errors: list[str] = []
    if isinstance(value, dict) and "properties" in schema:
        props = schema["properties"]
        errors += [f"{path}.{key}: undefined" for key in value if key not in props]
        errors += [f"{path}.{key}: required but missing" for key in schema.get("required", [])
                   if key not in value]
        for key, item in value.items():
            if key in props:
                errors += schema_errors(item, props[key], f"{path}.{key}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            errors += schema_errors(item, schema["items"], f"{path}[{i}]")
    return errors


def load_sources(source: Path = SOURCE) -> tuple[dict[str, dict], list[dict]]:
    """(distractor pool by name, families in file order) from the source folder."""
    pool: dict[str, dict] = {}
    for entry in json.loads((source / "pool.json").read_text(encoding="utf-8"))["tools"]:
        tool = entry["tool"]
        validate_tool(tool, f"pool tool {tool.get('name')}")
        if entry.get("style") not in STYLES:
            raise SourceError(f"pool tool {tool['name']}: unknown style {entry.get('style')}")
        if tool["name"] in pool:
            raise SourceError(f"pool tool {tool['name']} is defined twice")
        pool[tool["name"]] = tool
    families: list[dict] = []
    for path in sorted(source.glob("families_*.json")):
        families += json.loads(path.read_text(encoding="utf-8"))["families"]
    return pool, families


def _check_family(family: dict, pool: dict[str, dict], owners: dict[str, str]) -> None:
    pair = family.get("pair_id", "?")
    unknown = set(family) - FAMILY_KEYS
    missing = FAMILY_KEYS - set(family)
    if unknown or missing:
        raise SourceError(f"family {pair}: unknown keys {sorted(unknown)}, "
                          f"missing keys {sorted(missing)}")
    if family["style"] not in STYLES or family["weak_flavour"] not in FLAVOURS:
        raise SourceError(f"family {pair}: style or weak_flavour out of range")
    own = [family["strong"], family["weak"], *family["decoys"]]
    for tool in own:
        validate_tool(tool, f"family {pair} tool {tool.get('name')}")
        if tool["name"] in pool or tool["name"] in owners:
            raise SourceError(f"family {pair}: tool name {tool['name']} is already used "
                              f"({owners.get(tool['name'], 'pool')})")
        owners[tool["name"]] = pair
    decoys = {tool["name"] for tool in family["decoys"]}
    irrelevant = family["irrelevant"]
    if len(irrelevant) < 2 or len(set(irrelevant)) != len(irrelevant):
        raise SourceError(f"family {pair}: needs at least two distinct irrelevant tools")
    for name in irrelevant:
        if name not in pool and name not in decoys:
            raise SourceError(f"family {pair}: irrelevant tool {name} is neither in the pool "
                              "nor one of its decoys")
    if decoys - set(irrelevant):
        raise SourceError(f"family {pair}: decoys {sorted(decoys - set(irrelevant))} unused")
    if not family["queries"]:
        raise SourceError(f"family {pair}: no queries")
    for k, query in enumerate(family["queries"]):
        if set(query) != {"query", "strong", "weak"} or not query["query"].strip():
            raise SourceError(f"family {pair} query {k + 1}: needs query, strong, weak")
        for role in ("strong", "weak"):
            tool = family[role]
            errors = schema_errors(query[role], tool["parameters"], tool["name"])
            if errors:
                raise SourceError(f"family {pair} query {k + 1}: {'; '.join(errors)}")


def build_records(pool: dict[str, dict], families: list[dict]) -> list[dict[str, Any]]:
    """The four variant records of every query of every family, in source order."""
    owners: dict[str, str] = {}
    pairs: set[str] = set()
    records = []
    for family in families:
        _check_family(family, pool, owners)
        pair = family["pair_id"]
        if pair in pairs:
            raise SourceError(f"pair_id {pair} is used twice")
        pairs.add(pair)
        tools = {**pool, **{tool["name"]: tool for tool in family["decoys"]}}
        irrelevant = [tools[name] for name in family["irrelevant"]]
        strong, weak = family["strong"], family["weak"]
        for k, query in enumerate(family["queries"], start=1):
            query_id = f"{pair}-q{k}"
            for variant in VARIANTS:
                relevant = {"none": [], "weak": [weak], "strong": [strong],
                            "both": [strong, weak]}[variant]
                toolset = relevant + irrelevant[: len(irrelevant) - len(relevant)]
                random.Random(f"{query_id}/{variant}").shuffle(toolset)
                names = {tool["name"] for tool in relevant}
                ranking = ([tool["name"] for tool in relevant] + [DEFAULT_TOOL]
                           + [tool["name"] for tool in toolset if tool["name"] not in names])
                if variant == "none":
                    call = {"name": DEFAULT_TOOL, "arguments": {}}
                else:
                    role = "weak" if variant == "weak" else "strong"
                    call = {"name": family[role]["name"], "arguments": query[role]}
                record = {
                    "id": f"dev-{query_id}-{variant}", "query": query["query"],
                    "tools": toolset, "ranking": ranking, "call": call, "variant": variant,
                    "scenario": SCENARIO,
                    "meta": {"domain": family["domain"], "style": family["style"],
                             "pair_id": pair, "query_id": query_id,
                             "strong_tool": strong["name"], "weak_tool": weak["name"],
                             "better_tool": strong["name"], "both_full": family["both_full"],
                             "weak_flavour": family["weak_flavour"],
                             "calls": {strong["name"]: query["strong"],
                                       weak["name"]: query["weak"]}}}
                validate_record(record, any_scenario=True)
                records.append(record)
    return records


def render(records: list[dict[str, Any]]) -> str:
    return "".join(dump_record(record) + "\n" for record in records)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare a rebuild with the committed file instead of writing it")
    parser.add_argument("--out", default=str(OUTPUT))
    parser.add_argument("--group-by", choices=GROUPINGS, default="",
                        help="label each record's scenario with this meta field (e.g. "
                             "dev_handwritten/style=rest) so that `evaluate --data` reports "
                             "each group apart; write such a file elsewhere with --out")
    args = parser.parse_args(argv)
    records = build_records(*load_sources())
    if args.group_by:
        if args.check or Path(args.out).resolve() == OUTPUT:
            parser.error("--group-by writes a relabelled copy: give --out, not --check")
        for record in records:
            record["scenario"] = f"{SCENARIO}/{args.group_by}={record['meta'][args.group_by]}"
    text = render(records)
    out = Path(args.out)
    if args.check:
        same = out.is_file() and out.read_text(encoding="utf-8") == text
        print(f"{out}: {'up to date' if same else 'differs from a rebuild'}")
        return 0 if same else 1
    out.write_text(text, encoding="utf-8")
    print(f"wrote {text.count(chr(10))} records to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
