"""Tests for llm_extract.grounding: locating evidence quotes in articles."""

from __future__ import annotations

import random
import re
import time
import unicodedata
from pathlib import Path

import pydantic
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from llm_extract.core.grounding import (
    DEFAULT_THRESHOLD,
    Grounder,
    Span,
    contains_value,
    locate,
    locate_all,
    normalize_text,
)

ARTICLES_DIR = Path(__file__).parent.parent / "fixtures" / "articles"

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _load_articles() -> dict[str, str]:
    return {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted(ARTICLES_DIR.glob("*.txt"))}


ARTICLES = _load_articles()


def _sentences(text: str, min_words: int = 6) -> list[str]:
    out = []
    for para in re.split(r"\n\s*\n", text):
        for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\u201c\"])", para.strip()):
            if len(s.split()) >= min_words:
                out.append(s)
    return out


def _check_span(span: Span | None, text: str, threshold: float = DEFAULT_THRESHOLD) -> None:
    """Invariants every returned span satisfies."""
    if span is None:
        return
    assert 0 <= span.start < span.end <= len(text)
    passage = text[span.start : span.end]
    assert passage == passage.strip(), "span must not start or end on whitespace"
    if span.status in ("exact", "normalized"):
        assert span.score == 1.0
    else:
        assert threshold <= span.score <= 1.0


# --------------------------------------------------------------------------- #
# Fixtures sanity
# --------------------------------------------------------------------------- #


def test_seed_articles_are_present_and_quirky() -> None:
    assert set(ARTICLES) == {"000", "001", "002", "003", "004"}
    assert "Moscow`s" in ARTICLES["000"]
    assert "Sistan\u2013Baluchestan" in ARTICLES["003"]
    assert "\u201c" in ARTICLES["001"] and "\u2019" in ARTICLES["001"]
    assert "\xa0" in ARTICLES["002"]


# --------------------------------------------------------------------------- #
# Exact
# --------------------------------------------------------------------------- #


def test_exact_match() -> None:
    text = ARTICLES["003"]
    quote = "On September 10, 2024, Iranian forces successfully seized 2,400 kilograms of methamphetamine."
    span = locate(quote, text)
    assert span is not None and span.status == "exact" and span.score == 1.0
    assert text[span.start : span.end] == quote


def test_exact_ignores_outer_whitespace_of_quote() -> None:
    text = ARTICLES["000"]
    span = locate("  The agreement was signed by Mohammad Najjar and Viktor Ivanov, in Tehran.\n", text)
    assert span is not None and span.status == "exact"
    assert text[span.start : span.end] == "The agreement was signed by Mohammad Najjar and Viktor Ivanov, in Tehran."


def test_exact_returns_first_occurrence() -> None:
    text = ARTICLES["003"]
    span = locate("2,400 kilograms of methamphetamine", text)
    assert span is not None and span.start == text.find("2,400 kilograms of methamphetamine")


# --------------------------------------------------------------------------- #
# Normalised
# --------------------------------------------------------------------------- #


def test_whitespace_and_line_breaks() -> None:
    text = ARTICLES["000"]
    quote = "The agreement was signed by Mohammad Najjar and Viktor Ivanov, in Tehran.   Following the\tendorsement ceremony"
    span = locate(quote, text)
    assert span is not None and span.status == "normalized"
    passage = text[span.start : span.end]
    assert passage.startswith("The agreement was signed") and passage.endswith("endorsement ceremony")
    assert "Tehran.\n\nFollowing" in passage


def test_quote_without_line_break_matches_paragraph_break() -> None:
    text = ARTICLES["004"]
    span = locate("Iran, Turkey to cooperate more on security Iran, Turkey to cooperate", text)
    assert span is not None and span.status == "normalized"
    assert text[span.start : span.end] == "Iran, Turkey to cooperate more on security\n\nIran, Turkey to cooperate"


