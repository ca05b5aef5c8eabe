"""Feedback buttons, instant answers and fair turns, end to end over the emulator."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.discord_app.client import TOO_MANY_WAITING, ArticleBot
from bot.discord_app.feedback import ACKS
from bot.discord_app.format import PROGRESS_MARK, position_text
from bot.records import RecordStore
from index.article import Article
from tests.discord.conftest import emulated_discord, running_bot
from tests.discord.fake_answerer import FakeAnswerer, RecordingAnswerer
from tests.discord.helpers import TIMEOUT, ask, click, messages_of, settle
from tests.discord_emulator import DiscordEmulator
from tests.discord_emulator.control import interaction_done
from tests.discord_emulator.model import EPHEMERAL

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_every_answer_carries_feedback_buttons_and_votes_are_kept_once(
    emulator: DiscordEmulator, bot: ArticleBot, using_fake: RecordingAnswerer, records: RecordStore
) -> None:
    interaction = await ask(emulator, bot, "What about the B-end, for feedback?")
    *_, last = messages_of(emulator, interaction)
    ids = last.custom_ids()
    assert [i.split(":")[1] for i in ids] == ["up", "down", "wrong_source"]
    answer_id = int(ids[0].split(":")[2])
    before = records.counts()

    bob = emulator.add_member("bob")
    ack = await click(emulator, bob, last, "up")
    assert ack.flags & EPHEMERAL and ack.content == ACKS["recorded"].format(vote="👍")
    again = await click(emulator, bob, last, "up")  # a double click
    assert again.content == ACKS["unchanged"].format(vote="👍")
    assert records.counts() == (before[0], before[1] + 1)
    changed = await click(emulator, bob, last, "down")
    assert changed.content == ACKS["changed"].format(vote="👎")
    source = await click(emulator, emulator.alice, last, "wrong_source")
    assert source.content == ACKS["recorded"].format(vote="“wrong source”")
    assert records.counts() == (before[0], before[1] + 2)
    gaps = records.gaps(guild_id=emulator.guild.id)
    assert any(
        g.text == "What about the B-end, for feedback?" and g.count == 2 for g in gaps.marked_wrong
    ), gaps
    assert answer_id > 0


async def test_an_answer_that_needs_no_model_is_the_first_response(
    emulator: DiscordEmulator, bot: ArticleBot, using_fake: RecordingAnswerer, records: RecordStore
) -> None:
    question = "Who won the match in France?"
    interaction = await ask(emulator, bot, question)
    (callback, *rest) = emulator.interaction_requests(interaction)
    assert callback.path.endswith("/callback") and callback.body["type"] == 4
    assert rest == []  # no edit: the response is the final answer
    original = emulator.original(interaction)
    assert original is not None and len(original.states) == 1
    assert not original.content.startswith(PROGRESS_MARK)
    assert original.content == using_fake.last(question).answer.text  # type: ignore[union-attr]
    assert len(original.custom_ids()) == 3  # refusals can be judged too
    assert any(g.text == question for g in records.gaps(guild_id=emulator.guild.id).refused)


async def three_in_a_row(
    emulator: DiscordEmulator, bot: ArticleBot, answerer: RecordingAnswerer, questions: list[str]
) -> None:
    """One member asks ``questions`` back to back: none is refused for timing, each waiting one
    shows its place at once, all are answered with feedback buttons, those for the model in
    order; one that needs no model is answered at once, in its final form."""
    dora = emulator.add_member(f"dora{len(emulator.users)}")
    asked = [await emulator.slash("ask", {"question": q}, user=dora) for q in questions]
    await settle(emulator, bot, lambda: all(interaction_done(emulator, i) for i in asked))
    calls = {c.question: c for c in answerer.calls if c.question in questions}
    assert sorted(calls) == sorted(questions)
    for_model = [q for q in questions if calls[q].model]
    assert [c.question for c in answerer.calls if c.question in for_model] == for_model
    for question, interaction in zip(questions, asked, strict=True):
        original = emulator.original(interaction)
        assert original is not None and not original.flags & EPHEMERAL
        assert len(original.custom_ids()) == 3
        shown = [s.content for s in original.states]
        assert not any("wait" in s.lower() for s in shown), shown  # no refusal for timing
        if not calls[question].model:
            assert len(shown) == 1 and not shown[0].startswith(PROGRESS_MARK), shown
        elif n := for_model.index(question):
            # Waiting in line, each saw its place at once.
            assert shown[0] == position_text(n), shown
    out = os.environ.get("ARTICLE_BOT_TRANSCRIPT_FILE")
    if out:
        lines = [f"[{n}] {dora.username}: /ask {q}" for n, q in enumerate(questions, 1)]
        Path(out).write_text(
            "\n".join([*lines, "", emulator.transcript(*asked)]) + "\n", encoding="utf-8"
        )


async def test_a_member_asking_three_questions_in_a_row_gets_three_answers_in_order(
    emulator: DiscordEmulator, bot: ArticleBot, using_fake: RecordingAnswerer
) -> None:
    questions = [
        "What does the author say about the B-end? (slow, first)",
        "Why is traffic not enough? (second)",
        "What about the B-end, third?",
    ]
    await three_in_a_row(emulator, bot, using_fake, questions)
    for interaction in [
        i for i in emulator.interactions.values() if i.options.get("question") in questions
    ]:
        assert emulator.original(interaction).embeds  # type: ignore[union-attr]


@pytest.mark.slow
async def test_three_questions_in_a_row_with_the_real_model(
    emulator: DiscordEmulator, bot: ArticleBot, using_real: RecordingAnswerer
) -> None:
    await three_in_a_row(
        emulator,
        bot,
        using_real,
        [
            "What does the author say Alipay should do about the B-end?",
            "Why is traffic alone not enough for Alipay?",
            "Who won the football World Cup in 2022?",
        ],
    )


async def test_a_third_waiting_question_is_declined_with_a_note(
    emulator: DiscordEmulator,
    bot: ArticleBot,
    using_fake: RecordingAnswerer,
) -> None:
    erin, frank = emulator.add_member("erin"), emulator.add_member("frank")
    running = await emulator.slash("ask", {"question": "B-end slow, holding the line"}, user=frank)
    await emulator.wait_for(lambda: bot.queue.busy, TIMEOUT)
    waiting = [
        await emulator.slash("ask", {"question": f"B-end slow, erin {n}"}, user=erin)
        for n in (1, 2)
    ]
    await emulator.wait_for(lambda: bot.queue.waiting_of(erin.id) == 2, TIMEOUT)
    third = await emulator.slash("ask", {"question": "B-end, erin 3"}, user=erin)
    message = await emulator.wait_for(lambda: emulator.original(third), TIMEOUT)
    assert message.flags & EPHEMERAL
    assert message.content == TOO_MANY_WAITING.format(n=2)
    await settle(
        emulator, bot, lambda: all(interaction_done(emulator, i) for i in (running, *waiting))
    )
    assert "B-end, erin 3" not in [c.question for c in using_fake.calls]


async def test_buttons_keep_working_after_a_restart(article: Article, tmp_path: Path) -> None:
    store_path = tmp_path / "records.sqlite3"
    answerer = RecordingAnswerer(FakeAnswerer(article))
    async with emulated_discord() as emu:
        async with running_bot(emu, answerer, article, RecordStore(store_path)) as first:
            interaction = await ask(emu, first, "What about the B-end before a restart?")
        *_, answer_message = messages_of(emu, interaction)
        # A new process: a fresh client and store object on the same file.
        async with running_bot(emu, answerer, article, RecordStore(store_path)) as second:
            ack = await click(emu, emu.alice, answer_message, "down")
            assert ack.content == ACKS["recorded"].format(vote="👎")
            assert second.records is not None
            assert second.records.stats().votes_down == 1
