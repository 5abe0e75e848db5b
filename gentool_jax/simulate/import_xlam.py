"""Reader of xLAM / APIGen function-calling lines (`simulate --from=FILE --format=xlam`).

One JSON object a line: `{"id"?: ..., "query": str, "tools": [...] or their JSON text,
"answers": [{"name", "arguments"}, ...] or their JSON text}`. Tools may be xLAM's
`parameters: {name: {type, description, default?}}` (converted to JSON Schema: required
unless a default or an `, optional` type), JSON Schema already, or OpenAI-wrapped. A line with
one answer is a case; lines with several answers (parallel / multiple calls) or none are
skipped and counted, since a GenTool sample holds one call. Every other problem is a
`file:line: field: reason` error.
"""

from __future__ import annotations

import json
from pathlib import Path

from gentool_jax.simulate.import_cases import (
    Case,
    LineError,
    ReadResult,
    convert_tools,
    fail,
    gold_case,
    json_field,
)
from gentool_jax.simulate.records import jsonl_lines

FIELDS = {"id", "query", "tools", "answers"}


def read_xlam(path: str | Path) -> ReadResult:
    """The single-call cases of an xLAM file, and the skipped lines by reason."""
    path = Path(path)
    cases, skipped = [], {}
    for line_number, line in jsonl_lines(path):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise fail(path, line_number, f"invalid JSON: {error.msg}") from None
        except RecursionError:
            raise fail(path, line_number, "invalid JSON: nested too deeply") from None
        if not isinstance(row, dict):
            raise fail(path, line_number, "an xLAM line must be a JSON object")
        try:
            case = _case(row, line_number)
        except LineError as error:
            raise fail(path, line_number, str(error)) from None
        if isinstance(case, str):
            skipped[case] = skipped.get(case, 0) + 1
        else:
            cases.append(case)
    return ReadResult(cases, skipped)


def _case(row: dict, line_number: int) -> Case | str:
    missing = [name for name in ("query", "tools", "answers") if name not in row]
    if missing:
        raise LineError(f"{missing[0]}: missing field (an xLAM line has "
                        f"{', '.join(sorted(FIELDS))})")
    query = row["query"]
    if not isinstance(query, str) or not query.strip():
        raise LineError("query: must be a non-empty string")
    tools = convert_tools(row["tools"], "tools")
    answers = json_field(row["answers"], "answers")
    if not isinstance(answers, list):
        raise LineError("answers: must be a list of calls")
    if len(answers) != 1:
        return "no-call lines" if not answers else "multi-call lines"
    answer = answers[0]
    if not isinstance(answer, dict):
        raise LineError("answers[0]: must be an object with name and arguments")
    gold, arguments, others = gold_case(tools, answer.get("name"), answer.get("arguments"),
                                        "answers[0]")
    qid = row.get("id")
    qid = f"xlam-{qid}" if isinstance(qid, (str, int)) and str(qid) else f"xlam-{line_number:06d}"
    return Case(qid, query.strip(), gold, arguments, others, line_number, "xlam")
