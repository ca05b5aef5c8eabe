"""One cog per feature: /ask, mentions, threads and ask channels, the outline, admin tools."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.discord_app.client import ArticleBot


async def load_cogs(bot: ArticleBot) -> None:
    from bot.discord_app.cogs.admin import AdminCog
    from bot.discord_app.cogs.ask import AskCog
    from bot.discord_app.cogs.mention import MentionCog
    from bot.discord_app.cogs.outline import OutlineCog

    await bot.add_cog(AskCog(bot))
    await bot.add_cog(MentionCog(bot))
    await bot.add_cog(OutlineCog(bot))
    await bot.add_cog(AdminCog(bot))
