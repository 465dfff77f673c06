"""A noisy model: the mistakes real models make, injected into perfect answers, and how caught looks.

An **injector** is a pure function `(answer, text, rng) -> (mutated answer, Mistake) | None`: from a
perfect `security_events` answer (a dict, as the model sends it), the article's text and a seeded
`random.Random`, a deep copy with one mistake in it, still schema-valid, and a `Mistake` saying which
record it touched, what it did and how caught looks (`None`: the article has no place for it):
`rejected` (the record is in `rejected`), `flag:<name>` (a flag of that name its clean twin did not
carry), `marked` (a total marked `is_total`), `merged` (a duplicate merged: no extra record), `fuzzy`
(a paraphrased quote kept as `grounding: fuzzy` on the right sentence).

`benchmarks/bench_mistakes.py` serves the answers to the real pipeline (its `Harness`: `Extractor` in
record mode over a scripted `httpx2.MockTransport`, as `fixtures/build_replay.py` does) and judges the
output; `tests/test_noisy_model.py` runs fixed cases. Like the rest of `llm_extract.testing`, this module
imports no task: it reads the text with its own numbers, dates and drug names (a gap in the task's
normalisers does not blind it), and sees the task only through the registry.
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

__all__ = ["CORE", "INJECTORS", "NOTES", "Injector", "Mistake", "example_output", "inject", "mentions", "numbers_in",
           "paraphrase", "publication_day", "sentences"]  # fmt: skip

Answer = dict[str, Any]
Rec = dict[str, Any]
Result = tuple[Answer, "Mistake"] | None
#: flags that are notes, not doubts (no confidence penalty; README, "flags")
NOTES = frozenset({"total_includes_items", "country_from_dateline"})


@dataclass(frozen=True)
class Mistake:
    """`index`: the wrong record in the mutated answer's list (`record`s); `original`: the clean record
    it was made from (None: made from nothing); `expect`: how caught looks."""

    kind: str
    record: str
    index: int
    original: int | None
    description: str
    expect: tuple[str, ...]


@dataclass(frozen=True)
class Injector:
    name: str
    inject: Callable[[Answer, str, random.Random], Result]
    expect: tuple[str, ...]
    doc: str
    checked: bool = True  # False: no check of the pipeline is meant to catch it (the check is missing)


# -- reading the text ------------------------------------------------------------------------------------
_SCALE = {"thousand": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "lakh": 1e5, "crore": 1e7}
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{2,3})+|\d+)(?:\.(\d+))?(?:\s*(thousand|million|billion|bn|lakhs?|crore|m)\b)?",
                     re.I)  # fmt: skip
_WORDS = {w: n + 1 for n, w in enumerate("one two three four five six seven eight nine ten".split())}
_WORDS |= {"a tonne": 1, "a dozen": 12}
_MONTHS = "January February March April May June July August September October November December".split()
_MON = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_DAYS = [(re.compile(r"\b(\d{4})-(\d\d)-(\d\d)\b"), (0, 1, 2)), (re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b"), (2, 1, 0)),
         (re.compile(rf"\b(\d{{1,2}}) {_MON},? (\d{{4}})\b", re.I), (2, 1, 0)),
         (re.compile(rf"\b{_MON} (\d{{1,2}}),? (\d{{4}})\b", re.I), (2, 0, 1))]  # fmt: skip


def _value(whole: str, decimals: str | None) -> float:
    return float(whole.replace(",", "") + (f".{decimals}" if decimals else ""))


def numbers_in(text: str) -> set[float]:
    """Every number the text writes: digits in any grouping, decimals, scale words, small words."""
    found = {float(v) for w, v in _WORDS.items() if mentions(text, w)}
    for m in _NUMBER.finditer(text):
        found.add(v := _value(m[1], m[2]))
        found |= {round(v * _SCALE[m[3].lower().rstrip("s")], 6)} if m[3] else set()
    return found


def mentions(text: str, word: str) -> bool:
    """`word` in `text`, case-insensitive, as a whole word."""
    return re.search(rf"(?<!\w){re.escape(word.casefold())}(?!\w)", text.casefold()) is not None


def first_sentence(text: str) -> str:
    """The article's first sentence, verbatim: its first non-empty line, cut at a sentence end."""
    line = next(ln.strip() for ln in text.splitlines() if ln.strip())
    m = re.search(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z\"“])", line)
    return line[: m.start()].strip() if m else line


