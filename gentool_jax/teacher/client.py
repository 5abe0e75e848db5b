"""A small OpenAI-compatible Chat Completions client for the teacher LLM (stdlib only).

Why not the `openai` package: it is a test extra, not a main dependency, and the teacher needs
only one POST. What this adds over a bare `urllib` call is what a long generation run needs:
- retries with exponential backoff and jitter on timeouts, connection errors, 429 and 5xx
  (a `Retry-After` header wins), and none on other 4xx, which fail the run with one line;
- a response cache on disk, so a rerun (or a resumed, interrupted run) costs nothing and
  replays the same replies, which makes its output byte-identical;
- token, request, cache-hit and retry accounting for `teacher_stats.json`.
The API key is only ever sent in the Authorization header; no message includes it.
"""

from __future__ import annotations

import email.utils
import hashlib
import http.client
import json
import os
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gentool_jax.errors import GentoolError

Messages = list[dict[str, str]]
# Longest wait between two attempts, whatever Retry-After or the backoff asks for.
_MAX_WAIT_S = 60.0
_BACKOFF_BASE_S = 0.5


class TeacherError(GentoolError):
    """The teacher endpoint refused a request (or kept failing): the run stops."""


@dataclass
class ClientStats:
    """What the run cost: HTTP requests sent, replies served from the cache, and tokens."""

    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class ClientSettings:
    base_url: str
    model: str
    temperature: float
    timeout_s: float
    max_retries: int
    max_tokens: int  # 0: not sent (the endpoint's default)


class ResponseCache:
    """Replies by request key in one append-only JSONL file.

    Each entry is written with a single `os.write` on an O_APPEND descriptor, so concurrent
    writers (threads or processes) never interleave inside a line; a torn last line (a kill
    mid-write) is ignored on load and the request is simply sent again."""

    def __init__(self, directory: Path):
        self.path = directory / "responses.jsonl"
        self._lock = threading.Lock()
        self._entries: dict[str, str] = {}
        if self.path.is_file():
            for raw in self.path.read_bytes().splitlines():
                try:
                    entry = json.loads(raw)
                    self._entries[entry["key"]] = entry["content"]
                except (ValueError, KeyError, TypeError):
                    continue

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: str, content: str) -> None:
        line = json.dumps({"key": key, "content": content}, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
            self._entries[key] = content


def request_key(settings: ClientSettings, messages: Messages) -> str:
    """sha256 of everything that decides the reply (max_tokens too: it can cut a reply)."""
    parts = {"base_url": settings.base_url.rstrip("/"), "model": settings.model,
             "messages": messages, "temperature": settings.temperature}
    if settings.max_tokens:
        parts["max_tokens"] = settings.max_tokens
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()
                          ).hexdigest()


class _Retryable(Exception):
    def __init__(self, reason: str, wait_s: float | None = None):
        super().__init__(reason)
        self.wait_s = wait_s


class TeacherClient:
    """`complete(messages)` -> the reply's text, from the cache or the endpoint (thread-safe)."""

    def __init__(self, settings: ClientSettings, api_key: str, cache_dir: Path,
                 sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self._api_key = api_key
        self.cache = ResponseCache(cache_dir)
        self.stats = ClientStats()
        self._lock = threading.Lock()
        self._sleep = sleep
        self._failed: TeacherError | None = None  # once set, every later call stops at once

    @property
    def url(self) -> str:
        return self.settings.base_url.rstrip("/") + "/chat/completions"

    def complete(self, messages: Messages) -> str:
        key = request_key(self.settings, messages)
        cached = self.cache.get(key)
        if cached is not None:
            self._count(cache_hits=1)
            return cached
        if self._failed is not None:
            raise self._failed
        body = {"model": self.settings.model, "messages": messages,
                "temperature": self.settings.temperature}
        if self.settings.max_tokens:
            body["max_tokens"] = self.settings.max_tokens
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        for attempt in range(self.settings.max_retries + 1):
            try:
                content = self._post(payload)
                break
            except _Retryable as error:
                if attempt == self.settings.max_retries:
                    raise self._fail(f"teacher endpoint {self.url} still failing after "
                                     f"{attempt + 1} attempts: {error}") from None
                self._count(retries=1)
                backoff = _BACKOFF_BASE_S * 2 ** attempt * (1 + random.random())
                wait = error.wait_s if error.wait_s is not None else backoff
                self._sleep(min(max(wait, 0.0), _MAX_WAIT_S))
        self.cache.put(key, content)
        return content

    def _fail(self, message: str) -> TeacherError:
        error = TeacherError(message)
        with self._lock:
            self._failed = self._failed or error
        return error

    def _count(self, **amounts: int) -> None:
        with self._lock:
            for name, amount in amounts.items():
                setattr(self.stats, name, getattr(self.stats, name) + amount)

    def _post(self, payload: bytes) -> str:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(self.url, data=payload, headers=headers, method="POST")
        self._count(requests=1)
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            detail = _error_detail(error)
            if error.code == 429 or error.code >= 500:
                raise _Retryable(f"HTTP {error.code}{detail}",
                                 _retry_after(error.headers.get("Retry-After"))) from None
            if self._api_key:
                detail = detail.replace(self._api_key, "***")
            raise self._fail(f"teacher endpoint {self.url} answered HTTP {error.code}{detail} "
                             "(not retried)") from None
        except TimeoutError:
            raise _Retryable(f"timed out after {self.settings.timeout_s}s") from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise _Retryable(f"timed out after {self.settings.timeout_s}s") from None
            raise _Retryable(f"connection error: {error.reason}") from None
        except (ConnectionError, http.client.HTTPException) as error:
            raise _Retryable(f"connection error: {type(error).__name__}") from None
        return self._content(raw)

    def _content(self, raw: bytes) -> str:
        try:
            reply = json.loads(raw)
            content = reply["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise _Retryable("reply is not a chat completion") from None
        usage = reply.get("usage") if isinstance(reply.get("usage"), dict) else {}
        self._count(prompt_tokens=_int(usage.get("prompt_tokens")),
                    completion_tokens=_int(usage.get("completion_tokens")))
        return content if isinstance(content, str) else ""


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delay-seconds or an HTTP date), or None."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment.timestamp() - time.time()


def _error_detail(error: urllib.error.HTTPError) -> str:
    """': <message>' from an OpenAI error body, on one line and short ('' when there is none)."""
    try:
        body = json.loads(error.read() or b"{}")
        message = body.get("error", {}).get("message") if isinstance(body, dict) else None
    except (ValueError, AttributeError, OSError):
        message = None
    if not isinstance(message, str) or not message.strip():
        return ""
    return ": " + " ".join(message.split())[:200]
