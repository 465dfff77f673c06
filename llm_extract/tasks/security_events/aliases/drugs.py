"""Drug words as written in the news → canonical drug names (strings of ``DrugName``).

Plain data, read lazily by :func:`llm_extract.normalize.drug`. Keys are written
as the news writes them (any case, accents, script); the reader folds case,
accents, hyphens, plurals and filler words ("pure", "crude", "tablets of",
"de", "kg") the same way on both sides before lookup, so only the distinct
spellings need listing. Misspellings that are one or two letters off a long
word ("metaphetamine", "Ecstacy", "daizepam") are found by the reader's
bounded fuzzy match and need no entry; short words match exactly only.

The tables, by the weight the reader gives a hit when a phrase names several things:

* ``SYNONYMS``: a word that names one listed drug ("shabu", "Phensedyl", "maconha").
  ``GENERIC`` marks family words ("cannabis", "coca") that give way to a more
  precise member of the family in the same phrase ("charas (cannabis)").
* ``UNLISTED``: real substances outside the closed list (tapentadol, Lyrica,
  "pink cocaine"/tusi): name ``unspecified``, family where one fits. They are
  named drugs, so "Tapentadol" next to "Timaking" (a tramadol brand) is a conflict.
* ``AMBIGUOUS``: slang and brand names whose reading is a best guess
  ("rock", "alcaloide", "Eskuf"): the result carries ``ambiguous=True`` and gives
  way to any named drug in the same phrase.
* ``FORM_WORDS``: words for a drug's form ("crystal"): alone they name a drug,
  next to a named drug they only describe it ("crystal heroin", "MDMA crystals").
* ``GROUP_WORDS`` and the ``unspecified`` synonyms: family or generic words.
* ``REGIONAL``: words whose meaning depends on the country (Iran's "crack" is
  heroin; Morocco's "cannabis" is resin; Myanmar's "stimulant tablets" are yaba).
* ``MODIFIER_RULES``: words that change the form of a drug named next to them
  ("weed" + "plants" → cannabis_plants, "base de cocaína" → coca_paste).
"""

from __future__ import annotations

