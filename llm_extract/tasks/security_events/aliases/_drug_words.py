"""Function words the drug reader skips, splits on or keeps away from the fuzzy match (see :mod:`.drugs`)."""

from __future__ import annotations

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
