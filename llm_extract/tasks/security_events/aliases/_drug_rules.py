"""Readings that weigh less than a synonym or depend on context: family, unlisted, ambiguous, form,
group, regional and modifier words (see :mod:`.drugs`)."""

from __future__ import annotations

#: Family words that give way to a more precise member of the family named in the same phrase.
GENERIC: frozenset[str] = frozenset({"cannabis", "hemp", "thc", "coca", "canabis", "kenevir", "конопля"})

#: Real substances outside the closed list → their family (name ``unspecified``).
UNLISTED: dict[str, str] = {
    # precursors outside the closed list (UNODC Tables I and II of the 1988 Convention)
    "hydrochloric acid": "precursors",
    "sulphuric acid": "precursors",
    "sulfuric acid": "precursors",
    "potassium permanganate": "precursors",
    "phenylacetone": "precursors",
    "p2p": "precursors",
    "safrole": "precursors",
    # plant NPS (UNODC's early warning advisory): kratom, called ketum in Malaysia and Thailand
    "kratom": "nps",
    "ketum": "nps",
    "ketum leaves": "nps",
    "ketum juice": "nps",
    "kratom leaves": "nps",
    "tapentadol": "opioids",
    "tafradol": "opioids",
    "oxycodone": "opioids",
    "oxycontin": "opioids",
    "hydrocodone": "opioids",
    "buprenorphine": "opioids",
    "brofinorfin": "opioids",
    "pentazocine": "opioids",
    "pethidine": "opioids",
    "nalbuphine": "opioids",
    "nitazene": "opioids",
    "isotonitazene": "opioids",
    "spasmo proxyvon": "opioids",
    "dextropropoxyphene": "opioids",
    "mandrax": "sedatives",
    "methaqualone": "sedatives",
    "ghb": "sedatives",
    "gbl": "sedatives",
    "psilocybin": "hallucinogens",
    "magic mushroom": "hallucinogens",
    "dmt": "hallucinogens",
    "dimethyltryptamine": "hallucinogens",
    "mescaline": "hallucinogens",
    "peyote": "hallucinogens",
    "2c b": "nps",
    "2cb": "nps",
    "tusi": "nps",
    "tucibi": "nps",
    "pink cocaine": "nps",
    "cocaína rosada": "nps",
    "nbome": "nps",
    "happy water": "nps",
    "pregabalin": "unspecified",
    "lyrica": "unspecified",
    "xylazine": "unspecified",
    "nitrous oxide": "unspecified",
    "steroid": "unspecified",
    "anabolic steroid": "unspecified",
    "ليريكا": "unspecified",
}

#: Slang, brands and local names whose reading is a best guess: ``ambiguous=True``.
AMBIGUOUS: dict[str, str] = {
    "rock": "cocaine",
    "alcaloide": "cocaine",
    "alkaloid": "cocaine",
    "perico": "cocaine",
    "snow": "cocaine",
    "neve": "cocaine",
    "schnee": "cocaine",
    "nieve": "cocaine",
    "polvere bianca": "cocaine",
    "eskuf": "codeine",
    "ইস্কাফ": "codeine",
    "mkdil": "codeine",
    "cofidil": "codeine",
    "mda": "mdma",
    "methylenedioxyamphetamine": "mdma",
    "papel troquelado": "lsd",
    "madana modaka": "cannabis_herb",
    "anhydride": "acetic_anhydride",
    "seedling": "cannabis_plants",
    "sapling": "cannabis_plants",
    "vape": "cannabis_oil",
    "cart": "cannabis_oil",
}

#: Words for a drug's form: alone they name it, next to a named drug they describe it.
FORM_WORDS: dict[str, str] = {
    "crystal": "methamphetamine",
    "kristal": "methamphetamine",
    "cristal": "methamphetamine",
    "کریستال": "methamphetamine",
    "كريستال": "methamphetamine",
    "ক্রিস্টাল": "methamphetamine",
    "кристалл": "methamphetamine",
}

