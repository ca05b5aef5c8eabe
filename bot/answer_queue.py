"""One model, one line: a FIFO queue in front of the answerer, served by a single worker thread.

llama.cpp contexts are not safe for concurrent calls and a CPU is saturated by one generation, so
questions from every channel wait in one line. The event loop never runs the model: each answer
runs in a dedicated one-thread executor, and the streamed text is handed back to the loop thread.
Each member may have a few questions waiting at once; other work that must not overlap an answer
(rebuilding the index) takes its turn in the same line. A question that needs no model (a
repeat from the answer cache, a refusal, a corrected premise) is answered before it would join
the line, on a thread of its own, so it never waits behind someone else's generation. Nothing
here knows about Discord; the terminal and the bot use the same queue semantics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

from bot.answering import Answer, Answerer, Turn
from bot.answering.answer import answer_without_model

log = logging.getLogger(__name__)
_T = TypeVar("_T")

SHUTTING_DOWN_TEXT = (
    "The bot is shutting down, so this question was not answered. Please ask again later."
)
FAILED_TEXT = "Something went wrong while answering. Please try again."


# On close, how long the call in progress gets to return after it was told to stop (Docker
# stop waits 10 s after SIGTERM unless told otherwise; the compose file gives 60 s).
FINISH_S = 3.0


class MetricsSink(Protocol):
    """The hooks of ``bot.health.Metrics`` that the queue and the bot call."""

    def question_received(self) -> None: ...

    def answer_done(self, answer: Answer) -> None: ...

    def set_queue_depth(self, n: int) -> None: ...

    def set_state(
        self,
        index_loaded: bool | None = None,
        model_loaded: bool | None = None,
        discord_connected: bool | None = None,
    ) -> None: ...


class QueueFull(Exception):
    """The line is full; the caller tells the user to try again shortly."""

    def __init__(self, max_size: int) -> None:
        super().__init__(f"{max_size} questions are already waiting")
        self.max_size = max_size


class MemberQueueFull(Exception):
    """This member already has ``limit`` questions waiting; the caller says so."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"{limit} questions of this member are already waiting")
        self.limit = limit


class AnswerCancelled(Exception):
    """Raised inside the worker (from ``on_text``) to stop a generation during shutdown."""


def shutting_down_answer(question: str) -> Answer:
    return Answer(
        question=question, text=SHUTTING_DOWN_TEXT, refused=True, refusal_reason="shutting_down"
    )


def failed_answer(question: str) -> Answer:
    return Answer(question=question, text=FAILED_TEXT, refused=True, refusal_reason="error")


PositionCallback = Callable[[int], None]
TextCallback = Callable[[str], None]


@dataclass(eq=False)
class _Job:
    question: str
    history: tuple[Turn, ...]
    user_id: int
    on_text: TextCallback | None
    on_position: PositionCallback | None
    future: asyncio.Future[Any]
    # Set for work other than an answer (rebuilding the index): run instead of the answerer.
    work: Callable[[], Any] | None = None
    queued_at: float = field(default_factory=time.perf_counter)
    last_position: int | None = None
    cancelled: bool = False  # read from the worker thread: stop generating at the next piece