def test_case_insensitive() -> None:
    text = ARTICLES["000"]
    span = locate("IRAN AND RUSSIA AGREED TO SIGN NEW MOUS in the filed of security", text)
    assert span is not None and span.status == "normalized"
    assert text[span.start : span.end] == "Iran and Russia agreed to sign new MoUs in the filed of security"


def test_curly_vs_straight_double_quotes() -> None:
    text = ARTICLES["001"]
    span = locate('"During the trip to Moscow, we had meetings with the Secretary', text)
    assert span is not None and span.status == "normalized"
    assert text[span.start : span.end] == "\u201cDuring the trip to Moscow, we had meetings with the Secretary"


def test_curly_apostrophe_vs_straight() -> None:
    text = ARTICLES["001"]
    span = locate("similarities with the Iranian police's commandos.", text)
    assert span is not None and span.status == "normalized"
    assert text[span.start : span.end] == "similarities with the Iranian police\u2019s commandos."


@pytest.mark.parametrize("apostrophe", ["'", "\u2019", "\u2018", "\u00b4"])
def test_backtick_apostrophe_in_seed(apostrophe: str) -> None:
    text = ARTICLES["000"]
    span = locate(f"Tehran and Moscow{apostrophe}s significant role in fighting illicit drugs", text)
    assert span is not None and span.status == "normalized"
    assert text[span.start : span.end] == "Tehran and Moscow`s significant role in fighting illicit drugs"


def test_backtick_apostrophe_world() -> None:
    text = ARTICLES["000"]
    span = locate("Afghanistan, which is the world\u2019s number one opium and drug producer", text)
    assert span is not None and span.status == "normalized"
    assert "world`s" in text[span.start : span.end]


@pytest.mark.parametrize("dash", ["-", "\u2010", "\u2014", "\u2212"])
def test_en_dash_vs_hyphen(dash: str) -> None:
    text = ARTICLES["003"]
    span = locate(f"2,400 kilograms of methamphetamine in Sistan{dash}Baluchestan Province.", text)
    assert span is not None and span.status == "normalized"
    assert text[span.start : span.end] == "2,400 kilograms of methamphetamine in Sistan\u2013Baluchestan Province."


def test_hyphen_in_text_en_dash_in_quote() -> None:
    text = ARTICLES["000"]
    span = locate("Visiting Mohammad\u2013Najjar had also a meeting", text)
    assert span is not None and span.status == "normalized"
    assert text[span.start : span.end] == "Visiting Mohammad-Najjar had also a meeting"


def test_non_breaking_spaces() -> None:
    text = ARTICLES["002"]
    span = locate("these groups have always been supported by US", text)
    assert span is not None and span.status == "normalized"
    assert text[span.start : span.end] == "these groups have\xa0always been supported by US"
    text4 = ARTICLES["004"]
    span4 = locate("meeting of provincial governors in Tehran", text4)
    assert span4 is not None and text4[span4.start : span4.end] == "meeting of provincial governors\xa0in Tehran"


def test_narrow_no_break_space() -> None:
    text = ARTICLES["004"]
    span = locate("Dec 20, 2017, 11:24 AM", text)
    assert span is not None and span.status == "normalized"
    assert text[span.start : span.end] == "Dec 20, 2017, 11:24\u202fAM"


def test_nfkc_differences() -> None:
    text = "The \ufb01rst seizure: \uff12,\uff14\uff10\uff10 kg near the Stra\u00dfe.\n"
    span = locate("the first seizure: 2,400 kg near the STRASSE", text)
    assert span is not None and span.status == "normalized"
    assert text[span.start : span.end] == "The \ufb01rst seizure: \uff12,\uff14\uff10\uff10 kg near the Stra\u00dfe"


def test_combining_accents_match_precomposed() -> None:
    text = "Le ministre a d\u0065\u0301clare\u0301 hier."
    span = locate("a d\u00e9clar\u00e9 hier", text)
    assert span is not None and span.status == "normalized"
    assert text[span.start : span.end] == "a d\u0065\u0301clare\u0301 hier"


