"""The Discord side of the bot: the client, its cogs, message formatting and the runner.

Importing this package imports nothing from discord.py; its modules do.
"""
