"""The `index` and `search` commands, run through their argparse registration."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

import bot.wiring
from bot.cli_index import add_index_commands
from bot.settings import Settings, load_settings
from index.embeddings import Embedder


@pytest.fixture
def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="article-bot")
    add_index_commands(parser.add_subparsers(dest="command"))
    return parser


@pytest.fixture
def settings(tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # The real embedder, loaded once for the session rather than once per command.
    monkeypatch.setattr(bot.wiring, "make_embedder", lambda settings: embedder)
    return load_settings(index_path=tmp_path / "index", data_dir=tmp_path)


def run(parser: argparse.ArgumentParser, settings: Settings, *argv: str) -> int:
    args = parser.parse_args(argv)
    return int(args.handler(args, settings))


def test_index_then_unchanged(
    parser: argparse.ArgumentParser, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(parser, settings, "index", "--no-progress") == 0
    out = capsys.readouterr().out
    assert "built: 34 passages [built," in out
    assert run(parser, settings, "index", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "unchanged" and report["passages"] == 34
    assert run(parser, settings, "index", "--force", "--no-progress") == 0
    assert "[rebuilt," in capsys.readouterr().out


def test_search_text_and_json(
    parser: argparse.ArgumentParser, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(parser, settings, "search", "When was it published?", "-k", "2") == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith(" 1. §Introduction") and "Introduction:0" in lines[0]
    assert "score" in lines[0] and "dense" in lines[0] and "keyword" in lines[0]
    assert lines[1].strip() == "03/24 2025"

    assert run(parser, settings, "search", "How does Alipay use AI?", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["k"] == settings.top_k and len(out["hits"]) == settings.top_k
    assert out["hits"][0]["section"] == "III"
    assert {"id", "score", "dense", "keyword", "text", "start", "end"} <= set(out["hits"][0])


def test_search_excerpt_is_short(
    parser: argparse.ArgumentParser, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(parser, settings, "search", "digital-physical integration", "-k", "1") == 0
    excerpt = capsys.readouterr().out.splitlines()[1].strip()
    assert len(excerpt) <= 100 and excerpt.endswith("…")


def test_empty_question_exits_2(
    parser: argparse.ArgumentParser, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(parser, settings, "search", "   ") == 2
    err = capsys.readouterr().err
    assert err.startswith("article-bot: ") and err.count("\n") == 1


def test_bad_k_is_a_usage_error(parser: argparse.ArgumentParser) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["search", "q", "-k", "0"])
    assert exit_info.value.code == 2


def test_bad_article_exits_2_with_one_line(
    parser: argparse.ArgumentParser,
    tmp_path: Path,
    embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(bot.wiring, "make_embedder", lambda settings: embedder)
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    settings = load_settings(article_path=empty, index_path=tmp_path / "index")
    for argv in (("index",), ("search", "anything")):
        assert run(parser, settings, *argv) == 2
        err = capsys.readouterr().err
        expected = f"Article is empty: {empty} (put the article's text in the file)"
        assert err == f"article-bot: {expected}\n"


def test_unreachable_server_exits_2(
    parser: argparse.ArgumentParser, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": 9})
    assert run(parser, remote, "index") == 2
    err = capsys.readouterr().err
    assert "Cannot reach the Chroma server at http://127.0.0.1:9" in err and err.count("\n") == 1
