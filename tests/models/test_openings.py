"""Saved openings (models.openings) on a real GGUF: cells put back are the cells saved, a damaged
or foreign file is never trusted, and saving in the background gives way to questions."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from models.backend import KeepsOpenings
from models.greedy import ROW_GROUP
from models.local import LocalLLM

pytestmark = pytest.mark.slow

Ask = Callable[..., list[dict[str, str]]]

OPENINGS = [
    "- (1) Alipay started in 2004 as the payment service of Taobao.\n",
    "- (4) Critics say the super app strategy makes Alipay hard to regulate.\n",
]


def asking(ask: Ask, opening: str, question: str, **system: str) -> list[dict[str, str]]:
    return ask(f'{opening}Question: "{question}"', **system)


def model(path: Path, state_dir: Path) -> LocalLLM:
    return LocalLLM(path, n_threads=2, n_ctx=2048, state_dir=state_dir)


def test_put_back_cells_answer_exactly_as_the_saved_ones(
    smollm2_path: Path, ask: Ask, tmp_path: Path
) -> None:
    messages = asking(ask, OPENINGS[0], "When did Alipay start?")
    fixed = messages[:1]
    with model(smollm2_path, tmp_path) as first:
        assert isinstance(first, KeepsOpenings)
        first.prime(fixed)
        first.keep_openings(fixed, OPENINGS, wait=True)
        saved = first.info()["openings"]
        assert saved["saved"] == 2 and saved["done"] and saved["on_disk"] == 2
        # The cache still holds the opening the save evaluated: nothing to put back.
        first.complete(asking(ask, OPENINGS[1], "What do critics say?"), max_tokens=12)
        expected = first.complete(messages, max_tokens=12)
        assert first.info()["openings"]["restored"] == 1
    assert len(list((tmp_path / "openings").glob("*/*.opening"))) == 2

    with model(smollm2_path, tmp_path) as second:
        second.prime(fixed)
        second.keep_openings(fixed, OPENINGS, wait=True)
        assert second.info()["openings"]["saved_before"] == 2
        got = second.complete(messages, max_tokens=12)
        info = second.info()["openings"]
        prefix = len(second.prefix_tokens(fixed))
        opening = len(second.prefix_tokens(fixed, OPENINGS[0])) - prefix
    assert got.text == expected.text
    kept = opening // ROW_GROUP * ROW_GROUP
    assert kept > 0 and info["restored"] == 1 and info["restored_tokens"] == kept
    assert got.cached_tokens >= prefix + kept


def test_the_default_model_answers_the_same_whatever_its_cache_held(
    default_model_path: Path, ask: Ask, tmp_path: Path
) -> None:
    """Cells put back, or kept from the question before, give the very logits of evaluating the
    question's prompt whole: the cuts fall on the row groups of llama.cpp's repacked Q4_K
    kernels, which round a batch's last few rows differently."""
    first, second, again = (
        asking(ask, OPENINGS[0], "When did Alipay start?"),
        asking(ask, OPENINGS[1], "Why is Alipay hard to regulate?"),
        asking(ask, OPENINGS[0], "When did Alipay start, exactly?"),
    )
    fixed = first[:1]
    whole = []
    with LocalLLM(default_model_path, n_threads=2, n_ctx=1024) as plain:
        for messages in (first, second, again):
            plain.clear_cache()
            plain.prime(fixed)
            whole.append(plain.complete(messages, max_tokens=24).text)
    with LocalLLM(default_model_path, n_threads=2, n_ctx=1024, state_dir=tmp_path) as llm:
        llm.prime(fixed)
        llm.keep_openings(fixed, OPENINGS, wait=True)
        # Put back, put back, put back, then kept from the question before (and part of it).
        got = [llm.complete(m, max_tokens=24).text for m in (first, second, first, again)]
        assert llm.info()["openings"]["restored"] == 3
    assert got == [whole[0], whole[1], whole[0], whole[2]]


def test_a_damaged_opening_is_dropped_and_the_prompt_evaluated(
    smollm2_path: Path, ask: Ask, tmp_path: Path
) -> None:
    messages = asking(ask, OPENINGS[0], "When did Alipay start?")
    with model(smollm2_path, tmp_path) as first:
        first.prime(messages[:1])
        first.keep_openings(messages[:1], OPENINGS[:1], wait=True)
    (saved,) = (tmp_path / "openings").glob("*/*.opening")
    saved.write_bytes(saved.read_bytes()[:-5000])
    with model(smollm2_path, tmp_path) as second:
        second.prime(messages[:1])
        gen = second.complete(messages, max_tokens=12)
        info = second.info()["openings"]
    assert gen.text and info["restored"] == 0
    assert "could not load" in info["errors"][0]
    assert not saved.exists()


def test_openings_belong_to_their_prefix(smollm2_path: Path, ask: Ask, tmp_path: Path) -> None:
    messages = asking(ask, OPENINGS[0], "When did Alipay start?")
    other = asking(ask, OPENINGS[0], "When did Alipay start?", system="Another article: none.")
    with model(smollm2_path, tmp_path) as llm:
        llm.prime(messages[:1])
        llm.keep_openings(messages[:1], OPENINGS[:1], wait=True)
        llm.prime(other[:1])
        llm.complete(other, max_tokens=4)
        assert llm.info()["openings"]["restored"] == 0
        assert llm.info()["openings"]["on_disk"] == 0
    assert len(list((tmp_path / "openings").iterdir())) == 1


def test_saving_in_the_background_gives_way_to_questions(
    smollm2_path: Path, ask: Ask, tmp_path: Path
) -> None:
    many = [f"- (2) Sentence number {n} of a long article about payments.\n" for n in range(200)]
    messages = asking(ask, OPENINGS[0], "When did Alipay start?")
    with model(smollm2_path, tmp_path) as llm:
        llm.prime(messages[:1])
        llm.keep_openings(messages[:1], many, wait=False)
        assert llm.complete(messages, max_tokens=8).text
        during = llm.info()["openings"]
        deadline = time.monotonic() + 120
        while not llm.info()["openings"]["done"] and time.monotonic() < deadline:
            time.sleep(0.1)
        done = llm.info()["openings"]
    assert not during["done"]
    assert done["done"] and done["saved"] == 200 and not done["error"]


def test_no_state_dir_saves_nothing(smollm2: LocalLLM, ask: Ask) -> None:
    messages = asking(ask, OPENINGS[0], "When did Alipay start?")
    smollm2.prime(messages[:1])
    smollm2.keep_openings(messages[:1], OPENINGS, wait=True)
    assert smollm2.info()["openings"]["on_disk"] == 0
    assert smollm2.complete(messages, max_tokens=4).text
