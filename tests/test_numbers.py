"""Tests for llm_extract.tasks.security_events.normalize.numbers: quantities as news writes them."""

from __future__ import annotations

import doctest
import math
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llm_extract.tasks.security_events.normalize import numbers
from llm_extract.tasks.security_events.normalize.numbers import (
    QuantityMention,
    find_quantities,
    find_value,
    parse_number,
)

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def spans(text: str) -> list[tuple[str, float, str | None]]:
    return [(text[m.start : m.end], m.value, m.unit) for m in find_quantities(text)]


def only(text: str) -> QuantityMention:
    found = find_quantities(text)
    assert len(found) == 1, [(text[m.start : m.end], m) for m in found]
    return found[0]


def test_doctests() -> None:
    result = doctest.testmod(numbers)
    assert result.failed == 0 and result.attempted > 0


# --------------------------------------------------------------------------------------------------------------
# Real-news traps
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Customs seized 2,400 kilograms of methamphetamine.", [("2,400 kilograms", 2400.0, "kg")]),
        ("about 1,200 kilograms of cocaine", [("1,200 kilograms", 1200.0, "kg")]),
        ("He carried 250 grams of heroin.", [("250 grams", 250.0, "g")]),
        ("forty-two suspects were detained", [("forty-two", 42.0, None)]),
        ("20.4 million tablets", [("20.4 million tablets", 20_400_000.0, "tablet")]),
        ("1.5 lakh tablets of yaba", [("1.5 lakh tablets", 150_000.0, "tablet")]),
        ("drugs worth 3 crore", [("3 crore", 30_000_000.0, None)]),
        ("a haul of 395kg of cocaine", [("395kg", 395.0, "kg")]),
        ("1.2t of cannabis resin", [("1.2t", 1.2, "tonne")]),
        ("a total of 600 tonnes of precursors", [("600 tonnes", 600.0, "tonne")]),
        ("between 2 and 3 tonnes", [("2", 2.0, "tonne"), ("3 tonnes", 3.0, "tonne")]),
        ("3 suspects were arrested", [("3", 3.0, None)]),
        ("1.2 million methamphetamine tablets", [("1.2 million methamphetamine tablets", 1_200_000.0, "tablet")]),
        ("2,400 kilograms of crystal meth", [("2,400 kilograms", 2400.0, "kg")]),
        ("364kg and 329kg of cocaine", [("364kg", 364.0, "kg"), ("329kg", 329.0, "kg")]),
        ("over 1,100 pounds of cocaine", [("1,100 pounds", 1100.0, "lb")]),
        ("2,400 kilograms (5,291 pounds)", [("2,400 kilograms", 2400.0, "kg"), ("5,291 pounds", 5291.0, "lb")]),
        ("1,50,000 tablets", [("1,50,000 tablets", 150_000.0, "tablet")]),
        ("half a tonne of cocaine", [("half a tonne", 0.5, "tonne")]),
        ("one and a half tonnes", [("one and a half tonnes", 1.5, "tonne")]),
        ("two and a half million tablets", [("two and a half million tablets", 2_500_000.0, "tablet")]),
        ("a dozen bags", [("a dozen bags", 12.0, "bag")]),
        ("half a dozen packets", [("half a dozen packets", 6.0, "packet")]),
        ("two dozen bottles", [("two dozen bottles", 24.0, "bottle")]),
        ("a tonne of cocaine", [("a tonne", 1.0, "tonne")]),
        ("a quarter of a tonne", [("a quarter of a tonne", 0.25, "tonne")]),
        ("seven hundred and fifty kilograms", [("seven hundred and fifty kilograms", 750.0, "kg")]),
        ("a hundred kilos", [("a hundred kilos", 100.0, "kg")]),
        ("thirty-seven kg", [("thirty-seven kg", 37.0, "kg")]),
        ("twenty thousand pills", [("twenty thousand pills", 20_000.0, "pill")]),
        ("two million five hundred thousand tablets", [("two million five hundred thousand tablets", 2.5e6, "tablet")]),
        ("50gm of brown sugar", [("50gm", 50.0, "g")]),
        ("2kgs of ganja", [("2kgs", 2.0, "kg")]),
        ("500g of cocaine", [("500g", 500.0, "g")]),
        ("10mg of fentanyl", [("10mg", 10.0, "mg")]),
        ("5 litres of codeine syrup", [("5 litres", 5.0, "litre")]),
        ("20 L of precursor", [("20 L", 20.0, "litre")]),
        ("300 ml", [("300 ml", 300.0, "ml")]),
        ("12 gallons of PCP", [("12 gallons", 12.0, "gallon")]),
        ("3 oz of crack", [("3 oz", 3.0, "oz")]),
        ("1.5 metric tons of cocaine", [("1.5 metric tons", 1.5, "tonne")]),
        ("5 MT of poppy straw", [("5 MT", 5.0, "tonne")]),
        ("a 50-kg bag", [("50-kg", 50.0, "kg")]),
        ("a two-tonne shipment", [("two-tonne", 2.0, "tonne")]),
        ("3,000 cannabis plants", [("3,000 cannabis plants", 3000.0, "plant")]),
        ("40 small plastic bags", [("40 small plastic bags", 40.0, "bag")]),
        ("12 bricks of cocaine", [("12 bricks", 12.0, "piece")]),
        ("200 sachets of shabu", [("200 sachets", 200.0, "packet")]),
        ("1½ kg", [("1½ kg", 1.5, "kg")]),
        ("½ kg", [("½ kg", 0.5, "kg")]),
        ("3 400 kg", [("3 400 kg", 3400.0, "kg")]),
        ("3\u202f400 kg", [("3\u202f400 kg", 3400.0, "kg")]),
        ("10k pills", [("10k pills", 10_000.0, "pill")]),
        ("1.2m ecstasy tablets", [("1.2m ecstasy tablets", 1_200_000.0, "tablet")]),
        ("1.2bn", [("1.2bn", 1.2e9, None)]),
    ],
)
def test_real_news_phrases(text: str, expected: list[tuple[str, float, str | None]]) -> None:
    found = spans(text)
    assert [(s, u) for s, _v, u in found] == [(s, u) for s, _v, u in expected]
    for (_s, v, _u), (_es, ev, _eu) in zip(found, expected, strict=True):
        assert math.isclose(v, ev)


