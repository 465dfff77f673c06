"""The words of periods: month, weekday and count words, vague phrases, and the Spanish, Portuguese,
French, Italian, German and Indonesian period words with their rewriting into English."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Final

_MONTHS: Final[dict[str, int]] = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_WEEKDAYS: Final[dict[str, int]] = {
    name: number
    for number, names in enumerate(
        [
            ("monday", "mon"),
            ("tuesday", "tue", "tues"),
            ("wednesday", "wed"),
            ("thursday", "thu", "thurs"),
            ("friday", "fri"),
            ("saturday", "sat"),
            ("sunday", "sun"),
        ]
    )
    for name in names
}
_COUNT_WORDS: Final[dict[str, int]] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "eighteen": 18, "twenty": 20,
    "twenty-four": 24, "thirty": 30, "thirty-six": 36, "forty-eight": 48, "sixty": 60, "seventy-two": 72,
    "ninety": 90, "couple of": 2, "a couple of": 2, "dos": 2, "dois": 2, "duas": 2, "deux": 2, "tres": 3, "três": 3,
    "trois": 3, "cuatro": 4, "quatro": 4, "seis": 6, "doce": 12, "doze": 12, "24": 24,
}  # fmt: skip
_ORDINALS: Final[dict[str, int]] = {"first": 1, "second": 2, "third": 3, "fourth": 4, "final": 4, "last": 4}

_MONTH_RE = r"(?:january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar"
_MONTH_RE += r"|apr|jun|jul|aug|sept|sep|oct|nov|dec)"
_YEAR_RE = r"(?:1[89]\d\d|20\d\d)"
_COUNT_RE = r"(?:\d{1,3}|" + "|".join(sorted((re.escape(w) for w in _COUNT_WORDS), key=len, reverse=True)) + ")"
_PART_RE = r"(?:early|mid|late|the start of|the beginning of|the middle of|the end of|the close of)"
_REL_YEAR_RE = r"(?:this year|last year|the year|the current year|the previous year|the past year|" + _YEAR_RE + ")"


_VAGUE = re.compile(
    r"(?:recently|lately|of late|in recent (?:days|weeks|months|years|times)|recent (?:days|weeks|months|years|times)"
    r"|(?:the )?(?:past|last|previous|coming|next) (?:few|several|many|some) \w+|(?:some|a) time ago|soon|later"
    r"|earlier|previously|before|in the past|the past|today|tonight|yesterday|tomorrow|this morning"
    r"|this afternoon|this evening|last night|the same period(?: last year)?|the same time last year|next \w+)"
)
_FILLER = re.compile(r"(?:in|during|throughout|within|for|over|across|at|of|on|from the period of)\s+")
_FISCAL_WORDS = r"(?:fiscal|financial|budget)(?: year)?"
_FY_LABEL = r"(\d{4}|\d{2})(?:[-/](\d{4}|\d{2}))?"


_FOREIGN_MONTHS: Final[dict[str, str]] = {
    name: english
    for english, names in {
        "january": "enero janeiro janvier gennaio januar januari",
        "february": "febrero fevereiro février febbraio februar februari",
        "march": "marzo março mars märz maret",
        "april": "abril avril aprile",
        "may": "mayo maio mai maggio mei",
        "june": "junio junho juin giugno juni",
        "july": "julio julho juillet luglio juli",
        "august": "agosto août agustus",
        "september": "septiembre setiembre setembro septembre settembre",
        "october": "octubre outubro octobre ottobre oktober",
        "november": "noviembre novembro novembre",
        "december": "diciembre dezembro décembre dicembre dezember desember",
    }.items()
    for name in names.split()
}
# Spanish, Portuguese, French, Italian, German, Indonesian period words, rewritten to English (applied in order).
_FOREIGN_UNITS: Final[dict[str, str]] = {
    word: english
    for english, words in {
        "hours": "horas heures ore stunden",
        "days": "días dias jours giorni tage",
        "weeks": "semanas semaines settimane wochen",
        "months": "meses mois mesi monate",
        "years": "años anos années anni jahre",
    }.items()
    for word in words.split()
}


def _foreign_window(m: re.Match[str]) -> str:
    """ "las últimas dos semanas" → "the past dos weeks"; "las últimas horas" → "the past 24 hours"."""
    count, unit = m.group(1), _FOREIGN_UNITS[m.group(2)]
    if count is None:
        return "the past 24 hours" if unit == "hours" else f"the past few {unit}"
    return f"the past {count} {unit}"


_FOREIGN_PHRASES: Final[tuple[tuple[str, str | Callable[[re.Match[str]], str]], ...]] = (
    (r"\b(\d{1,2}) (?:de )?(?=" + _MONTH_RE + r"\b)", r"\1 "),
    (r"\b(" + _MONTH_RE + r") de (\d{4})\b", r"\1 \2"),
    (r"\b(?:el |o |la )?mes de (?=" + _MONTH_RE + r"\b)", ""),
    (
        (
            r"\b(?:desde|depuis|seit|dall'|dal|dalla|sejak)\b ?(?:el |o |le |l'|il )?(?:inicio|comienzo|principio|início"
            r"|début|inizio|beginn|anfang|awal) (?:del |de |do |de l'|dell'|des )?(?:año|ano|année|anno|jahres|tahun)"
            r"(?: en cours| corriente| en curso| em curso| in corso)?\b"
        ),
        "since the start of the year",
    ),
    (r"\b(\d{1,2} " + _MONTH_RE + r") (?:pasado|passado|dernier|scorso)\b", r"\1 last year"),
    (r"\b(?:el |o |le |l'|il )?(?:pasado|passado|dernier|scorso) (" + _MONTH_RE + r")\b", r"last \1"),
    (r"\b(" + _MONTH_RE + r") (?:pasado|passado|dernier|scorso)\b", r"last \1"),
    (
        (
            r"\b(?:(?:en |no |dans |nel )?(?:el |o |l'|il )?(?:presente|corriente|actual|atual|corrente) (?:año|ano|anno)"
            r"|l'année en cours|(?:este|esse|cette|quest'|questo|dieses|diesem) (?:año|ano|année|anno|jahr)|tahun ini)\b"
        ),
        "this year",
    ),
    (
        (
            r"\b(?:(?:el |o )?(?:año|ano) (?:pasado|passado)|l'année dernière|l'an dernier|l'anno scorso"
            r"|(?:im )?(?:vorigen|letzten|vergangenen) jahr|tahun lalu)\b"
        ),
        "last year",
    ),
    (
        (
            r"\b(?:(?:el |o |le )?(?:pasado|último|passado|dernier) (?:fin de semana|fim de semana|week-end)"
            r"|(?:el |o |le )?(?:fin de semana|fim de semana|week-end) (?:pasado|passado|dernier)"
            r"|(?:vom |am )?(?:vergangenen|letzten) wochenende)\b"
        ),
        "last weekend",
    ),
    (r"\b(?:esta semana|cette semaine|diese woche|questa settimana|minggu ini)\b", "this week"),
    (
        r"\b(?:la )?(?:semana pasada|semana passada|semaine dernière|letzte woche|vergangene woche|minggu lalu)\b",
        "last week",
    ),
    (r"\b(?:este mes|este mês|ce mois-ci|ce mois|diesen monat|bulan ini)\b", "this month"),
    (r"\b(?:el |o |le )?(?:mes pasado|mês passado|mois dernier|letzten monat|bulan lalu)\b", "last month"),
    (r"\b(?:desde|depuis|seit|dall'|dal|sejak)\b", "since"),
    (
        (
            r"\b(?:las |os |les |gli |die )?(?:últimas|ultimas|últimos|ultimos|derniers|dernières|ultime|ultimi|letzten)"
            r" (?:(\S+) )?(horas|heures|ore|stunden|días|dias|jours|giorni|tage|semanas|semaines|settimane|wochen|meses|mois"
            r"|mesi|monate|años|anos|années|anni|jahre)\b"
        ),
        _foreign_window,
    ),
    (r"\b(?:en |em )?menos de (\d+) (horas|días|dias)\b", _foreign_window),
    (
        r"\b(?:el |o |le |il |dem |im )?(?:primer|primeiro|premier|primo|ersten|erste) (?:trimestre|quartal)\b",
        "the first quarter",
    ),
    (
        r"\b(?:el |o |le |il |dem |im )?(?:segundo|deuxième|secondo|zweiten) (?:trimestre|quartal)\b",
        "the second quarter",
    ),
    (
        r"\b(?:el |o |le |il |dem |im )?(?:tercer|terceiro|troisième|terzo|dritten) (?:trimestre|quartal)\b",
        "the third quarter",
    ),
    (
        r"\b(?:el |o |le |il |dem |im )?(?:cuarto|quarto|quatrième|vierten) (?:trimestre|quartal)\b",
        "the fourth quarter",
    ),
    (r"\b(?:el |o |le |il )?(?:primer|primeiro|premier|primo) semestre\b", "the first half"),
    (r"\b(?:el |o |le |il )?(?:segundo|second|secondo) semestre\b", "the second half"),
    (r"\b(?:principios de|inicios de|comienzos de|início de|début|inizio|anfang|awal)\b ?", "early "),
    (r"\b(?:mediados de|meados de|mi-|metà|mitte|pertengahan)\b ?", "mid-"),
    (r"\b(?:finales de|fines de|final de|fin|fine|ende|akhir)\b ?(?=" + _MONTH_RE + r"\b|\d{4})", "late "),
    (r"\b(?:verano|verão|été|estate|sommer)\b", "summer"),
    (r"\b(?:invierno|inverno|hiver|inverno)\b", "winter"),
    (r"\b(?:im jahr|en el año|no ano|en l'an|nell'anno|pada tahun)\b ?", ""),
    (r"\b(?:este|esse|cette|questo|dieses|diesem) (?=\d{4}\b)", ""),
    (r"\b(?:en|em|dans|durante|nel|nello|nella|im|pada|di|au cours de|à|a)\b ", "in "),
    (r"\bentre\b", "between"),
    (r"\b(?:y|e|et|und|dan)\b", "and"),
    (r"\b(?:hasta|até|jusqu'au|jusqu'à|bis|fino a|al|au|sampai)\b", "to"),
    (r"^(?:de|del|du|dal|von|dari) ", "from "),
    (r"\b(?:de|del|do|da|des|du|della|dello|von|vom)\b", "of"),
    (r"\b(?:el|la|los|las|le|les|il|lo|der|die|das|dem|den|o|os|as) ", ""),
)
_FOREIGN_TRIGGER = re.compile(
    r"\b(?:"
    + "|".join(sorted((re.escape(n) for n in _FOREIGN_MONTHS), key=len, reverse=True))
    + r"|en|em|dans|durante|desde|depuis|seit|entre|este|esta|pasado|passado|dernier|dernière|últimas|últimos|ultimas"
    r"|trimestre|semestre|año|ano|année|anno|jahr|jahres|semana|semaine|woche|wochenende|tahun|pada|bulan|minggu"
    r"|principios|mediados|finales|anfang|mitte|ende|verano|verão|été|im|nel|dall|sejak)\b"
)


def _translate(e: str) -> str:
    """Rewrite Spanish, Portuguese, French, Italian, German and Indonesian period words into English."""
    if not _FOREIGN_TRIGGER.search(e):
        return e
    e = re.sub(
        r"\b(" + "|".join(sorted((re.escape(n) for n in _FOREIGN_MONTHS), key=len, reverse=True)) + r")\b",
        lambda m: _FOREIGN_MONTHS[m.group(1)],
        e,
    )
    for pattern, replacement in _FOREIGN_PHRASES:
        e = re.sub(pattern, replacement, e)
    return re.sub(r"\s+", " ", e).strip()


@lru_cache(maxsize=1024)  # a pure function of a short phrase: "last year", "in 2023" come again and again
def _normalise(expression: str) -> tuple[str, bool]:
    e = unicodedata.normalize("NFKC", expression).lower()
    e = e.replace("\u2019", "'").replace("\u2018", "'")
    e = _translate(e)
    e = re.sub(r"\bsemester\b", "half", e)
    e = re.sub(r"[\u2010-\u2015\u2212]", "-", e)
    e = re.sub(r"\s*-\s*", "-", e)
    e = re.sub(r"[\"()\[\]]", " ", e)
    e = re.sub(rf"\b({_MONTH_RE})\.", r"\1", e)
    e = re.sub(r"\b1st (?=half|quarter|week)", "first ", e)
    e = re.sub(r"\b2nd (?=half|quarter|week)", "second ", e)
    e = re.sub(r"\b3rd (?=quarter|week)", "third ", e)
    e = re.sub(r"\b4th (?=quarter|week)", "fourth ", e)
    e = re.sub(r"\b(\d{1,2})(?:st|nd|rd|th)\b", r"\1", e)
    e = re.sub(rf"\b(?:the )?(\d{{1,2}}) of (?={_MONTH_RE}\b)", r"\1 ", e)
    e = re.sub(r"(?<=[a-z]), (?=[a-z])", " , ", e)  # keep list commas between words: "june, july and august"
    e = e.replace(" , ", " ;; ").replace(",", " ").replace(" ;; ", ", ")
    e = re.sub(r"\s+", " ", e).strip(" .;:!?'")
    e = re.sub(r"\bmid (?=\w)", "mid-", e)
    e = re.sub(r"'s(?: [a-z]+)?$", "", e)  # "last year's figures", "last week's activity"
    e = re.sub(r" (?:alone|so far|thus far)$", "", e)
    preposition = False
    while (m := _FILLER.match(e)) is not None:
        e = e[m.end() :]
        preposition = True
    e = re.sub(
        r"^(?:the whole of |the entirety of |the entire |the full year of |the course of |the year (?=\d{4})"
        r"|(?:the )?(?:intervening )?night of |earlier in |later in |so far (?:in|for) |the period (?:of )?)",
        "",
        e,
    )
    while (m := _FILLER.match(e)) is not None:
        e = e[m.end() :]
        preposition = True
    e = re.sub(r"^this past (?=week|month|year|weekend)", "the past ", e)
    return e, preposition
