"""Which kind of OpenAI-compatible server we talk to, and the call mode that suits it.

With `call_mode="auto"` (the default) the engine asks a server given by `base_url` once,
before the first request (`GET {base_url}/models`, 3 s at most, in live and record modes
only):

=================== ======================================== ===============
server              how it is told                           call mode
=================== ======================================== ===============
llama.cpp           `Server: llama.cpp` header, or models    `json_schema`
                    `owned_by: llamacpp`
vLLM                models `owned_by: vllm`                  `json_schema`
Ollama              models `owned_by: library` / `ollama`,   `json_schema`
                    or port 11434
OpenAI, others      anything else, or no answer              `tools`
=================== ======================================== ===============

llama.cpp's server ignores a forced `tool_choice` and answers with text, while all three
constrain the answer to a JSON schema given as `response_format` (grammar-constrained
decoding), which is what small local models need. Replay mode never asks (no network):
`auto` is `tools` there, so recordings stay valid whatever machine replays them.
"""

from __future__ import annotations

import logging
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["ServerKind", "call_mode_for", "detect_server"]

log = logging.getLogger(__name__)

ServerKind = Literal["openai", "llama.cpp", "vllm", "ollama", "unknown"]


def detect_server(base_url: str | None, *, api_key: str | None = None, timeout_s: float = 3.0) -> ServerKind:
    """The kind of server at `base_url` (None: OpenAI's API).

    Credentials in the URL (`http://user:pass@host/v1`) are taken out of it, as the model
    client does: never sent as Basic auth, never logged; the password is the key when
    `api_key` is None.
    """
    from llm_extract.model.secrets import register_secrets, split_credentials

    base_url, user, password = split_credentials(base_url)
    register_secrets(api_key, user=user, password=password)
    api_key = api_key or password
    if base_url is None:
        return "openai"
    host = urlsplit(base_url).hostname or ""
    if host.endswith("openai.com"):
        return "openai"
    import httpx2

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        with httpx2.Client(timeout=timeout_s) as client:
            response = client.get(base_url.rstrip("/") + "/models", headers=headers)
    except Exception as exc:  # the server may not be up yet: the first real request will say so
        log.info("could not ask %s what server it is (%s): using tool calling", base_url, type(exc).__name__)
        return "ollama" if urlsplit(base_url).port == 11434 else "unknown"
    if "llama.cpp" in response.headers.get("server", "").casefold():
        return "llama.cpp"
    try:
        owners = {str(m.get("owned_by", "")).casefold() for m in response.json().get("data", [])}
    except Exception:
        owners = set()
    if "llamacpp" in owners:
        return "llama.cpp"
    if "vllm" in owners:
        return "vllm"
    if owners & {"library", "ollama"} or urlsplit(base_url).port == 11434:
        return "ollama"
    return "unknown"


def call_mode_for(kind: ServerKind) -> Literal["tools", "json_schema"]:
    """The call mode `auto` means for a kind of server."""
    return "json_schema" if kind in ("llama.cpp", "vllm", "ollama") else "tools"
