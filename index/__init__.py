"""The article as data: sections, passages, embeddings, the Chroma store and retrieval.

Knows nothing of language models or Discord.
"""
