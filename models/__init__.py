"""The local language model: finding and loading the GGUF, constrained generation, streaming.

Knows nothing of Chroma or Discord.

- ``catalog``: the packaged GGUF models (``MODELS``) with their pip packages and hashes.
- ``locate``: ``resolve_model`` finds the .gguf to load, joining chunked packages once.
- ``backend``: the ``LLMBackend`` protocol, ``Generation`` and the errors.
- ``local``: ``LocalLLM``, llama.cpp in this process, with prefix KV reuse and saved state; built
  from ``chat_template`` (messages to tokens, checked grammars), ``decoding`` and ``greedy``
  (the token loop), ``prompt_state`` (the prefix's KV cache saved on disk) and
  ``llama_adapter`` (all use of llama-cpp-python's internals, and its version check).
- ``server``: ``ServerLLM``, the same against llama-cpp-python's OpenAI-compatible server.
- ``grammar``: JSON schema to llama.cpp grammar.
- ``streaming``: ``JsonStringFieldStreamer`` decodes one JSON string field while it is written.
- ``rawbench``: llama.cpp's raw speed on this machine.
"""

import os

# llama.cpp's CPU threads meet at an OpenMP barrier after every operation, and OpenMP's default
# is to spin there. On a host whose cores are shared with other work, the spinning thread holds
# the core its partner needs: measured on two busy cores with the 0.5B model, generation ran at
# 0.5-2.6 tokens/s spinning and 10-18 tokens/s sleeping. libgomp reads this once, when llama.cpp
# is loaded (on first use of models.local or models.rawbench); set OMP_WAIT_POLICY=ACTIVE to
# choose spinning on a dedicated host.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
