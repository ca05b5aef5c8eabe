"""The answer queue: one worker thread, FIFO, positions, streamed text, per-member limits,
exclusive work, shutdown; and the per-member token buckets."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence

import pytest

from bot.answer_queue import (
    FAILED_TEXT,
    FINISH_S,
    SHUTTING_DOWN_TEXT,
    AnswerQueue,
    MemberQueueFull,
    QueueFull,
)
from bot.answering.answer import Answer, Turn
from bot.discord_app.rate_limit import TokenBuckets


class GatedAnswerer:
    """Answers when a test releases it; records the thread and overlap of calls."""

    def __init__(self, pieces: int = 3) -> None:
        self.pieces = pieces
        self.started: list[str] = []
        self.threads: set[int] = set()
        self.active = 0
        self.max_active = 0
        self.release: dict[str, threading.Event] = {}
        self.lock = threading.Lock()

    def gate(self, question: str) -> threading.Event:
        return self.release.setdefault(question, threading.Event())

    def answer(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        on_text: Callable[[str], None] | None = None,
    ) -> Answer:
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.started.append(question)
            self.threads.add(threading.get_ident())
        try:
            if question == "fail":
                raise RuntimeError("internal fault")
            for i in range(self.pieces):
                if on_text is not None:
                    on_text(f"{question}-{i} ")
                if i == 0:
                    assert self.gate(question).wait(10), "test never released " + question
            return Answer(question=question, text=f"answer to {question}", refused=False)
        finally:
            with self.lock:
                self.active -= 1


class RecordingMetrics:
    def __init__(self) -> None:
        self.received = 0
        self.done: list[Answer] = []
        self.depths: list[int] = []

    def question_received(self) -> None:
        self.received += 1

    def answer_done(self, answer: Answer) -> None:
        self.done.append(answer)

    def set_queue_depth(self, n: int) -> None:
        self.depths.append(n)

    def set_state(
        self,
        index_loaded: bool | None = None,
        model_loaded: bool | None = None,
        discord_connected: bool | None = None,
    ) -> None:
        pass


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def test_fifo_positions_and_one_worker_thread() -> None:
    answerer = GatedAnswerer()
    metrics = RecordingMetrics()
    queue = AnswerQueue(answerer, max_size=10, metrics=metrics)
    positions: dict[str, list[int]] = {q: [] for q in "abcd"}
    texts: dict[str, list[str]] = {q: [] for q in "abcd"}
    loop_thread = threading.get_ident()
    text_threads: set[int] = set()

    def on_text(q: str) -> Callable[[str], None]:
        def add(piece: str) -> None:
            text_threads.add(threading.get_ident())
            texts[q].append(piece)

        return add

    tasks = []
    for q in "abcd":
        tasks.append(
            asyncio.create_task(
                queue.submit(q, (), 1, on_text=on_text(q), on_position=positions[q].append)
            )
        )
        await asyncio.sleep(0.05)
    await until(lambda: answerer.started == ["a"])
    assert positions == {"a": [0], "b": [1], "c": [2], "d": [3]}
    assert queue.waiting == 3 and queue.busy
    for q in "abcd":
        answerer.gate(q).set()
        await until(tasks["abcd".index(q)].done)
    answers = [t.result() for t in tasks]
    assert [a.text for a in answers] == [f"answer to {q}" for q in "abcd"]
    assert answerer.started == list("abcd")
    assert positions == {"a": [0], "b": [1, 0], "c": [2, 1, 0], "d": [3, 2, 1, 0]}
    assert answerer.max_active == 1 and len(answerer.threads) == 1
    assert threading.get_ident() not in answerer.threads
    # Streamed pieces arrive on the event loop thread, all of them, in order, before the answer.
    assert text_threads == {loop_thread}
    assert texts["c"] == ["c-0 ", "c-1 ", "c-2 "]
    assert all(a.timings_ms["queue_wait"] >= 0 for a in answers)
    assert answers[3].timings_ms["queue_wait"] > answers[0].timings_ms["queue_wait"]
    assert metrics.received == 4 and len(metrics.done) == 4
    assert max(metrics.depths) == 4 and metrics.depths[-1] == 0
    await queue.close()


async def test_full_queue_raises() -> None:
    answerer = GatedAnswerer()
    queue = AnswerQueue(answerer, max_size=2)
    running = asyncio.create_task(queue.submit("a"))
    await until(lambda: answerer.started == ["a"])
    waiting = [asyncio.create_task(queue.submit(q)) for q in "bc"]
    await until(lambda: queue.waiting == 2)
    with pytest.raises(QueueFull):
        await queue.submit("d")
    for q in "abc":
        answerer.gate(q).set()
    await asyncio.gather(running, *waiting)
    await queue.close()


async def test_a_fault_is_reported_and_the_queue_goes_on() -> None:
    answerer = GatedAnswerer()
    queue = AnswerQueue(answerer, max_size=5)
    failed = await queue.submit("fail")
    assert failed.refused and failed.text == FAILED_TEXT and failed.refusal_reason == "error"
    answerer.gate("ok").set()
    assert (await queue.submit("ok")).text == "answer to ok"
    await queue.close()


async def test_a_caller_that_gives_up_leaves_the_line() -> None:
    answerer = GatedAnswerer()
    queue = AnswerQueue(answerer, max_size=5)
    positions: list[int] = []
    first = asyncio.create_task(queue.submit("a"))
    await until(lambda: answerer.started == ["a"])
    quitter = asyncio.create_task(queue.submit("b"))
    last = asyncio.create_task(queue.submit("c", on_position=positions.append))
    await until(lambda: positions == [2])
    quitter.cancel()
    await until(lambda: positions == [2, 1])
    for q in "ac":
        answerer.gate(q).set()
    await asyncio.gather(first, last)
    assert answerer.started == ["a", "c"]
    await queue.close()


async def test_close_tells_the_waiting_and_stops_the_one_in_progress() -> None:
    answerer = GatedAnswerer(pieces=50)
    queue = AnswerQueue(answerer, max_size=5)
    running = asyncio.create_task(queue.submit("a"))
    await until(lambda: answerer.started == ["a"])
    waiting = asyncio.create_task(queue.submit("b"))
    await until(lambda: queue.waiting == 1)
    await queue.close(cancel_pending=True, wait_s=0.2)
    pending_answer = await waiting
    assert pending_answer.refused and pending_answer.text == SHUTTING_DOWN_TEXT
    stopped = await running
    assert stopped.refused and stopped.refusal_reason == "shutting_down"
    answerer.gate("a").set()  # the worker thread stops at its next streamed piece
    await until(lambda: answerer.active == 0)
    assert answerer.started == ["a"]
    later = await queue.submit("c")
    assert later.text == SHUTTING_DOWN_TEXT


async def test_close_lets_the_answer_in_progress_finish_within_the_grace() -> None:
    answerer = GatedAnswerer()
    queue = AnswerQueue(answerer, max_size=5)
    running = asyncio.create_task(queue.submit("a"))
    await until(lambda: answerer.started == ["a"])
    loop = asyncio.get_running_loop()
    loop.call_later(0.1, answerer.gate("a").set)
    await queue.close(cancel_pending=True, wait_s=5)
    assert (await running).text == "answer to a"


def test_token_buckets_allow_bursts_then_the_rate() -> None:
    now = [100.0]
    buckets = TokenBuckets(per_minute=5, burst=3, clock=lambda: now[0])
    assert [buckets.try_take(1) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.try_take(1) == pytest.approx(12.0)  # 5 a minute: one token every 12 s
    assert buckets.try_take(2) == 0.0  # another member is not held back
    now[0] += 6
    assert buckets.try_take(1) == pytest.approx(6.0)
    now[0] += 6
    assert buckets.try_take(1) == 0.0
    now[0] += 3600
    assert [buckets.try_take(1) for _ in range(4)][-1] > 0  # refills to the burst, no further
    buckets.give_back(1)
    assert buckets.try_take(1) == 0.0
    with pytest.raises(ValueError):
        TokenBuckets(0, 3)
    with pytest.raises(ValueError):
        TokenBuckets(5, 0)


async def test_a_member_may_have_two_questions_waiting() -> None:
    answerer = GatedAnswerer()
    queue = AnswerQueue(answerer, max_size=10, max_per_member=2)
    first = asyncio.create_task(queue.submit("a1", user_id=1))
    await until(lambda: answerer.started == ["a1"])
    waiting = [asyncio.create_task(queue.submit(q, user_id=1)) for q in ("a2", "a3")]
    await until(lambda: queue.waiting == 2)
    assert queue.waiting_of(1) == 2
    with pytest.raises(MemberQueueFull):
        await queue.submit("a4", user_id=1)
    other = asyncio.create_task(queue.submit("b1", user_id=2))  # others are not held back
    await until(lambda: queue.waiting == 3)
    for q in ("a1", "a2", "a3", "b1"):
        answerer.gate(q).set()
    answers = [await t for t in (first, *waiting, other)]
    assert [a.text for a in answers] == [f"answer to {q}" for q in ("a1", "a2", "a3", "b1")]
    assert answerer.started == ["a1", "a2", "a3", "b1"]
    await queue.close()


async def test_exclusive_work_takes_its_turn_and_never_overlaps_an_answer() -> None:
    answerer = GatedAnswerer()
    queue = AnswerQueue(answerer, max_size=10)
    order: list[str] = []
    running = asyncio.create_task(queue.submit("before"))
    await until(lambda: answerer.started == ["before"])

    def work() -> str:
        order.append(f"work (answers running: {answerer.active})")
        return "rebuilt"

    exclusive = asyncio.create_task(queue.run_exclusive(work))
    await until(lambda: queue.waiting == 1)
    after = asyncio.create_task(queue.submit("after"))
    await until(lambda: queue.waiting == 2)
    answerer.gate("before").set()
    answerer.gate("after").set()
    assert await exclusive == "rebuilt"
    assert (await running).text == "answer to before"
    assert (await after).text == "answer to after"  # asked meanwhile: answered, not lost
    assert order == ["work (answers running: 0)"]
    assert answerer.started == ["before", "after"]

    def broken() -> None:
        raise RuntimeError("index unreadable")

    with pytest.raises(RuntimeError, match="index unreadable"):
        await queue.run_exclusive(broken)
    await queue.close()


class InstantAnswerer(GatedAnswerer):
    """Answers questions starting with "instant" without the model; "broken" makes that fail."""

    def __init__(self) -> None:
        super().__init__()
        self.instant_threads: set[int] = set()
        self.asked_now: list[str] = []

    def answer_now(self, question: str, *, history: Sequence[Turn] = ()) -> Answer | None:
        self.asked_now.append(question)
        self.instant_threads.add(threading.get_ident())
        if question.startswith("broken"):
            raise RuntimeError("retrieval failed")
        if question.startswith("instant"):
            return Answer(question=question, text="the article does not say", refused=True)
        return None


async def test_an_answer_without_the_model_takes_no_place_in_the_line() -> None:
    answerer = InstantAnswerer()
    metrics = RecordingMetrics()
    queue = AnswerQueue(answerer, max_size=1, metrics=metrics, max_per_member=1)
    running = asyncio.create_task(queue.submit("a", user_id=1))
    await until(lambda: answerer.started == ["a"])
    waiting = asyncio.create_task(queue.submit("b", user_id=2))
    await until(lambda: queue.waiting == 1)  # the line is full, and member 2 has one waiting
    positions: list[int] = []
    texts: list[str] = []
    instant = await queue.submit(
        "instant one", user_id=2, on_text=texts.append, on_position=positions.append
    )
    assert instant.text == "the article does not say"
    assert instant.timings_ms["queue_wait"] == 0.0
    assert positions == [] and texts == []
    assert not running.done() and answerer.active == 1  # the model is still on "a"
    assert answerer.started == ["a"]  # ... and was never asked the instant question
    assert answerer.instant_threads.isdisjoint(answerer.threads | {threading.get_ident()})
    assert metrics.received == 3 and metrics.done == [instant]
    with pytest.raises(QueueFull):  # a question for the model still needs room in the line
        await queue.submit("c", user_id=3)
    with pytest.raises(QueueFull):
        queue.check_room(3)
    # The Discord layer asks ``answer_now`` itself before it checks the room in line.
    assert (await queue.answer_now("instant two")).text == "the article does not say"
    asked_now = len(answerer.asked_now)
    with pytest.raises(QueueFull):
        await queue.submit("instant three", user_id=3, try_now=False)
    assert len(answerer.asked_now) == asked_now  # not asked again
    answerer.gate("a").set()
    answerer.gate("b").set()
    assert (await running).text == "answer to a" and (await waiting).text == "answer to b"
    await queue.close()


async def test_a_failure_without_the_model_leaves_the_question_to_the_model() -> None:
    answerer = InstantAnswerer()
    queue = AnswerQueue(answerer, max_size=5)
    answerer.gate("broken one").set()
    answer = await queue.submit("broken one")
    assert answer.text == "answer to broken one"
    assert answerer.asked_now == ["broken one"] and answerer.started == ["broken one"]
    await queue.close()


async def test_questions_wait_for_exclusive_work_even_when_they_need_no_model() -> None:
    answerer = InstantAnswerer()
    queue = AnswerQueue(answerer, max_size=5)
    release = threading.Event()
    exclusive = asyncio.create_task(queue.run_exclusive(lambda: release.wait(10)))
    await until(lambda: queue.busy)
    positions: list[int] = []
    asked = asyncio.create_task(queue.submit("instant two", on_position=positions.append))
    await until(lambda: positions == [1])
    assert answerer.asked_now == []  # what it would be answered from is being rebuilt
    release.set()
    answerer.gate("instant two").set()
    assert await exclusive is True
    assert (await asked).text == "answer to instant two"
    await queue.close()


async def test_close_waits_a_little_for_a_call_that_no_streamed_piece_interrupts() -> None:
    """A process must not exit while the worker is inside llama.cpp (it would free the model
    under it): close returns once the call in progress has returned, or after FINISH_S."""
    answerer = GatedAnswerer(pieces=1)  # after its one piece it only waits, as a prompt does
    queue = AnswerQueue(answerer, max_size=5)
    running = asyncio.create_task(queue.submit("a"))
    await until(lambda: answerer.started == ["a"])
    threading.Timer(0.5, answerer.gate("a").set).start()
    started = time.perf_counter()
    await queue.close(cancel_pending=True, wait_s=0.1)
    assert answerer.active == 0
    assert 0.3 < time.perf_counter() - started < FINISH_S
    assert (await running).refusal_reason == "shutting_down"
