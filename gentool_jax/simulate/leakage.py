"""The leakage check: proof that the held-out parts of the world never reach training.

It reads only records, so it checks imported data as well as simulated data, and a test can
plant a leak in otherwise clean splits and watch it fail.
"""

from __future__ import annotations

from gentool_jax.errors import GentoolError
from gentool_jax.records import Record

UNSEEN_TOOL_SCENARIOS = ("seen_query_unseen_tool", "unseen_query_unseen_tool")
UNSEEN_QUERY_SCENARIOS = ("unseen_query_seen_tool", "unseen_query_unseen_tool")


class LeakageError(GentoolError):
    """Something held out for a test scenario appears in the training split."""


def _relevant_tools(record: Record) -> list[dict]:
    meta = record.get("meta", {})
    names = {meta.get("strong_tool"), meta.get("weak_tool")} - {None}
    if not names:  # imported records without pair meta: every tool of the gold ranking prefix
        prefix = record["ranking"][: record["ranking"].index("generate_response")]
        names = set(prefix)
    return [tool for tool in record["tools"] if tool["name"] in names]


def check_leakage(splits: dict[str, list[Record]]) -> dict[str, int]:
    """Raise LeakageError naming the first leaks; return how many held-out items were checked."""
    train = splits.get("train", [])
    train_names, train_descriptions, train_templates, train_intents = set(), set(), set(), set()
    train_queries, train_domains = set(), set()
    for record in train:
        meta = record.get("meta", {})
        for tool in record["tools"]:
            train_names.add(tool["name"])
            train_descriptions.add(tool["description"])
        train_templates.add(meta.get("template_id"))
        train_intents.add(meta.get("intent"))
        train_queries.add(record["query"])
        train_domains.add(meta.get("domain"))
    leaks: list[str] = []
    unseen_tools = unseen_templates = 0
    for scenario, records in splits.items():
        if scenario == "train":
            continue
        for record in records:
            meta = record.get("meta", {})
            if record["query"] in train_queries:
                leaks.append(f"{scenario} query of {record['id']} is also a training query")
            if scenario in UNSEEN_TOOL_SCENARIOS:
                for tool in _relevant_tools(record):
                    unseen_tools += 1
                    if tool["name"] in train_names:
                        leaks.append(f"unseen tool name '{tool['name']}' ({record['id']}) "
                                     "appears in a training toolset")
                    if tool["description"] in train_descriptions:
                        leaks.append(f"description of unseen tool '{tool['name']}' "
                                     f"({record['id']}) appears in a training toolset")
            if scenario in UNSEEN_QUERY_SCENARIOS:
                unseen_templates += 1
                if meta.get("template_id") and meta["template_id"] in train_templates:
                    leaks.append(f"unseen query template '{meta['template_id']}' "
                                 f"({record['id']}) is used in training")
                if meta.get("intent") and meta["intent"] in train_intents:
                    leaks.append(f"unseen intent '{meta['intent']}' ({record['id']}) "
                                 "is used in training")
            if scenario == "unseen_query_unseen_tool" and meta.get("domain") in train_domains \
                    and meta.get("domain") != "imported":
                leaks.append(f"held-out domain '{meta['domain']}' ({record['id']}) "
                             "appears in training")
            if len(leaks) >= 5:
                break
    if leaks:
        raise LeakageError("leakage check failed:\n  " + "\n  ".join(dict.fromkeys(leaks)))
    return {"unseen_tool_mentions": unseen_tools, "unseen_query_records": unseen_templates}
