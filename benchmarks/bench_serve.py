"""Throughput and latency of `gentool-jax serve` at several client counts, toolset prefix cache
on and off, both servers in this run over the same loaded model.

    python benchmarks/bench_serve.py [--config configs/default.py]
        [--checkpoint /work/main/runs/default/stage2] [--clients 1,8,32]
        [--requests 4,16,32] [--batch-size 8] [--window-ms 15] [--max-tokens 64]
        [--records /work/main/runs/default/data/validation.jsonl] [--cache-size 16]

Agents send the same toolset with every request, so every client here sends one toolset (the
first group of `--records` with that many distinct queries; the built-in weather/stocks pair
without records) with a different query each time. Two servers run the same app and batcher
`gentool-jax serve` runs, on free localhost ports in background threads: one with
`serve.prefix_cache_size = --cache-size`, one with the cache off (0). A warm-up sends each a
lone request and a full batch, untimed, so the programs a timed run needs are compiled before
it. Each
client count then runs on the cache-off server and then on the cache-on one, `--requests`
requests each (`clients` threads, one HTTP connection each), so both see the same machine
state within seconds of each other.

Printed per client count and server: requests/s, completion tokens/s, p50/p99 latency and the
sampler batches; then the on/off ratios. The fp32 matmul rate of the backend (the roofline
probe of `benchmarks/roofline.py`) is measured in the same run and printed first: on a shared
CPU VM it says how fast the machine was while the timings were taken.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib.util
import itertools
import json
import socket
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from roofline import matmul_flops_per_second  # noqa: E402

QUERIES = (
    "Will I need an umbrella in Lisbon tomorrow afternoon?",
    "What is Apple's stock trading at right now?",
    "Tell me a joke about penguins.",
    "Is it going to snow in Oslo on Friday morning?",
    "How did the NVDA share price move today?",
    "Write a haiku about autumn leaves.",
)
TOOLS = [
    {"name": "hourly_forecast", "description": "Hourly weather for a city and day.",
     "parameters": {"type": "object", "properties": {
         "city": {"type": "string"}, "day": {"type": "string"}}, "required": ["city"]}},
    {"name": "stock_quote", "description": "The latest trade price of a stock symbol.",
     "parameters": {"type": "object", "properties": {"symbol": {"type": "string"}},
                    "required": ["symbol"]}},
]


def workload(records: str, queries: int) -> tuple[list[dict], list[str]]:
    """(toolset, queries): the toolset of the first record of `records` and the first
    `queries` distinct queries of the file (a toolset has only a few queries of its own; the
    others are answered with generate_response or a loosely fitting tool, as an agent's
    off-topic questions would be), else the built-in pair and queries."""
    if not records:
        return TOOLS, list(QUERIES)
    tools, asked = None, []
    with open(records) as lines:
        for line in lines:
            record = json.loads(line)
            tools = tools or record["tools"]
            if record["query"] not in asked:
                asked.append(record["query"])
            if len(asked) >= queries:
                break
    return tools, asked


def load_config(path: str):
    spec = importlib.util.spec_from_file_location("_bench_serve_config", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config()


def start_server(config, model, tokenizer, model_id: str) -> tuple[str, object]:
    """(base url, uvicorn server) of the app over the loaded model, as `config` sets it up."""
    import uvicorn

    from gentool_jax.serve.app import create_app
    from gentool_jax.serve.command import build_service

    service = build_service(config, model, tokenizer, model_id)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(service), host="127.0.0.1", port=port,
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def run_clients(base_url: str, model_id: str, tools: list[dict], queries: list[str],
                clients: int, requests: int, max_tokens: int) -> list[tuple[float, int]]:
    """(latency seconds, completion tokens) of each of `requests` requests."""
    numbers = itertools.count()
    lock = threading.Lock()

    def client() -> list[tuple[float, int]]:
        done = []
        with httpx.Client(base_url=base_url, timeout=3600) as http:
            while True:
                with lock:
                    number = next(numbers)
                if number >= requests:
                    return done
                body = {"model": model_id, "max_tokens": max_tokens, "tools": tools,
                        "messages": [{"role": "user",
                                      "content": queries[number % len(queries)]}]}
                start = time.perf_counter()
                response = http.post("/v1/chat/completions", json=body)
                response.raise_for_status()
                done.append((time.perf_counter() - start,
                             response.json()["usage"]["completion_tokens"]))

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        return [row for rows in pool.map(lambda _: client(), range(clients)) for row in rows]


def metric(base_url: str, name: str) -> int:
    text = httpx.get(base_url + "/metrics").text
    return int(next((line.split()[1] for line in text.splitlines()
                     if line.startswith(name + " ")), "0"))


def timed(base_url: str, model_id: str, tools: list[dict], queries: list[str], clients: int,
          requests: int, max_tokens: int) -> dict[str, float]:
    before = metric(base_url, "gentool_serve_batches_total")
    start = time.perf_counter()
    rows = run_clients(base_url, model_id, tools, queries, clients, requests, max_tokens)
    seconds = time.perf_counter() - start
    latency = np.asarray([row[0] for row in rows])
    p50, p99 = np.percentile(latency, [50, 99])
    return {"rps": len(rows) / seconds, "tps": sum(row[1] for row in rows) / seconds,
            "p50": float(p50), "p99": float(p99), "seconds": seconds, "requests": len(rows),
            "batches": metric(base_url, "gentool_serve_batches_total") - before}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="configs/default.py")
    parser.add_argument("--checkpoint", default="runs/default/stage2",
                        help="what `serve --checkpoint` takes; '' serves the base model")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--requests", default="4,16,32", help="per client count")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--window-ms", type=int, default=15)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--records", default="",
                        help="a records .jsonl whose first toolset (and its queries) to send")
    parser.add_argument("--cache-size", type=int, default=16)
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    requests = [int(r) for r in args.requests.split(",")]
    if len(requests) != len(clients):
        parser.error("--requests needs one count per --clients entry")

    from gentool_jax.serve.command import model_id_for
    from gentool_jax.train.inference import load_for_inference

    print(f"fp32 matmul (roofline probe, this run): "
          f"{matmul_flops_per_second('float32') / 1e9:.0f} GFLOP/s", flush=True)
    config = load_config(args.config)
    config.serve.batch_size = args.batch_size
    config.serve.batch_window_ms = args.window_ms
    checkpoint = args.checkpoint or None
    model, tokenizer = load_for_inference(config, checkpoint)
    model_id = model_id_for(config, checkpoint)
    tools, queries = workload(args.records, max(requests))
    servers = {}
    for name, size in (("off", 0), ("on", args.cache_size)):
        config.serve.prefix_cache_size = size
        servers[name] = start_server(config, model, tokenizer, model_id)
    start = time.perf_counter()
    for url, _ in servers.values():  # a lone request, then full batches: every program used
        for count in (1, args.batch_size):
            run_clients(url, model_id, tools, queries, count, count, args.max_tokens)
    print(f"model {model_id}, {len(tools)} tools, {len(queries)} distinct queries, batch size "
          f"{args.batch_size}, window {args.window_ms} ms, max_tokens {args.max_tokens}; "
          f"warm-up (compilation included) {time.perf_counter() - start:.0f} s", flush=True)
    print("| clients | requests | cache | requests/s | tokens/s | p50 s | p99 s | batches |")
    print("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    ratios = []
    for count, asked in zip(clients, requests):
        results = {}
        for name, (url, _) in servers.items():
            r = results[name] = timed(url, model_id, tools, queries, count, asked,
                                      args.max_tokens)
            print(f"| {count} | {r['requests']} | {name} | {r['rps']:.2f} | {r['tps']:.1f} | "
                  f"{r['p50']:.2f} | {r['p99']:.2f} | {r['batches']} |", flush=True)
        ratios.append((count, results["on"]["rps"] / results["off"]["rps"],
                       results["off"]["p50"] / results["on"]["p50"]))
    on_url = servers["on"][0]
    print(f"prefix cache: {metric(on_url, 'gentool_serve_prefix_cache_hits_total')} hits, "
          f"{metric(on_url, 'gentool_serve_prefix_cache_misses_total')} misses")
    for count, throughput, latency in ratios:
        print(f"cache on/off at {count} clients: requests/s x{throughput:.2f}, "
              f"p50 latency /{latency:.2f}")
    print(f"fp32 matmul (roofline probe, after the timings): "
          f"{matmul_flops_per_second('float32') / 1e9:.0f} GFLOP/s")
    for _, server in servers.values():
        server.should_exit = True


if __name__ == "__main__":
    main()