def sentences(text: str) -> list[str]:
    """The article's sentences, as the pipeline cuts them, verbatim."""
    from llm_extract.core.chunking import sentence_boundaries

    cuts = [0, *sentence_boundaries(text), len(text)]
    return [s for a, b in zip(cuts, cuts[1:], strict=False) if (s := text[a:b].strip())]


def _day(text: str) -> date | None:
    """A calendar day written in `text` ('2023-06-30', '19.06.2019', '31 July 2022', 'Sept. 2, 2025')."""
    for pattern, (y, mo, d) in _DAYS:
        if m := pattern.search(text):
            g = m.groups()
            month = int(g[mo]) if g[mo].isdigit() else 1 + [x[:3].lower() for x in _MONTHS].index(g[mo][:3].lower())
            try:
                return date(int(g[y]), month, int(g[d]))
            except ValueError:
                continue
    return None


def publication_day(answer: Answer, text: str) -> date | None:
    """The day the article was published: its `published` as written, else its first lines."""
    return _day(answer.get("published") or "") or _day(text[:200])


def _same_day(expression: str, day: date) -> bool:
    """Whether a date as written can only mean `day` ('on Sunday' for a Sunday, 'today', 'May 12')."""
    when = _day(expression if re.search(r"\d{4}", expression) else f"{expression} {day.year}")
    low = expression.casefold()
    if when is not None or re.search(r"\b(today|this morning|tonight)\b", low):
        return when is None or when == day
    named = [n for n, w in enumerate(_WEEKDAYS) if w in low]
    return named == [day.weekday()] and not re.search(r"\b(last|previous|next)\b", low)


# -- how an injector is made -------------------------------------------------------------------------------
INJECTORS: dict[str, Injector] = {}
#: the kinds of the harness's brief; the rest of `INJECTORS` are further mistakes real models make
CORE = ("unit_changed", "status_upgraded", "party_added", "date_is_publication", "quantity_changed", "drug_changed",
        "evidence_paraphrased", "evidence_fabricated", "example_leaked", "duplicate", "agency_invented",
        "official_invented", "place_changed", "total_as_seizure")  # fmt: skip


def _pick(rng: random.Random, candidates: Sequence[Any]) -> Any:
    return candidates[rng.randrange(len(candidates))] if candidates else None


def _num(value: float) -> str:
    return f"{value:,.6f}".rstrip("0").rstrip(".")


def _unit(item: Rec) -> str:
    return (item.get("unit") or "").strip().casefold()


def _quantified(answer: Answer, ok: Callable[[Rec], bool] = lambda i: True) -> list[tuple[str, int, int]]:
    """(list, seizure, item) of the items with a quantity that pass `ok`."""
    seizures = enumerate(answer["seizures"])
    return [("seizures", s, i) for s, r in seizures for i, it in enumerate(r["items"])
            if it.get("quantity") is not None and ok(it)]  # fmt: skip


def _every(answer: Answer, lists: Sequence[str] = ("agreements", "seizures"), ok: Callable[[Rec], Any] = bool) -> list[Any]:
    return [(k, n) for k in lists for n, r in enumerate(answer[k]) if ok(r)]


def _register(kind: str, doc: str, func: Callable[..., Result], expect: tuple[str, ...], checked: bool) -> Callable[..., Result]:
    func.__name__, func.__doc__ = kind, doc
    INJECTORS[kind] = Injector(kind, func, expect, doc, checked)
    return func


