"""HTTP control endpoints under ``/_emulator/``, for driving the emulator from another process
(the Docker smoke test): inject an /ask or a message, read an interaction, the transcript."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.discord_emulator.model import Interaction

if TYPE_CHECKING:
    from tests.discord_emulator.server import DiscordEmulator

PROGRESS_MARK = "⏳"
CURSOR = "▌"


def interaction_done(emu: DiscordEmulator, interaction: Interaction) -> bool:
    """Whether the bot has left its final answer: a message that is neither loading nor progress.

    Progress messages of this bot start with the hourglass and streamed text ends with the cursor.
    """
    original = emu.original(interaction)
    if original is None or original.state.loading:
        return False
    content = original.content
    return bool(original.embeds) or not (
        content.startswith(PROGRESS_MARK) or content.rstrip().endswith(CURSOR)
    )


def interaction_report(emu: DiscordEmulator, interaction: Interaction) -> dict[str, Any]:
    original = emu.original(interaction)
    return {
        "interaction_id": str(interaction.id),
        "command": interaction.command,
        "options": interaction.options,
        "acknowledged": interaction.acknowledged,
        "response_type": interaction.response_type,
        "done": interaction_done(emu, interaction),
        "final": None
        if original is None
        else {"content": original.content, "embeds": list(original.embeds)},
        "states": []
        if original is None
        else [
            {
                "t": round(s.at - interaction.created, 3),
                "via": s.via,
                "content": s.content,
                "embeds": list(s.embeds),
                "loading": s.loading,
            }
            for s in original.states
        ],
        "followups": [
            {"content": m.content, "embeds": list(m.embeds)} for m in emu.followups(interaction)
        ],
        "requests": [str(r) for r in emu.interaction_requests(interaction)],
    }


def add_control_routes(app: web.Application, emu: DiscordEmulator) -> None:
    async def status(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "api_base": emu.api_base,
                "gateway_url": emu.gateway_url,
                "ready_shards": emu.gateway.ready_shards,
                "identifies": emu.gateway.identifies,
                "resumes": emu.gateway.resumes,
                "commands": sorted(c["name"] for c in emu.all_commands()),
                "requests": len(emu.requests),
            }
        )

    async def ask(request: web.Request) -> web.Response:
        body = await request.json()
        try:
            interaction = await emu.slash("ask", {"question": str(body["question"])})
        except (LookupError, KeyError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"interaction_id": str(interaction.id)})

    async def get_interaction(request: web.Request) -> web.Response:
        interaction = emu.interactions.get(int(request.match_info["iid"]))
        if interaction is None:
            return web.json_response({"error": "unknown interaction"}, status=404)
        return web.json_response(interaction_report(emu, interaction))

    async def message(request: web.Request) -> web.Response:
        body = await request.json()
        text = str(body.get("content", ""))
        if body.get("dm"):
            sent = await emu.send_dm(emu.alice, text)
        else:
            sent = await emu.mention(emu.alice, emu.general, text)
        return web.json_response({"message_id": str(sent.id), "channel_id": str(sent.channel_id)})

    async def transcript(request: web.Request) -> web.Response:
        return web.json_response(
            [
                {
                    "t": round(r.at - emu.started, 3),
                    "method": r.method,
                    "path": r.path,
                    "status": r.status,
                    "body": r.body,
                }
                for r in emu.requests
            ]
        )

    async def drop(request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        return web.json_response({"dropped": await emu.drop_gateway(int(body.get("code", 4000)))})

    async def rate_limit(request: web.Request) -> web.Response:
        body = await request.json()
        emu.rate_limit(
            str(body["path"]),
            int(body.get("count", 1)),
            method=body.get("method"),
            retry_after=float(body.get("retry_after", 0.5)),
        )
        return web.json_response({"ok": True})

    app.router.add_get("/_emulator/status", status)
    app.router.add_post("/_emulator/ask", ask)
    app.router.add_get("/_emulator/interactions/{iid}", get_interaction)
    app.router.add_post("/_emulator/messages", message)
    app.router.add_get("/_emulator/transcript", transcript)
    app.router.add_post("/_emulator/drop", drop)
    app.router.add_post("/_emulator/ratelimit", rate_limit)
