"""How fast LocalLLM answers, phase by phase, next to the raw llama.cpp limit.

Measures, for one GGUF and thread count: model load; evaluating a long fixed system message
(cold, no saved state), saving that KV state and loading it in a fresh instance; time to first
token and generation speed for short questions with the prefix cached (the bot's steady state)
and without it; then ``rawbench``'s pp/tg speed. Prints one JSON object.

Run: ``python -m models.benchmark MODEL.gguf --system-file index/data/article.txt``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from models.local import LocalLLM
from models.rawbench import raw_speed

INSTRUCTIONS = (
    "You answer questions about one article, using only the article below. Reply in JSON: "
    '"answerable" says whether the article answers the question, "evidence" lists the numbers '
    'of the paragraphs you used, "answer" is one to three plain sentences.\n\nThe article:\n\n'
)
QUESTIONS = (
    "What is the article's main argument?",
    "What does the author say about competition?",
    "Which risks does the conclusion mention?",
    "Who founded the company?",
    "What happened in the first section?",
)


def answer_schema(n_paragraphs: int) -> dict[str, Any]:
    """The shape of the bot's answers: a refusal, or an answer with cited paragraphs."""
    return {
        "oneOf": [
            {
                "type": "object",
                "properties": {"answerable": {"const": False}},
                "required": ["answerable"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {
                    "answerable": {"const": True},
                    "evidence": {
                        "type": "array",
                        "items": {"type": "integer", "enum": list(range(1, n_paragraphs + 1))},
                        "minItems": 1,
                        "maxItems": 3,
                    },
                    "answer": {"type": "string", "minLength": 1, "maxLength": 600},
                },
                "required": ["answerable", "evidence", "answer"],
                "additionalProperties": False,
            },
        ]
    }


def numbered_article(text: str) -> tuple[str, int]:
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    return "\n".join(f"[{i}] {p}" for i, p in enumerate(paragraphs, start=1)), len(paragraphs)


def _ms(value: object) -> float:
    return round(float(value), 1) if isinstance(value, int | float) else 0.0


def measure(
    model_path: Path,
    n_threads: int,
    system_text: str,
    *,
    n_ctx: int = 4096,
    max_tokens: int = 160,
    questions: tuple[str, ...] = QUESTIONS,
    raw: bool = True,
) -> dict[str, Any]:
    article, n_paragraphs = numbered_article(system_text)
    system = INSTRUCTIONS + article
    schema = answer_schema(n_paragraphs)

    def ask(q: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": system}, {"role": "user", "content": q}]

    result: dict[str, Any] = {"model": str(model_path), "n_threads": n_threads, "n_ctx": n_ctx}
    with tempfile.TemporaryDirectory() as state_dir:
        with LocalLLM(model_path, n_threads, n_ctx=n_ctx, state_dir=Path(state_dir)) as llm:
            result["load_ms"] = _ms(llm.load_ms)
            result["system_tokens"] = len(llm.prefix_tokens(ask("")))
            llm.prime(ask(""))
            cold = llm.prime_stats
            result["prefix_eval_ms"] = _ms(cold.get("eval_ms"))
            result["prefix_eval_tokens_per_s"] = round(
                result["system_tokens"] / (cold.get("eval_ms", 0) or 1) * 1000, 1
            )
            result["state_save_ms"] = _ms(cold.get("save_ms"))
            result["state_bytes"] = cold.get("state_bytes", 0)
            warm = [llm.complete(ask(q), schema=schema, max_tokens=max_tokens) for q in questions]
        with LocalLLM(model_path, n_threads, n_ctx=n_ctx, state_dir=Path(state_dir)) as fresh:
            result["second_load_ms"] = _ms(fresh.load_ms)
            result["cold_start_ms"] = _ms(fresh.load_ms + fresh.prime(ask("")))
            loaded = fresh.prime_stats
            result["state_source"] = loaded.get("source")
            result["state_load_ms"] = _ms(loaded.get("load_ms"))
            after_load = fresh.complete(ask(questions[0]), schema=schema, max_tokens=max_tokens)
            result["same_text_after_state_load"] = after_load.text == warm[0].text
            result["first_token_ms_after_state_load"] = _ms(after_load.first_token_ms)
            # No cache at all: the whole prompt is evaluated before the first token.
            fresh.clear_cache()
            uncached = fresh.complete(ask(questions[1]), schema=schema, max_tokens=max_tokens)
    result["first_token_ms_uncached"] = _ms(uncached.first_token_ms)
    result["uncached_prompt_tokens"] = uncached.prompt_tokens
    ttft = [g.first_token_ms for g in warm]
    result["first_token_ms_warm"] = [_ms(t) for t in ttft]
    result["first_token_ms_warm_p50"] = _ms(statistics.median(ttft))
    result["cached_tokens_warm"] = [g.cached_tokens for g in warm]
    result["prompt_tokens_warm"] = [g.prompt_tokens for g in warm]
    result["completion_tokens"] = [g.completion_tokens for g in warm]
    result["finish_reasons"] = [g.finish_reason for g in warm]
    result["total_ms"] = [_ms(g.total_ms) for g in warm]
    gen_tokens = sum(g.completion_tokens - 1 for g in warm)
    gen_ms = sum(g.total_ms - g.first_token_ms for g in warm)
    result["generation_tokens_per_s"] = round(gen_tokens / gen_ms * 1000, 1) if gen_ms else 0.0
    result["answers"] = [g.text for g in warm]
    if raw:
        speed = raw_speed(model_path, n_threads, n_prompt=512, n_gen=64, n_ctx=2048)
        result["raw_pp_tokens_per_s"] = round(speed.pp_tokens_per_s, 1)
        result["raw_tg_tokens_per_s"] = round(speed.tg_tokens_per_s, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="GGUF file")
    parser.add_argument("--system-file", type=Path, required=True, help="text of the article")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--max-tokens", type=int, default=160)
    parser.add_argument("--no-raw", action="store_true", help="skip the raw llama.cpp speed")
    args = parser.parse_args(argv)
    result = measure(
        args.model,
        args.threads,
        args.system_file.read_text(encoding="utf-8"),
        n_ctx=args.n_ctx,
        max_tokens=args.max_tokens,
        raw=not args.no_raw,
    )
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