def test_quote_wrapped_in_quotation_marks() -> None:
    text = ARTICLES["000"]
    span = locate("\u201cIran and Russia agreed to sign new MoUs.\u201d", text)
    assert span is not None and span.status == "normalized"
    assert text[span.start : span.end] == "Iran and Russia agreed to sign new MoUs"


def test_zero_width_and_soft_hyphen_ignored() -> None:
    text = "Iran and Rus\u00adsia agreed\u200b to sign"
    span = locate("Iran and Russia agreed to sign", text)
    assert span is not None and span.status == "normalized"
    assert span.start == 0 and span.end == len(text)


def test_normalize_text() -> None:
    assert normalize_text("  Moscow`s\u00a0 \u201cSistan\u2013Baluchestan\u201d\n\n") == 'moscow\'s "sistan-baluchestan"'
    assert normalize_text("\t\n ") == ""


# --------------------------------------------------------------------------- #
# Fuzzy
# --------------------------------------------------------------------------- #

SENTENCE_004 = "Zolfaghari said the two sides agreed to increase the number of joint working groups meetings to four times a year."
SENTENCE_003 = "On September 10, 2024, Iranian forces successfully seized 2,400 kilograms of methamphetamine."
SENTENCE_000 = (
    "In December 2010, Iran and Russia signed a Memorandum of Understanding (MoU) on cooperation "
    "in campaigning narcotics and drug-traffickers."
)


@pytest.mark.parametrize(
    ("key", "quote", "expected"),
    [
        # one word changed
        ("004", SENTENCE_004.replace("two sides", "two countries"), SENTENCE_004),
        ("001", "Radan traveled to Moscow on Tuesday at the formal invitation of the Russian National Guard.",
         "Radan traveled to Moscow on Tuesday at the official invitation of the Russian National Guard."),
        # a typo of the article fixed by the model
        ("000", "He noted that Iran and Russia agreed to sign new MoUs in the field of security",
         "He noted that Iran and Russia agreed to sign new MoUs in the filed of security"),
        # one word dropped
        ("003", SENTENCE_003.replace("successfully ", ""), SENTENCE_003),
        ("000", SENTENCE_000.replace(" (MoU)", ""), SENTENCE_000),
        # one word added
        ("000", SENTENCE_000.replace("Russia signed", "Russia officially signed"), SENTENCE_000),
        # two words changed in a long sentence
        (
            "003",
            (
                "Fedulov stressed the importance of stronger regional cooperation, and emphasized the need for "
                "more international support to bolster collective efforts in combating drug trafficking across West Asia."
            ),
            (
                "Fedulov stressed the importance of strengthened regional cooperation, and emphasized the need for "
                "further international support to bolster collective efforts in combating drug trafficking across West Asia."
            ),
        ),
    ],
)
def test_fuzzy_small_edits(key: str, quote: str, expected: str) -> None:
    text = ARTICLES[key]
    span = locate(quote, text)
    assert span is not None and span.status == "fuzzy"
    assert DEFAULT_THRESHOLD <= span.score < 1.0
    assert text[span.start : span.end] == expected


def test_fuzzy_number_formatting_and_number_words() -> None:
    # "2400" for "2,400", "4" for "four": same values, only punctuation/spelling differs.
    span = locate("Iranian forces successfully seized 2400 kilograms of methamphetamine", ARTICLES["003"])
    assert span is not None and span.status == "fuzzy" and span.score == 1.0
    span = locate(SENTENCE_004.replace("four", "4"), ARTICLES["004"])
    assert span is not None and span.status == "fuzzy" and span.score == 1.0
    assert ARTICLES["004"][span.start : span.end] == SENTENCE_004


