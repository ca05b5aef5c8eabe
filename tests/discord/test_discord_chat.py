"""The terminal chat: the same conversation semantics as on Discord, without Discord."""

from __future__ import annotations

import argparse
import io

import pytest

from bot.chat import run_chat
from bot.discord_app.cli import add_discord_commands
from index.article import Article
from tests.discord.fake_answerer import OFF_TOPIC, FakeAnswerer, RecordingAnswerer


def chat(article: Article, lines: list[str]) -> tuple[int, str, RecordingAnswerer]:
    answerer = RecordingAnswerer(FakeAnswerer(article, piece_delay=0.0, slow_delay=0.0))
    out = io.StringIO()
    code = run_chat(answerer, article, io.StringIO("".join(f"{x}\n" for x in lines)), out)
    return code, out.getvalue(), answerer


def test_answers_stream_with_sources_and_follow_ups_have_context(article: Article) -> None:
    code, out, answerer = chat(
        article, ["What about the B-end?", "And why is that?", "Is France in it?"]
    )
    assert code == 0
    first = answerer.inner.citation("II", 6)
    assert "bot> The author says Alipay should serve the B-end" in out
    assert f"  §II — {article.section('II').title}\n    > {first.quote}" in out
    # The follow-up got the first turn as context; the refusal came without sources.
    assert [t.question for t in answerer.calls[1].history] == ["What about the B-end?"]
    assert f"bot> {OFF_TOPIC}\n\n" in out
    assert out.count("Sources:") == 2


def test_commands(article: Article) -> None:
    code, out, answerer = chat(
        article,
        [
            "/help",
            "/outline",
            "/section ii",
            "/section Nowhere",
            "/frobnicate",
            "/quit",
            "never asked",
        ],
    )
    assert code == 0 and answerer.calls == []
    assert "/section <label>" in out
    for s in article.sections:
        assert s.title in out
    assert article.section("II").body in out
    assert "No section 'Nowhere'" in out and "Introduction, I, II, III, Conclusion" in out
    assert "Unknown command /frobnicate" in out


def test_new_forgets_the_conversation_and_faults_are_survived(article: Article) -> None:
    code, out, answerer = chat(article, ["B-end?", "/new", "boom", "B-end again?"])
    assert code == 0
    assert "Something went wrong" in out
    assert answerer.calls[-1].history == ()
    assert out.rstrip().endswith(answerer.inner.citation("II", 6).quote)


def test_end_of_input_exits_0(article: Article) -> None:
    assert chat(article, [])[0] == 0


def test_the_discord_cli_registers_run_and_the_core_cli_chat() -> None:
    parser = argparse.ArgumentParser()
    add_discord_commands(parser.add_subparsers(dest="command"))
    assert callable(parser.parse_args(["run"]).handler)
    with pytest.raises(SystemExit):
        parser.parse_args(["chat"])  # the terminal needs no Discord module
    from bot.cli import build_parser, cmd_chat

    assert build_parser().parse_args(["chat"]).handler is cmd_chat


def test_run_without_a_token_exits_2_before_loading_anything(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.discord_app.cli import cmd_run
    from tests.discord.helpers import make_settings

    code = cmd_run(argparse.Namespace(), make_settings(discord_token=None))
    assert code == 2
    assert "Reset Token" in capsys.readouterr().err