SYNONYMS: dict[str, str] = {
    # --- opioids
    "opium": "opium",
    "raw opium": "opium",
    "opium residue": "opium",
    "opium gum": "opium",
    "opium poppy": "opium",
    "taryak": "opium",
    "teriak": "opium",
    "tariak": "opium",
    "shireh": "opium",
    "afim": "opium",
    "afeem": "opium",
    "opio": "opium",
    "goma de opio": "opium",
    "opiu": "opium",
    "opij": "opium",
    "الأفيون": "opium",
    "أفيون": "opium",
    "تریاک": "opium",
    "شیره": "opium",
    "опиум": "opium",
    "опий": "opium",
    "ఓపియం": "opium",
    "অফিম": "opium",
    "आफिम": "opium",
    "अफीम": "opium",
    "heroin": "heroin",
    "heroine": "heroin",
    "diacetylmorphine": "heroin",
    "diamorphine": "heroin",
    "brown sugar": "heroin",
    "heroin base": "heroin",
    "crack heroin": "heroin",
    "kerack": "heroin",
    "kerak": "heroin",
    "krack": "heroin",
    "smack": "heroin",
    "chitta": "heroin",
    "heroína": "heroin",
    "heroína base": "heroin",
    "héroïne": "heroin",
    "eroina": "heroin",
    "eroin": "heroin",
    "heroină": "heroin",
    "heroini": "heroin",
    "هيروين": "heroin",
    "هروئین": "heroin",
    "هرویین": "heroin",
    "героин": "heroin",
    "хероин": "heroin",
    "హెరాయిన్": "heroin",
    "హెరోయిన్": "heroin",
    "হেরোইন": "heroin",
    "ஹேரோயின்": "heroin",
    "ஹெரோயின்": "heroin",
    "हेरोइन": "heroin",
    "स्मैक": "heroin",
    "బ్రౌన్ షుగర్": "heroin",
    "ব্রাউন সুগার": "heroin",
    "morphine": "morphine",
    "morphine base": "morphine",
    "morfina": "morphine",
    "morphin": "morphine",
    "morfin": "morphine",
    "морфин": "morphine",
    "مورفين": "morphine",
    "మార్ఫిన్": "morphine",
    "poppy straw": "poppy_straw",
    "poppy husk": "poppy_straw",
    "poppy head": "poppy_straw",
    "poppy capsule": "poppy_straw",
    "poppy pod": "poppy_straw",
    "koknar": "poppy_straw",
    "kuknar": "poppy_straw",
    "doda": "poppy_straw",
    "doda post": "poppy_straw",
    "bhukki": "poppy_straw",
    "bhuki": "poppy_straw",
    "کوکنار": "poppy_straw",
    "डोडा": "poppy_straw",
    "tramadol": "tramadol",
    "tramadol hydrochloride": "tramadol",
    "tamol x": "tramadol",
    "timaking": "tramadol",
    "tramal": "tramadol",
    "ترامادول": "tramadol",
    "трамадол": "tramadol",
    "fentanyl": "fentanyl",
    "fentanil": "fentanyl",
    "fentanilo": "fentanyl",
    "fentanyl analogue": "fentanyl",
    "carfentanil": "fentanyl",
    "acetylfentanyl": "fentanyl",
    "фентанил": "fentanyl",
    "methadone": "methadone",
    "metadona": "methadone",
    "methadon": "methadone",
    "متادون": "methadone",
    "метадон": "methadone",
    "codeine": "codeine",
    "codeine syrup": "codeine",
    "codeine cough syrup": "codeine",
    "codeine based cough syrup": "codeine",
    "cbcs": "codeine",
    "codeína": "codeine",
    "kodein": "codeine",
    "phensedyl": "codeine",
    "phensidyl": "codeine",
    "phencidyl": "codeine",
    "phencidil": "codeine",
    "phensidyle": "codeine",
    "phensedil": "codeine",
    "ফেনসিডিল": "codeine",
    "corex": "codeine",
    "кодеин": "codeine",
    "كودايين": "codeine",
    # --- cocaine type
    "cocaine": "cocaine",
    "cocaine hydrochloride": "cocaine",
    "crack": "cocaine",
    "crack cocaine": "cocaine",
    "rock cocaine": "cocaine",
    "freebase": "cocaine",
    "coke": "cocaine",
    "chc": "cocaine",
    "cocaína": "cocaine",
    "cocaïne": "cocaine",
    "cocaina": "cocaine",
    "cocaină": "cocaine",
    "kokain": "cocaine",
    "kokaina": "cocaine",
    "koks": "cocaine",
    "кокаин": "cocaine",
    "الكوكايين": "cocaine",
    "كوكايين": "cocaine",
    "کوکائین": "cocaine",
    "coca paste": "coca_paste",
    "cocaine paste": "coca_paste",
    "cocaine base": "coca_paste",
    "coca base": "coca_paste",
    "pasta base": "coca_paste",
    "basuco": "coca_paste",
    "bazuco": "coca_paste",
    "pbc": "coca_paste",
    "paco": "coca_paste",
    "base paste": "coca_paste",
    "pasta de coca": "coca_paste",
    "coca leaf": "coca_leaf",
    "coca": "coca_leaf",
    "hoja de coca": "coca_leaf",
    "folha de coca": "coca_leaf",
    # --- cannabis type
    "cannabis": "cannabis_herb",
    "herbal cannabis": "cannabis_herb",
    "cannabis herb": "cannabis_herb",
    "marijuana": "cannabis_herb",
    "marihuana": "cannabis_herb",
    "mariguana": "cannabis_herb",
    "ganja": "cannabis_herb",
    "weed": "cannabis_herb",
    "skunk": "cannabis_herb",
    "kush": "cannabis_herb",
    "hemp": "cannabis_herb",
    "indian hemp": "cannabis_herb",
    "bhang": "cannabis_herb",
    "bangi": "cannabis_herb",
    "dagga": "cannabis_herb",
    "kif": "cannabis_herb",
    "kif en tige": "cannabis_herb",
    "grass": "cannabis_herb",
    "pot": "cannabis_herb",
    "thc": "cannabis_herb",
    "maconha": "cannabis_herb",
    "mota": "cannabis_herb",
    "hierba": "cannabis_herb",
    "herbe": "cannabis_herb",
    "esrar": "cannabis_herb",
    "kenevir": "cannabis_herb",
    "cripy": "cannabis_herb",
    "creepy": "cannabis_herb",
    "punto rojo": "cannabis_herb",
    "canadian loud": "cannabis_herb",
    "kerala ganja": "cannabis_herb",
    "canabis": "cannabis_herb",
    "konopla": "cannabis_herb",
    "марихуана": "cannabis_herb",
    "канабис": "cannabis_herb",
    "конопля": "cannabis_herb",
    "ماريجوانا": "cannabis_herb",
    "ماریجوانا": "cannabis_herb",
    "بانجو": "cannabis_herb",
    "గంజాయి": "cannabis_herb",
    "গাঁজা": "cannabis_herb",
    "கஞ்சா": "cannabis_herb",
    "गांजा": "cannabis_herb",
    "गाँजा": "cannabis_herb",
    "hashish": "cannabis_resin",
    "hash": "cannabis_resin",
    "charas": "cannabis_resin",
    "chars": "cannabis_resin",
    "cannabis resin": "cannabis_resin",
    "resin": "cannabis_resin",
    "résine": "cannabis_resin",
    "resina": "cannabis_resin",
    "chira": "cannabis_resin",
    "hachís": "cannabis_resin",
    "haschich": "cannabis_resin",
    "haschisch": "cannabis_resin",
    "hachich": "cannabis_resin",
    "haxixe": "cannabis_resin",
    "zatla": "cannabis_resin",
    "kif en poudre": "cannabis_resin",
    "poudre de kif": "cannabis_resin",
    "الحشيش": "cannabis_resin",
    "حشيش": "cannabis_resin",
    "حشیش": "cannabis_resin",
    "شيرا": "cannabis_resin",
    "гашиш": "cannabis_resin",
    "चरस": "cannabis_resin",
    "cannabis oil": "cannabis_oil",
    "hash oil": "cannabis_oil",
    "hashish oil": "cannabis_oil",
    "dab": "cannabis_oil",
    "shatter": "cannabis_oil",
    "thc oil": "cannabis_oil",
    "cannabis plant": "cannabis_plants",
    "marijuana plant": "cannabis_plants",
    "hemp plant": "cannabis_plants",
    "cannabis bush": "cannabis_plants",
    # --- amphetamine-type stimulants
    "methamphetamine": "methamphetamine",
    "methamfetamine": "methamphetamine",
    "metamfetamine": "methamphetamine",
    "methylamphetamine": "methamphetamine",
    "methamphetamine hydrochloride": "methamphetamine",
    "meth": "methamphetamine",
    "crystal meth": "methamphetamine",
    "crystal methamphetamine": "methamphetamine",
    "ice": "methamphetamine",
    "ya ice": "methamphetamine",
    "shisheh": "methamphetamine",
    "shishe": "methamphetamine",
    "shishah": "methamphetamine",
    "sheesheh": "methamphetamine",
    "shabu": "methamphetamine",
    "shabu shabu": "methamphetamine",
    "syabu": "methamphetamine",
    "sabu": "methamphetamine",
    "sabu sabu": "methamphetamine",
    "yaba": "methamphetamine",
    "ya ba": "methamphetamine",
    "ya baa": "methamphetamine",
    "yaa baa": "methamphetamine",
    "crazy pill": "methamphetamine",
    "crazy medicine": "methamphetamine",
    "metanfetamina": "methamphetamine",
    "metamfetamina": "methamphetamine",
    "metamfetamin": "methamphetamine",
    "methamphetamin": "methamphetamine",
    "méthamphétamine": "methamphetamine",
    "hielo": "methamphetamine",
    "شیشه": "methamphetamine",
    "شبو": "methamphetamine",
    "ميثامفيتامين": "methamphetamine",
    "метамфетамин": "methamphetamine",
    "ইয়াবা": "methamphetamine",
    "মেথ": "methamphetamine",
    "আইস": "methamphetamine",
    "ยาบ้า": "methamphetamine",
    "ยาไอซ์": "methamphetamine",
    "amphetamine": "amphetamine",
    "amfetamine": "amphetamine",
    "amphetamin": "amphetamine",
    "anfetamina": "amphetamine",
    "amphétamine": "amphetamine",
    "speed": "amphetamine",
    "captagon": "amphetamine",
    "kaptagon": "amphetamine",
    "captagon amphetamine": "amphetamine",
    "fenethylline": "amphetamine",
    "fenetylline": "amphetamine",
    "каптагон": "amphetamine",
    "амфетамин": "amphetamine",
    "الكبتاغون": "amphetamine",
    "كبتاغون": "amphetamine",
    "كبتاجون": "amphetamine",
    "امفيتامين": "amphetamine",
    # --- ecstasy type
    "mdma": "mdma",
    "ecstasy": "mdma",
    "xtc": "mdma",
    "molly": "mdma",
    "éxtasis": "mdma",
    "extasy": "mdma",
    "ekstasi": "mdma",
    "extasis": "mdma",
    "methylenedioxymethamphetamine": "mdma",
    "methylenedioxy methamphetamine": "mdma",
    "экстази": "mdma",
    # --- sedatives
    "benzodiazepine": "benzodiazepines",
    "benzodiacepina": "benzodiazepines",
    "diazepam": "benzodiazepines",
    "alprazolam": "benzodiazepines",
    "clonazepam": "benzodiazepines",
    "lorazepam": "benzodiazepines",
    "nitrazepam": "benzodiazepines",
    "nimetazepam": "benzodiazepines",
    "flunitrazepam": "benzodiazepines",
    "xanax": "benzodiazepines",
    "valium": "benzodiazepines",
    "rohypnol": "benzodiazepines",
    "erimin": "benzodiazepines",
    "erimin 5": "benzodiazepines",
    "happy 5": "benzodiazepines",
    "happy five": "benzodiazepines",
    "nitravet": "benzodiazepines",
    "nitrovat": "benzodiazepines",
    "nitrosun": "benzodiazepines",
    # --- hallucinogens and NPS
    "lsd": "lsd",
    "ketamine": "ketamine",
    "ketamina": "ketamine",
    "ketamin": "ketamine",
    "synthetic cannabinoid": "synthetic_cannabinoids",
    "synthetic cannabis": "synthetic_cannabinoids",
    "synthetic marijuana": "synthetic_cannabinoids",
    "spice": "synthetic_cannabinoids",
    "k2": "synthetic_cannabinoids",
    "bonzai": "synthetic_cannabinoids",
    "bonsai": "synthetic_cannabinoids",
    "am 2201": "synthetic_cannabinoids",
    "jwh 018": "synthetic_cannabinoids",
    "fubinaca": "synthetic_cannabinoids",
    "tembakau gorila": "synthetic_cannabinoids",
    "спайс": "synthetic_cannabinoids",
    "cathinone": "cathinones",
    "synthetic cathinone": "cathinones",
    "mephedrone": "cathinones",
    "bath salt": "cathinones",
    "khat": "cathinones",
    "qat": "cathinones",
    "miraa": "cathinones",
    "mirungi": "cathinones",
    "القات": "cathinones",
    "قات": "cathinones",
    "мефедрон": "cathinones",
    # --- precursors
    "ephedrine": "ephedrine",
    "efedrina": "ephedrine",
    "pseudoephedrine": "pseudoephedrine",
    "acetic anhydride": "acetic_anhydride",
    "anhídrido acético": "acetic_anhydride",
    # --- unspecified
    "drug": "unspecified",
    "narcotic": "unspecified",
    "narcotic drug": "unspecified",
    "illicit drug": "unspecified",
    "illegal drug": "unspecified",
    "narcotic substance": "unspecified",
    "psychotropic": "unspecified",
    "psychotropic substance": "unspecified",
    "psychoactive substance": "unspecified",
    "industrial drug": "unspecified",
    "synthetic drug": "unspecified",
    "psychotrope": "unspecified",
    "party drug": "unspecified",
    "hard drug": "unspecified",
    "droga": "unspecified",
    "estupefaciente": "unspecified",
    "entorpecente": "unspecified",
    "stupefacente": "unspecified",
    "stupéfiant": "unspecified",
    "rauschgift": "unspecified",
    "narkoba": "unspecified",
    "uyuşturucu": "unspecified",
    "madawa ya kulevya": "unspecified",
    "dawa za kulevya": "unspecified",
    "مخدر": "unspecified",
    "مخدرات": "unspecified",
    "مواد مخدر": "unspecified",
    "наркотик": "unspecified",
}