def _injector(kind: str, expect: str, doc: str, spots: Callable[..., list[Any]], apply: Callable[..., str | None],
              checked: bool = True) -> Any:  # fmt: skip
    """An injector that picks one of `spots(answer, text)` (each `(list, index, ...)`), then `apply(record,
    spot, rng, text, answer)` changes that record of a deep copy and says what it did (None: give up)."""

    def injector(answer: Answer, text: str, rng: random.Random) -> Result:
        if (spot := _pick(rng, spots(answer, text))) is None:
            return None
        out = copy.deepcopy(answer)
        what = apply(out[spot[0]][spot[1]], spot, rng, text, answer)
        return None if what is None else (out, Mistake(kind, spot[0][:-1], spot[1], spot[1], what, INJECTORS[kind].expect))

    return _register(kind, doc, injector, tuple(expect.split()), checked)


def _appender(kind: str, expect: str, doc: str, make: Callable[[Answer, str, random.Random], Any]) -> Any:
    """An injector that adds a record: `make` gives (list, the record it copies or None, the record, what)."""

    def injector(answer: Answer, text: str, rng: random.Random) -> Result:
        if (made := make(answer, text, rng)) is None:
            return None
        lists, original, rec, what = made
        out = copy.deepcopy(answer)
        out[lists].append(rec)
        return out, Mistake(kind, lists[:-1], len(out[lists]) - 1, original, what, INJECTORS[kind].expect)

    return _register(kind, doc, injector, tuple(expect.split()), True)


def _assign(name: str, value: Any) -> Callable[..., str]:
    def apply(rec: Rec, *_: Any) -> str:
        old, rec[name] = rec.get(name), value
        return f"{name} {old!r} -> {value!r}: {rec['evidence'][:80]!r}"

    return apply


# -- the injectors: values ------------------------------------------------------------------------------------
_KILOS = set("kg kgs kilo kilos kilogram kilograms kilogramme kilogrammes".split())
_MASS = _KILOS | set("g gm gms gram grams grammes t ton tons tonne tonnes".split()) | {"metric tons"}


def _unit_changed(rec: Rec, spot: Any, rng: random.Random, *_: Any) -> str:
    item = rec["items"][spot[2]]
    old, item["unit"] = item["unit"], rng.choice(["tons", "grams"]) if _unit(item) in _KILOS else "kilograms"
    return f"{_num(item['quantity'])} {old} sent as {_num(item['quantity'])} {item['unit']}"


unit_changed = _injector("unit_changed", "flag:unit_mismatch", "The number stays, the unit is off by x1000 (g <-> kg <-> t).",
                         lambda a, t: _quantified(a, lambda i: _unit(i) in _MASS), _unit_changed)  # fmt: skip


def _digit_changed(q: float, rng: random.Random) -> float:
    """One of the first two digits replaced (2,400 -> 2,700; 1,770 -> 1,270)."""
    digits = list(f"{q:.6f}".rstrip("0").rstrip("."))
    n = rng.choice([n for n, ch in enumerate(digits) if ch.isdigit()][:2])
    digits[n] = rng.choice([d for d in "123456789" if d != digits[n]])
    return float("".join(digits))


def _quantity_changed(rec: Rec, spot: Any, rng: random.Random, text: str, _: Any) -> str | None:
    item = rec["items"][spot[2]]
    q, known = float(item["quantity"]), numbers_in(text)
    reverse = float(str(int(q))[::-1]) if q >= 12 and q.is_integer() else q * 4
    options = [round(v, 3) for v in (q * 2, q * 10, q / 2, _digit_changed(q, rng), reverse)]
    if (new := _pick(rng, [v for v in options if v > 0 and v not in known and v != q])) is None:
        return None
    item["quantity"] = new
    return f"quantity {_num(q)} -> {_num(new)} {item.get('unit')}"


quantity_changed = _injector("quantity_changed", "flag:quantity_not_in_article flag:quantity_not_in_evidence",
                             "A quantity the article never writes: a digit off, doubled, x10, halved, reversed.",
                             lambda a, t: _quantified(a), _quantity_changed)  # fmt: skip
