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

from pathlib import Path

from gentool_jax.importers.cases import Case, ReadResult, read_cases
from gentool_jax.importers.tools import LineError, convert_tools, gold_case, json_field

FIELDS = {"id", "query", "tools", "answers"}


def read_xlam(path: str | Path) -> ReadResult:
    """The single-call cases of an xLAM file, and the skipped lines by reason."""
    return read_cases(path, "xLAM", _case)


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
