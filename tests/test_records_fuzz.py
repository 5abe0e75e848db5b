"""Garbage in the record readers: every bad line is a one-line RecordError naming the file and
line, never another exception. 1,500 lines are generated from valid records by seeded
mutations: wrong types, missing and unknown fields, huge values, deep nesting, truncation,
invalid UTF-8, non-object JSON."""

import copy
import json
import random

import pytest
from test_data_common import make_record

from gentool_jax.errors import RecordError
from gentool_jax.importers.formats import import_file
from gentool_jax.records import read_records

WRONG_VALUES = [None, 0, -1, 1e308, True, "", "x" * 100_000, [], [1, 2], {}, {"a": 1},
                float("nan"), 10**400]


def _paths(record, prefix=()):
    """Every (path to a value) in a record, nested lists and dicts included."""
    yield prefix
    if isinstance(record, dict):
        for key, value in record.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(record, list):
        for index, value in enumerate(record):
            yield from _paths(value, (*prefix, index))


def _set(record, path, value):
    node = record
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _delete(record, path):
    node = record
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]


def _bad_line(rng: random.Random) -> bytes:
    record = copy.deepcopy(make_record(rng.randrange(40)))
    kind = rng.randrange(8)
    paths = [p for p in _paths(record) if p]
    if kind <= 2:  # a value of the wrong type or size, anywhere in the record
        _set(record, rng.choice(paths), copy.deepcopy(rng.choice(WRONG_VALUES)))
    elif kind == 3:  # a field removed, at any depth
        _delete(record, rng.choice(paths))
    elif kind == 4:  # an unknown field
        record[f"extra_{rng.randrange(100)}"] = rng.choice(WRONG_VALUES[:6])
    elif kind == 5:
        depth = rng.choice([50, 5_000, 200_000])
        return ("[" * depth + "]" * depth).encode() if rng.random() < 0.5 else (
            '{"query": ' + "[" * depth + "]" * depth + "}").encode()
    elif kind == 6:
        text = json.dumps(record).encode()
        cut = rng.randrange(1, len(text))
        return text[:cut] if rng.random() < 0.5 else text[:cut] + b"\xff\xfe" + text[cut:]
    else:
        return json.dumps(rng.choice([[], "text", 3, None, [record]])).encode()
    try:
        return json.dumps(record, allow_nan=True).encode()
    except (ValueError, OverflowError):
        return b'{"id": NaN}'


def _fails_in_one_line(read, path, case: str, line) -> int:
    """1 if `read()` raises a one-line RecordError naming `path`, 0 if the file was valid; any
    other exception fails the test."""
    try:
        read()
    except RecordError as error:
        message = str(error)
        assert message.startswith(f"{path}:") and "\n" not in message, message
        return 1
    except Exception as error:  # noqa: BLE001 - the point of the test
        pytest.fail(f"{case}: {type(error).__name__}: {error} for line {line[:200]!r}")
    return 0


def test_generated_garbage_gives_one_line_errors_for_every_reader(tmp_path):
    rng = random.Random(0)
    valid = json.dumps(make_record(0)).encode()
    errors = 0
    for case in range(1500):
        line = _bad_line(rng)
        path = tmp_path / f"case{case}.jsonl"
        path.write_bytes(valid + b"\n" + line + b"\n")
        readers = [lambda p=path: list(read_records(p))]
        if case % 10 == 0:  # the importer also detects the file kind from the first line
            readers.append(lambda p=path: import_file(p, toolset_size=2, seed=0))
        for read in readers:
            errors += _fails_in_one_line(read, path, f"case {case}", line)
    assert errors >= 1000  # most mutations are invalid; some (inside meta) stay valid


def _garbage(rng: random.Random, row: dict) -> bytes:
    """One bad line made from a valid `row` of any input format: a wrong-typed or huge value,
    a missing field, deep nesting (also inside a JSON-string field, which the public formats
    parse a second time), truncation, invalid UTF-8 or a line that is no JSON object."""
    row = copy.deepcopy(row)
    paths = [p for p in _paths(row) if p]
    kind = rng.randrange(7)
    depth = rng.choice([50, 5_000, 200_000])
    if kind <= 1:
        _set(row, rng.choice(paths), copy.deepcopy(rng.choice(WRONG_VALUES)))
    elif kind == 2:
        _delete(row, rng.choice(paths))
    elif kind == 3:
        strings = [p for p in paths if isinstance(_get(row, p), str)] or paths
        _set(row, rng.choice(strings), "[" * depth + "]" * depth)
    elif kind == 4:
        _set(row, rng.choice(paths), json.loads("[" * 50 + "]" * 50) if depth > 50 else {})
    elif kind == 5:
        text = json.dumps(row).encode()
        cut = rng.randrange(1, len(text))
        return text[:cut] if rng.random() < 0.5 else text[:cut] + b"\xc3\x28" + text[cut:]
    else:
        return json.dumps(rng.choice([[row], "text", 7, None, True])).encode()
    try:
        return json.dumps(row, allow_nan=True).encode()
    except (ValueError, OverflowError):
        return b'{"tools": Infinity}'


def _get(row, path):
    for part in path:
        row = row[part]
    return row


def _format_lines() -> dict[str, list[dict]]:
    from test_simulate_io import _pair

    from tests.test_importers import sharegpt_lines, xlam_lines

    return {"pairs": [_pair(i) for i in range(6)], "xlam": xlam_lines(),
            "xlam-inline": xlam_lines(json_strings=False), "sharegpt": sharegpt_lines()}


def test_generated_garbage_in_every_import_format_gives_one_line_errors(tmp_path, capsys):
    """The same for the importers of pair records, xLAM and ShareGPT / OpenAI messages
    (`simulate --from --format=...`): 1,200 files, each valid but for one generated line."""
    rng = random.Random(1)
    errors = 0
    for name, rows in _format_lines().items():
        fmt = name.split("-")[0]
        for case in range(300):
            lines = [json.dumps(row).encode() for row in rows]
            index = rng.randrange(len(lines))
            lines[index] = _garbage(rng, rows[index])
            path = tmp_path / f"{name}{case}.jsonl"
            path.write_bytes(b"\n".join(lines) + b"\n")
            errors += _fails_in_one_line(
                lambda p=path, f=fmt: import_file(p, toolset_size=2, seed=0, fmt=f), path,
                f"{name} case {case}", lines[index])
        capsys.readouterr()  # the import summaries of the files that stayed valid
    assert errors >= 600  # some mutations (a description's text, an id) stay valid
