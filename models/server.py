"""The same chat completions, run by an OpenAI-compatible llama.cpp server in another process.

Written against llama-cpp-python's own server (``python -m llama_cpp.server``), which applies the
GGUF's chat template exactly as ``LocalLLM`` does. A schema is sent as the grammar that
``models.grammar`` makes of it (the request's ``grammar`` field, which llama.cpp's own
``llama-server`` accepts too) rather than as ``response_format``, whose conversion on the server
lets raw newlines into JSON strings. With greedy decoding both backends then give the same text.
The server keeps the KV cache of the previous request, so the fixed system prefix is reused there
too. Unlike ``LocalLLM``, a reply cut by ``max_tokens`` is not closed into valid JSON.

That server does not report token usage while streaming; the counts are then taken from its
``/extras/tokenize`` endpoint (the prompt count adds the chat template's few tokens per message
as an estimate: ``info()["usage"]`` says which way the last counts were made).
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from models.backend import Generation, JsonSchema, LLMServerError, Message
from models.grammar import schema_to_gbnf

# ChatML-style templates wrap each message in five tokens (start, role, newline, end, newline)
# and open the answer with three; only used when the server sends no usage.
_TEMPLATE_TOKENS_PER_MESSAGE = 5
_TEMPLATE_TOKENS_REPLY = 3
_PRIME_QUESTION = "Hello."
_COUNT_CACHE_SIZE = 64


class ServerLLM:
    """An ``LLMBackend`` that streams completions from ``{base_url}/chat/completions``."""

    def __init__(self, base_url: str, model: str | None = None, timeout_s: float = 120) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise LLMServerError(
                f"Not an http(s) URL: {base_url!r} (use e.g. "
                "ARTICLE_BOT_LLM_SERVER_URL=http://127.0.0.1:8001/v1)"
            )
        self.base_url = base_url.rstrip("/")
        # llama-cpp-python serves its tokenizer outside the /v1 prefix.
        self.root_url = self.base_url.removesuffix("/v1")
        self.model = model
        self.timeout_s = timeout_s
        self.name = f"server:{self.base_url}"
        self._client = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)))
        self._count = functools.lru_cache(maxsize=_COUNT_CACHE_SIZE)(self._count_uncached)
        self._last_usage_source = ""
        self._served_models: list[str] = []

    # --- requests -----------------------------------------------------------------------------
    def _fail(self, url: str, exc: Exception) -> LLMServerError:
        fix = (
            "start it with `python -m llama_cpp.server --model <file.gguf> --host 127.0.0.1 "
            "--port 8001` or unset ARTICLE_BOT_LLM_SERVER_URL to run the model in-process"
        )
        if isinstance(exc, httpx.TimeoutException):
            return LLMServerError(
                f"LLM server at {url} did not answer within {self.timeout_s:g}s ({fix})"
            )
        if isinstance(exc, httpx.HTTPStatusError):
            try:
                body = exc.response.text[:300]
            except httpx.ResponseNotRead:
                body = ""
            return LLMServerError(
                f"LLM server at {url} answered HTTP {exc.response.status_code}: {body} "
                "(check the request and the server's log)"
            )
        return LLMServerError(f"Cannot reach the LLM server at {url}: {exc} ({fix})")

    def _post_json(self, url: str, payload: dict[str, Any]) -> Any:
        try:
            response = self._client.post(url, json=payload)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise self._fail(url, exc) from exc

    def check(self) -> list[str]:
        """The model ids the server offers; raises ``LLMServerError`` if it is not reachable."""
        url = f"{self.base_url}/models"
        try:
            response = self._client.get(url)
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise self._fail(url, exc) from exc
        self._served_models = [str(m.get("id", "")) for m in data.get("data", [])]
        return self._served_models

    def _events(self, url: str, payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """The JSON objects of a server-sent event stream."""
        try:
            with self._client.stream("POST", url, json=payload) as response:
                if response.status_code >= 400:
                    response.read()
                    response.raise_for_status()
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue  # blank separators, ": ping" comments
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    try:
                        yield json.loads(data)
                    except ValueError as exc:
                        raise LLMServerError(
                            f"LLM server at {url} sent a malformed event: {data[:200]!r}"
                        ) from exc
        except httpx.HTTPError as exc:
            raise self._fail(url, exc) from exc

    # --- LLMBackend ---------------------------------------------------------------------------
    def complete(
        self,
        messages: list[Message],
        *,
        schema: JsonSchema | None = None,
        max_tokens: int = 256,
        on_text: Callable[[str], None] | None = None,
        opening_bias: Mapping[str, float] | None = None,
    ) -> Generation:
        # ``opening_bias`` is not sent: the server's logit_bias would apply at every step.
        url = f"{self.base_url}/chat/completions"
        payload: dict[str, Any] = {
            "messages": messages,
            "temperature": 0,
            # llama-cpp-python's default is 1.1, which would penalise JSON's repeated quotes
            # and differ from the in-process backend.
            "repeat_penalty": 1.0,
            "max_tokens": max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if self.model:
            payload["model"] = self.model
        if schema is not None:
            # The grammar itself rather than response_format: the server would convert the
            # schema with the converter whose string rule admits raw newlines (models.grammar).
            payload["grammar"] = schema_to_gbnf(schema)
        start = time.perf_counter()
        first_token_ms = 0.0
        parts: list[str] = []
        finish_reason = "length"
        usage: dict[str, Any] | None = None
        for event in self._events(url, payload):
            if event.get("error"):
                raise LLMServerError(f"LLM server at {url} reported: {event['error']}")
            if event.get("usage"):
                usage = event["usage"]
            for choice in event.get("choices") or []:
                delta = (choice.get("delta") or {}).get("content")
                if delta:
                    if not first_token_ms:
                        first_token_ms = (time.perf_counter() - start) * 1000.0
                    parts.append(delta)
                    if on_text is not None:
                        on_text(delta)
                if choice.get("finish_reason"):
                    finish_reason = str(choice["finish_reason"])
        total_ms = (time.perf_counter() - start) * 1000.0
        text = "".join(parts)
        if usage is not None:
            self._last_usage_source = "server"
            prompt_tokens = int(usage.get("prompt_tokens", 0))
            completion_tokens = int(usage.get("completion_tokens", 0))
            details = usage.get("prompt_tokens_details") or {}
            cached_tokens = int(details.get("cached_tokens", 0) or 0)
        else:
            self._last_usage_source = "tokenize"
            prompt_tokens = self._estimate_prompt_tokens(messages)
            completion_tokens = self.count_tokens(text) if text else 0
            cached_tokens = 0
        return Generation(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cached_tokens=cached_tokens,
            first_token_ms=first_token_ms or total_ms,
            total_ms=total_ms,
            finish_reason="stop" if finish_reason == "stop" else "length",
        )

    def prime(self, messages: list[Message]) -> float:
        """Send the fixed prefix once (one generated token) so the server caches it."""
        fixed = list(messages)
        if fixed and fixed[-1].get("role") == "user":
            fixed.pop()
        start = time.perf_counter()
        self.complete([*fixed, {"role": "user", "content": _PRIME_QUESTION}], max_tokens=1)
        return (time.perf_counter() - start) * 1000.0

    def count_tokens(self, text: str) -> int:
        return self._count(text)

    def _count_uncached(self, text: str) -> int:
        url = f"{self.root_url}/extras/tokenize"
        payload: dict[str, Any] = {"input": text}
        if self.model:
            payload["model"] = self.model
        data = self._post_json(url, payload)
        try:
            count = len(data["tokens"])
        except (KeyError, TypeError) as exc:
            raise LLMServerError(
                f"LLM server at {url} has no llama-cpp-python tokenizer endpoint (answer: "
                f"{str(data)[:200]})"
            ) from exc
        return count

    def _estimate_prompt_tokens(self, messages: list[Message]) -> int:
        content = sum(self.count_tokens(m.get("content", "")) for m in messages)
        return content + _TEMPLATE_TOKENS_PER_MESSAGE * len(messages) + _TEMPLATE_TOKENS_REPLY

    def info(self) -> dict[str, object]:
        return {
            "backend": "server",
            "name": self.name,
            "base_url": self.base_url,
            "model": self.model or (self._served_models[0] if self._served_models else ""),
            "timeout_s": self.timeout_s,
            "usage": self._last_usage_source,
        }

    def close(self) -> None:
        self._client.close()
