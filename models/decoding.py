"""One greedy completion, token by token: streaming the text, closing a JSON cut short by the
token budget, and noting how sure the model was of each boolean field.

The loop itself (KV-prefix reuse, grammar asked about the model's first choice) is
``models.greedy``; this module adds what the bot's answers need around it.
"""

from __future__ import annotations

import codecs
import json
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models import llama_adapter as llama
from models.backend import JsonSchema, LLMError
from models.greedy import GrammarSampler, greedy_tokens

# After max_tokens, a schema-constrained output gets this many more tokens to close its JSON.
CLOSING_TOKENS = 64
_CLOSING_CHARS = frozenset(b'"]}')
_CLOSING_BOOST = 1000.0


class CloseJsonBias:
    """Logits processor, idle until the token budget is spent; then it makes tokens made only
    of closing quotes and brackets win wherever the grammar allows them, so the JSON closes in
    a few tokens (a string ends, an array ends once minItems is met, an object once its required
    keys are written) instead of being cut off unparseable."""

    def __init__(self, closing_ids: Any) -> None:
        self.closing_ids = closing_ids
        self.active = False

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self.active:
            scores[self.closing_ids] += _CLOSING_BOOST
        return scores


class BooleanProbe:
    """Logits observer: at each step where the text so far ends in ``"name"`` or ``"name":`` of
    a boolean field and the grammar allows both values, it notes the best logit among allowed
    tokens that begin ``true`` minus the best among those that begin ``false``; the last such
    step is the one where the model chose. Only those few tokens are put to the grammar."""

    _KEY = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)"\s*(?::\s*)?$')

    def __init__(
        self, fields: frozenset[str], true_ids: Any, false_ids: Any, sampler: GrammarSampler
    ) -> None:
        self.fields = fields
        self.true_ids = true_ids
        self.false_ids = false_ids
        self.sampler = sampler
        self.text: list[str] = []
        self.margins: dict[str, float] = {}

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        match = self._KEY.search("".join(self.text[-16:]))
        if match and match.group(1) in self.fields:
            best_true = self.sampler.allowed(scores, self.true_ids).max()
            best_false = self.sampler.allowed(scores, self.false_ids).max()
            if math.isfinite(best_true) and math.isfinite(best_false):
                self.margins[match.group(1)] = float(best_true - best_false)
        return scores


def forced_opening(schema: JsonSchema | None) -> str:
    """The text every reply to ``schema`` begins with, up to the first character of its first
    field's string value: ``{"answer": "`` for the bot's answers; "" when the reply may begin
    otherwise. Evaluated with the prompt in one batch, it costs one step instead of one decoding
    step per token before the first word of the answer."""
    if not schema or schema.get("type") != "object" or schema.get("additionalProperties", True):
        return ""
    properties = schema.get("properties")
    required = schema.get("required", [])
    if not isinstance(properties, dict) or not properties or not isinstance(required, list):
        return ""
    name, spec = next(iter(properties.items()))
    plain = isinstance(spec, dict) and spec.get("type") == "string"
    # A pattern bounds the string's characters, not its opening quote: the grammar still
    # begins the reply this way (and the caller checks that it accepts it).
    if name not in required or not plain or "enum" in spec:
        return ""
    return "{" + json.dumps(name) + ': "'


def boolean_fields(schema: JsonSchema) -> frozenset[str]:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return frozenset()
    return frozenset(
        name
        for name, spec in properties.items()
        if isinstance(spec, dict) and spec.get("type") == "boolean"
    )


class SpecialTokens:
    """Token ids found by scanning the vocabulary once (each scan reads every token)."""

    def __init__(self, llm: Any, name: str) -> None:
        self._llm = llm
        self._name = name
        self._closing: Any = None
        self._boolean: tuple[Any, Any] | None = None

    def closing(self) -> Any:
        """Tokens made only of closing quotes and brackets (and spaces)."""
        if self._closing is None:
            ids = [
                i
                for i in range(self._llm.n_vocab())
                if (piece := llama.token_piece(self._llm, i).rstrip(b"\0").strip(b" "))
                and set(piece) <= _CLOSING_CHARS
            ]
            self._closing = np.array(ids, dtype=np.intc)
        return self._closing

    def boolean(self) -> tuple[Any, Any]:
        """Tokens that begin the value ``true`` / ``false``: "t", " tr", ":true", ..."""
        if self._boolean is None:
            found: dict[bytes, list[int]] = {b"true": [], b"false": []}
            for i in range(self._llm.n_vocab()):
                piece = llama.token_piece(self._llm, i)
                piece = piece.rstrip(b"\0").lstrip(b" \t\n:").rstrip(b" ")
                for word, ids in found.items():
                    if piece and word.startswith(piece):
                        ids.append(i)
            if not found[b"true"] or not found[b"false"]:
                raise LLMError(f"{self._name}: no token spells true/false")
            self._boolean = (
                np.array(found[b"true"], dtype=np.intc),
                np.array(found[b"false"], dtype=np.intc),
            )
        return self._boolean