def test_currency_is_not_a_drug_quantity() -> None:
    m = only("heroin worth Rs 1.5 crore was seized")
    assert (m.value, m.unit, m.currency, m.scale) == (15_000_000.0, None, "Rs", 1e7)
    m = only("cocaine with a street value of $13.3m")
    assert (m.value, m.unit, m.currency) == (13_300_000.0, None, "$")
    m = only("worth N5bn")
    assert (m.value, m.currency) == (5e9, "N")
    m = only("2 million dollars")
    assert (m.value, m.unit, m.currency) == (2e6, None, "dollars")
    m = only("£5 pounds")  # a currency sign wins over "pounds"
    assert m.unit is None


@pytest.mark.parametrize(
    "text",
    [
        "one of the suspects fled",
        "no one was hurt",
        "two-thirds of the haul",
        "on 10 September 2024",
        "in March 2021",
        "Sept. 10",
        "March 10, 2024",
        "in 2019",
        "at 10:30",
        "at 10am",
        "at 4 p.m.",
        "25% of the seizures",
        "25 per cent",
        "the 3rd raid",
        "in the 1990s",
        "an A320 aircraft",
        "COVID-19 rules",
        "5G network",
        "a 20m boat",
        "on 10/09/2024",
        "dozens of bags",
        "hundreds of kilograms",
        "thousands of tablets",
        "tens of thousands of pills",
        "a man was arrested",
        "the second half of the year",
        "first seizure",
    ],
)
def test_not_quantities(text: str) -> None:
    assert spans(text) == []


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("1 kg 73 grams", 1.073, "kg"),
        ("3 kilograms and 321 grams", 3.321, "kg"),
        ("24 pounds, 4 ounces", 24.25, "lb"),
        ("3 tons and 115 kilograms", 3.115, "tonne"),
        ("42 grams and 700 milligrams", 42.7, "g"),
        ("8 kilos y 415 gramos", 8.415, "kg"),
    ],
)
def test_compound_weights(text: str, value: float, unit: str) -> None:
    m = only(text)
    assert (text[m.start : m.end], m.unit) == (text, unit)
    assert math.isclose(m.value, value)


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("10 lakh 26 thousand 610 pieces", 1_026_610.0, "piece"),
        ("70 thousand 13 bottles", 70_013.0, "bottle"),
        ("one thousand 423 kg", 1423.0, "kg"),
        ("1 lakh 23 thousand 216 bottles", 123_216.0, "bottle"),
        ("ten (10) packages", 10.0, "packet"),
        ("five thousand (5,000) tablets", 5000.0, "tablet"),
        ("7.87 quintals", 787.0, "kg"),
        ("49, 200 bottles", 49_200.0, "bottle"),
        ("8, 69,557 Yaba pills", 869_557.0, "pill"),
        ("2 511.35kgs", 2511.35, "kg"),
        ("1700,000 tablets", 1_700_000.0, "tablet"),
        ("una tonelada y media", 1.5, "tonne"),
        ("tres toneladas", 3.0, "tonne"),
        ("once kilos", 11.0, "kg"),
        ("huit tonnes", 8.0, "tonne"),
        ("zwei Tonnen", 2.0, "tonne"),
        ("21,5 toneladas", 21.5, "tonne"),
        ("1,3 millones de pastillas", 1_300_000.0, "pill"),
        ("33 Millionen Amphetamin-Pillen", 33_000_000.0, "pill"),
        ("২২০৬ কেজি", 2206.0, "kg"),
        ("১৯ হাজার ৭৯৭ বোতল", 19_797.0, "bottle"),
        ("480 brick-type packages", 480.0, "packet"),
        ("335 kilo-sized packages", 335.0, "packet"),
        ("16,000 happy-5 tablets", 16_000.0, "tablet"),
        ("602 weed plants", 602.0, "plant"),
        ("15 million illegally obtained Lyrica pills", 15e6, "pill"),
    ],
)
def test_news_formats(text: str, value: float, unit: str) -> None:
    m = only(text)
    assert m.unit == unit, (text, m)
    assert math.isclose(m.value, value), (text, m)
    assert text[m.start : m.end].strip() == text[m.start : m.end]


