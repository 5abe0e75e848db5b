"""`simulate --teacher`: the teacher-LLM stages against a scripted fake endpoint and our server.

The fake OpenAI-compatible server (stdlib http.server in a thread) writes valid replies from
the prompts themselves and plays scripted faults first (malformed JSON, missing fields,
timeouts, 429 with Retry-After, 500, 401), recording every request it gets. The last test
points the command at `gentool-jax serve` over the tiny random model: its replies are garbage,
so it only checks that requests arrive and the run ends with a counted, one-line failure.
"""

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gentool_jax.cli import main
from gentool_jax.errors import RecordError
from gentool_jax.records import read_records
from gentool_jax.simulate.simulation import SPLITS, split_file
from gentool_jax.teacher.generate import read_seeds
from gentool_jax.teacher.prompts import (
    InvalidOutput,
    parse_arguments,
    parse_queries,
    parse_weak_tool,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
TOPICS = ["forecast", "stock", "flight", "recipe", "parcel", "lyrics"]
MODEL = "fake-teacher"


def _tool(topic: str) -> dict:
    return {"name": f"get_{topic}", "description": f"Returns the detailed {topic} record for the "
                                                   "given place, date and count of items.",
            "parameters": {"type": "object",
                           "properties": {"place": {"type": "string"},
                                          "count": {"type": "integer"},
                                          "unit": {"type": "string", "enum": ["a", "b"]}},
                           "required": ["place", "count"]},
            "returns": {"type": "object", "properties": {"value": {"type": "number"}}}}


def _write_seeds(path: Path, topics=TOPICS) -> Path:
    lines = [json.dumps({"query": f"Tell me about {t} in Lisbon", "domain": t,
                         "tool": {"type": "function", "function": _tool(t)}}) for t in topics]
    path.write_text("\n".join(lines) + "\n")
    return path


def _section(text: str, label: str) -> dict:
    return json.loads(re.search(rf"^{label}: (.*)$", text, re.M).group(1))


def _valid_reply(body: dict) -> str:
    """What a perfect teacher answers, read off the first user message of the prompt."""
    task = body["messages"][1]["content"]
    if task.startswith("Task: weak tool."):
        strong = _section(task, "Strong tool")
        return json.dumps({"name": strong["name"] + "_lite",
                           "description": f"Rough {strong['name']}.",
                           "parameters": {"type": "object",
                                          "properties": {"text": {"type": "string"}},
                                          "required": ["text"]},
                           "returns": {"type": "object",
                                       "properties": {"summary": {"type": "string"}}}})
    if task.startswith("Task: queries."):
        name = _section(task, "Strong tool")["name"]
        count = int(re.search(r"Write exactly (\d+)", task).group(1))
        wording = "indirect" if "describes the user's situation" in task else "direct"
        return json.dumps({"queries": [f"{wording} need {i} for {name}" for i in range(count)]})
    tool = _section(task, "Tool")
    values = {"string": "Lisbon", "integer": 2}
    props = tool["parameters"]["properties"]
    return json.dumps({"arguments": {p: values[props[p]["type"]]
                                     for p in tool["parameters"]["required"]}})


class FakeTeacher:
    """Scripted faults by (stage, tool name) are played before valid replies."""

    def __init__(self, faults=None, always=None):
        self.faults = {key: list(actions) for key, actions in (faults or {}).items()}
        self.always = always  # one fault answered to every request
        self.requests: list[tuple[float, dict, dict]] = []  # (time, headers, body)
        self.lock = threading.Lock()

    def key(self, body: dict) -> tuple[str, str]:
        task = body["messages"][1]["content"]
        stage = task.split("\n", 1)[0].removeprefix("Task: ").rstrip(".")
        tool = _section(task, "Tool" if stage == "arguments" else "Strong tool")
        return stage, tool["name"]

    def handle(self, body: dict, headers: dict):
        with self.lock:
            self.requests.append((time.monotonic(), headers, body))
            queue = self.faults.get(self.key(body), [])
            action = self.always or (queue.pop(0) if queue else "ok")
        if action == "timeout":
            time.sleep(1.0)
            action = "ok"
        if action in ("429", "500", "401"):
            extra = {"Retry-After": "2"} if action == "429" else {}
            message = f"scripted {action}, key {headers.get('Authorization', '')[7:]}"
            return int(action), extra, {"error": {"message": message}}
        content = {"ok": _valid_reply(body), "malformed": '{"name": "broken',
                   "missing": '{"description": "no name"}'}[action]
        return 200, {}, {"choices": [{"message": {"role": "assistant", "content": content}}],
                         "usage": {"prompt_tokens": 10, "completion_tokens": 5}}

    def count(self, stage: str | None = None) -> int:
        return sum(stage is None or self.key(b)[0] == stage for _, _, b in self.requests)


@contextlib.contextmanager
def _serve(fake: FakeTeacher):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            assert self.path == "/v1/chat/completions"
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status, headers, reply = fake.handle(body, dict(self.headers))
            data = json.dumps(reply).encode()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.send_response(status)
                for name, value in {"Content-Type": "application/json",
                                    "Content-Length": str(len(data)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def _argv(seeds: Path, out: Path, cache: Path, base_url: str, *extra: str) -> list[str]:
    return ["simulate", "--config=configs/smoke.py", f"--teacher={seeds}", f"--out={out}",
            f"--config.model.cache_dir={cache}",
            f"--config.simulate.teacher.base_url={base_url}",
            f"--config.simulate.teacher.model={MODEL}",
            "--config.simulate.teacher.queries_per_pair=3",
            "--config.simulate.teacher.timeout_s=0.5",
            "--config.simulate.teacher.concurrency=3",
            "--config.simulate.test_queries_per_scenario=2",
            "--config.simulate.toolset_size=4", *extra]


def test_full_run_with_faults_then_cached_rerun_is_free_and_identical(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    seeds = _write_seeds(tmp_path / "seeds.jsonl")
    fake = FakeTeacher({("weak tool", "get_forecast"): ["malformed"],
                        ("weak tool", "get_lyrics"): ["missing"] * 10,
                        ("queries", "get_stock"): ["timeout"],
                        ("queries", "get_flight"): ["500"],
                        ("arguments", "get_recipe"): ["429"]})
    with _serve(fake) as base_url:
        first = tmp_path / "first"
        assert main(_argv(seeds, first, tmp_path / "cache", base_url)) == 0
        sent = fake.count()
        stats = json.loads((first / "teacher_stats.json").read_text())
        assert stats["requests"] == sent and stats["cache_hits"] == 0
        assert stats["retries"] == 3  # timeout, 500, 429
        # forecast: 1 malformed; lyrics: 3 missing-field replies (1 + output_retries), skipped.
        assert stats["invalid_outputs"] == {"weak_tool": 4}
        assert stats["skipped"] == {"weak_tool": 1}
        assert stats["prompt_tokens"] == 10 * (sent - 3)  # the failed attempts carry no usage
        assert stats["pairs"] == 5 and stats["queries"] == 15
        assert fake.count("arguments") == 2 * 15 + 1
        assert all(h["Authorization"] == "Bearer sk-test-secret" for _, h, _ in fake.requests)
        # The retry after a 429 waited for its Retry-After (2 s).
        times = [t for t, _, b in fake.requests if fake.key(b) == ("arguments", "get_recipe")]
        assert times[1] - times[0] >= 1.9
        # A malformed reply is retried with the reason, which is a new request (and cache key).
        retried = [b for _, _, b in fake.requests
                   if fake.key(b) == ("weak tool", "get_forecast")]
        assert len(retried) == 2 and "invalid: not JSON" in retried[1]["messages"][-1]["content"]

        records = {s: list(read_records(first / split_file(s))) for s in SPLITS}
        assert len(records["train"]) > 0 and all(len(records[s]) > 0 for s in (
            "unseen_query_seen_tool", "seen_query_unseen_tool", "unseen_query_unseen_tool"))
        assert sum(map(len, records.values())) == 15 * 4  # 4 variants per query
        for split, wording in (("train", "direct"), ("unseen_query_seen_tool", "indirect"),
                               ("unseen_query_unseen_tool", "indirect")):
            assert {r["meta"]["template_id"] for r in records[split]} == {f"teacher-{wording}"}
        train_tools = {t["name"] for r in records["train"] for t in r["tools"]}
        for split in ("seen_query_unseen_tool", "unseen_query_unseen_tool"):
            assert not {r["meta"]["strong_tool"] for r in records[split]} & train_tools
        both = next(r for r in records["train"] if r["variant"] == "both")
        assert both["call"]["name"] == both["meta"]["strong_tool"] == both["ranking"][0]

        second = tmp_path / "second"
        assert main(_argv(seeds, second, tmp_path / "cache", base_url)) == 0
        assert fake.count() == sent  # every reply came from the cache
        assert json.loads((second / "teacher_stats.json").read_text())["requests"] == 0
        for name in [split_file(s) for s in SPLITS] + ["stats.json", "teacher_pairs.jsonl"]:
            assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_401_is_not_retried_and_fails_with_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    fake = FakeTeacher(always="401")
    with _serve(fake) as base_url:
        code = main(_argv(_write_seeds(tmp_path / "s.jsonl", TOPICS[:1]), tmp_path / "out",
                          tmp_path / "cache", base_url, "--config.simulate.teacher.concurrency=1"))
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]  # besides the tqdm bar
    assert code == 1 and fake.count() == 1 and "Traceback" not in err
    assert len(errors) == 1 and "HTTP 401" in errors[0] and "not retried" in errors[0], err
    assert "sk-test-secret" not in err and "key ***" in errors[0]


def test_missing_endpoint_config_fails_before_any_request(tmp_path, capsys):
    seeds = _write_seeds(tmp_path / "s.jsonl", TOPICS[:1])
    assert main(["simulate", "--config=configs/smoke.py", f"--teacher={seeds}",
                 f"--out={tmp_path / 'out'}"]) == 1
    err = capsys.readouterr().err.strip()
    assert "config.simulate.teacher.base_url and config.simulate.teacher.model" in err
    assert len(err.splitlines()) == 1 and not (tmp_path / "out").exists()


@pytest.mark.parametrize("line, reason", [
    ('{"query": "x"}', "missing field 'tool'"),
    ('{"query": "x", "tool": {"name": "a b", "description": "", "parameters": {}}}',
     "tool.name 'a b' is not an identifier"),
    ('{"query": "", "tool": {}}', "field 'query' must be a non-empty string"),
    ('{"query": "x", "tool": {"name": "a", "description": "", "parameters": {"properties": '
     '{"p": {"type": "text"}}}}}', "tool.parameters.properties.p.type 'text'"),
    ('{"query": "x", "tools": []}', "unknown field(s) tools"),
    ("[1", "invalid JSON"),
])
def test_bad_seed_lines_name_file_line_and_field(tmp_path, line, reason):
    path = tmp_path / "seeds.jsonl"
    path.write_text(json.dumps({"query": "ok", "tool": _tool("ok")}) + "\n" + line + "\n")
    with pytest.raises(RecordError) as error:
        read_seeds(path)
    assert str(error.value).startswith(f"{path}:2: ") and reason in str(error.value)


def test_reply_validation():
    tool = _tool("forecast")
    assert parse_arguments('{"arguments": {"place": "Rome", "count": 3}}', tool)
    for reply, why in [('{"arguments": {"place": "Rome"}}', "required argument(s) count"),
                       ('{"arguments": {"place": "R", "count": true}}', "of type integer"),
                       ('{"arguments": {"place": "R", "count": 1, "x": 1}}', "not parameters"),
                       ('{"arguments": {"place": "R", "count": 1, "unit": "c"}}', "one of"),
                       ("```json\n[1]\n```", "not a JSON object")]:
        with pytest.raises(InvalidOutput, match=re.escape(why)):
            parse_arguments(reply, tool)
    weak = dict(tool, name="get_forecast_lite")
    with pytest.raises(InvalidOutput, match="description must be shorter"):
        parse_weak_tool(json.dumps(weak), tool, "description", set())
    with pytest.raises(InvalidOutput, match="already used"):
        parse_weak_tool(json.dumps(dict(weak, name="get_forecast")), tool, "name",
                        {"get_forecast"})
    assert parse_weak_tool(json.dumps(weak), tool, "name", {"get_forecast"})["name"] == \
        "get_forecast_lite"
    with pytest.raises(InvalidOutput, match="need 2 distinct"):
        parse_queries('{"queries": ["a", " a ", "seed"]}', 2, {"seed"})


def test_against_our_own_server_counts_garbage_and_fails_cleanly(tiny_model_dir, tmp_path):
    """Plumbing only: the tiny random model cannot write JSON, so every reply is invalid."""
    with socket.socket() as sock:  # a free port
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gentool_jax.cli", "serve", "--config=configs/smoke.py",
             f"--config.model.name={tiny_model_dir}", f"--config.workdir={tmp_path / 'w'}",
             f"--port={port}"], cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while server.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"server did not start:\n{log.read_text()[-3000:]}")
        seeds = _write_seeds(tmp_path / "s.jsonl", TOPICS[:2])
        argv = _argv(seeds, tmp_path / "out", tmp_path / "cache", f"http://127.0.0.1:{port}/v1",
                     f"--config.simulate.teacher.model={Path(tiny_model_dir).name}",
                     "--config.simulate.teacher.max_tokens=8",
                     "--config.simulate.teacher.output_retries=0",
                     "--config.simulate.teacher.timeout_s=120")
        result = subprocess.run([sys.executable, "-m", "gentool_jax.cli", *argv], cwd=REPO_ROOT,
                                env=env, capture_output=True, text=True, timeout=300)
    finally:
        server.kill()
        server.wait()
    assert result.returncode == 1, result.stdout + result.stderr + log.read_text()[-2000:]
    assert "Traceback" not in result.stderr
    assert "error: the teacher gave no valid weak tool" in result.stderr.strip().splitlines()[-1]
    stats = json.loads((tmp_path / "out" / "teacher_stats.json").read_text())
    assert stats["requests"] - stats["retries"] == 2  # both seeds' requests were answered
    assert stats["completion_tokens"] > 0
    assert stats["invalid_outputs"] == {"weak_tool": 2} and stats["skipped"] == {"weak_tool": 2}
