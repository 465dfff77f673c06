"""Sub-national places → ISO 3166-1 alpha-3, for :func:`llm_extract.normalize.country_of_place`.

Deliberately small: Iran's 31 provinces and its larger or border cities (the
seeds are Iranian news and most seizures are reported by province or border
town), plus capitals and main cities of the seeds' partner countries and the
Afghan/Pakistani side of the Iranian border. It is not a gazetteer; a phrase that
names a country ("Baghdad, Iraq") never needs it.

Keys are written naturally; the reader folds case, diacritics, punctuation and
the dashes in "Sistan–Baluchestan", so one spelling per transliteration suffices.
Names shared by two countries are left out ("Baluchestan"/"Balochistan" alone is
ambiguous between Iran's Sistan-Baluchestan and Pakistan's Balochistan, so only
"Balochistan"/"Baluchistan" without "Sistan" maps to Pakistan, where English
news uses that spelling; "Sistan and Baluchestan" is matched first as a longer
phrase). Other words of a phrase ("province", "border", "port of") are simply
skipped by the reader's longest-match scan. Names that are also common English words
("Van", "Farah") or shared ("Kurdistan": Iran's province, Iraq's region) are
left out.
"""

from __future__ import annotations

PLACES: dict[str, str] = {
    # --- Iran: provinces (and common spellings)
    "Sistan and Baluchestan": "IRN",
    "Sistan Baluchestan": "IRN",
    "Sistan va Baluchestan": "IRN",
    "Sistan and Baluchistan": "IRN",
    "Sistan Baluchistan": "IRN",
    "Sistan": "IRN",
    "Tehran": "IRN",
    "Alborz": "IRN",
    "Ardabil": "IRN",
    "Bushehr": "IRN",
    "Chaharmahal and Bakhtiari": "IRN",
    "East Azerbaijan": "IRN",
    "West Azerbaijan": "IRN",
    "Fars": "IRN",
    "Gilan": "IRN",
    "Golestan": "IRN",
    "Hamadan": "IRN",
    "Hormozgan": "IRN",
    "Ilam": "IRN",
    "Isfahan": "IRN",
    "Esfahan": "IRN",
    "Kerman": "IRN",
    "Kermanshah": "IRN",
    "Khorasan Razavi": "IRN",
    "Razavi Khorasan": "IRN",
    "North Khorasan": "IRN",
    "South Khorasan": "IRN",
    "Khorasan": "IRN",
    "Khuzestan": "IRN",
    "Kohgiluyeh and Boyer-Ahmad": "IRN",
    "Sanandaj": "IRN",
    "Lorestan": "IRN",
    "Markazi": "IRN",
    "Mazandaran": "IRN",
    "Qazvin": "IRN",
    "Qom": "IRN",
    "Semnan": "IRN",
    "Yazd": "IRN",
    "Zanjan": "IRN",
    # --- Iran: cities and border towns
    "Mashhad": "IRN",
    "Shiraz": "IRN",
    "Tabriz": "IRN",
    "Ahvaz": "IRN",
    "Zahedan": "IRN",
    "Zabol": "IRN",
    "Chabahar": "IRN",
    "Saravan": "IRN",
    "Mirjaveh": "IRN",
    "Iranshahr": "IRN",
    "Khash": "IRN",
    "Bandar Abbas": "IRN",
    "Urmia": "IRN",
    "Rasht": "IRN",
    "Birjand": "IRN",
    "Taybad": "IRN",
    "Dogharoun": "IRN",
    "Bazargan": "IRN",
    # --- Russia
    "Moscow": "RUS",
    "Saint Petersburg": "RUS",
    "Sochi": "RUS",
    "Kazan": "RUS",
    "Astrakhan": "RUS",
    # --- Kyrgyzstan
    "Bishkek": "KGZ",
    "Osh": "KGZ",
    # --- Iraq
    "Baghdad": "IRQ",
    "Basra": "IRQ",
    "Erbil": "IRQ",
    "Najaf": "IRQ",
    "Karbala": "IRQ",
    "Mosul": "IRQ",
    "Sulaymaniyah": "IRQ",
    "Kurdistan Region": "IRQ",
    # --- Turkey
    "Ankara": "TUR",
    "Istanbul": "TUR",
    "Izmir": "TUR",
    # --- Afghanistan
    "Kabul": "AFG",
    "Herat": "AFG",
    "Kandahar": "AFG",
    "Helmand": "AFG",
    "Nimroz": "AFG",
    "Mazar-i-Sharif": "AFG",
    "Jalalabad": "AFG",
    # --- Pakistan
    "Islamabad": "PAK",
    "Karachi": "PAK",
    "Lahore": "PAK",
    "Peshawar": "PAK",
    "Quetta": "PAK",
    "Balochistan": "PAK",
    "Baluchistan": "PAK",
    "Gwadar": "PAK",
    "Khyber Pakhtunkhwa": "PAK",
}