#: the names each drug goes by: the harness's own list, so that a gap in the task's table does not blind it
_DRUG_NAMES = {
    "heroin": "heroin|brown sugar|smack|crack", "cocaine": "cocaine|coke|crack", "opium": "opium|taryak|poppy",
    "methamphetamine": "methamphetamine|meth|shabu|syabu|ice|yaba|ya ba|crystal", "ecstasy": "ecstasy|mdma|molly",
    "hashish": "hashish|hash|cannabis|marijuana|hemp|ganja|charas|kush|skunk|weed", "tramadol": "tramadol",
    "captagon": "captagon|amphetamine|fenethylline", "ketamine": "ketamine", "morphine": "morphine", "fentanyl": "fentanyl",
    "LSD": "lsd", "khat": "khat|qat|miraa",
}  # fmt: skip


def _drug_changed(rec: Rec, spot: Any, rng: random.Random, text: str, _: Any) -> str | None:
    free = [d for d, names in _DRUG_NAMES.items() if not any(mentions(text, n) for n in names.split("|"))]
    if (new := _pick(rng, free)) is None:
        return None
    item = rec["items"][spot[2]]
    old, item["drug"] = item["drug"], new
    return f"drug {old!r} -> {new!r} (not in the article)"


drug_changed = _injector("drug_changed", "flag:drug_not_in_article", "A drug the article never names, by any of its names.",
                         lambda a, t: [("seizures", s, i) for s, r in enumerate(a["seizures"]) for i in range(len(r["items"]))],
                         _drug_changed)  # fmt: skip


def _other_quantity(rec: Rec, spot: Any, rng: random.Random, text: str, answer: Answer) -> str:
    item, donor = rec["items"][spot[2]], answer["seizures"][spot[3]]["items"][spot[4]]
    old = f"{_num(item['quantity'])} {item.get('unit')}"
    item["quantity"], item["unit"] = donor["quantity"], donor["unit"]
    return f"quantity {old} -> {_num(donor['quantity'])} {donor['unit']} (seizure {spot[3]}'s)"


def _others(answer: Answer, text: str) -> list[Any]:
    q, spots = lambda s, i: answer["seizures"][s]["items"][i]["quantity"], _quantified(answer)  # noqa: E731
    return [(k, s, i, t, j) for k, s, i in spots for _, t, j in spots
            if s != t and q(s, i) != q(t, j) and q(t, j) not in numbers_in(answer["seizures"][s]["evidence"])]  # fmt: skip


quantity_from_other_seizure = _injector(
    "quantity_from_other_seizure", "flag:quantity_not_in_evidence flag:unit_mismatch",
    "One seizure's quantity (and unit) given to another seizure of the same article.", _others, _other_quantity,
)  # fmt: skip


def _set_quantity(rec: Rec, spot: Any, *_: Any) -> str:
    item = rec["items"][spot[2]]
    old, item["quantity"] = item["quantity"], spot[3]
    return f"quantity {_num(old)} -> {_num(spot[3])} {item.get('unit')} (from {spot[4]!r})"


def _scaled(answer: Answer, text: str) -> list[Any]:
    scaled = [(_value(m[1], m[2]), _SCALE[m[3].lower().rstrip("s")], m[0]) for m in _NUMBER.finditer(text) if m[3]]
    q = lambda s, i: answer["seizures"][s]["items"][i]["quantity"]  # noqa: E731
    return [(k, s, i, bare, w) for k, s, i in _quantified(answer) for bare, scale, w in scaled
            if abs(bare * scale - q(s, i)) < 1e-3]  # fmt: skip


scale_dropped = _injector("scale_dropped", "flag:quantity_not_in_article flag:quantity_not_in_evidence flag:unit_mismatch",
                          "'2.8 million tablets' sent as 2.8 tablets: the scale word (million, lakh, crore) dropped.",
                          _scaled, _set_quantity)  # fmt: skip
