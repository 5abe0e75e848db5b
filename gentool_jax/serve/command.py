"""`gentool-jax serve [--checkpoint=DIR] [--host=127.0.0.1] [--port=8000] [--api-key=KEY]`.

The API key comes from `--api-key` or the variable named by `serve.api_key_env` (never from the
config file, which runs write out); binding to a non-loopback address without one warns, since
the model would answer anyone who can reach the port.

The checkpoint is checked before anything loads, and the model is loaded before the socket
opens, so a client never reaches a server that cannot answer. SIGINT/SIGTERM stop accepting
connections, let in-flight requests finish (uvicorn's graceful shutdown, then the batcher runs
what is queued) and exit 0: stopping a server on purpose is not an error.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_collections import ConfigDict

from gentool_jax.config_view import RunSettings, section_view
from gentool_jax.errors import GentoolError
from gentool_jax.model.settings import ModelSettings
from gentool_jax.sample.settings import SampleSettings

if TYPE_CHECKING:
    from gentool_jax.serve.app import Service

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclasses.dataclass(frozen=True)
class ServeConfig:
    """The `config.serve` section, typed (`config_view.section_view`)."""

    model_id: str | None  # "" or None: derived from model.name and the checkpoint
    batch_size: int
    batch_window_ms: float
    max_tokens: int
    api_key_env: str
    max_body_bytes: int
    max_tools: int
    max_messages: int
    max_message_chars: int
    max_completion_tokens: int
    prefix_cache_size: int


def model_id_for(config: ConfigDict, checkpoint: str | None) -> str:
    """`serve.model_id`, else the model's name, suffixed with the checkpoint's directory."""
    serve = section_view(ServeConfig, config.serve)
    if serve.model_id:
        return serve.model_id
    base = Path(section_view(ModelSettings, config.model).name).name
    return f"{base}+{Path(checkpoint).resolve().name}" if checkpoint else base


def serve_settings(config: ConfigDict) -> ServeConfig:
    """`config.serve`, its limits checked: each must be >= 1 (the prefix cache >= 0, 0: off)."""
    serve = section_view(ServeConfig, config.serve)
    for field in ("max_body_bytes", "max_tools", "max_messages", "max_message_chars",
                  "max_completion_tokens", "prefix_cache_size"):
        least = 0 if field == "prefix_cache_size" else 1
        if getattr(serve, field) < least:
            raise GentoolError(f"serve.{field} must be >= {least}, got {getattr(serve, field)}")
    return serve


def api_key_for(config: ConfigDict, option: str | None) -> str | None:
    """`--api-key`, else the variable `serve.api_key_env` names; None: no authentication."""
    key = option or os.environ.get(section_view(ServeConfig, config.serve).api_key_env, "")
    return key or None


def exposure_warning(host: str, api_key: str | None, env_name: str) -> str | None:
    """The one-line warning for a server that answers anyone on its network, else None."""
    if api_key is not None or host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:  # a host name: it may resolve to anything
        pass
    return (f"gentool-jax serve: warning: listening on {host} without an API key; anyone who "
            f"reaches the port can use the model (set --api-key or ${env_name})")


def build_service(config: ConfigDict, model: Any, tokenizer: Any, model_id: str, mesh: Any = None,
                  api_key: str | None = None,
                  select: Callable[[list[dict[str, Any]], str], str] | None = None) -> Service:
    """The app's Service over a loaded model: batcher, engine, the request limits and the
    selection head's `select`, if any."""
    from gentool_jax.serve.app import Service
    from gentool_jax.serve.batcher import Batcher
    from gentool_jax.serve.engine import SamplerEngine
    from gentool_jax.serve.request import Limits

    serve = serve_settings(config)
    engine = SamplerEngine(model, tokenizer, batch_size=serve.batch_size,
                           bucket=section_view(SampleSettings, config.sample).prompt_bucket,
                           seed=section_view(RunSettings, config).seed,
                           mesh=mesh, prefix_cache_size=serve.prefix_cache_size)
    batcher = Batcher(engine, batch_size=serve.batch_size,
                      window_s=serve.batch_window_ms / 1000.0)
    return Service(model_id=model_id, tokenizer=tokenizer, batcher=batcher,
                   stop_ids=engine.stop_ids, tool_style=str(config.data.tool_style),
                   ranking_target=str(config.data.ranking_target),
                   max_tokens=serve.max_tokens,
                   context_length=int(model.config.max_position_embeddings),
                   constrain=section_view(SampleSettings, config.sample).constrained,
                   check_grammar=engine.check_grammar, api_key=api_key,
                   limits=Limits(max_tools=serve.max_tools, max_messages=serve.max_messages,
                                 max_message_chars=serve.max_message_chars,
                                 max_completion_tokens=serve.max_completion_tokens),
                   max_body_bytes=serve.max_body_bytes, prefixes=engine.prefixes,
                   select=select)


def head_select(config: ConfigDict, checkpoint: str | None, model: Any, tokenizer: Any
                ) -> Callable[[list[dict[str, Any]], str], str] | None:
    """The selection head's pick as a function of (tools, query), where `selector.enabled`
    and the checkpoint has a head (docs/selector.md); None: the model selects alone."""
    from gentool_jax.selector.use import head_for, pick_names

    head = None if checkpoint is None else head_for(config, checkpoint)
    if head is None:
        return None
    batch = int(config.selector.encode_batch)
    return lambda tools, query: pick_names(head, model, tokenizer,
                                           [{"query": query, "tools": tools}], batch)[0]


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise GentoolError(f"--port must be an integer in 0..65535, got {value!r}")
    return port


@contextlib.contextmanager
def _signals_end_normally() -> Iterator[None]:
    """uvicorn re-raises the signal that stopped it once it has shut down, which would turn a
    requested stop into a KeyboardInterrupt or a kill; the handlers it re-raises to only note
    it."""
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve_command(config: ConfigDict, options: dict[str, str]) -> int:
    """Load the model, listen until SIGINT/SIGTERM, then shut down gracefully; returns 0."""
    try:
        import uvicorn

        from gentool_jax.serve.app import create_app
    except ImportError as error:
        raise GentoolError(f"serving needs the serve extra ({error.name} is missing): "
                           "pip install 'gentool-jax[serve]'") from None
    from gentool_jax.parallel.mesh import make_mesh
    from gentool_jax.train.inference import check_checkpoint, load_for_inference

    checkpoint = options.get("checkpoint", "") or None
    port = _port(str(options.get("port", "8000")))
    host = str(options.get("host", "127.0.0.1"))
    serve_settings(config)
    api_key = api_key_for(config, options.get("api-key") or None)
    check_checkpoint(config, checkpoint)
    mesh = make_mesh(config.mesh)
    model, tokenizer = load_for_inference(config, checkpoint, mesh=mesh)
    service = build_service(config, model, tokenizer, model_id_for(config, checkpoint), mesh,
                            api_key, head_select(config, checkpoint, model, tokenizer))
    server = uvicorn.Server(uvicorn.Config(
        create_app(service), host=host, port=port,
        log_level="info", timeout_graceful_shutdown=None))
    warning = exposure_warning(host, api_key, section_view(ServeConfig, config.serve).api_key_env)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    print(f"gentool-jax serve: model {service.model_id!r} on http://{server.config.host}:"
          f"{port}/v1", flush=True)
    with _signals_end_normally():
        server.run()
    return 0
