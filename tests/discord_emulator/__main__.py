"""Run the emulator on its own: ``python -m tests.discord_emulator --port 8765``.

Point the bot at it with ``ARTICLE_BOT_DISCORD_API_BASE=http://127.0.0.1:8765/api/v10`` and
``DISCORD_TOKEN=<--token>``. With ``--ask "question"`` it waits for the bot to connect and register
its commands, runs ``/ask`` once, prints the interaction's final state as JSON and exits (0 when
an answer arrived, 1 on timeout). Without it, it serves until interrupted; ``/_emulator/*``
endpoints inject questions and read the transcript.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time

from tests.discord_emulator.control import interaction_done, interaction_report
from tests.discord_emulator.server import DEFAULT_TOKEN, DiscordEmulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m tests.discord_emulator",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    p.add_argument("--token", default=DEFAULT_TOKEN, help="the bot token the emulator accepts")
    p.add_argument("--ask", metavar="QUESTION", help="run /ask once, print the result, exit")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds to wait in --ask mode")
    return p.parse_args(argv)


async def main(args: argparse.Namespace) -> int:
    emu = await DiscordEmulator(token=args.token, host=args.host).start(args.port)
    print(f"DISCORD_EMULATOR_READY api_base={emu.api_base} token={emu.token}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        if args.ask is None:
            await stop.wait()
            return 0
        return await ask_once(emu, args.ask, args.timeout, stop)
    finally:
        await emu.stop()


async def ask_once(emu: DiscordEmulator, question: str, timeout: float, stop: asyncio.Event) -> int:
    deadline = time.monotonic() + timeout

    def left() -> float:
        return max(0.1, deadline - time.monotonic())

    try:
        await emu.wait_ready(timeout=left())
        await emu.wait_commands("ask", timeout=left())
        print("bot connected and /ask registered; asking", file=sys.stderr, flush=True)
        interaction = await emu.slash("ask", {"question": question})
        await emu.wait_for(lambda: interaction_done(emu, interaction) or stop.is_set(), left())
        # Overflow follow-ups come right after the final edit.
        with contextlib.suppress(TimeoutError):
            await emu.wait_for(lambda: False, 1.0)
    except TimeoutError as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 1
    report = interaction_report(emu, interaction)
    print(json.dumps(report, ensure_ascii=False, indent=2), flush=True)
    print(emu.transcript(interaction), file=sys.stderr, flush=True)
    return 0 if report["done"] else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