_MONEY = re.compile(
    r"(?<![\w$])(?:Rs\.?\s?|Tk\s?|N(?=\d)|P(?=\d)|PHP\s?|RM\s?|AU\$\s?|\$\s?|€\s?|Sh\s?(?=\d))(\d[\d,]*\d|\d)(?:\.(\d+))?"
    r"|(?<![\w.])(\d[\d,]*\d|\d)(?:\.(\d+))?\s?(?:million |billion |crore )?(?:euros?|dollars|baht|shillings)\b"
)


def _money(answer: Answer, text: str) -> list[Any]:
    spots = []
    for k, s, i in _quantified(answer):
        for m in _MONEY.finditer(answer["seizures"][s]["evidence"]):
            value = _value(m[1], m[2]) if m[1] else _value(m[3], m[4])
            spots += [(k, s, i, value, m[0])] if value != answer["seizures"][s]["items"][i]["quantity"] else []
    return spots


value_as_quantity = _injector("value_as_quantity", "flag:unit_mismatch flag:quantity_not_in_evidence",
                              "The haul's money value taken for its quantity ('worth Rs 70 crore' -> 70 kg).",
                              _money, _set_quantity)  # fmt: skip


def _pairs(answer: Answer, text: str) -> list[Any]:
    spots, item = _quantified(answer), lambda s, i: answer["seizures"][s]["items"][i]  # noqa: E731
    return [(k, s, i, j) for k, s, i in spots for _, t, j in spots if s == t and i < j
            and item(s, i)["quantity"] != item(s, j)["quantity"] and _unit(item(s, i)) == _unit(item(s, j))]  # fmt: skip


def _swap(rec: Rec, spot: Any, *_: Any) -> str:
    a, b = rec["items"][spot[2]], rec["items"][spot[3]]
    a["quantity"], b["quantity"] = b["quantity"], a["quantity"]
    return f"{a['drug']} and {b['drug']}: quantities swapped"


quantities_swapped = _injector("quantities_swapped", "flag:quantity_not_of_drug",
                               "Two items of one seizure with their quantities swapped (each still in the evidence).",
                               _pairs, _swap, checked=False)  # fmt: skip

# -- the injectors: status and dates -----------------------------------------------------------------------------
_INTENT = re.compile(
    r"\b(agree[sd]? to|will|would|shall|plans?|planned|to (?:sign|set up|hold|strengthen|extend|increase|expand|boost|"
    r"cooperate)|discuss\w*|talks?|negotiat\w*|pledge[sd]?|vow\w*|propos\w*|expected|intends?|hopes?|reconsider|"
    r"working on|desire|willing|ready to|looks? forward)\b",
    re.IGNORECASE,
)
_CONCLUDED = re.compile(r"\b(signed|inked|concluded|sealed|renewed|renewal)\b", re.I)
status_upgraded = _injector(
    "status_upgraded", "flag:status_overstated", "Talks, intent, a plan sent as a signing (discussed/agreed/planned -> signed).",
    lambda a, t: _every(a, ["agreements"], lambda r: r["status"] in ("discussed", "agreed", "planned")
                        and _INTENT.search(r["evidence"])),
    _assign("status", "signed"),
)  # fmt: skip
status_downgraded = _injector(
    "status_downgraded", "flag:status_understated", "A signing reported as talks (signed/renewed -> discussed).",
    lambda a, t: _every(a, ["agreements"], lambda r: r["status"] in ("signed", "renewed") and not r.get("is_background")
                        and _CONCLUDED.search(r["evidence"])),
    _assign("status", "discussed"),
)  # fmt: skip


def _dated_otherwise(answer: Answer, text: str) -> list[Any]:
    day = publication_day(answer, text)
    if day is None:
        return []

    def own(r: Rec) -> bool:
        d = r.get("date")
        return isinstance(d, str) and bool(d) and d.casefold() in r["evidence"].casefold() and not _same_day(d, day)

    return _every(answer, ok=own)


