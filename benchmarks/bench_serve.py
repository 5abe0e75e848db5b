"""Throughput and latency of `gentool-jax serve` under concurrent clients, server in this run.

    python benchmarks/bench_serve.py [--model smollm2-135m-instruct] [--checkpoint DIR]
                                     [--clients 16] [--requests 64] [--batch-size 8]
                                     [--window-ms 15] [--max-tokens 64]

The server (the same app and batcher `gentool-jax serve` runs) listens on a free localhost
port in a background thread; `--clients` threads each send tool-use chat completions (one
toolset, queries in rotation) over their own HTTP connection until `--requests` are answered.
A first untimed wave of one request per client compiles the programs the timed run needs.
Prints requests/s, completion tokens/s, p50/p90/p99 latency and how many sampler batches
served the requests (the batching at work).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import itertools
import socket
import threading
import time

import httpx
import numpy as np

QUERIES = (
    "Will I need an umbrella in Lisbon tomorrow afternoon?",
    "What is Apple's stock trading at right now?",
    "Tell me a joke about penguins.",
    "Is it going to snow in Oslo on Friday morning?",
    "How did the NVDA share price move today?",
    "Write a haiku about autumn leaves.",
)
TOOLS = [
    {"type": "function", "function": {
        "name": "hourly_forecast", "description": "Hourly weather for a city and day.",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string"}, "day": {"type": "string"}}, "required": ["city"]}}},
    {"type": "function", "function": {
        "name": "stock_quote", "description": "The latest trade price of a stock symbol.",
        "parameters": {"type": "object", "properties": {"symbol": {"type": "string"}},
                       "required": ["symbol"]}}},
]


def start_server(args: argparse.Namespace) -> tuple[str, str, object]:
    """(base url, model id, uvicorn server) of the app over the loaded model."""
    import uvicorn

    from configs import base
    from gentool_jax.serve.app import create_app
    from gentool_jax.serve.command import build_service, model_id_for
    from gentool_jax.train.inference import load_for_inference

    config = base.get_config()
    config.model.name = args.model
    config.serve.batch_size = args.batch_size
    config.serve.batch_window_ms = args.window_ms
    checkpoint = args.checkpoint or None
    model, tokenizer = load_for_inference(config, checkpoint)
    service = build_service(config, model, tokenizer, model_id_for(config, checkpoint))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(service), host="127.0.0.1", port=port,
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", service.model_id, server


def run_clients(base_url: str, model_id: str, clients: int, requests: int, max_tokens: int
                ) -> list[tuple[float, int]]:
    """(latency seconds, completion tokens) of each of `requests` requests."""
    numbers = itertools.count()
    lock = threading.Lock()

    def client() -> list[tuple[float, int]]:
        done = []
        with httpx.Client(base_url=base_url, timeout=600) as http:
            while True:
                with lock:
                    number = next(numbers)
                if number >= requests:
                    return done
                body = {"model": model_id, "max_tokens": max_tokens, "tools": TOOLS,
                        "messages": [{"role": "user",
                                      "content": QUERIES[number % len(QUERIES)]}]}
                start = time.perf_counter()
                response = http.post("/v1/chat/completions", json=body)
                response.raise_for_status()
                done.append((time.perf_counter() - start,
                             response.json()["usage"]["completion_tokens"]))

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        return [row for rows in pool.map(lambda _: client(), range(clients)) for row in rows]


def batches_run(base_url: str) -> int:
    text = httpx.get(base_url + "/metrics").text
    return int(next(line.split()[1] for line in text.splitlines()
                    if line.startswith("gentool_serve_batches_total")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--checkpoint", default="")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--window-ms", type=int, default=15)
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()

    base_url, model_id, server = start_server(args)
    start = time.perf_counter()
    run_clients(base_url, model_id, args.clients, args.clients, args.max_tokens)
    print(f"warm-up ({args.clients} requests, compilation included): "
          f"{time.perf_counter() - start:.1f} s")
    before = batches_run(base_url)
    start = time.perf_counter()
    rows = run_clients(base_url, model_id, args.clients, args.requests, args.max_tokens)
    seconds = time.perf_counter() - start
    batches = batches_run(base_url) - before
    latency = np.asarray([row[0] for row in rows])
    tokens = sum(row[1] for row in rows)
    p50, p90, p99 = np.percentile(latency, [50, 90, 99])
    print(f"model {model_id}, {args.clients} clients, {len(rows)} requests, batch size "
          f"{args.batch_size}, window {args.window_ms} ms, max_tokens {args.max_tokens}")
    print(f"  {len(rows) / seconds:.2f} requests/s, {tokens / seconds:.1f} completion tokens/s "
          f"in {seconds:.1f} s")
    print(f"  latency p50 {p50:.2f} s, p90 {p90:.2f} s, p99 {p99:.2f} s")
    print(f"  {batches} sampler batches, {len(rows) / max(1, batches):.1f} requests a batch")
    server.should_exit = True


if __name__ == "__main__":
    main()
