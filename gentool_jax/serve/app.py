"""The FastAPI app: `/v1/models`, `/v1/chat/completions`, `/health`, `/metrics`.

With an API key, every route but `/health` needs `Authorization: Bearer <key>` (compared in
constant time, so response timing does not reveal how much of a guess was right). A body over
`max_body_bytes` is refused with a 413 while it is read, before it is parsed.
Handlers do the cheap work (JSON validation, prompt rendering, decoding, parsing) on the event
loop thread, which is also the only thread that touches the tokenizer; the model runs on the
batcher's worker thread. Every refusal is an OpenAI-style error object (http_errors.py), including
404s for unknown routes, and a failed request never stops the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hmac
import json
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.exceptions import HTTPException

from gentool_jax.errors import GentoolError
from gentool_jax.sample.constraint import RowGrammar
from gentool_jax.sample.grammar import ReplyFormat
from gentool_jax.serve.batcher import Batcher, Job
from gentool_jax.serve.http_errors import APIError
from gentool_jax.serve.prefix_cache import PrefixStore
from gentool_jax.serve.prompting import prefix_length, prompt_tokens
from gentool_jax.serve.reply import chat_reply, tool_reply
from gentool_jax.serve.request import ChatRequest, Limits, parse_request
from gentool_jax.serve.stream import server_sent_events

OPEN_ROUTES = ("/health",)  # answered without the API key (load balancers' probes)


@dataclasses.dataclass
class Service:
    """What the routes need: the tokenizer, the batcher in front of the model, and limits."""

    model_id: str
    tokenizer: Any
    batcher: Batcher
    stop_ids: Sequence[int]
    tool_style: str  # config.data.tool_style: how the model was trained to see tools
    max_tokens: int  # default completion budget
    context_length: int  # prompt + completion tokens the model supports
    constrain: bool = True  # sample.constrain == "tools": tool-mode replies follow the grammar
    ranking_target: str = "full"  # config.data.ranking_target: how it was trained to rank
    # Compiles a request's grammar (raising GentoolError for a schema it refuses) before the
    # request joins a batch, so one bad schema never fails the others; None: no check.
    check_grammar: Callable[[RowGrammar], None] | None = None
    # The selection head's pick for (tools, query) (docs/selector.md): the grammar then holds
    # a tool-mode reply to it unless tool_choice names the tools; None: the model selects.
    select: Callable[[list[dict[str, Any]], str], str] | None = None
    api_key: str | None = None  # None: no authentication (the command warns off loopback)
    limits: Limits = Limits()
    max_body_bytes: int = 1 << 21
    prefixes: PrefixStore | None = None  # the engine's toolset prefix cache, if on
    created: int = dataclasses.field(default_factory=lambda: int(time.time()))
    in_flight: int = 0  # requests waiting for the model (changed on the event loop only)


def create_app(service: Service) -> FastAPI:
    """The app over `service`; its shutdown finishes queued jobs and stops the worker."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        await asyncio.to_thread(service.batcher.close)

    app = FastAPI(title="gentool-jax", lifespan=lifespan)
    app.state.service = service

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Callable) -> Any:
        if service.api_key is None or request.url.path in OPEN_ROUTES:
            return await call_next(request)
        given = request.headers.get("authorization", "").encode("utf-8", "replace")
        if hmac.compare_digest(given, f"Bearer {service.api_key}".encode()):
            return await call_next(request)
        error = APIError("missing or incorrect API key: send 'Authorization: Bearer <key>'",
                         status=401, code="invalid_api_key")
        return JSONResponse(error.body(), status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(APIError)
    async def api_error(_: Request, error: APIError) -> JSONResponse:
        return JSONResponse(error.body(), status_code=error.status)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, error: HTTPException) -> JSONResponse:
        body = APIError(str(error.detail), status=error.status_code).body()
        return JSONResponse(body, status_code=error.status_code)

    @app.get("/v1/models")
    async def list_models() -> dict[str, Any]:
        return {"object": "list", "data": [_model_card(service)]}

    @app.get("/v1/models/{model_id:path}")
    async def get_model(model_id: str) -> dict[str, Any]:
        _check_model(service, model_id)
        return _model_card(service)

    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(request: Request) -> dict[str, Any] | StreamingResponse:
        raw = await _read_body(request, service.max_body_bytes)
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
            raise APIError(f"the request body is not valid JSON: {error}") from None
        parsed = parse_request(body, service.limits)
        completion = await complete(service, parsed)
        if not parsed.stream:
            return completion
        return StreamingResponse(
            server_sent_events(completion, include_usage=parsed.include_usage),
            media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics")
    async def metrics() -> PlainTextResponse:
        stats = service.batcher.stats
        lines = [f"gentool_serve_batches_total {stats.batches}",
                 f"gentool_serve_batched_requests_total {stats.requests}",
                 f"gentool_serve_largest_batch {stats.largest_batch}",
                 f"gentool_serve_queued_requests {service.batcher.queued()}",
                 f"gentool_serve_requests_in_flight {service.in_flight}"]
        if service.prefixes is not None:
            store = service.prefixes
            lines += [f"gentool_serve_prefix_cache_hits_total {store.hits}",
                      f"gentool_serve_prefix_cache_misses_total {store.misses}",
                      f"gentool_serve_prefix_cache_evictions_total {store.evictions}",
                      f"gentool_serve_prefix_cache_entries {len(store)}"]
        return PlainTextResponse("\n".join(lines) + "\n")

    return app


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused with a 413 as soon as it is known to exceed `limit` bytes (from its
    Content-Length, or while a chunked body is read), so an oversized one is never held."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise _too_large(len(body), limit)
    return bytes(body)


def _too_large(size: int, limit: int) -> APIError:
    return APIError(f"the request body is {size} bytes; this server accepts at most {limit} "
                    "(serve.max_body_bytes)", status=413, code="limit_exceeded")


async def complete(service: Service, request: ChatRequest) -> dict[str, Any]:
    """One chat completion (not streamed) for the validated `request`."""
    _check_model(service, request.model)
    prompt = prompt_tokens(request, service.tokenizer, service.tool_style)
    budget = request.max_tokens or service.max_tokens
    if len(prompt) + budget > service.context_length:
        raise APIError(f"this model's context is {service.context_length} tokens; the prompt "
                       f"has {len(prompt)} and {budget} more were requested",
                       param="messages", code="context_length_exceeded")
    pick = None
    if service.select is not None and request.tool_mode and request.call_names is None:
        try:
            pick = await asyncio.to_thread(service.select, request.tools or [], request.query)
        except Exception as error:  # the head failing is the server's fault, not the request's
            raise APIError(f"tool selection failed: {type(error).__name__}: {error}",
                           status=500, kind="server_error") from None
    # Both before the try: a schema the grammar engine refuses is the request's error (400).
    job = Job(prompt, budget, request.settings, _grammar(service, request, pick),
              prefix_length(request, service.tokenizer, service.tool_style, prompt)
              if service.prefixes is not None else 0)
    service.in_flight += 1
    try:
        output = await service.batcher.submit(job)
    except Exception as error:  # a generation failure is the server's, not the request's
        raise APIError(f"generation failed: {type(error).__name__}: {error}", status=500,
                       kind="server_error") from None
    finally:
        service.in_flight -= 1
    stopped = bool(output) and output[-1] in service.stop_ids
    text = service.tokenizer.decode(output, skip_special_tokens=True)
    if request.tool_mode:
        message, finish = tool_reply(text, [tool["name"] for tool in request.tools or []],
                                     stopped=stopped, ranking_target=service.ranking_target)
    else:
        message, finish = chat_reply(text, stopped=stopped)
    return {"id": "chatcmpl-" + uuid.uuid4().hex, "object": "chat.completion",
            "created": int(time.time()), "model": service.model_id, "system_fingerprint": None,
            "choices": [{"index": 0, "message": message, "finish_reason": finish,
                         "logprobs": None}],
            "usage": {"prompt_tokens": len(prompt), "completion_tokens": len(output),
                      "total_tokens": len(prompt) + len(output)}}


def _grammar(service: Service, request: ChatRequest, pick: str | None = None
             ) -> RowGrammar | None:
    """The grammar a tool-mode reply is held to: always under `sample.constrain="tools"`, and
    whenever the request asks for it (`tool_choice` "required" or a named function, a `strict`
    tool), since only the grammar can guarantee those; opening with the head's `pick`."""
    if not request.tool_mode:
        return None
    if not (service.constrain or request.call_names is not None or request.strict):
        return None
    reply = ReplyFormat(call_names=request.call_names, ranking_target=service.ranking_target)
    grammar = RowGrammar.of(request.tools or [], reply if pick is None else reply.held_to(pick))
    if service.check_grammar is not None:
        try:
            service.check_grammar(grammar)
        except GentoolError as error:
            raise APIError(str(error), param="tools") from None
    return grammar


def _model_card(service: Service) -> dict[str, Any]:
    return {"id": service.model_id, "object": "model", "created": service.created,
            "owned_by": "gentool-jax"}


def _check_model(service: Service, model_id: str) -> None:
    if model_id != service.model_id:
        raise APIError(f"The model '{model_id}' does not exist; this server serves "
                       f"'{service.model_id}'", status=404, param="model",
                       code="model_not_found")