def _publication_date(rec: Rec, spot: Any, rng: random.Random, text: str, answer: Answer) -> str:
    day, published = publication_day(answer, text), answer.get("published") or ""
    assert day is not None
    written = published if _day(published) == day else f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"
    old, rec["date"] = rec["date"], written
    return f"date {old!r} -> {written!r} (the publication date)"


date_is_publication = _injector("date_is_publication", "flag:date_is_publication_date",
                                "The event dated on the publication day (as written) while its evidence dates it otherwise.",
                                _dated_otherwise, _publication_date)  # fmt: skip
total_as_seizure = _injector("total_as_seizure", "marked", "A period total sent as a seizure (is_total false): to be marked.",
                             lambda a, t: _every(a, ["seizures"], lambda r: r.get("is_total")),
                             _assign("is_total", False))  # fmt: skip
background_dropped = _injector("background_dropped", "flag:background_not_marked",
                               "A recalled agreement sent as news (is_background false).",
                               lambda a, t: _every(a, ["agreements"], lambda r: r.get("is_background")),
                               _assign("is_background", False), checked=False)  # fmt: skip

# -- the injectors: evidence and copies -----------------------------------------------------------------------------
_PARAPHRASE = [tuple(rule.split(">")) for rule in (
    "seized>confiscated intercepted>stopped found>discovered said>stated police>officers hidden>concealed arrested>detained "
    "recovered>retrieved officials>authorities countries>nations signed>inked agreed>decided kilograms>kg "
    "cooperation>collaboration combat>fight drugs>narcotics the> meeting>talks worth>valued_at shipment>consignment "
    "border>frontier"
).split()]  # fmt: skip
_ATTRIBUTION = re.compile(
    r",\s*(?:the [\w ]+|an? [\w ]+|he|she|they|[A-Z][\w.]+(?: [A-Z][\w.]+)*) (?:said|added|stated|told [\w ]+|reported)[\w ]*\.?$"
)


def paraphrase(sentence: str, rng: random.Random) -> str:
    """What a model writes when it summarises instead of quoting: a lead-in, no dateline and no
    attribution, up to six words swapped."""
    out, changes = re.sub(r"^[A-Z][A-Za-z ,.]*?\s[–—-]+\s", "", sentence.strip().rstrip(".")), 0
    if attribution := _ATTRIBUTION.search(out + "."):
        out, changes = out[: attribution.start()], 2
    for word, repl in rng.sample(_PARAPHRASE, len(_PARAPHRASE)):
        new = re.sub(r"\s{2,}", " ", re.sub(rf"\b{word}\b", repl.replace("_", " "), out, count=1, flags=re.I)).strip()
        out, changes = new, changes + (new != out)
        if changes >= 6:
            break
    lead = rng.choice(["According to the report, ", "Officials said that ", "The article reports that ", "Reports say "])
    return (lead + out[:1].lower() + out[1:]).rstrip(" ,;") + "."


def _paraphrased(rec: Rec, spot: Any, rng: random.Random, *_: Any) -> str:
    rec["evidence"] = paraphrase(rec["evidence"], rng)
    return f"evidence paraphrased: {rec['evidence']!r}"


def _fabricated(rec: Rec, spot: Any, rng: random.Random, *_: Any) -> str:
    day = rng.choice(_WEEKDAYS).title()
    if spot[0] == "seizures":
        item, where = rec["items"][0], rec.get("place") or "the area"
        amount = f"{_num(item['quantity'])} {item.get('unit') or 'units'} of " if item.get("quantity") else ""
        who = rec.get("seizing_agency") or "Police"
        rec["evidence"] = f"{who} seized {amount}{item['drug']} in {where} on {day}, officials said."
    else:
        names = " and ".join(p["name"] for p in rec["parties"])
        rec["evidence"] = f"{names} signed a security agreement on {day}, officials said."
    return f"evidence made up: {rec['evidence']!r}"


