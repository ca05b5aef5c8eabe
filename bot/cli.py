"""The `article-bot` command line: index, search, ask, chat, info, selftest, eval, bench,
run, forget, report."""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TextIO

from bot import __version__
from bot.answering import Answer
from bot.chat import render_sources
from bot.settings import Settings, SettingsError, load_settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

Handler = Callable[[argparse.Namespace, Settings], int]


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def format_answer(answer: Answer) -> str:
    """A readable terminal rendering: the answer, then its sources."""
    if not answer.citations:
        return answer.text
    return f"{answer.text}\n\n{render_sources(answer)}"


def _questions_from(stream: TextIO) -> Iterable[str]:
    for line in stream:
        line = line.rstrip("\n")
        if line.strip():
            yield line


def _printer(streamed: list[str]) -> Callable[[str], None]:
    def show(piece: str) -> None:
        streamed.append(piece)
        sys.stdout.write(piece)
        sys.stdout.flush()

    return show


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.wiring import build_answerer

    if args.question == "-":
        questions: Iterable[str] = _questions_from(sys.stdin)
    else:
        questions = [args.question]
    answerer = build_answerer(settings)
    for question in questions:
        if args.json:
            answer = answerer.answer(question)
            print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
        else:
            streamed: list[str] = []
            answer = answerer.answer(question, on_text=_printer(streamed))
            if streamed:
                # The text already streamed; print what the final answer adds (its sources).
                sys.stdout.write("\n")
                rendered = format_answer(answer)
                print(rendered[len(answer.text) :].lstrip("\n"), flush=True)
            else:
                print(format_answer(answer), flush=True)
            if args.question == "-":
                print()
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.chat import run_chat
    from bot.wiring import build_answerer

    answerer = build_answerer(settings)
    return run_chat(answerer, answerer.article, history_turns=settings.history_turns)


def cmd_info(args: argparse.Namespace, settings: Settings) -> int:
    from bot.wiring import describe_runtime

    info = describe_runtime(settings)
    if args.json:
        print(json.dumps(info, indent=2, default=str))
    else:
        for key, value in info.items():
            if isinstance(value, dict):
                print(f"{key}:")
                for k, v in value.items():
                    print(f"  {k}: {v}")
            else:
                print(f"{key}: {value}")
    return 0


def cmd_selftest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.wiring import resolve_model_path
    from models.selftest import run

    return run(resolve_model_path(settings), settings.n_threads)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.evaluation import load_questions, run_evaluation
    from bot.wiring import build_answerer

    if args.file is None and settings.article_path is not None:
        from index.article import load_article

        chosen = load_article(settings.article_path, settings.article_max_bytes)
        if chosen.sha256 != load_article().sha256:
            raise UsageError(
                f"the shipped question set is about the shipped article, not {chosen.source} "
                "(give a question file: article-bot eval QUESTIONS.jsonl --article FILE)"
            )
    try:
        questions = load_questions(args.file)
    except (OSError, ValueError) as exc:
        raise UsageError(f"question file {args.file}: {exc}") from None
    if args.limit:
        questions = questions[: args.limit]
    # Saved before the first question, so that no answer depends on how far that had got.
    answerer = build_answerer(settings, openings="wait")
    report = run_evaluation(answerer, questions, progress=not args.quiet)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(report.render())
    if args.details:
        with open(args.details, "w", encoding="utf-8") as fh:
            for row in report.rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0 if report.meets_targets() or not args.strict else 1


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bench import run_bench

    return run_bench(settings, short=args.short, load_n=args.load, json_out=args.json)


def _add_core_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ask", help="answer one question (or one per line from stdin with '-')")
    p.add_argument("question", help="the question, or '-' to read one question per line")
    p.add_argument("--json", action="store_true", help="print one JSON object per question")
    p.set_defaults(handler=cmd_ask)

    p = sub.add_parser(
        "chat",
        help="talk to the bot in the terminal (no Discord needed)",
        description="A terminal conversation with the same answers, sources and follow-up "
        "context as on Discord. Commands: /outline, /section <label>, /help, /quit.",
    )
    p.set_defaults(handler=cmd_chat)

    p = sub.add_parser(
        "info", help="print the effective settings, library versions and the llama.cpp build"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_info)

    p = sub.add_parser(
        "selftest", help="load the model and decode a short prompt in a child process"
    )
    p.set_defaults(handler=cmd_selftest)

    p = sub.add_parser("eval", help="run a question set and print quality metrics")
    p.add_argument(
        "file",
        nargs="?",
        default=None,
        help="JSONL question set (default: the shipped set, for the shipped article)",
    )
    p.add_argument("--limit", type=int, default=0, help="only the first N questions")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no per-question progress")
    p.add_argument("--details", help="write per-question results (JSONL) to this file")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    p.set_defaults(handler=cmd_eval)

    p = sub.add_parser("bench", help="measure speed against raw llama.cpp on this machine")
    p.add_argument("--short", action="store_true", help="fewer questions (for CI)")
    p.add_argument("--load", type=int, default=20, help="questions queued at once (load test)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_bench)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="article-bot",
        description="Answers questions about one article, citing its sections, with a local LLM.",
    )
    parser.add_argument("--version", action="version", version=f"article-bot {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from bot.cli_index import add_index_commands
    from bot.cli_records import add_records_commands
    from bot.discord_app.cli import add_discord_commands

    add_index_commands(sub)
    _add_core_commands(sub)
    add_discord_commands(sub)
    for command in sub.choices.values():
        command.add_argument(
            "--article",
            metavar="FILE",
            help="the article to answer from (text or Markdown; default: "
            "ARTICLE_BOT_ARTICLE_PATH, else the shipped article). Each article has its own index.",
        )
    add_records_commands(sub)
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    """Settings given on the command line, checked here so the message names the option."""
    article = getattr(args, "article", None)
    if article is None:
        return {}
    path = Path(article).expanduser()
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "not found"
        raise UsageError(f"--article {article}: {what} (give the path of a text or Markdown file)")
    return {"article_path": path}


def main(argv: Sequence[str] | None = None) -> int:
    # A native crash (SIGSEGV, SIGILL in llama.cpp) still kills the process, but first prints the
    # Python stack of every thread, so the log says where it died rather than nothing at all.
    with contextlib.suppress(RuntimeError, OSError, ValueError):  # stderr without a file
        faulthandler.enable()
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        settings = load_settings(**_overrides(args))
    except (SettingsError, UsageError) as exc:
        print(f"article-bot: {exc}", file=sys.stderr)
        return 2
    level = "DEBUG" if args.verbose else settings.log_level
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    try:
        return handler(args, settings)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        # Known failures (missing model, bad article, unreachable server) carry their fix in the
        # message; print it as one line rather than a traceback.
        from bot.wiring import USER_ERRORS

        if isinstance(exc, (UsageError, *USER_ERRORS)):
            print(f"article-bot: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
