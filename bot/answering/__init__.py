"""The answering core: sections and passages in, a cited answer or an honest refusal out.

It knows nothing of Discord, the terminal or HTTP; the app layers (CLI, chat, queue, health,
Discord) import it through the names re-exported here.
"""

from bot.answering.answer import Answer, Answerer, Citation, SourcePassage, Turn
from bot.answering.citing import SentenceRanker
from bot.answering.pipeline import AnswerPipeline, OpeningsMode, PipelineConfig
from bot.answering.premises import PremiseChecker
from bot.answering.prompt import sentence_text

__all__ = [
    "Answer",
    "AnswerPipeline",
    "Answerer",
    "Citation",
    "OpeningsMode",
    "PipelineConfig",
    "PremiseChecker",
    "SentenceRanker",
    "SourcePassage",
    "Turn",
    "sentence_text",
]