evidence_paraphrased = _injector("evidence_paraphrased", "rejected fuzzy", "The evidence in the model's words instead of quoted.",
                                 lambda a, t: _every(a), _paraphrased)  # fmt: skip
evidence_fabricated = _injector("evidence_fabricated", "rejected", "An evidence sentence made up from the record's own values.",
                                lambda a, t: _every(a), _fabricated)  # fmt: skip


@lru_cache(maxsize=1)
def example_output() -> dict[str, Any]:
    """The prompt's few-shot example answer (`prompts/security_events/example_output.json`)."""
    from llm_extract.core.task import builtin_prompt_dir

    return json.loads((builtin_prompt_dir("security_events") / "example_output.json").read_text(encoding="utf-8"))


def _leak(lists: str) -> Callable[[Answer, str, random.Random], Any]:
    def make(answer: Answer, text: str, rng: random.Random) -> Any:
        example = _pick(rng, example_output()[lists])
        names = [i["drug"] for i in example["items"]] if lists == "seizures" else [p["name"] for p in example["parties"]]
        leak = {**copy.deepcopy(example), "evidence": first_sentence(text)}
        what = f"the example's {' + '.join(names)} {lists[:-1]}, with the first sentence as evidence"
        return None if any(mentions(text, n) for n in names) else (lists, None, leak, what)

    return make


def _twin(answer: Answer, text: str, rng: random.Random) -> Any:
    if (spot := _pick(rng, _every(answer))) is None:
        return None
    twin, how = copy.deepcopy(answer[spot[0]][spot[1]]), "an exact copy"
    item = next((i for i in twin.get("items", []) if i.get("quantity") is not None), None)
    if item is not None and rng.random() < 0.5:
        q = float(item["quantity"])
        others = [s for s in sentences(text) if twin["evidence"] not in s and q in numbers_in(s) and mentions(s, item["drug"])]
        if other := _pick(rng, others):
            twin["evidence"], how = other, f"a copy quoting {other[:60]!r}"
    return spot[0], spot[1], twin, f"{spot[0][:-1]} {spot[1]} listed twice ({how})"


example_leaked = _appender("example_leaked", "rejected",
                           "A seizure copied from the prompt's example, the first sentence as evidence.",
                           _leak("seizures"))  # fmt: skip
duplicate = _appender("duplicate", "merged",
                      "The same event twice: a copy, or one quoting another sentence with its quantity and drug.",
                      _twin)  # fmt: skip
example_leaked_agreement = _appender("example_leaked_agreement", "rejected",
                                     "An agreement copied from the prompt's example, the first sentence as evidence.",
                                     _leak("agreements"))  # fmt: skip

# -- the injectors: names the article never gives --------------------------------------------------------------------
_AGENCIES = ("Drug Enforcement Administration|Anti-Narcotics Force|Narcotics Control Bureau|Guardia di Finanza|"
             "Border Guard Service|Customs and Excise Department|Federal Drug Control Service|Royal Malaysian Customs|"
             "Coast Guard|Gendarmerie|Counter Narcotics Task Force|Maritime Police Unit|Criminal Investigation Department|"
             "Special Task Force").split("|")  # fmt: skip
_PEOPLE = [tuple(p.split("/")) for p in (
    "Karim Haddad/Deputy Interior Minister|Elena Petrova/Head of the Counter-Narcotics Department|"
    "Joseph Mwangi/Police Commissioner|"
    "Lars Eriksen/Ambassador|Ana Souza/Security Adviser|Tomasz Nowak/Deputy Foreign Minister|Rahul Mehta/Joint Secretary|"
    "Samir Boukhari/Governor|Olga Ivanenko/Border Service Chief|Daniel Okafor/Director General").split("|")]  # fmt: skip
_STATES = [tuple(s.split("/")) for s in (
    "Norway/Norwegian Chile/Chilean Finland/Finnish Portugal/Portuguese Ghana/Ghanaian Uruguay/Uruguayan Mongolia/Mongolian "
    "Iceland/Icelandic Zambia/Zambian Estonia/Estonian Namibia/Namibian Paraguay/Paraguayan").split()]  # fmt: skip