@dataclass
class Decoded:
    text: str
    completion_tokens: int
    first_token_ms: float  # 0 when no token came
    finish_reason: str
    boolean_margins: dict[str, float] = field(default_factory=dict)


def decode(
    llm: Any,
    lib: Any,
    tokens: list[int],
    *,
    grammar: str | None,
    schema: JsonSchema | None,
    special: SpecialTokens,
    max_tokens: int,
    room: int,
    on_text: Callable[[str], None] | None,
    start: float,
    opening_bias: Mapping[int, float] | None = None,
    fixed: int = 0,
) -> Decoded:
    """The greedy continuation of ``tokens`` (the caller holds the model's lock).

    ``room``: tokens left in the context; ``start``: the ``perf_counter`` the call began at;
    ``opening_bias``: logits added to these tokens at the first step of the answer text;
    ``fixed``: how many leading tokens are the fixed prefix (``models.greedy.greedy_tokens``).
    """
    closer = CloseJsonBias(special.closing()) if grammar is not None else None
    probe: BooleanProbe | None = None
    fields = boolean_fields(schema) if schema is not None else frozenset()

    first_step = dict(opening_bias or {})

    def bias(input_ids: Any, scores: Any) -> Any:
        if first_step:
            for token, value in first_step.items():
                scores[token] += value
            first_step.clear()
        if probe is not None:
            probe(input_ids, scores)
        if closer is not None:
            closer(input_ids, scores)
        return scores

    vocab = llama.vocab(llm)
    sampler = GrammarSampler(lib, vocab, llm.n_vocab(), grammar) if grammar is not None else None
    decoder = codecs.getincrementaldecoder("utf-8")(errors="ignore")
    pieces: list[bytes] = []
    opening = forced_opening(schema) if sampler is not None else ""
    if opening and sampler is not None and grammar is not None:
        forced = llm.tokenize(opening.encode("utf-8"), add_bos=False, special=False)
        if room - len(forced) <= max_tokens or not sampler.accepts_all(forced):
            sampler.close()
            sampler = GrammarSampler(lib, vocab, llm.n_vocab(), grammar)
            opening = ""
        else:
            tokens = [*tokens, *forced]
            room -= len(forced)
            pieces.append(opening.encode("utf-8"))
            if on_text is not None:
                on_text(opening)
    if fields and sampler is not None:
        true_ids, false_ids = special.boolean()
        probe = BooleanProbe(fields, true_ids, false_ids, sampler)
        if opening:
            probe.text.append(opening)
    hard_limit = min(max_tokens + CLOSING_TOKENS, room) if closer else max_tokens
    completion = 0
    first_token_ms = 0.0
    finish_reason = "length"
    if grammar is not None and not opening:
        first_step.clear()  # the first step would be JSON syntax, not the answer's first word
    observe = bias if closer is not None or first_step else None
    try:
        for token in greedy_tokens(llm, lib, tokens, sampler, bias=observe, fixed=fixed):
            if not first_token_ms:
                first_token_ms = (time.perf_counter() - start) * 1000.0
            if lib.llama_vocab_is_eog(vocab, token):
                # A grammar ends only when the JSON is complete: then the model's stop token is
                # the only one allowed.
                finish_reason = "length" if closer and closer.active else "stop"
                break
            completion += 1
            piece = llm.detokenize([token])
            pieces.append(piece)
            delta = decoder.decode(piece)
            if probe is not None and delta:
                probe.text.append(delta)
            if delta and on_text is not None:
                on_text(delta)
            if completion >= hard_limit:
                break
            if closer is not None and completion >= max_tokens:
                closer.active = True
        tail = decoder.decode(b"", final=True)
        if tail and on_text is not None:
            on_text(tail)
    finally:
        if sampler is not None:
            sampler.close()
    return Decoded(
        text=b"".join(pieces).decode("utf-8", errors="ignore"),
        completion_tokens=completion,
        first_token_ms=first_token_ms,
        finish_reason=finish_reason,
        boolean_margins=dict(probe.margins) if probe is not None else {},
    )
