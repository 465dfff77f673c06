"""The model call: validation reasks and transport retries, kept apart and counted apart."""

from __future__ import annotations

import asyncio
import copy
import json

import httpx2
import pytest
from helpers import Script, completion, make_settings, seed

from llm_extract import (
    Extractor,
    RequestRejectedError,
    TransportError,
    ValidationFailedError,
)
from llm_extract.core.articles import read_article
from llm_extract.model.retry import is_transient, retry_after_seconds

TEXT = read_article(seed("003")).text


def extractor(script: Script, **overrides) -> Extractor:
    settings = make_settings(mode="live", api_key="sk-test-key", **overrides)
    return Extractor(settings=settings, transport=script.transport)


def test_validation_failure_is_reasked_with_the_error(good_answer, fast_retry):
    bad = copy.deepcopy(good_answer)
    bad["seizures"][0]["items"][0]["quantity"] = 0  # a zero quantity cannot be right
    script = Script([completion(bad), completion(good_answer)])
    result = extractor(script, **fast_retry).extract(TEXT)
    assert result.seizures[0].items[0].quantity == 2400
    assert (result.run.calls, result.run.reasks, result.run.retries) == (2, 1, 0)
    first, second = script.bodies
    assert len(second["messages"]) == len(first["messages"]) + 2  # the failed answer + the error
    assert "greater than 0" in json.dumps(second["messages"][-1])
    assert result.run.usage.input_tokens == 200 and result.run.usage.output_tokens == 40


def test_reasks_exhausted_keeps_the_last_raw_output(good_answer, fast_retry):
    bad = copy.deepcopy(good_answer)
    bad["agreements"][0]["parties"] = []  # an agreement with no party
    script = Script([completion(bad)] * 3)
    with pytest.raises(ValidationFailedError) as info:
        extractor(script, max_reasks=2, **fast_retry).extract(TEXT, source="003.txt")
    err = info.value
    assert err.attempts == 3 and len(script.bodies) == 3
    assert err.article == "003.txt" and "003.txt" in str(err)
    assert json.loads(err.last_output)["agreements"][0]["parties"] == []


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_transient_status_is_retried_not_reasked(status, good_answer, fast_retry):
    script = Script([httpx2.Response(status, json={"error": {"message": "busy"}}), completion(good_answer)])
    result = extractor(script, **fast_retry).extract(TEXT)
    assert (result.run.calls, result.run.reasks, result.run.retries) == (2, 0, 1)
    assert script.bodies[0] == script.bodies[1]  # the same request again: no error pasted into the prompt


def test_400_is_not_retried(good_answer, fast_retry):
    script = Script([httpx2.Response(400, json={"error": {"message": "bad request"}})])
    with pytest.raises(RequestRejectedError) as info:
        extractor(script, **fast_retry).extract(TEXT, source="a.txt")
    assert info.value.status_code == 400 and info.value.attempts == 1
    assert len(script.requests) == 1


def test_persistent_503_gives_transport_error_after_max_attempts(fast_retry):
    script = Script([httpx2.Response(503, json={"error": {"message": "down"}})] * 4)
    with pytest.raises(TransportError) as info:
        extractor(script, max_attempts=4, **fast_retry).extract(TEXT, source="a.txt")
    assert info.value.attempts == 4 and info.value.status_code == 503
    assert "a.txt" in str(info.value) and "server error" in str(info.value)


def test_connection_error_is_retried(good_answer, fast_retry):
    def reset(request):
        raise httpx2.ConnectError("connection reset by peer", request=request)

    script = Script([reset, completion(good_answer)])
    result = extractor(script, **fast_retry).extract(TEXT)
    assert result.run.retries == 1


def test_retry_after_is_honoured(good_answer):
    limited = httpx2.Response(429, headers={"retry-after": "0.3"}, json={"error": {"message": "slow down"}})
    script = Script([limited, completion(good_answer)])
    ex = extractor(script, retry_initial_wait_s=0.0, retry_max_wait_s=0.0, retry_after_max_s=5.0)
    result = ex.extract(TEXT)
    assert result.run.retries == 1
    assert result.run.latency_s >= 0.3  # waited what the server asked, not the zero backoff


def test_retry_after_parsing():
    import openai

    def err(headers):
        response = httpx2.Response(429, headers=headers, request=httpx2.Request("POST", "http://x/v1/chat/completions"))
        return openai.RateLimitError("rate limited", response=response, body=None)

    assert retry_after_seconds(err({"retry-after": "7"})) == 7
    assert retry_after_seconds(err({"retry-after-ms": "250"})) == 0.25
    assert retry_after_seconds(err({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}), now=1445412470.0) == 10.0
    assert retry_after_seconds(err({})) is None
    assert is_transient(err({}))


def test_timeout_is_transient():
    import openai

    request = httpx2.Request("POST", "http://x/v1/chat/completions")
    assert is_transient(openai.APITimeoutError(request=request))
    bad = openai.BadRequestError("bad", response=httpx2.Response(400, request=request), body=None)
    assert not is_transient(bad)


def test_async_api(good_answer):
    script = Script([completion(good_answer)])

    async def main():
        async with extractor(script) as ex:
            return await ex.aextract(TEXT, id="iraq-2025")

    result = asyncio.run(main())
    assert result.article.id == "iraq-2025" and result.article.source == "iraq-2025"
    assert len(result.seizures) == 1


def test_sync_api_works_inside_a_running_loop(good_answer):
    script = Script([completion(good_answer)])
    ex = extractor(script)

    async def main():
        return ex.extract(TEXT)  # e.g. from a notebook cell

    assert len(asyncio.run(main()).seizures) == 1


def test_callers_messages_are_not_mutated_by_reasks(good_answer, fast_retry):
    bad = copy.deepcopy(good_answer)
    bad["seizures"][0]["evidence"] = "   "
    script = Script([completion(bad), completion(good_answer)])
    ex = extractor(script, **fast_retry)
    before = ex.prompts.messages(TEXT)
    ex.extract(TEXT)
    assert ex.prompts.messages(TEXT) == before
    assert len(script.bodies[0]["messages"]) == 2


def test_json_mode_for_servers_without_tool_calling(good_answer):
    body = completion(good_answer)
    message = body["choices"][0]["message"]
    message["content"] = json.dumps(good_answer)
    del message["tool_calls"]
    script = Script([body])
    result = extractor(script, call_mode="json").extract(TEXT)
    assert result.seizures[0].items[0].quantity == 2400
    sent = script.bodies[0]
    assert "tools" not in sent and sent["response_format"] == {"type": "json_object"}


def test_local_server_without_a_key(good_answer):
    script = Script([completion(good_answer)])
    settings = make_settings(mode="live", base_url="http://127.0.0.1:9/v1")
    result = Extractor(settings=settings, transport=script.transport).extract(TEXT)
    assert result.run.mode == "live"
    assert str(script.requests[0].url) == "http://127.0.0.1:9/v1/chat/completions"
