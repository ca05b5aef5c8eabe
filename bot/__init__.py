"""article-bot: answers questions about one article, citing its sections."""

__version__ = "0.1.0"
