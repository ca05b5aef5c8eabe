"""A terminal conversation with the bot: the same answers, sources and follow-up context as on
Discord, streamed as they are generated. Commands: /outline, /section <label>, /help, /quit."""

from __future__ import annotations

import logging
import sys
from collections import deque
from typing import TextIO

from bot.answering import Answer, Answerer, Turn
from index.article import Article, ArticleError

log = logging.getLogger(__name__)

PROMPT = "you> "


def help_text(article: Article) -> str:
    example = article.labels[min(1, len(article.labels) - 1)]
    return f"""\
Ask a question about “{article.display_title}”; follow-up questions keep the last few turns as
context.
  /outline          the article's sections
  /section <label>  one section's text (e.g. /section {example})
  /new              forget the conversation so far
  /help             this text
  /quit             leave (or Ctrl-D)"""


def render_sources(answer: Answer, article: Article | None = None) -> str:
    """The cited sections with their verbatim quotes, for a terminal (``ask`` and ``chat``);
    section titles from ``article`` when given, else the citations' own headings."""
    titles = {s.label: s.title for s in article.sections} if article is not None else {}
    lines = ["Sources:"]
    for c in answer.citations:
        title = titles.get(c.section) or c.heading
        lines.append(f"  §{c.section} — {title}" if title else f"  §{c.section}")
        for quote_line in c.quote.splitlines() or [""]:
            lines.append(f"    > {quote_line}")
    return "\n".join(lines)


def render_outline(article: Article) -> str:
    lines = [f"{article.display_title}: sections"]
    for s in article.sections:
        lines.append(f"  §{s.label:<12} {s.title}  ({len(s.body.split()):,} words)")
    return "\n".join(lines)


def render_section(article: Article, label: str) -> str:
    if not label:
        return "Which section? " + ", ".join(article.labels)
    try:
        section = article.section(label)
    except ArticleError as exc:
        return str(exc)
    return f"§{section.label} — {section.title}\n\n{section.body}"


class _Conversation:
    def __init__(self, answerer: Answerer, article: Article, output: TextIO, turns: int) -> None:
        self.answerer = answerer
        self.article = article
        self.out = output
        self.limit = turns
        self.history: deque[Turn] = deque(maxlen=max(1, turns))

    def write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def ask(self, question: str) -> None:
        streamed: list[str] = []

        def show(piece: str) -> None:
            if not streamed:
                self.write("bot> ")
            streamed.append(piece)
            self.write(piece)

        history = tuple(self.history)[-self.limit :] if self.limit else ()
        try:
            answer = self.answerer.answer(question, history=history, on_text=show)
        except Exception:
            log.exception("the answerer failed")
            self.write(
                ("\n" if streamed else "") + "bot> Something went wrong; please try again.\n\n"
            )
            return
        if streamed:
            self.write("\n")
            # The stream carries the text as generated; show the final text if it differs.
            if "".join(streamed).strip() != answer.text.strip():
                self.write(f"bot> {answer.text}\n")
        else:
            self.write(f"bot> {answer.text}\n")
        if not answer.refused and answer.citations:
            self.write(render_sources(answer, self.article) + "\n")
            self.history.append(Turn(question=question, answer=answer.text))
        self.write("\n")


def run_chat(
    answerer: Answerer,
    article: Article,
    input: TextIO | None = None,
    output: TextIO | None = None,
    *,
    history_turns: int = 3,
) -> int:
    """Read questions and commands until /quit or end of input; returns the exit code."""
    stdin = input if input is not None else sys.stdin
    out = output if output is not None else sys.stdout
    chat = _Conversation(answerer, article, out, history_turns)
    interactive = stdin.isatty() if hasattr(stdin, "isatty") else False
    chat.write(f"Ask about {article.describe()}. /help for commands.\n")
    while True:
        if interactive:
            chat.write(PROMPT)
        try:
            line = stdin.readline()
        except KeyboardInterrupt:
            chat.write("\n")
            return 130
        if not line:  # end of input
            if interactive:
                chat.write("\n")
            return 0
        text = line.strip()
        if not text:
            continue
        command, _, rest = text.partition(" ")
        match command.lower():
            case "/quit" | "/exit":
                return 0
            case "/help":
                chat.write(help_text(article) + "\n\n")
            case "/outline":
                chat.write(render_outline(article) + "\n\n")
            case "/section":
                chat.write(render_section(article, rest.strip()) + "\n\n")
            case "/new":
                chat.history.clear()
                chat.write("(conversation cleared)\n\n")
            case _ if command.startswith("/") and len(command) > 1 and " " not in command:
                chat.write(f"Unknown command {command}. /help lists the commands.\n\n")
            case _:
                try:
                    chat.ask(text)
                except KeyboardInterrupt:
                    chat.write("\n(stopped)\n\n")
