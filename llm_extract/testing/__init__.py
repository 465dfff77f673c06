"""Synthetic corpora for tests and benchmarks: articles plus matching recordings.

`synthetic_corpus(n, articles_dir, replay_dir)` writes `n` distinct short news articles (a
seizure and an agreement each, with varied numbers, drugs, places and countries) and, for
each, a recording of the answer a model would give, made by running the real pipeline in
`record` mode against a scripted OpenAI-compatible transport. Replaying them, or serving
them with `llm-extract serve`, exercises the whole pipeline offline at any scale.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

__all__ = ["cached_corpus", "chat_completion", "synthetic_article", "synthetic_corpus"]

_DRUGS = [
    ("heroin", "kilograms"),
    ("opium", "kilograms"),
    ("methamphetamine", "kilograms"),
    ("hashish", "kilograms"),
    ("captagon", "pills"),
    ("morphine", "kilograms"),
    ("crystal meth", "kilograms"),
    ("tramadol", "tablets"),
]
_PLACES = [
    "Sistan-Baluchestan Province",
    "Kerman Province",
    "Khorasan Razavi Province",
    "Hormozgan Province",
    "Zahedan",
    "Mashhad",
    "Bandar Abbas",
    "Kermanshah",
]
_PARTNERS = ["Russia", "Turkey", "Iraq", "Pakistan", "Afghanistan", "Kyrgyzstan", "Tajikistan", "Azerbaijan"]
_DOMAINS = [
    ("border security", "border_security"),
    ("counter-narcotics", "narcotics"),
    ("counter-terrorism", "terrorism"),
    ("police training", "training"),
]
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def synthetic_article(i: int) -> tuple[str, dict[str, Any]]:
    """Article number `i`: its text and the answer a careful model would give."""
    rng = random.Random(i)
    drug, unit = rng.choice(_DRUGS)
    quantity = rng.randrange(120, 9000) if unit == "kilograms" else rng.randrange(1000, 90000)
    place, partner = rng.choice(_PLACES), rng.choice(_PARTNERS)
    domain_text, domain = rng.choice(_DOMAINS)
    day = rng.choice(_WEEKDAYS)
    arrested = rng.randrange(1, 9)
    seizure = (
        f"Iranian police seized {quantity:,} {unit} of {drug} in {place} on {day} "
        f"and arrested {arrested} suspects, the provincial police chief said."
    )
    agreement = f"Iran and {partner} signed a memorandum of understanding on {domain_text} cooperation in Tehran."
    text = (
        f"Mar {1 + i % 28}, 2024, 10:{i % 60:02d} AM\n\n"
        f"TEHRAN (report {i}) – {seizure}\n\n"
        f"Officials said the drugs had been smuggled across the eastern border. {agreement}\n\n"
        "The interior ministry said cooperation with neighbouring countries would continue.\n"
    )
    answer = {
        "title": None,
        "published": f"Mar {1 + i % 28}, 2024",
        "agreements": [
            {
                "parties": [{"name": "Iran", "kind": "state"}, {"name": partner, "kind": "state"}],
                "instrument_type": "mou",
                "status": "signed",
                "date": None,
                "domains": [domain],
                "officials": [],
                "place": "Tehran",
                "is_background": False,
                "evidence": agreement,
            }
        ],
        "seizures": [
            {
                "items": [{"drug": drug, "quantity": quantity, "unit": unit}],
                "place": place,
                "date": f"on {day}",
                "seizing_agency": "Iranian police",
                "arrested": arrested,
                "origin": None,
                "destination": None,
                "evidence": f"TEHRAN (report {i}) – {seizure}",
            }
        ],
    }
    return text, answer


def chat_completion(
    arguments: Any,
    *,
    tool: str = "ArticleMentions",
    call_id: str = "call_test",
    completion_id: str = "chatcmpl-test",
    prompt_tokens: int = 100,
    completion_tokens: int | None = None,
) -> dict[str, Any]:
    """A `chat.completion` body with one tool call, as the OpenAI API returns it.

    `arguments` is the tool call's JSON (a string, or an object to serialise);
    `completion_tokens` defaults to a quarter of its length.
    """
    args = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    output = len(args) // 4 if completion_tokens is None else completion_tokens
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": 1_767_225_600,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": call_id, "type": "function", "function": {"name": tool, "arguments": args}}],
                },
            }
        ],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": output, "total_tokens": prompt_tokens + output},
    }


def _completion(answer: dict[str, Any], tool: str, n: int) -> dict[str, Any]:
    return chat_completion(
        answer, tool=tool, call_id=f"call_synthetic_{n}", completion_id=f"chatcmpl-synthetic-{n}", prompt_tokens=2900
    )


def synthetic_corpus(n: int, articles_dir: Path, replay_dir: Path, *, model: str = "gpt-4o-mini", start: int = 0) -> list[Path]:
    """Write `n` articles to `articles_dir` and their recordings to `replay_dir`."""
    import httpx2

    from llm_extract.core.articles import Article
    from llm_extract.core.pipeline import Extractor

    articles_dir.mkdir(parents=True, exist_ok=True)
    answers: dict[str, dict[str, Any]] = {}

    def model_answer(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        user = body["messages"][1]["content"]
        marker = user.index("(report ") + len("(report ")
        number = user[marker : user.index(")", marker)]
        tool = body["tools"][0]["function"]["name"]
        return httpx2.Response(200, json=_completion(answers[number], tool, int(number)))

    extractor = Extractor(
        mode="record",
        model=model,
        api_key="synthetic-no-key",
        replay_dir=replay_dir,
        transport=httpx2.MockTransport(model_answer),
    )
    paths = []

    async def record_all() -> None:
        for i in range(start, start + n):
            text, answer = synthetic_article(i)
            answers[str(i)] = answer
            path = articles_dir / f"synthetic_{i:06d}.txt"
            path.write_text(text, encoding="utf-8")
            await extractor.aextract(Article(text=text, source=str(path)))
            paths.append(path)
        await extractor.aclose()

    import asyncio

    asyncio.run(record_all())
    return paths


def cached_corpus(cache: Path, n: int) -> tuple[Path, Path]:
    """At least `n` synthetic articles and recordings in `cache` (articles/, replay/), made once.

    The recordings depend on the prompt and schema: when their version changed since the
    corpus was made, it is made again (replay would refuse stale recordings).
    """
    import shutil

    from llm_extract.core.pipeline import Extractor

    articles, replay = cache / "articles", cache / "replay"
    replay.mkdir(parents=True, exist_ok=True)  # a replay directory must exist (it may stay empty)
    probe = Extractor(mode="replay", replay_dir=replay)
    # what makes a recording stale: the prompt and schema, and the settings that reach the request
    version = f"{probe.prompts.version}:{probe.settings.call_mode}:{probe.settings.max_tokens}"
    marker = cache / "prompt_version"
    if not marker.exists() or marker.read_text() != version:
        shutil.rmtree(articles, ignore_errors=True)
        shutil.rmtree(replay, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    marker.write_text(version)
    have = len(list(articles.glob("*.txt"))) if articles.exists() else 0
    if have < n:
        synthetic_corpus(n - have, articles, replay, start=have)
    return articles, replay
