"""Discord's message limits and the error bodies it answers with when they are broken."""

from __future__ import annotations

from typing import Any

CONTENT = 2000
EMBEDS_PER_MESSAGE = 10
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
EMBED_FIELD_NAME = 256
EMBED_FIELD_VALUE = 1024
EMBED_FOOTER = 2048
EMBED_AUTHOR = 256
EMBED_TOTAL = 6000
THREAD_NAME = 100


class DiscordError(Exception):
    """An HTTP error answer: status and Discord's JSON body."""

    def __init__(self, status: int, code: int, message: str, errors: Any = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.body: dict[str, Any] = {"message": message, "code": code}
        if errors is not None:
            self.body["errors"] = errors


def unknown(kind: str, code: int) -> DiscordError:
    return DiscordError(404, code, f"Unknown {kind}")


def _error(code: str, message: str) -> dict[str, Any]:
    return {"_errors": [{"code": code, "message": message}]}


def _max_length(limit: int) -> dict[str, Any]:
    return _error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _required() -> dict[str, Any]:
    return _error("BASE_TYPE_REQUIRED", "This field is required")


def _check_text(
    errors: dict[str, Any], key: str, value: Any, limit: int, required: bool = False
) -> int:
    if value is None:
        if required:
            errors[key] = _required()
        return 0
    if not isinstance(value, str):
        errors[key] = _error("STRING_TYPE_CONVERT", "Could not interpret value as string.")
        return 0
    if required and not value.strip():
        errors[key] = _required()
    if len(value) > limit:
        errors[key] = _max_length(limit)
    return len(value)


def embed_errors(embed: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Errors of one embed (Discord's nested shape) and the characters it counts."""
    errors: dict[str, Any] = {}
    size = _check_text(errors, "title", embed.get("title"), EMBED_TITLE)
    size += _check_text(errors, "description", embed.get("description"), EMBED_DESCRIPTION)
    fields = embed.get("fields") or []
    if len(fields) > EMBED_FIELDS:
        errors["fields"] = _error(
            "BASE_TYPE_MAX_LENGTH", f"Must be {EMBED_FIELDS} or fewer in length."
        )
    field_errors: dict[str, Any] = {}
    for i, f in enumerate(fields):
        fe: dict[str, Any] = {}
        size += _check_text(fe, "name", f.get("name"), EMBED_FIELD_NAME, required=True)
        size += _check_text(fe, "value", f.get("value"), EMBED_FIELD_VALUE, required=True)
        if fe:
            field_errors[str(i)] = fe
    if field_errors and "fields" not in errors:
        errors["fields"] = field_errors
    footer = embed.get("footer") or {}
    footer_errors: dict[str, Any] = {}
    size += _check_text(footer_errors, "text", footer.get("text"), EMBED_FOOTER)
    if footer_errors:
        errors["footer"] = footer_errors
    author = embed.get("author") or {}
    author_errors: dict[str, Any] = {}
    size += _check_text(author_errors, "name", author.get("name"), EMBED_AUTHOR)
    if author_errors:
        errors["author"] = author_errors
    return errors, size


def message_errors(payload: dict[str, Any]) -> dict[str, Any]:
    """Form errors of a message payload (create or edit), in Discord's nested shape."""
    errors: dict[str, Any] = {}
    if "content" in payload:
        _check_text(errors, "content", payload.get("content"), CONTENT)
    embeds = payload.get("embeds")
    if embeds is not None:
        if not isinstance(embeds, list):
            errors["embeds"] = _error("LIST_TYPE_CONVERT", "Must be an array.")
            return errors
        if len(embeds) > EMBEDS_PER_MESSAGE:
            errors["embeds"] = _error(
                "BASE_TYPE_MAX_LENGTH", f"Must be {EMBEDS_PER_MESSAGE} or fewer in length."
            )
            return errors
        embed_errs: dict[str, Any] = {}
        total = 0
        for i, embed in enumerate(embeds):
            errs, size = embed_errors(embed)
            total += size
            if errs:
                embed_errs[str(i)] = errs
        if total > EMBED_TOTAL and not embed_errs:
            embed_errs = _error(
                "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {EMBED_TOTAL}"
            )
        if embed_errs:
            errors["embeds"] = embed_errs
    return errors


def check_message(payload: dict[str, Any], *, nest: str | None = None) -> None:
    """Raise Discord's 400 50035 "Invalid Form Body" for a payload over the limits."""
    errors = message_errors(payload)
    if errors:
        raise DiscordError(400, 50035, "Invalid Form Body", {nest: errors} if nest else errors)


def check_not_empty(content: str, embeds: list[Any] | tuple[Any, ...]) -> None:
    if not (content or "").strip() and not embeds:
        raise DiscordError(400, 50006, "Cannot send an empty message")
