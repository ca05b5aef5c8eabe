"""ServerLLM against llama-cpp-python's own server, compared with LocalLLM on the same model."""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from models.backend import LLMBackend, LLMServerError
from models.local import LocalLLM
from models.server import ServerLLM
from tests.server_process import free_port, running_server

Ask = Callable[[str], list[dict[str, str]]]


@pytest.fixture(scope="module")
def server_url(smollm2_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(smollm2_path),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_threads",
        "2",
        "--n_threads_batch",
        "2",
        "--n_ctx",
        "2048",
        "--verbose",
        "false",
    ]
    url = f"http://127.0.0.1:{port}/v1"

    def ready() -> bool:
        try:
            return httpx.get(f"{url}/models", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    with running_server(command, ready, name="llama_cpp.server", log=log, timeout=180):
        yield url


@pytest.mark.slow
def test_server_and_local_give_identical_text(
    server_url: str, smollm2_path: Path, ask: Ask, answer_schema: dict[str, Any]
) -> None:
    server = ServerLLM(server_url, timeout_s=300)
    assert isinstance(server, LLMBackend)
    assert server.check()  # lists the served model
    questions = ["When did Alipay start?", "What is the weather in Paris?"]
    remote = []
    for question in questions:
        deltas: list[str] = []
        gen = server.complete(
            ask(question), schema=answer_schema, max_tokens=120, on_text=deltas.append
        )
        assert "".join(deltas) == gen.text
        assert gen.finish_reason == "stop"
        jsonschema.validate(json.loads(gen.text), answer_schema)
        assert gen.prompt_tokens > 100 and gen.completion_tokens > 3
        remote.append(gen)
    with LocalLLM(smollm2_path, n_threads=2, n_ctx=2048) as local:
        for question, gen in zip(questions, remote, strict=True):
            mine = local.complete(ask(question), schema=answer_schema, max_tokens=120)
            assert mine.text == gen.text
            # No usage while streaming: the server's tokenizer counts the text afterwards (a
            # grammar often makes the model spell JSON in more, smaller tokens than that), and
            # the prompt is its messages plus the template's tokens per message.
            assert gen.completion_tokens == local.count_tokens(gen.text)
            assert abs(gen.prompt_tokens - mine.prompt_tokens) <= 8
        text = "Alipay's strategy, in one sentence."
        assert server.count_tokens(text) == local.count_tokens(text)
    server.close()


@pytest.mark.slow
def test_server_prime_and_plain_completion(server_url: str, ask: Ask) -> None:
    server = ServerLLM(server_url, timeout_s=300)
    assert server.prime(ask("unused")) > 0
    gen = server.complete(ask("Say hello."), max_tokens=3)
    assert gen.finish_reason == "length" and gen.text
    assert server.info()["usage"] == "tokenize"


@pytest.mark.slow
def test_http_error_names_the_status(server_url: str) -> None:
    server = ServerLLM(server_url, timeout_s=60)
    with pytest.raises(LLMServerError) as err:
        server.complete([{"role": "nobody", "content": "x"}], max_tokens=2)
    assert f"{server_url}/chat/completions answered HTTP" in str(err.value)
    assert "validation error" in str(err.value)  # the server's own explanation is passed on


def test_connection_refused_names_the_url_and_the_fix() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    server = ServerLLM(url, timeout_s=5)
    with pytest.raises(LLMServerError) as err:
        server.complete([{"role": "user", "content": "hi"}])
    message = str(err.value)
    assert f"{url}/chat/completions" in message
    assert "python -m llama_cpp.server" in message and "ARTICLE_BOT_LLM_SERVER_URL" in message
    with pytest.raises(LLMServerError, match="Cannot reach"):
        server.check()
    with pytest.raises(LLMServerError, match="Not an http"):
        ServerLLM("127.0.0.1:8001")


def test_a_silent_server_times_out() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []

    def accept() -> None:
        conn, _ = listener.accept()
        accepted.append(conn)  # and never answer

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    try:
        with pytest.raises(LLMServerError, match=r"did not answer within 0\.5s"):
            ServerLLM(url, timeout_s=0.5).complete([{"role": "user", "content": "hi"}])
    finally:
        for conn in accepted:
            conn.close()
        listener.close()