# Words naming a family, not a drug: name ``unspecified`` with this group.
GROUP_WORDS: dict[str, str] = {
    "opiate": "opioids",
    "opioid": "opioids",
    "amphetamine type stimulant": "ats",
    "ats": "ats",
    "stimulant": "ats",
    "new psychoactive substance": "nps",
    "nps": "nps",
    "precursor": "precursors",
    "precursor chemical": "precursors",
    "hallucinogen": "hallucinogens",
    "sedative": "sedatives",
    "tranquilizer": "sedatives",
    "tranquilliser": "sedatives",
    "opiáceo": "opioids",
    "opiácea": "opioids",
    "opiacé": "opioids",
    "estimulante": "ats",
    "stimulans": "ats",
    "psychedelic": "hallucinogens",
    "alucinógeno": "hallucinogens",
    "hallucinogène": "hallucinogens",
    "sedante": "sedatives",
    "sédatif": "sedatives",
    "precursor químico": "precursors",
}

_IRAN_AFGHANISTAN = frozenset({"IRN", "AFG"})
_YABA_BELT = frozenset({"MMR", "THA", "LAO", "KHM", "BGD", "AFG"})  # meth tablets are "the" stimulant tablets
_CODEINE_SYRUP = frozenset({"IND", "BGD", "NPL"})  # "cough syrup" seizures are codeine syrups

#: phrase → ((countries, name, ambiguous), ...): the first rule naming the country wins;
#: elsewhere the ordinary tables decide. A family word in ``GENERIC`` takes its regional
#: reading only when it stands alone: "cannabis moulu" (ground) is not Morocco's resin.
REGIONAL: dict[str, tuple[tuple[frozenset[str], str, bool], ...]] = {
    # Iran/Afghanistan "crack" (kerack) is a heroin product; "crystal" (shisheh) is
    # crystal meth but eastern-Iranian and Afghan reports use it for crystal heroin too.
    "crack": ((_IRAN_AFGHANISTAN, "heroin", False),),
    "کراک": ((_IRAN_AFGHANISTAN, "heroin", False),),
    "crystal": ((_IRAN_AFGHANISTAN, "unspecified", True),),
    "کریستال": ((_IRAN_AFGHANISTAN, "unspecified", True),),
    # Morocco: "cannabis" in MAP/DGSN reports is mostly resin (chira).
    "cannabis": ((frozenset({"MAR"}), "cannabis_resin", True),),
    "stimulant tablet": ((_YABA_BELT, "methamphetamine", True),),
    "stimulant pill": ((_YABA_BELT, "methamphetamine", True),),
    "speed pill": ((frozenset({"THA", "MMR", "LAO"}), "methamphetamine", False),),
    "cough syrup": ((_CODEINE_SYRUP, "codeine", True),),
    "kg": ((frozenset({"LKA"}), "cannabis_herb", True),),  # Sri Lanka: "KG" = Kerala ganja
    "p": ((frozenset({"NZL"}), "methamphetamine", True),),
    "tik": ((frozenset({"ZAF", "NAM"}), "methamphetamine", False),),
    "alucinógeno": ((frozenset({"ECU"}), "cocaine", True),),  # Ecuadorian police prose
}

_CANNABIS = ("cannabis_herb", "cannabis_resin", "cannabis_oil")
_PLANT_WORDS = (
    "plant tree bush shrub seedling sapling cultivo cultivation plantation crop planta plantacion plantio pflanze plante"
)
_EXTRACT_WORDS = (
    "oil aceite oleo huile olio cartridge cart vape vaporizer wax syrup sirop jarabe xarope sirap সিরাপ edible "
    "infused candy gummy gummie concentrate extract butter tincture"
)

#: (words, {name: new name}) in priority order: a word that changes the form of a
#: drug named next to it. Without such a drug the word means nothing (or itself,
#: when it is also a key above: "resin", "vape").
MODIFIER_RULES: tuple[tuple[str, dict[str, str]], ...] = (
    ("hydrochloride hydrochlorid hcl clorhidrato cloridrato chlorhydrate", {"coca_leaf": "cocaine"}),
    ("paste pasta base basica basico pate", {"coca_leaf": "coca_paste", "cocaine": "coca_paste"}),
    (_PLANT_WORDS, dict.fromkeys(_CANNABIS, "cannabis_plants")),
    (_EXTRACT_WORDS, {"cannabis_herb": "cannabis_oil", "cannabis_resin": "cannabis_oil"}),
    ("resin resine resina harz", {"cannabis_herb": "cannabis_resin"}),
)
