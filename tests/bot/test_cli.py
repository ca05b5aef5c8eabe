"""The `article-bot` command line as other tools use it: a real process, real model, real index."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

CONTRACT = {"question", "answer", "refused", "citations", "passages", "timings_ms", "usage"}


def run_cli(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
    )


def check_contract(obj: dict) -> None:
    assert set(obj) == CONTRACT
    assert isinstance(obj["refused"], bool)
    for c in obj["citations"]:
        assert set(c) == {"section", "heading", "quote", "start", "end"}
    for p in obj["passages"]:
        assert set(p) == {"id", "section", "score", "start", "end"}
    assert set(obj["timings_ms"]) == {"retrieve", "first_token", "total"}
    assert set(obj["usage"]) == {"prompt_tokens", "completion_tokens"}


@pytest.mark.slow
def test_ask_json_stdin_one_object_per_line():
    from index.article import load_article

    text = load_article().text
    questions = [
        "When was the article published?",
        "",
        "What is the capital of France?",
        "What does the author say Alipay uses AI for?",
    ]
    proc = run_cli("ask", "--json", "-", stdin="\n".join(questions) + "\n")
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["question"] for r in rows] == [q for q in questions if q]
    for row in rows:
        check_contract(row)
        for c in row["citations"]:
            assert text[c["start"] : c["end"]] == c["quote"]
    date, france, ai = rows
    assert not date["refused"] and date["citations"][0]["section"] == "Introduction"
    assert france["refused"] and france["citations"] == []
    assert ai["refused"] or {c["section"] for c in ai["citations"]} <= {"III", "Introduction"}


@pytest.mark.slow
def test_ask_prints_answer_and_sources_readably():
    proc = run_cli("ask", "When was the article published?")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Sources:" in proc.stdout and "§Introduction" in proc.stdout
    assert "> 03/24 2025" in proc.stdout


def test_info_json_reports_effective_settings():
    proc = run_cli("info", "--json", env={"ARTICLE_BOT_N_THREADS": "3"})
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["n_threads"] == 3
    assert info["model"]["file"].endswith(".gguf")
    assert info["index"]["mode"] == "embedded"
    assert {"llama-cpp-python", "chromadb", "discord.py", "sentence-transformers"} <= set(
        info["versions"]
    )
    # What a crash report needs: the features llama.cpp uses and how it was built (by setup).
    llama = info["llama_cpp"]
    assert llama["cpu"] and "CPU :" in llama["system_info"]
    assert "-DGGML_NATIVE=OFF" in llama["build_flags"]


def test_info_shows_the_llama_cpp_build_readably():
    proc = run_cli("info")
    assert proc.returncode == 0, proc.stderr
    assert "llama_cpp:\n" in proc.stdout
    assert "  system_info: " in proc.stdout and "  build_flags: -DGGML_NATIVE=OFF" in proc.stdout


def test_missing_model_path_fails_with_the_path_and_the_fix(tmp_path):
    missing = tmp_path / "nope.gguf"
    proc = run_cli("ask", "anything", env={"ARTICLE_BOT_MODEL_PATH": str(missing)})
    assert proc.returncode == 2
    assert str(missing) in proc.stderr and "ARTICLE_BOT_MODEL_PATH" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_setting_fails_at_start_up():
    proc = run_cli("info", env={"ARTICLE_BOT_TOP_K": "zero"})
    assert proc.returncode == 2
    assert "ARTICLE_BOT_TOP_K='zero'" in proc.stderr and "Traceback" not in proc.stderr


def test_env_example_lists_every_setting():
    from pathlib import Path

    from bot.settings import describe_settings, render_env_example

    example = (Path(__file__).parents[2] / ".env.example").read_text()
    assert example == render_env_example(), ".env.example is stale: regenerate it (see its header)"
    for env, _default, _desc in describe_settings():
        assert env in example, f"{env} missing from .env.example"