def test_quintal_grounds_both_ways() -> None:
    (m,) = find_value("7.87 quintals of poppy husk", 7.87)
    assert (m.value, m.scale, m.unit_text) == (787.0, 100.0, "quintals")


def test_zeros_are_not_a_quantity() -> None:
    assert [m.value for m in find_quantities("24 00 tablets")] == [24.0]  # a typo for 24,000: never "0 tablets"


def test_unit_not_borrowed_across_people() -> None:
    assert spans("3 suspects carrying bags") == [("3", 3.0, None)]
    assert spans("12 people with 30 pills") == [("12", 12.0, None), ("30 pills", 30.0, "pill")]


def test_ranges_take_the_unit_and_scale_of_their_end() -> None:
    assert [(s, v, u) for s, v, u in spans("2-3 kg")] == [("2", 2.0, "kg"), ("3 kg", 3.0, "kg")]
    assert [(s, v, u) for s, v, u in spans("from 2 to 3 kg")] == [("2", 2.0, "kg"), ("3 kg", 3.0, "kg")]
    assert [v for _s, v, _u in spans("between 2 and 3 million tablets")] == [2e6, 3e6]
    assert [v for _s, v, _u in spans("between 500 and 1 million tablets")] == [500.0, 1e6]


def test_approximate() -> None:
    for text in ("about 500 kg", "nearly 500 kg", "more than 500 kg", "over 500 kg", "some 500 kg", "up to 500 kg",
                 "at least 500 kg", "an estimated 500 kg", "500+ kg", "500-plus kg", "500 kg or so", "~500 kg"):  # fmt: skip
        assert only(text).approximate, text
    for text in ("500 kg", "a total of 500 kg", "exactly 500 kg"):
        assert not only(text).approximate, text


def test_ton_is_metric_and_keeps_what_was_written() -> None:
    for written in ("tons", "tonnes", "ton", "t", "short tons", "metric tons"):
        m = only(f"4 {written} of cocaine") if written != "t" else only("4t of cocaine")
        assert m.unit == "tonne"
        assert m.unit_text is not None and m.unit_text.endswith(written.split()[-1])