def test_fuzzy_dropped_punctuation_scores_one() -> None:
    text = ARTICLES["000"]
    span = locate("Tehran and Moscow agreed to establish a joint intelligence team to exchange information, and plan", text)
    assert span is not None and span.status == "fuzzy" and span.score == 1.0
    assert text[span.start : span.end] == "Tehran and Moscow agreed to establish a joint intelligence team to exchange information and plan"


def test_fuzzy_span_snapped_to_words() -> None:
    text = ARTICLES["004"]
    span = locate("the two countries agreed to increase the number of joint working", text)
    assert span is not None and span.status == "fuzzy"
    passage = text[span.start : span.end]
    assert passage == "the two sides agreed to increase the number of joint working"
    assert not text[span.start - 1].isalnum() and not text[span.end].isalnum()


def test_fuzzy_in_long_quote() -> None:
    text = ARTICLES["001"]
    para = next(p for p in text.split("\n\n") if p.startswith("\u201cDuring the trip"))
    assert len(re.findall(r"\w+", para)) > 48  # the long-quote path
    words = para.split()
    words[10] = "notable"
    del words[30]
    words.insert(20, "indeed")
    span = locate(" ".join(words), text)
    assert span is not None and span.status == "fuzzy"
    assert text[span.start : span.end] == para


HALLUCINATED = [
    # plausible sentences on the same topic that the article does not contain
    ("000", "Iran and Russia signed an extradition treaty in 2015."),
    ("000", "Tehran and Moscow agreed to establish a joint police team to plan joint border patrols."),
    ("000", "Najjar and Nurgaliyev signed a memorandum on fighting drug trafficking in Moscow on Monday."),
    ("001", "Iran and Russia inked security agreements on extradition and joint patrols."),
    ("001", "Radan signed a memorandum of understanding with the Russian Interior Ministry on police training."),
    ("002", "Both countries will hold joint border patrols to fight drug smuggling."),
    ("003", "Iran and Iraq signed a memorandum of understanding on joint border patrols on Sunday."),
    ("004", "Iran and Turkey signed a new security agreement in Tehran on Tuesday."),
    # facts of two sentences mixed
    ("002", "Iran and Kyrgyzstan signed 15 MoUs on fighting narcotics in 2016."),
    ("003", "Iranian forces successfully seized 2,400 kilograms of methamphetamine in Sistan\u2013Baluchestan Province."),
    ("003", "Iranian border guards seized 2,400 kilograms of heroin in Sistan-Baluchestan Province."),
    # one fact changed: a number, a date, a party, a negation
    ("003", SENTENCE_003.replace("2,400", "4,200")),
    ("003", SENTENCE_003.replace("September 10", "September 12")),
    ("000", SENTENCE_000.replace("2010", "2011")),
    ("000", SENTENCE_000.replace("Iran and Russia", "Iran and Turkey")),
    ("004", SENTENCE_004.replace("four", "six")),
    ("004", "a mechanism for cooperation regarding the mentioned issues that did exist before"),
    ("002", "Iran is seeking intervention in internal affairs of other countries, Fazli said"),
]


@pytest.mark.parametrize(("key", "quote"), HALLUCINATED)
def test_hallucinated_quotes_are_not_grounded(key: str, quote: str) -> None:
    assert locate(quote, ARTICLES[key]) is None


@pytest.mark.parametrize(
    "quote",
    [
        SENTENCE_003.replace("2,400", "4,200"),
        SENTENCE_003.replace("2,400", "2,500"),
        SENTENCE_003.replace("2024", "2023"),
    ],
)
def test_changed_number_rejected_at_any_threshold(quote: str) -> None:
    """A changed number is a different fact: rejected however low the threshold."""
    assert locate(quote, ARTICLES["003"], threshold=0.3) is None


def test_sentences_of_one_article_not_found_in_another() -> None:
    for a, text_a in ARTICLES.items():
        for b, text_b in ARTICLES.items():
            if a == b:
                continue
            g = Grounder(text_b)
            for sentence in _sentences(text_a):
                assert g.locate(sentence) is None, (a, b, sentence)


