"""Totals are not seizures: figures that sum seizures over a period.

"So far this year police have seized a total of 3.2 tonnes" sums the very seizures the
article (or others) report one by one; counted as one more seizure it adds a year's total
to its own parts. UNODC and EMCDDA count seizures, not reports, and treat period totals as
statistics. A record is a total when

1. the model said so (`is_total`), or
2. its evidence dates it by a period ("so far this year", "since January", "in the first
   half of 2023", "in the past three months", "during 2022", "annual"), or
3. its evidence sums ("a total of", "in total", "altogether", "totalling", "cumulative")
   several interceptions ("seizures", "operations", "raids", "cases") or a period date.

"A total of 2,400 kg was seized from a truck on Sunday" is *not* a total: summing words
alone do not make one, a period or several interceptions must go with them.
"""

from __future__ import annotations

import re

__all__ = ["total_reason"]

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_PERIOD = re.compile(
    r"\b(?:so far (?:this|in) (?:year|month|20\d\d)|year[- ]to[- ]date|since (?:the (?:beginning|start) of )?"
    rf"(?:{_MONTH}\b|20\d\d|the (?:year|beginning|start))|(?:in|during|over|within) the (?:past|last|previous|first) "
    r"(?:\w+ )?(?:days?|weeks?|months?|years?|quarters?)|(?:in|during) the (?:first|second|third|fourth|last) "
    r"(?:half|quarter)|(?:in|during) (?:the )?(?:fiscal|financial) year|\bfy ?\d{2}|"
    rf"(?:during|throughout|in all of) 20\d\d\b(?! *,? *(?:on|in) {_MONTH})|annual(?:ly)?|yearly|monthly|"
    rf"(?:between|from) {_MONTH}\w* (?:20\d\d )?(?:and|to|through|until) {_MONTH}|over the (?:past|last) \w+|"
    rf"(?:in|during) the month of|from {_MONTH}\.? \d{{1,2}} to \d{{1,2}}|from \d{{1,2}} to \d{{1,2}} {_MONTH})",
    re.IGNORECASE,
)
_SUMMING = re.compile(r"\b(?:a total of|in total|total(?:l)?ing|altogether|cumulative(?:ly)?|combined|in all)\b", re.I)
_SEVERAL = re.compile(
    r"\b(?:seizures|operations|raids|cases|interceptions|busts|incidents|arrests|crackdowns|campaigns|shipments|"
    r"consignments|attempts|vehicles|parcels)\b",
    re.I,
)
#: several interceptions said outright: "in separate incidents", "in 60 operations"
_SEPARATE = re.compile(
    r"\b(?:in|during|across|through) (?:\w+ )?(?:separate|several|multiple|different|various|\d+|two|three|four|five|"
    r"six|seven|eight|nine|ten|dozens of) (?:\w+ )?(?:operations|raids|incidents|seizures|cases|busts|interceptions)\b|"
    r"\b(?:\d{2,}|dozens of|hundreds of) (?:\w+ )?(?:operations|raids|busts|interceptions)\b",
    re.I,
)


def total_reason(*, is_total: bool, evidence: str, date_is_period: bool, date_precision: str | None = None) -> str | None:
    """Why a seizure record is a total over a period, or None for a single seizure."""
    if is_total:
        return "marked a total by the model"
    period = _PERIOD.search(evidence)
    if period:
        return f'the evidence gives a period: "{period.group(0)}"'
    separate = _SEPARATE.search(evidence)
    if separate:
        return f'the evidence sums several interceptions: "{separate.group(0)}"'
    summing = _SUMMING.search(evidence)
    coarse = date_precision in ("year", "half", "quarter")  # "a total of 17.3 tons ... in 2018"
    if summing and (_SEVERAL.search(evidence) or date_is_period or coarse):
        several = _SEVERAL.search(evidence)
        return f'the evidence sums: "{summing.group(0)}"' + (f' over "{several.group(0)}"' if several else " over a period")
    return None
