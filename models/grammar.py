"""JSON schema to llama.cpp grammar (GBNF), shared by both backends.

The conversion is llama-cpp-python's own (``json_schema_to_gbnf``), with one repair: its string
character rule (version 0.3.36) admits raw control characters, so a model could put a literal
newline inside a JSON string and the output would not parse. llama.cpp's reference converter
excludes them; the same rule is substituted here.

Supported schema keywords (what the converter understands): ``type`` (object, array, string,
number, integer, boolean, null, or a list of them), ``properties`` / ``required`` (properties not
required become optional; generated in the order written), ``additionalProperties``, ``enum``,
``const``, ``anyOf`` / ``oneOf`` (both mean "one of these shapes"), ``allOf`` of objects,
``$ref`` / ``$defs``, ``items`` / ``prefixItems`` with ``minItems`` / ``maxItems``, strings with
``minLength`` / ``maxLength`` (only together with ``"type": "string"``), ``pattern`` and the
``date``/``time``/``date-time``/``uuid`` formats. Numeric bounds (``minimum``, ``maximum``) are
ignored. ``maxLength`` counts characters, not tokens: a bounded string still needs
``max_tokens`` large enough to close it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from models.backend import SchemaError

# llama.cpp's rule: any character but quote, backslash and control characters, or an escape.
JSON_CHAR_RULE = (
    r'char ::= [^"\\\x7F\x00-\x1F] | [\\] (["\\/bfnrt] | "u" [0-9a-fA-F] [0-9a-fA-F] '
    r"[0-9a-fA-F] [0-9a-fA-F])"
)
_CHAR_RULE_LINE = re.compile(r"^char ::= .*$", re.MULTILINE)


def schema_to_gbnf(schema: dict[str, Any]) -> str:
    """The grammar whose sentences are exactly the JSON texts the converter allows for
    ``schema``; ``SchemaError`` if the converter cannot handle it."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        text = json.dumps(schema)
        gbnf = json_schema_to_gbnf(text)
    except Exception as exc:  # the converter asserts and raises freely on bad schemas
        raise SchemaError(
            f"llama.cpp cannot turn this JSON schema into a grammar: {exc!r} "
            f"(schema: {json.dumps(schema)[:200]})"
        ) from exc
    return _CHAR_RULE_LINE.sub(lambda _: JSON_CHAR_RULE, gbnf)
