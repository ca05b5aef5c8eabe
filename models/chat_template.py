"""Messages to prompt tokens with the chat template stored in the GGUF, and JSON schemas to
grammars that llama.cpp has checked.

The prompt is rendered and tokenized exactly as llama-cpp-python's chat handler (and therefore
its OpenAI-compatible server) does, so the same messages give the same tokens, and greedy
decoding the same text, in both backends.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from models import llama_adapter as llama
from models.backend import JsonSchema, Message, SchemaError
from models.grammar import schema_to_gbnf
from models.greedy import common_prefix

# Placeholder questions used to find where the fixed prefix ends: the tokens the two prompts share
# are the prefix (the template's text up to the user's content, however it tokenizes).
_PROBE_A = "Alpha probe question?"
_PROBE_B = "Zulu probe question?"
_GRAMMARS_KEPT = 32


class ChatTemplate:
    """The chat template of a loaded ``llama_cpp.Llama``; ``source`` says where it came from
    ("gguf", or "chatml-fallback" for a GGUF without one)."""

    def __init__(self, llm: Any, lib: Any) -> None:
        from llama_cpp import llama_chat_format

        self._llm = llm
        self._lib = lib
        eos = llm.token_eos()
        bos = llm.token_bos()
        eos_text = llama.token_text(llm, eos) if eos != -1 else ""
        bos_text = llama.token_text(llm, bos) if bos != -1 else ""
        template = llm.metadata.get("tokenizer.chat_template")
        self.source = "gguf"
        if not template:
            # A GGUF without a template is most likely a ChatML model converted without one.
            template, self.source = llama_chat_format.CHATML_CHAT_TEMPLATE, "chatml-fallback"
        self._formatter: Any = llama_chat_format.Jinja2ChatFormatter(
            template=template, eos_token=eos_text, bos_token=bos_text, stop_token_ids=[eos]
        )
        # Callers may vary the schema per call: keep the recent ones.
        self._grammar = functools.lru_cache(maxsize=_GRAMMARS_KEPT)(self._checked_grammar)

    def render(self, messages: list[Message]) -> str:
        """The prompt text of ``messages`` (ends with the assistant header)."""
        return str(self._formatter(messages=messages).prompt)

    def tokens(self, messages: list[Message]) -> list[int]:
        result = self._formatter(messages=messages)
        tokens = self._llm.tokenize(
            result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True
        )
        return [int(t) for t in tokens]

    def prefix_tokens(self, messages: list[Message], opening: str = "") -> list[int]:
        """Tokens of ``messages`` rendered up to where a following user message's text begins,
        or, with ``opening``, up to where its text after ``opening`` begins.

        A trailing user message in ``messages`` is treated as the variable part and left out.
        """
        fixed = list(messages)
        if fixed and fixed[-1].get("role") == "user":
            fixed.pop()
        a = self.tokens([*fixed, {"role": "user", "content": opening + _PROBE_A}])
        b = self.tokens([*fixed, {"role": "user", "content": opening + _PROBE_B}])
        return a[: common_prefix(a, b)]

    def grammar(self, schema: JsonSchema) -> str:
        """The llama.cpp grammar (GBNF) for ``schema``, checked and cached; ``SchemaError`` if
        it has none."""
        # Property order matters (it is the order of generation): the key keeps it.
        return self._grammar(json.dumps(schema))

    def _checked_grammar(self, key: str) -> str:
        gbnf = schema_to_gbnf(json.loads(key))
        # llama.cpp parses the grammar only when sampling starts, and a NULL sampler from a bad
        # grammar would crash there: parse it once now to fail with a message instead.
        probe = self._lib.llama_sampler_init_grammar(
            llama.vocab(self._llm), gbnf.encode("utf-8"), b"root"
        )
        if not probe:
            raise SchemaError(
                f"llama.cpp rejected the grammar made from this JSON schema (schema: {key[:200]})"
            )
        self._lib.llama_sampler_free(probe)
        return gbnf