def test_short_quotes_never_fuzzy() -> None:
    text = ARTICLES["003"]
    assert locate("Iranian troops", text, threshold=0.3) is None
    assert locate("seized 2400", text, threshold=0.3) is None
    assert locate("Iranian forces", text) is not None


def test_empty_and_whitespace_quotes() -> None:
    text = ARTICLES["001"]
    for quote in ["", "   ", "\n\t\xa0", "\u200b"]:
        assert locate(quote, text) is None
        assert locate_all(quote, text) == []
    assert locate("anything at all here", "") is None


def test_threshold_validation() -> None:
    with pytest.raises(ValueError):
        locate("Iran and Russia", ARTICLES["000"], threshold=0)
    with pytest.raises(ValueError):
        locate("Iran and Russia", ARTICLES["000"], threshold=1.5)


def test_threshold_one_allows_only_punctuation_differences() -> None:
    text = ARTICLES["004"]
    assert locate(SENTENCE_004.replace("two sides", "two countries"), text, threshold=1.0) is None
    assert locate(SENTENCE_004.replace("four", "4"), text, threshold=1.0) is not None


# --------------------------------------------------------------------------- #
# Every seed sentence grounds to itself, and edits of it behave
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("key", sorted(ARTICLES))
def test_every_seed_sentence_and_its_edits(key: str) -> None:
    text = ARTICLES[key]
    g = Grounder(text)
    rng = random.Random(int(key))
    for sentence in _sentences(text):
        exact = g.locate(sentence)
        assert exact is not None and exact.status == "exact"
        assert text[exact.start : exact.end] == sentence

        mangled = re.sub(r"\s+", "  \n", sentence.upper()).replace("\u201c", '"').replace("\u2019", "'")
        norm = g.locate(mangled)
        assert norm is not None and norm.status in ("exact", "normalized")
        assert normalize_text(text[norm.start : norm.end]) == normalize_text(sentence)

        words = sentence.split()
        if len(words) >= 8:
            # change one lower-case, non-negation word to a filler word
            idx = [i for i, w in enumerate(words) if w.isalpha() and w.islower() and w not in ("not", "no")]
            i = rng.choice(idx)
            changed = " ".join(words[:i] + ["notable" if words[i] != "notable" else "major"] + words[i + 1 :])
            span = g.locate(changed)
            assert span is not None and span.status == "fuzzy", changed
            _check_span(span, text)
            # within the sentence; an edited first/last word may be left out
            assert exact.start <= span.start and span.end <= exact.end
            assert span.end - span.start >= 0.8 * (exact.end - exact.start)


# --------------------------------------------------------------------------- #
# locate_all, Grounder, Span
# --------------------------------------------------------------------------- #


def test_locate_all_exact_repeats() -> None:
    text = ARTICLES["003"]
    spans = locate_all("seized 2,400 kilograms of methamphetamine", text)
    assert len(spans) == 1  # "seizure of 2,400 ..." is not "seized 2,400 ..."
    spans = locate_all("2,400 kilograms of methamphetamine", text)
    assert [s.status for s in spans] == ["exact", "exact"]
    assert all(text[s.start : s.end] == "2,400 kilograms of methamphetamine" for s in spans)


def test_locate_all_normalized_repeats() -> None:
    text = ARTICLES["003"]
    spans = locate_all("Sistan-Baluchestan Province", text)
    assert [s.status for s in spans] == ["normalized", "normalized"]
    assert all(text[s.start : s.end] == "Sistan\u2013Baluchestan Province" for s in spans)
    assert spans[0].end <= spans[1].start


def test_locate_all_mixed_sorted_non_overlapping() -> None:
    text = "Iran\u2019s role. Iran's role. IRAN'S  ROLE."
    spans = locate_all("Iran's role", text)
    assert [(s.status, text[s.start : s.end]) for s in spans] == [
        ("normalized", "Iran\u2019s role"),
        ("exact", "Iran's role"),
        ("normalized", "IRAN'S  ROLE"),
    ]