# --------------------------------------------------------------------------------------------------------------
# Separators
# --------------------------------------------------------------------------------------------------------------


def test_three_decimals() -> None:
    # English reports write gram precision with three decimals ("52.800 kg" in Pakistani and Indian police reports).
    for text, value in (("52.800 kg", 52.8), ("1.108 kg", 1.108), ("2.484 tons", 2.484), ("46.225 kilograms", 46.225)):
        m = only(text)
        assert (m.value, m.alt_value) == (value, value * 1000), text
    # Spanish, Portuguese, German and French unit words follow the European convention.
    for text, value in (("1.200 kilogramos", 1200.0), ("18.900 gramos", 18900.0), ("89.760 Kaptagon-Tabletten", 89760.0),
                        ("2.600 galões", 2600.0), ("1.251 paquetes rectangulares", 1251.0)):  # fmt: skip
        m = only(text)
        assert (m.value, m.alt_value) == (value, value / 1000), text
    # "d.000" and "kilos" lean European too.
    assert only("3.000 kilos").value == 3000.0
    assert only("nearly 1.600 kilos").value == 1600.0
    assert {m.value for m in find_value("seized 52.800 kg", 52800)} == {52.8}  # the other reading still grounds


def test_european_dot_thousands() -> None:
    m = only("2.400 kilogramos de cocaína")
    assert (m.value, m.alt_value) == (2400.0, 2.4)
    assert only("1.234.567 tablets").value == 1234567.0
    assert only("1.234,5 kg").value == 1234.5
    # An English text (a decimal dot elsewhere) reads 2.400 as 2.4, and keeps the other reading.
    found = find_quantities("1.5 tonnes and 2.400 kg")
    assert (found[1].value, found[1].alt_value) == (2.4, 2400.0)
    # A European text (a decimal comma) reads 2,400 as 2.4.
    found = find_quantities("1,5 kg und 2,400 kg")
    assert (found[0].value, found[1].value, found[1].alt_value) == (1.5, 2.4, 2400.0)
    assert {m.value for m in find_value("1.5 tonnes and 2.400 kg", 2400)} == {2.4}


def test_decimal_comma_only_before_a_unit() -> None:
    assert only("1,5 kg").value == 1.5
    assert spans("items 1,5 and 7") == [("7", 7.0, None)]


# --------------------------------------------------------------------------------------------------------------
# find_value
# --------------------------------------------------------------------------------------------------------------


def test_find_value_matches_scaled_values() -> None:
    text = "Police seized 20.4 million tablets and 250 grams of heroin"
    assert [text[m.start : m.end] for m in find_value(text, 20_400_000)] == ["20.4 million tablets"]
    assert [text[m.start : m.end] for m in find_value(text, 20.4)] == ["20.4 million tablets"]
    assert [m.unit for m in find_value(text, 250)] == ["g"]
    assert find_value(text, 252) == []
    assert find_value(text, 250.5) == [m for m in find_quantities(text) if m.value == 250]  # within 0.5 %
    assert find_value(text, 250.5, rel_tol=1e-6) == []
    assert find_value(text, math.nan) == []


def test_find_value_catches_a_changed_unit() -> None:
    (m,) = find_value("The suspect carried 250 grams of heroin.", 250.0)
    assert m.unit == "g"  # the model said kilograms: the caller sees the article's unit


# --------------------------------------------------------------------------------------------------------------
# parse_number
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2,400", 2400.0),
        ("2.400", 2.4),
        ("2.400 kg", 2.4),
        ("2.400 kilogramos", 2400.0),
        ("2.400.000", 2_400_000.0),
        ("1,50,000", 150_000.0),
        ("1 234", 1234.0),
        ("1\u2009234", 1234.0),
        ("thirty-seven", 37.0),
        ("Thirty seven", 37.0),
        ("a dozen", 12.0),
        ("half a", 0.5),
        ("one and a half", 1.5),
        ("1.5 million", 1_500_000.0),
        ("3 crore", 30_000_000.0),
        ("2 lakh", 200_000.0),
        ("2 lakhs", 200_000.0),
        ("5 lac", 500_000.0),
        ("1.2bn", 1.2e9),
        ("½", 0.5),
        ("2022", 2022.0),
        ("one", 1.0),
        ("a hundred", 100.0),
        ("a million", 1e6),
        ("nineteen hundred", 1900.0),
        ("one hundred and twenty", 120.0),
        ("about 2,400", 2400.0),
        ("Rs 1.5 crore", 15_000_000.0),
        ("1,234.5", 1234.5),
        (" 42 ", 42.0),
    ],
)
def test_parse_number(text: str, value: float) -> None:
    result = parse_number(text)
    assert result is not None and math.isclose(result, value), (text, result)


