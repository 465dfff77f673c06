"""Quantities to kilograms and litres: our unit table first (ton = metric tonne), then pint."""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pragma: no cover
    import pint

from ._text import _fold

UnitKind = Literal["mass", "count", "volume", "unknown"]


# ---------------------------------------------------------------------------
# 1. units
# ---------------------------------------------------------------------------

_COUNT_WORDS = """tablet tab pill capsule piece pc dose unit item plant seedling sapling bush tree seed blister
    strip sheet blotter ampoule ampule vial bottle packet pack package parcel bag sachet bundle
    brick block slab box carton cigarette joint stick roll count number""".split()  # noqa: SIM905

# unit word (folded, singular) -> (kind, pint expression). None for counts.
_UNITS: dict[str, tuple[UnitKind, str | None]] = {
    # mass
    "µg": ("mass", "microgram"),
    "ug": ("mass", "microgram"),
    "mcg": ("mass", "microgram"),
    "microgram": ("mass", "microgram"),
    "mg": ("mass", "milligram"),
    "milligram": ("mass", "milligram"),
    "milligramme": ("mass", "milligram"),
    "g": ("mass", "gram"),
    "gr": ("mass", "gram"),  # news shorthand for grams (not grains)
    "gm": ("mass", "gram"),
    "gram": ("mass", "gram"),
    "gramme": ("mass", "gram"),
    "kg": ("mass", "kilogram"),
    "kilogram": ("mass", "kilogram"),
    "kilogramme": ("mass", "kilogram"),
    "kilo": ("mass", "kilogram"),
    "t": ("mass", "metric_ton"),
    "mt": ("mass", "metric_ton"),  # "metric tons" in seizure news, not megatonnes
    "ton": ("mass", "metric_ton"),  # outside the US, "ton" is the metric tonne
    "tonne": ("mass", "metric_ton"),
    "metric ton": ("mass", "metric_ton"),
    "metric tonne": ("mass", "metric_ton"),
    "short ton": ("mass", "short_ton"),
    "us ton": ("mass", "short_ton"),
    "net ton": ("mass", "short_ton"),
    "long ton": ("mass", "long_ton"),
    "imperial ton": ("mass", "long_ton"),
    "lb": ("mass", "pound"),
    "pound": ("mass", "pound"),
    "oz": ("mass", "ounce"),
    "ounce": ("mass", "ounce"),
    # volume
    "l": ("volume", "liter"),
    "lt": ("volume", "liter"),
    "ltr": ("volume", "liter"),
    "litre": ("volume", "liter"),
    "liter": ("volume", "liter"),
    "ml": ("volume", "milliliter"),
    "millilitre": ("volume", "milliliter"),
    "milliliter": ("volume", "milliliter"),
    "cc": ("volume", "milliliter"),
    "cm3": ("volume", "milliliter"),
    "cubic centimetre": ("volume", "milliliter"),
    "cubic centimeter": ("volume", "milliliter"),
    "cl": ("volume", "centiliter"),
    "centilitre": ("volume", "centiliter"),
    "centiliter": ("volume", "centiliter"),
    "m3": ("volume", "meter ** 3"),
    "cubic metre": ("volume", "meter ** 3"),
    "cubic meter": ("volume", "meter ** 3"),
    "gal": ("volume", "gallon"),  # pint's gallon is the US liquid gallon
    "gallon": ("volume", "gallon"),
    "us gallon": ("volume", "gallon"),
    "imperial gallon": ("volume", "imperial_gallon"),
    "fl oz": ("volume", "fluid_ounce"),
    "fluid ounce": ("volume", "fluid_ounce"),
    # counts: never kilograms, never litres
    **{word: ("count", None) for word in _COUNT_WORDS},
    "blister pack": ("count", None),
}


def _unit_entry(unit: str) -> tuple[UnitKind, str | None] | None:
    key = re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", _fold(unit))).strip()
    candidates = [key]
    if key.endswith("es"):
        candidates.append(key[:-2])
    if key.endswith("s"):
        candidates.insert(1, key[:-1])
    for candidate in candidates:
        if candidate in _UNITS:
            return _UNITS[candidate]
    return None


def unit_kind(unit: str) -> UnitKind:
    """What a unit word measures: ``"mass"``, ``"count"``, ``"volume"`` or ``"unknown"``.

    Case-, plural- and punctuation-insensitive. Keep the three kinds apart:
    tablets are never kilograms, and a litre is not a kilogram.

    >>> unit_kind("Kgs."), unit_kind("tablets"), unit_kind("litres"), unit_kind("furlong")
    ('mass', 'count', 'volume', 'unknown')
    """
    entry = _unit_entry(unit)
    return entry[0] if entry else "unknown"


@lru_cache(maxsize=1)
def _ureg() -> pint.UnitRegistry[Any]:
    import pint

    return pint.UnitRegistry()


def _convert(value: float, unit: str, kind: UnitKind, target: str) -> float | None:
    entry = _unit_entry(unit)
    if entry is None or entry[0] != kind or entry[1] is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    return float(_ureg().Quantity(number, entry[1]).to(target).magnitude)


def to_kg(value: float, unit: str) -> float | None:
    """Convert a mass to kilograms; ``None`` for counts, volumes and unknown units.

    A bare "ton"/"tons"/"t" is the metric tonne (1000 kg); only "short ton"
    (907.18474 kg) and "long ton" (1016.0469 kg) say otherwise.

    >>> to_kg(2, "Tons"), to_kg(1, "short ton"), to_kg(500, "grams")
    (2000.0, 907.18474..., 0.5)
    >>> to_kg(3_000, "tablets") is None, to_kg(5, "litres") is None
    (True, True)
    """
    return _convert(value, unit, "mass", "kilogram")


def to_litres(value: float, unit: str) -> float | None:
    """Convert a volume to litres; ``None`` for masses, counts and unknown units.

    >>> to_litres(250, "ml"), to_litres(1, "gallon")
    (0.25, 3.78541...)
    >>> to_litres(1, "kg") is None
    True
    """
    return _convert(value, unit, "volume", "liter")