def test_locate_all_seed_sentence_twice() -> None:
    text = ARTICLES["000"]
    quote = "Insecurity and drug trafficking has severely increased as a result of presence of NATO and US in Afghanistan"
    spans = locate_all(quote, text)
    assert len(spans) == 2 and spans[0].end <= spans[1].start


def test_grounder_matches_locate_and_is_lazy() -> None:
    text = ARTICLES["003"]
    g = Grounder(text)
    span = g.locate(SENTENCE_003)
    assert span is not None and span.status == "exact"
    assert g._norm is None  # exact matches need no normalisation
    quotes = [SENTENCE_003.upper(), SENTENCE_003.replace("successfully ", ""), "Iran and Iraq signed a treaty."]
    for q in quotes:
        assert g.locate(q) == locate(q, text)
    assert g.locate_all("Sistan-Baluchestan") == locate_all("Sistan-Baluchestan", text)


def test_span_model() -> None:
    span = Span(start=1, end=5, status="fuzzy", score=0.9)
    with pytest.raises(pydantic.ValidationError):
        span.start = 2
    with pytest.raises(pydantic.ValidationError):
        Span(start=-1, end=5, status="exact", score=1.0)
    with pytest.raises(pydantic.ValidationError):
        Span(start=0, end=5, status="approximate", score=1.0)  # type: ignore[arg-type]
    assert Span.model_validate_json(span.model_dump_json()) == span
    assert hash(span) == hash(Span(start=1, end=5, status="fuzzy", score=0.9))

    class Record(pydantic.BaseModel):
        evidence: str
        span: Span | None = None

    rec = Record(evidence="x", span=span)
    assert Record.model_validate(rec.model_dump()).span == span


def test_large_article_is_fast() -> None:
    """A generous bound (the benchmark measures properly): ~1 MB, worst case."""
    text = "\n\n".join(ARTICLES.values()) * 60
    assert len(text) > 900_000
    start = time.perf_counter()
    assert locate("Iran and Russia signed an extradition treaty in 2015 in Moscow.", text) is None
    assert locate(SENTENCE_003.replace("successfully ", ""), text) is not None
    assert time.perf_counter() - start < 2.0


# --------------------------------------------------------------------------- #
# contains_value
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("passage", "needle", "expected"),
    [
        ("seized 2,400 kilograms of methamphetamine", "2,400", True),
        ("seized 2,400 kilograms of methamphetamine", "2400", True),
        ("seized 2,400 kilograms of methamphetamine", "2 400", True),
        ("seized 2400 kilograms", "2,400", True),
        ("seized 2\u00a0400 kilograms", "2,400", True),
        ("seized 2,400 kilograms", "2,400 kilograms", True),
        ("seized 2,400 kilograms", "4,200", False),
        ("seized 2,400 kilograms", "400", False),
        ("seized 2,400 kilograms", "240", False),
        ("seized 12,400 kilograms", "2,400", False),
        ("seized 2,400 kilograms", "2.4 tonnes", False),
        ("On September 10, 2024, forces seized", "10", True),
        ("of Methamphetamine in Sistan", "methamphetamine", True),
        ("of methamphetamine in Sistan", "METHAMPHETAMINE", True),
        ("of methamphetamine in Sistan", "meth", False),
        ("hashish and opium", "Opium", True),
        ("hashish and opium", "heroin", False),
        ("crystal\u2013meth", "crystal-meth", True),
        ("four times a year", "4", True),
        ("4 times a year", "four", True),
        ("fourteen times", "4", False),
        ("anything", "", False),
        ("anything", "  ", False),
    ],
)
def test_contains_value(passage: str, needle: str, expected: bool) -> None:
    assert contains_value(passage, needle) is expected


