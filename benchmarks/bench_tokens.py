"""Tokens per article, split by part, and what prompt caching saves.

    python benchmarks/bench_tokens.py [--model gpt-4o-mini]

For each seed article, counts with the o200k_base encoding (offline, via the `bpe-openai`
package: tiktoken downloads its encoding files at run time) the tokens of the request that
llm_extract sends: system instructions, few-shot example, tool schema, the user message's
wrapper, and the article. Everything but the article is the fixed overhead: it must be at
most 2,000 tokens, byte-identical across articles and placed before the article, so that
providers' prompt caching discounts it. Message framing is counted as OpenAI does (about 3
tokens per message, 3 to prime the reply); the tool schema is counted as its compact JSON,
an approximation of the provider's own rendering.

The cost per article is estimated from the price table with and without caching (the
fixed part billed at the cached-input price), for an output of the size the recorded answers
have.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="gpt-4o-mini")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    try:
        from bpe_openai import get_encoding
    except ImportError:
        raise SystemExit("pip install bpe-openai  (the o200k_base encoding, offline)") from None

    import instructor

    from llm_extract import Extractor
    from llm_extract.core.articles import read_article
    from llm_extract.core.pricing import PriceTable
    from llm_extract.core.results import Usage

    encoding = get_encoding("o200k_base")

    def count(text: str) -> int:
        return len(encoding.encode(text))

    extractor = Extractor(mode="replay", replay_dir=ROOT / "fixtures" / "replay", model=args.model)
    tool = instructor.generate_openai_schema(instructor.response_schema(extractor.task.response_model))
    tools_json = json.dumps([{"type": "function", "function": tool}], separators=(",", ":"))
    prices = PriceTable()
    price = prices.price(args.model)

    rows = []
    fixed_hashes = set()
    for path in sorted((ROOT / "fixtures" / "articles").glob("*.txt")):
        article = read_article(path)
        system, user = extractor.prompts.messages(article.text)
        example_at = system["content"].index("## Example")
        instructions, example = system["content"][:example_at], system["content"][example_at:]
        body_at = user["content"].index(article.text)
        wrapper = user["content"][:body_at] + user["content"][body_at + len(article.text) :]
        framing = 3 + 3 * 2
        parts = {
            "instructions": count(instructions),
            "few-shot": count(example),
            "schema": count(tools_json),
            "wrapper": count(wrapper) + framing,
            "article": count(article.text),
        }
        fixed = parts["instructions"] + parts["few-shot"] + parts["schema"] + parts["wrapper"]
        prefix = system["content"] + tools_json + user["content"][:body_at]
        fixed_hashes.add(hashlib.sha256(prefix.encode()).hexdigest())
        recorded = json.loads(extractor.store.path_for(article.sha256).read_text(encoding="utf-8"))  # type: ignore[union-attr]
        output = recorded["interactions"][-1]["response"]["body"]["usage"]["completion_tokens"]
        total_in = fixed + parts["article"]
        plain = prices.cost(args.model, Usage(input_tokens=total_in, output_tokens=output))
        cached = prices.cost(args.model, Usage(input_tokens=total_in, output_tokens=output, cached_input_tokens=fixed))
        rows.append((path.stem[:3], parts, fixed, total_in, output, plain, cached))

    print(f"o200k_base tokens per seed article ({args.model}; price {price})")
    print(f"{'seed':>4} {'instr':>6} {'few-shot':>8} {'schema':>7} {'wrapper':>7} {'fixed':>6} {'article':>7} {'input':>6} {'output':>6} {'$/article':>10} {'cached $':>10}")
    for seed, parts, fixed, total_in, output, plain, cached in rows:
        print(
            f"{seed:>4} {parts['instructions']:>6} {parts['few-shot']:>8} {parts['schema']:>7} {parts['wrapper']:>7} "
            f"{fixed:>6} {parts['article']:>7} {total_in:>6} {output:>6} {plain or 0:>10.6f} {cached or 0:>10.6f}"
        )
    fixed = rows[0][2]
    print(f"fixed overhead: {fixed} tokens (goal <= 2,000: {'met' if fixed <= 2000 else 'NOT met'}), with the few-shot example")
    print(f"fixed part byte-identical across the {len(rows)} articles and placed before the article: "
          f"{'yes' if len(fixed_hashes) == 1 else 'NO'}")
    if rows[0][5]:
        saving = 1 - sum(r[6] for r in rows) / sum(r[5] for r in rows)
        print(f"prompt caching would save {saving:.0%} of the input+output cost of these articles")


if __name__ == "__main__":
    main()