_TOWNS = [tuple(t.split("/")) for t in (
    "Rotterdam/Netherlands/Dutch|Marseille/France/French|Durban/South Africa/South African|Valparaíso/Chile/Chilean|"
    "Hamburg/Germany/German|Gdansk/Poland/Polish|Odesa/Ukraine/Ukrainian|Vladivostok/Russia/Russian|Busan/South Korea/Korean|"
    "Mombasa/Kenya/Kenyan|Karachi/Pakistan/Pakistani|Chittagong/Bangladesh/Bangladeshi|Lagos/Nigeria/Nigerian|"
    "Guayaquil/Ecuador/Ecuadorian|Algeciras/Spain/Spanish|Kandahar/Afghanistan/Afghan|Tijuana/Mexico/Mexican"
).split("|")]  # fmt: skip


def _setter(kind: str, expect: str, doc: str, lists: str, name: str, pool: Iterable[Any], words: Callable[[Any], Iterable[str]],
            make: Callable[[Any], Any] = lambda v: v, add: bool = False, checked: bool = True) -> Any:  # fmt: skip
    """An injector that sets (or, `add`, appends to) a field of a record: a value of `pool` none of whose
    `words` the text writes."""

    def apply(rec: Rec, spot: Any, rng: random.Random, text: str, _: Any) -> str | None:
        if (found := _pick(rng, [v for v in pool if not any(mentions(text, w) for w in words(v))])) is None:
            return None
        value = make(found)
        old, rec[name] = rec.get(name), [*(rec.get(name) or []), value] if add else value
        return f"{name} {'+' if add else f'{old!r} ->'} {value!r}"

    return _injector(kind, expect, doc, lambda a, t: _every(a, [lists], lambda r: True), apply, checked)


party_added = _setter("party_added", "flag:party_not_in_article", "A state the article never names added to an agreement.",
                      "agreements", "parties", _STATES, lambda s: s, lambda s: {"name": s[0], "kind": "state"},
                      add=True)  # fmt: skip
official_invented = _setter("official_invented", "flag:official_not_in_article", "An official the article never names added.",
                            "agreements", "officials", _PEOPLE, lambda p: [p[0].split()[-1]],
                            lambda p: {"name": p[0], "title": p[1], "organisation": None}, add=True)  # fmt: skip
agency_invented = _setter("agency_invented", "flag:agency_not_in_article", "A seizing agency the article never names.",
                          "seizures", "seizing_agency", _AGENCIES, lambda a: [a])  # fmt: skip
place_changed = _setter("place_changed", "flag:place_not_in_article",
                        "A seizure moved to a town of another country the article never names.",
                        "seizures", "place", _TOWNS, lambda t: t, lambda t: t[0])  # fmt: skip
origin_invented = _setter("origin_invented", "flag:origin_not_in_article", "An origin the article never names.",
                          "seizures", "origin", _STATES, lambda s: s, lambda s: s[0], checked=False)  # fmt: skip
_WORDS_BY_N = {n: w for w, n in _WORDS.items()}
arrested_invented = _setter("arrested_invented", "flag:arrested_not_in_article", "A number of arrests the article never gives.",
                            "seizures", "arrested", (3, 4, 6, 7, 9, 11, 13, 14),
                            lambda n: [str(n), *([_WORDS_BY_N[n]] if n in _WORDS_BY_N else [])],
                            checked=False)  # fmt: skip


@lru_cache(maxsize=1)
def _response_model() -> Any:
    from llm_extract.core.registry import load_task

    return load_task("security_events").response_model


def inject(kind: str, answer: Answer, text: str, rng: random.Random) -> Result:
    """One mistake of `kind`; the mutated answer is validated against what the model fills."""
    if (done := INJECTORS[kind].inject(answer, text, rng)) is not None:
        _response_model().model_validate(done[0])
    return done