# --------------------------------------------------------------------------- #
# Properties
# --------------------------------------------------------------------------- #

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\u00e9\u00c9\u00e7\u00f1\u00df0123456789"
_PUNCT = ".,;:()'\"`\u2019\u2018\u201c\u201d-\u2013\u2014"
_WS = [" ", "  ", "\n", "\n\n", "\t", "\xa0", " \xa0 ", "\u202f", "\r\n"]
_APOS = ["'", "\u2019", "\u2018", "`", "\u00b4"]
_DQUOTES = ['"', "\u201c", "\u201d", "\u201e"]
_DASHES_ = ["-", "\u2010", "\u2013", "\u2014", "\u2212"]

texts = st.lists(st.sampled_from(list(_LETTERS + _PUNCT) + _WS), min_size=1, max_size=200).map("".join)


@PROPERTY
@given(texts, st.data())
def test_property_any_substring_found_exact(text: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(text) - 1))
    j = data.draw(st.integers(i + 1, len(text)))
    sub = text[i:j]
    assume(sub.strip())
    span = locate(sub, text)
    assert span is not None and span.status == "exact"
    assert span.start == text.find(sub.strip()) <= i + len(sub) - len(sub.lstrip())
    assert text[span.start : span.end] == sub.strip()


def _mangle(sub: str, rng: random.Random) -> str:
    out: list[str] = [rng.choice(["", " ", "\n"])]
    for tok in re.split(r"(\s+)", sub):
        if tok.isspace():
            out.append(rng.choice(_WS))
            continue
        for ch in tok:
            if ch in _APOS:
                out.append(rng.choice(_APOS))
            elif ch in _DQUOTES:
                out.append(rng.choice(_DQUOTES))
            elif ch in _DASHES_:
                out.append(rng.choice(_DASHES_))
            elif ch.isalpha():
                out.append(ch.upper() if rng.random() < 0.5 else ch.lower())
            else:
                out.append(ch)
    out.append(rng.choice(["", " ", "\t"]))
    return "".join(out)


@PROPERTY
@given(texts, st.data(), st.integers(0, 2**32 - 1))
def test_property_mangled_substring_found_normalized(text: str, data: st.DataObject, seed: int) -> None:
    i = data.draw(st.integers(0, len(text) - 1))
    j = data.draw(st.integers(i + 1, len(text)))
    sub = text[i:j]
    assume(normalize_text(sub))
    quote = _mangle(sub, random.Random(seed))
    span = locate(quote, text)
    assert span is not None and span.status in ("exact", "normalized")
    _check_span(span, text)
    assert normalize_text(text[span.start : span.end]) == normalize_text(sub)


@PROPERTY
@given(texts, texts, st.floats(0.5, 1.0))
def test_property_spans_always_within_bounds(quote: str, text: str, threshold: float) -> None:
    for span in [locate(quote, text, threshold=threshold), *locate_all(quote, text)]:
        _check_span(span, text, threshold)
        if span is not None and span.status == "exact":
            assert text[span.start : span.end] == quote.strip()
        elif span is not None and span.status == "normalized":
            passage = normalize_text(text[span.start : span.end])
            assert passage and passage in normalize_text(quote)


@PROPERTY
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=80), st.data())
def test_property_any_unicode_substring_found_normalized(text: str, data: st.DataObject) -> None:
    """Any Unicode: a substring that does not split a character from its combining
    marks is found by the normalised step, and maps back to an equivalent passage."""
    i = data.draw(st.integers(0, len(text)))
    j = data.draw(st.integers(i, len(text)))
    sub = text[i:j]
    assume(not (j < len(text) and unicodedata.combining(text[j])))
    assume(not (sub and unicodedata.combining(sub[0])))
    assume(normalize_text(sub))
    span = Grounder(text).locate(sub)
    assert span is not None and span.status in ("exact", "normalized")
    assert 0 <= span.start < span.end <= len(text)
    assert normalize_text(text[span.start : span.end]) == normalize_text(sub)