class AnswerQueue:
    """FIFO line in front of one answerer, with position updates and streamed text.

    ``submit`` is called on the event loop; callbacks are called on the event loop thread too.
    """

    def __init__(
        self,
        answerer: Answerer,
        max_size: int,
        metrics: MetricsSink | None = None,
        *,
        max_per_member: int = 0,
    ) -> None:
        if max_size < 1:
            raise ValueError(f"max_size must be >= 1, got {max_size}")
        if max_per_member < 0:
            raise ValueError(f"max_per_member must be >= 0 (0: no limit), got {max_per_member}")
        self.answerer = answerer
        self.max_size = max_size
        self.max_per_member = max_per_member
        self.metrics = metrics
        self._waiting: list[_Job] = []
        self._current: _Job | None = None
        self._closed = False
        self._thread = _WorkerThread()
        self._wakeup: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._current_done: asyncio.Event | None = None
        # Answers without the model run here: never on the loop (retrieval embeds the question),
        # never on the model's thread (they would wait for the generation in progress).
        self._instant: ThreadPoolExecutor | None = None

    # -- state -------------------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def waiting(self) -> int:
        """Questions in line, not counting the one being answered."""
        return len(self._waiting)

    @property
    def busy(self) -> bool:
        return self._current is not None

    def waiting_of(self, user_id: int) -> int:
        """Questions of ``user_id`` in line, not counting one being answered (nor the head of the
        line while nothing is: the worker takes it next)."""
        line = self._waiting if self._current is not None else self._waiting[1:]
        return sum(1 for job in line if job.user_id == user_id and job.work is None)

    def __len__(self) -> int:
        return len(self._waiting) + (1 if self._current is not None else 0)

    def check_room(self, user_id: int = 0) -> None:
        """Raise ``QueueFull`` when the line is full, ``MemberQueueFull`` when ``user_id``
        (non-zero) has ``max_per_member`` questions waiting: what ``submit`` would raise now for a
        question that needs the model."""
        if len(self._waiting) >= self.max_size:
            raise QueueFull(self.max_size)
        if self.max_per_member and user_id and self.waiting_of(user_id) >= self.max_per_member:
            raise MemberQueueFull(self.max_per_member)

    # -- submitting --------------------------------------------------------------------------------
    async def answer_now(self, question: str, history: Sequence[Turn] = ()) -> Answer | None:
        """The answer if it needs no model, computed on a thread of its own (never the loop, never
        the model's); None: the question must wait in line. Such an answer takes no place in the
        line, so neither the line's length nor the member's questions waiting matter to it; it is
        counted in the metrics like any other."""
        if self._closed:
            return shutting_down_answer(question)
        instant = await self._answer_now(question, tuple(history))
        if self._closed:
            return shutting_down_answer(question)
        if instant is None:
            return None
        instant = replace(instant, timings_ms={**instant.timings_ms, "queue_wait": 0.0})
        if self.metrics is not None:
            self.metrics.question_received()
            self.metrics.answer_done(instant)
        return instant

    async def submit(
        self,
        question: str,
        history: Sequence[Turn] = (),
        user_id: int = 0,
        on_text: TextCallback | None = None,
        on_position: PositionCallback | None = None,
        *,
        try_now: bool = True,
    ) -> Answer:
        """Answer a question at once if it needs no model (``answer_now``; skipped when
        ``try_now`` is False, for a caller that tried it already), else queue it and wait for its
        answer.

        For a queued question ``on_position(n_ahead)`` is called once when queued and again each
        time the line moves (``n_ahead`` counts the question being answered). The returned answer
        carries the time it waited in line as ``timings_ms["queue_wait"]``. Raises ``QueueFull``
        and ``MemberQueueFull`` as ``check_room`` does, only for a question that needs the model.
        """
        loop = asyncio.get_running_loop()
        if try_now:
            instant = await self.answer_now(question, history)
            if instant is not None:
                return instant
        if self._closed:
            return shutting_down_answer(question)
        self.check_room(user_id)
        self._ensure_worker(loop)
        job = _Job(
            question=question,
            history=tuple(history),
            user_id=user_id,
            on_text=on_text,
            on_position=on_position,
            future=loop.create_future(),
        )
        self._waiting.append(job)
        if self.metrics is not None:
            self.metrics.question_received()
        self._publish_depth()
        self._notify_position(job, self._ahead_of(len(self._waiting) - 1))
        assert self._wakeup is not None
        self._wakeup.set()
        try:
            answer: Answer = await asyncio.shield(job.future)
            return answer
        except asyncio.CancelledError:
            # The caller gave up (its interaction expired, the bot is closing): leave the line.
            job.cancelled = True
            if job in self._waiting:
                self._waiting.remove(job)
                self._publish_depth()
                self._announce_positions()
            raise

    async def _answer_now(self, question: str, history: tuple[Turn, ...]) -> Answer | None:
        """The answer if it needs no model, computed off the loop; None: it waits for the model."""
        answerer = self.answerer
        if getattr(answerer, "answer_now", None) is None:
            return None
        if any(job.work is not None for job in (self._current, *self._waiting) if job):
            # Exclusive work (a reindex) may be replacing what answers are drawn from: questions
            # asked meanwhile wait for it in the line, as the model's do.
            return None
        if self._instant is None:
            self._instant = ThreadPoolExecutor(max_workers=1, thread_name_prefix="answer-now")
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._instant, answer_without_model, answerer, question, history
            )
        except Exception:
            log.exception("answering without the model failed; the question waits for the model")
            return None

    async def run_exclusive(self, work: Callable[[], _T]) -> _T:
        """Run ``work`` on the worker thread in its turn: after the questions already in line,
        before those that come later, never beside an answer. Its exception is re-raised here."""
        loop = asyncio.get_running_loop()
        if self._closed:
            raise RuntimeError("the queue is closed")
        self._ensure_worker(loop)
        job = _Job(
            question="",
            history=(),
            user_id=0,
            on_text=None,
            on_position=None,
            future=loop.create_future(),
            work=work,
        )
        self._waiting.append(job)
        self._publish_depth()
        assert self._wakeup is not None
        self._wakeup.set()
        result: _T = await asyncio.shield(job.future)
        return result

    # -- shutting down -----------------------------------------------------------------------------
    async def close(self, cancel_pending: bool = True, wait_s: float | None = None) -> None:
        """Stop taking questions.

        Waiting questions get a "shutting down" answer when ``cancel_pending`` (otherwise they are
        still answered). The question being answered gets ``wait_s`` seconds to finish (None: as
        long as it takes); after that its generation is stopped and its asker gets the
        "shutting down" answer.
        """
        self._closed = True
        if cancel_pending:
            pending, self._waiting = self._waiting, []
            for job in pending:
                if job.future.done():
                    continue
                if job.work is not None:
                    job.future.set_exception(RuntimeError("the queue closed before it ran"))
                else:
                    job.future.set_result(shutting_down_answer(job.question))
            self._publish_depth()
        elif self._worker is not None:
            while self._waiting:
                await asyncio.sleep(0.05)
        current = self._current
        if current is not None and self._current_done is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._current_done.wait()), wait_s)
            except TimeoutError:
                log.warning(
                    "stopping the answer in progress: shutdown grace of %.1fs ran out", wait_s
                )
                current.cancelled = True
                if not current.future.done():
                    current.future.set_result(shutting_down_answer(current.question))
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        # The thread may still be inside llama.cpp; it stops at its next streamed piece, and being
        # a daemon it does not hold up the exit of the process past a few seconds. Those seconds
        # are waited: a process that exits while the thread is in llama.cpp (a judgement, a
        # prompt, which no streamed piece interrupts) frees the model under it and crashes.
        self._thread.stop()
        await asyncio.to_thread(self._thread.join, FINISH_S)
        if self._instant is not None:
            self._instant.shutdown(wait=False)

    # -- the worker --------------------------------------------------------------------------------
    def _ensure_worker(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._worker is None or self._worker.done():
            self._wakeup = asyncio.Event()
            self._current_done = asyncio.Event()
            self._worker = loop.create_task(self._work(), name="answer-queue")

    async def _work(self) -> None:
        assert self._wakeup is not None and self._current_done is not None
        loop = asyncio.get_running_loop()
        while True:
            if not self._waiting:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            job = self._waiting.pop(0)
            self._current = job
            self._current_done.clear()
            self._notify_position(job, 0)
            self._announce_positions()
            if job.work is not None:
                await self._run_work(job)
                continue
            wait_ms = (time.perf_counter() - job.queued_at) * 1000
            try:
                answer = await asyncio.wrap_future(
                    self._thread.submit(self._run_answer, job, self._threadsafe_text(loop, job))
                )
            except AnswerCancelled:
                answer = shutting_down_answer(job.question)
            except asyncio.CancelledError:
                self._current = None
                self._current_done.set()
                raise
            except Exception:
                log.exception("the answerer failed; the bot keeps running")
                answer = failed_answer(job.question)
            answer = replace(answer, timings_ms={**answer.timings_ms, "queue_wait": wait_ms})
            if self.metrics is not None and answer.refusal_reason != "shutting_down":
                self.metrics.answer_done(answer)
            if not job.future.done():
                job.future.set_result(answer)
            self._current = None
            self._current_done.set()
            self._publish_depth()

    async def _run_work(self, job: _Job) -> None:
        assert self._current_done is not None and job.work is not None
        work = job.work
        try:
            result = await asyncio.wrap_future(
                self._thread.submit(lambda _job, _text: work(), job, None)
            )
        except asyncio.CancelledError:
            self._current = None
            self._current_done.set()
            raise
        except Exception as exc:
            if not job.future.done():
                job.future.set_exception(exc)
        else:
            if not job.future.done():
                job.future.set_result(result)
        self._current = None
        self._current_done.set()
        self._publish_depth()

    def _run_answer(self, job: _Job, on_text: TextCallback | None) -> Answer:
        # Runs on the worker thread.
        if job.cancelled:
            raise AnswerCancelled()
        return self.answerer.answer(job.question, history=job.history, on_text=on_text)

    @staticmethod
    def _threadsafe_text(loop: asyncio.AbstractEventLoop, job: _Job) -> TextCallback:
        target = job.on_text

        def relay(delta: str) -> None:
            if job.cancelled:
                raise AnswerCancelled()
            if target is not None:
                # call_soon_threadsafe keeps the order of the pieces, and every piece is delivered
                # before the answer itself (whose future also resolves through the loop).
                loop.call_soon_threadsafe(_call_safely, target, delta)

        return relay

    # -- positions ---------------------------------------------------------------------------------
    def _ahead_of(self, index: int) -> int:
        return index + (1 if self._current is not None else 0)

    def _announce_positions(self) -> None:
        for i, job in enumerate(self._waiting):
            self._notify_position(job, self._ahead_of(i))

    @staticmethod
    def _notify_position(job: _Job, n_ahead: int) -> None:
        if job.on_position is not None and n_ahead != job.last_position:
            job.last_position = n_ahead
            _call_safely(job.on_position, n_ahead)

    def _publish_depth(self) -> None:
        if self.metrics is not None:
            self.metrics.set_queue_depth(len(self))


def _call_safely(callback: Callable[[_T], None], value: _T) -> None:
    # A display callback that fails must not take the queue down with it.
    try:
        callback(value)
    except Exception:
        log.exception("a queue callback failed")


class _WorkerThread:
    """The one thread that runs the model.

    A daemon thread rather than an executor's: on shutdown a generation that cannot be
    interrupted must not keep the process alive past its stop timeout.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._run, name="answer-worker", daemon=True)
        self._thread.start()

    def submit(
        self,
        fn: Callable[[_Job, TextCallback | None], _T],
        job: _Job,
        on_text: TextCallback | None,
    ) -> Future[_T]:
        future: Future[_T] = Future()
        self._jobs.put((future, lambda: fn(job, on_text)))
        return future

    def stop(self) -> None:
        self._jobs.put(None)

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the call in progress (if any) to return."""
        self._thread.join(timeout)

    def _run(self) -> None:
        while (item := self._jobs.get()) is not None:
            future, call = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call())
            except BaseException as exc:
                future.set_exception(exc)
