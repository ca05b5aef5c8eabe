"""The local language model: finding and loading the GGUF, constrained generation, streaming.

Knows nothing of Chroma or Discord.
"""
