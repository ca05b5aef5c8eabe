"""The `index` and `search` commands: build the passage index, and see what a question retrieves."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.settings import Settings


def add_index_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "index",
        help="build or refresh the passage index",
        description="Build the article's passage index, or check that it is up to date. Rebuilds "
        "when the article, the embedding model or the chunk settings changed, and repairs an "
        "unreadable index directory.",
    )
    p.add_argument("--force", action="store_true", help="rebuild even if the index is up to date")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the build report as JSON")
    p.set_defaults(handler=cmd_index)

    p = subparsers.add_parser(
        "search",
        help="show the passages a question retrieves",
        description="Retrieve the passages closest to a question (no language model involved).",
    )
    p.add_argument("question", help="the question")
    p.add_argument("-k", type=_positive, default=None, help="passages to show (default: top_k)")
    p.add_argument("--json", action="store_true", help="print the hits as JSON")
    p.set_defaults(handler=cmd_search)


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {n}")
    return n


def _fail(exc: Exception) -> int:
    print(f"article-bot: {exc}", file=sys.stderr)
    return 2


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from bot.wiring import USER_ERRORS, build_index

    try:
        _, _, index, report = build_index(settings, progress=not args.no_progress, force=args.force)
    except USER_ERRORS as exc:
        return _fail(exc)
    index.close()
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(f"{report.message} [{report.status}, {report.seconds:.2f} s]")
    return 0


def _excerpt(text: str, limit: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from bot.wiring import USER_ERRORS, open_index

    question = args.question.strip()
    if not question:
        return _fail(ValueError("the question is empty (pass a question in quotes)"))
    k = args.k or settings.top_k
    try:
        _, _, index, retriever = open_index(settings, progress=sys.stderr.isatty())
        hits = retriever.search(question, k)
    except USER_ERRORS as exc:
        return _fail(exc)
    index.close()
    if args.json:
        out: dict[str, Any] = {
            "question": question,
            "k": k,
            "hybrid_weight": retriever.hybrid_weight,
            "hits": [h.to_json() for h in hits],
        }
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    for rank, h in enumerate(hits, start=1):
        print(
            f"{rank:>2}. §{h.passage.section:<12} {h.passage.id:<16} score {h.score:.3f}  "
            f"dense {h.dense:.3f}  keyword {h.keyword:.3f}"
        )
        print(f"    {_excerpt(h.passage.text)}")
    return 0