@pytest.mark.parametrize(
    "text",
    ["", "a", "an", "one of", "dozens", "hundreds", "2 and 3", "kg", "the", "1.2.3", "10/09/2024", "two three", "x1"],
)
def test_parse_number_rejects(text: str) -> None:
    assert parse_number(text) is None


# --------------------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------------------

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
]
_ONES += ["seventeen", "eighteen", "nineteen"]
_TENS_WORDS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def words(n: int, *, use_and: bool) -> str:
    """English words for 0 < n < 10**9 (test oracle, independent of the module)."""
    parts: list[str] = []
    for scale, name in ((10**6, "million"), (10**3, "thousand")):
        if n >= scale:
            parts.append(words(n // scale, use_and=use_and) + " " + name)
            n %= scale
    if n >= 100:
        parts.append(_ONES[n // 100] + " hundred")
        n %= 100
        if n and use_and:
            parts.append("and")
    if n >= 20:
        parts.append(_TENS_WORDS[n // 10] + ("-" + _ONES[n % 10] if n % 10 else ""))
    elif n:
        parts.append(_ONES[n])
    return " ".join(parts)


def group(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


def indian(n: int) -> str:
    s = str(n)
    if len(s) <= 3:
        return s
    head, tail = s[:-3], s[-3:]
    groups: list[str] = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([head, *groups, tail])


UNITS = [
    ("kg", "kg"), ("kilograms", "kg"), ("kilos", "kg"), ("kgs", "kg"), ("grams", "g"), ("g", "g"), ("gm", "g"),
    ("tonnes", "tonne"), ("tons", "tonne"), ("t", "tonne"), ("pounds", "lb"), ("lbs", "lb"), ("ounces", "oz"),
    ("litres", "litre"), ("liters", "litre"), ("ml", "ml"), ("gallons", "gallon"), ("tablets", "tablet"),
    ("pills", "pill"), ("capsules", "capsule"), ("packets", "packet"), ("plants", "plant"), ("pieces", "piece"),
    ("bottles", "bottle"), ("bags", "bag"), ("yaba tablets", "tablet"), ("cannabis plants", "plant"),
]  # fmt: skip


FOREIGN_UNITS = [
    ("kilogramos", "kg"), ("toneladas", "tonne"), ("gramos", "g"), ("Tonnen", "tonne"), ("pastillas", "pill"),
    ("comprimidos", "tablet"), ("paquetes", "packet"), ("quilos", "kg"),
]  # fmt: skip


@st.composite
def written_quantity(draw: st.DrawFn) -> tuple[str, float, float | None, str]:
    """(written form, value, base before the scale word, unit) for a quantity in one of the supported formats."""
    written_unit, unit = draw(st.sampled_from(UNITS))
    glue = draw(st.sampled_from([" ", ""])) if written_unit in ("kg", "kgs", "g", "gm", "t", "ml") else " "
    fmt = draw(
        st.sampled_from(["plain", "comma", "indian", "thin", "words", "words_and", "decimal", "scale", "eu", "frac"])
    )
    base: float | None = None
    if fmt == "eu":
        written_unit, unit = draw(st.sampled_from(FOREIGN_UNITS))
        glue = " "
    if fmt == "decimal":
        cents = draw(st.integers(1, 10**7))
        value_dec = Decimal(cents) / 100
        number = f"{value_dec:,}" if draw(st.booleans()) else str(value_dec)
        value = float(value_dec)
    elif fmt == "scale":
        tenths = draw(st.integers(1, 999))
        scale_word, mult = draw(st.sampled_from([("million", 10**6), ("lakh", 10**5), ("crore", 10**7),
                                                  ("billion", 10**9), ("thousand", 10**3)]))  # fmt: skip
        base_dec = Decimal(tenths) / 10
        number = f"{base_dec} {scale_word}"
        value, base = float(base_dec * mult), float(base_dec)
        glue = " "
    elif fmt == "frac":
        whole = draw(st.integers(0, 20))
        number = (str(whole) if whole else "") + "½"
        value = whole + 0.5
    else:
        n = draw(st.integers(1, 999_999_999 if fmt != "eu" else 99_999_999))
        if fmt in ("comma", "indian", "thin", "eu") and n < 1000:
            n += 1000
        value = float(n)
        if fmt == "plain":
            number = str(n)
        elif fmt == "comma":
            number = group(n, ",")
        elif fmt == "indian":
            number = indian(n)
        elif fmt == "thin":
            number = group(n, draw(st.sampled_from(["\u2009", "\u202f", "\u00a0"])))
        elif fmt == "eu":
            number = group(n, ".")
        else:
            number = words(n, use_and=fmt == "words_and")
            glue = " "
    return number + glue + written_unit, value, base, unit


@PROPERTY
@given(written_quantity(), st.sampled_from(["Police seized {} of heroin.", "{} were found", "officers found {}."]))
def test_find_value_finds_every_written_format(case: tuple[str, float, float | None, str], template: str) -> None:
    written, value, base, unit = case
    text = template.format(written)
    at = text.index(written)
    hits = find_value(text, value)
    assert any((m.start, m.end, m.unit) == (at, at + len(written), unit) for m in hits), (text, find_quantities(text))
    if base is not None:
        assert any(m.start == at for m in find_value(text, base)), text
    (m,) = [m for m in hits if m.start == at]
    assert math.isclose(parse_number(text[m.start : m.end]) or -1.0, m.value, rel_tol=1e-9), text


@PROPERTY
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80))
def test_spans_index_the_original_text(text: str) -> None:
    found = find_quantities(text)
    last_end = 0
    for m in found:
        assert 0 <= m.start < m.end <= len(text)
        assert m.start >= last_end  # in order, no overlap
        phrase = text[m.start : m.end]
        assert phrase == phrase.strip()
        assert math.isfinite(m.value) and m.value >= 0
        last_end = m.end


NEWSY = st.sampled_from(
    ["seized", "2,400", "kg", "of", "1.5", "million", "tablets", "between", "and", "3", "tonnes", "about", "Rs",
     "crore", "forty-two", "half", "a", "dozen", "one", "the", "395kg", "(", ")", ",", ".", "2019", "March", "10",
     "lakh", "1,50,000", "pounds", "$", "13.3m", "-", "to", "2.400", "yaba", "pills", "suspects", "½", "\u202f400"]
)  # fmt: skip


@PROPERTY
@given(st.lists(NEWSY, max_size=14), st.lists(st.sampled_from([" ", "", "  ", "\n"]), min_size=14, max_size=14))
def test_spans_on_newsy_text(tokens: list[str], gaps: list[str]) -> None:
    text = "".join(t + g for t, g in zip(tokens, gaps, strict=False))
    last_end = 0
    for m in find_quantities(text):
        phrase = text[m.start : m.end]
        assert phrase and phrase == phrase.strip()
        assert m.start >= last_end
        last_end = m.end
        assert find_value(text, m.value), (text, m)
        if m.unit is not None:
            assert m.unit in {"kg", "g", "mg", "tonne", "lb", "oz", "litre", "ml", "gallon", "tablet", "pill",
                              "capsule", "packet", "plant", "piece", "bottle", "bag"}  # fmt: skip
            assert m.unit_text is not None and m.unit_text in text


@PROPERTY
@given(st.integers(1, 999_999_999), st.booleans())
def test_words_round_trip(n: int, use_and: bool) -> None:
    assert parse_number(words(n, use_and=use_and)) == float(n)


@PROPERTY
@given(st.integers(1000, 10**12))
def test_grouping_round_trip(n: int) -> None:
    assert parse_number(group(n, ",")) == n
    assert parse_number(indian(n)) == n
    assert parse_number(group(n, "\u202f")) == n
    assert parse_number(group(n, ".") + " kilogramos") == n