#: Family words that give way to a more precise member of the family named in the same phrase.
GENERIC: frozenset[str] = frozenset({"cannabis", "hemp", "thc", "coca", "canabis", "kenevir", "конопля"})

#: Real substances outside the closed list → their family (name ``unspecified``).
UNLISTED: dict[str, str] = {
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
    "kratom": "nps",
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

#: Tokens that qualify a drug without changing it ("pure", "tablets of", "2,400 kg"), in the corpus's languages.
FILLER: frozenset[str] = frozenset(
    """a an the of some pure raw crude refined processed high grade quality purity street illicit illegal smuggled
    seized contraband suspected counterfeit fake tablet pill capsule tab piece powder powdered liquid block brick
    slab packet package bag form kg kilogram kilo gram tonne ton g mg lb pound
    in into with also as its their this that these those type kind
    de del la el los las lo un una unos unas en con al da do das dos em com le les du des di il der die den dem
    mit von ein eine einem einer
    pastilla comprimido tableta capsula pastille comprime gelule pilula tablette pille pil hap kapsul
    paquete pacote panela fardo dosis dose polvo po poudre pulver liquido liquida
    pureza puro pura purissimo purissima
    قرص های ها حبوب اقراص хапчета таблетки""".split()  # noqa: SIM905
)

#: Words that make a phrase about something else than the drug itself.
BLOCK: frozenset[str] = frozenset(
    """seed user addict dealer trafficker smuggler lab laboratory factory kitchen money test treatment rehab
    withdrawal pipe paraphernalia syringe semilla semente graine""".split()  # noqa: SIM905
)

#: Conjunctions: "and" words list a mixture, "or" words list alternatives ("/" reads as "or").
AND_WORDS: frozenset[str] = frozenset("and et y e und ve dan и".split())  # noqa: SIM905
OR_WORDS: frozenset[str] = frozenset("or ou o oder atau veya или".split())  # noqa: SIM905
#: What follows these names the drug ("amphetamine pills called Ecstasy"); "known" counts when "as" follows.
NAMING_WORDS: frozenset[str] = frozenset("called dubbed named aka alias nicknamed branded labelled labeled como".split())  # noqa: SIM905

#: Drug slang that is also an everyday word: matched exactly, never as the target of a fuzzy match
#: ("stack" is not "smack", "scatter" is not "shatter", "retina" is not "resina").
EVERYDAY_WORDS: frozenset[str] = frozenset(
    """crack rock smack speed spice grass weed skunk pot ice snow coke creepy shatter resin résine resina herbe
    hierba mota dab cart vape molly kush hash neve nieve schnee perico bonsai""".split()  # noqa: SIM905
)

#: Real words near a drug name that the fuzzy match must leave alone.
NOT_DRUGS: frozenset[str] = frozenset("heroic heroics herein spicy spiced speedy cocoa morphing hashed lyrical".split())  # noqa: SIM905
