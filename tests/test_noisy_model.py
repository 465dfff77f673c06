"""A noisy model against the real pipeline: its mistakes are caught, perfect answers pass.

The articles of `tests/data/noisy/` (the five seeds and articles written after real news, see
`cases.json`) come with their perfect `ArticleMentions` answer. `llm_extract.testing.noisy`
injects the mistakes real models make into those answers; each answer is served through a
scripted OpenAI transport to `Extractor` in record mode (as `fixtures/build_replay.py` does; the
harness and its judge live in `benchmarks/bench_mistakes.py`), and the output is judged against
the clean run. Seeded, so every case here is fixed.

- every kind of mistake is caught on at least one fixed case (`CAUGHT`);
- known misses (`MISSED`) are xfail strict: each one is a check to fix in the pipeline, and
  the test says so (XPASS fails) the day it is caught;
- the perfect answers get no doubt on any record except the flags of `known_flags.json`:
  the justified ones pass, the false alarms are xfail strict one by one.

`benchmarks/bench_mistakes.py` runs every kind over every article with many seeds.
"""

from __future__ import annotations

import copy
import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from llm_extract.testing.noisy import CORE, INJECTORS, inject

DATA = Path(__file__).resolve().parent / "data" / "noisy"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from bench_mistakes import Harness, clean_flags, judge, load_cases, load_known_flags  # noqa: E402 (the harness lives there)

#: kind → (article, seed) where the pipeline catches it
CAUGHT = {
    "unit_changed": ("seed_003_fac0c62c7962788c", 0),
    "status_upgraded": ("seed_000_d5b9aee49fff1a62", 0),
    "party_added": ("seed_000_d5b9aee49fff1a62", 0),
    "date_is_publication": ("seed_003_fac0c62c7962788c", 0),
    "quantity_changed": ("seed_003_fac0c62c7962788c", 0),
    "drug_changed": ("seed_003_fac0c62c7962788c", 0),
    "evidence_paraphrased": ("nga_ndlea_apapa", 0),
    "evidence_fabricated": ("seed_000_d5b9aee49fff1a62", 0),
    "example_leaked": ("seed_000_d5b9aee49fff1a62", 0),
    "duplicate": ("seed_003_fac0c62c7962788c", 0),
    "agency_invented": ("seed_003_fac0c62c7962788c", 1),
    "official_invented": ("seed_000_d5b9aee49fff1a62", 0),
    "place_changed": ("seed_003_fac0c62c7962788c", 0),
    "total_as_seizure": ("bel_antwerp_first_half", 0),
    "quantity_from_other_seizure": ("nga_ndlea_apapa", 0),
    "status_downgraded": ("tjk_usa_moc", 0),
    "example_leaked_agreement": ("seed_000_d5b9aee49fff1a62", 0),
    "scale_dropped": ("nga_ndlea_christmas", 0),
}

#: (kind, article, seed, why): mistakes the pipeline misses today, each a fix to make (xfail strict)
MISSED = [
    ('total_as_seizure', 'ecu_guayaquil_bananas', 0, "3,500 kg is the sum of the article's two other seizures (2,300 + 1,213): no check compares a seizure with the sum of the others"),
    ('quantity_from_other_seizure', 'sau_zatca_haditha', 0, "the total given the next sentence's 365,166: a quantity found in the sentences around the evidence passes even when it is another record's own evidence"),
    ('quantity_from_other_seizure', 'bel_antwerp_three_consignments', 0, "537.9 kg -> 2,276 kg, the next sentence's consignment: the same 'nearby' tolerance"),
    ('status_downgraded', 'seed_002_a0474dc1596c8efe', 0, "'the current agreement which is signed ... will pave the ground': status_understated needs no intent word at all, and a 'will' about the agreement's effect blocks it"),
    ('status_downgraded', 'idn_aus_afp_inp', 0, "'... will work together ... was signed by ...': the same"),
    ('scale_dropped', 'nga_ndlea_apapa', 0, "'2.8 million tablets' sent as 2.8 tablets: find_value matches the number before a scale word whatever the model's unit (meant for the unit 'million tablets')"),
    ('value_as_quantity', 'ind_dri_mumbai_carriers', 0, "'worth Rs 70 crore' taken as 70 kg: a number written as money passes as the quantity"),
    ('value_as_quantity', 'nga_ndlea_apapa', 0, "'worth N1.4 billion' taken as 1.4 tablets"),
    ('quantities_swapped', 'pak_anf_january_total', 0, 'no check ties a quantity to its drug in the evidence (370-kg opium and 168.70-kg methamphetamine swapped)'),
    ('arrested_invented', 'seed_003_fac0c62c7962788c', 0, 'no check of `arrested` against the text'),
    ('origin_invented', 'seed_003_fac0c62c7962788c', 0, 'no check of `origin` / `destination` against the text'),
    ('background_dropped', 'jam_gbr_mou', 0, "no check of is_background (a recalled 'last MOU' reported as news)"),
]  # fmt: skip
#: once missed (the reason is what was wrong), now caught: each must stay caught
FIXED = [
    ('date_is_publication', 'sau_customs_roundup', 0, "'In March' replaced by the publication date: publication_date_flags only knows day-level expressions (weekdays, 'June 5', 'last week'), not months or years"),
    ('date_is_publication', 'seed_002_a0474dc1596c8efe', 0, "'in 2016' replaced by the publication date: a year is not a date expression for the check"),
    ('duplicate', 'bgd_bgb_teknaf', 0, 'dedupe.same_seizure maps items by canonical drug in a dict: two items of one drug (crystal meth and yaba) collide, so an exact copy is not merged'),
    ('duplicate', 'ind_cbn_lucknow_lakh', 1, 'the same collision: Alprazolam and Clonazepam are both benzodiazepines'),
    ('agency_invented', 'ind_cbn_lucknow_lakh', 2, "'Narcotics Control Bureau' for 'Central Bureau of Narcotics': find_agency accepts half of an agency's words found anywhere in the article ('narcotics', 'controlled')"),
    ('agency_invented', 'bra_santos_motor_parts', 0, "'Coast Guard' passes: the article says 'on the coast of São Paulo state'"),
    ('total_as_seizure', 'ind_dri_mumbai_carriers', 0, "'in separate incidents' and the date 'in the last two days': several interceptions and a period, but no summing word, so totals.total_reason says single"),
    ('total_as_seizure', 'sau_zatca_haditha', 0, "'a total of 466,326 ... of two vehicles': 'vehicles', 'attempts' are not words of several interceptions"),
    ('total_as_seizure', 'pak_anf_january_total', 0, "'In the month of January 2023, ... conducted 22 operations': no period pattern for 'in the month of', no summing word"),
    ('total_as_seizure', 'tur_van_heroin', 0, "'a total of 17.3 tons of heroin in 2018': a calendar year is not a period, 'arresting' is not 'arrests'"),
    ('total_as_seizure', 'phl_pdea_week', 0, "'60 operations' and 'from Aug. 22 to 29': several and a period, no summing word"),
    ('total_as_seizure', 'vnm_lao_drug_mou', 0, "'in the first six months of ...' and '112 cases': no period pattern for 'the first six months'"),
]  # fmt: skip


@pytest.fixture(scope="module")
def cases() -> dict[str, Any]:
    return {c.stem: c for c in load_cases(DATA / "cases.json")}


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Any:
    h = Harness(tmp_path_factory.mktemp("noisy-replay"))
    yield h
    h.close()


@pytest.fixture(scope="module")
def cleans(harness: Any, cases: dict[str, Any]) -> dict[str, Any]:
    """The perfect answers through the pipeline, by article."""
    return dict(zip(cases, harness.extract_many([(c, c.answer) for c in cases.values()]), strict=True))


def _verdict(harness: Any, cases: dict[str, Any], cleans: dict[str, Any], kind: str, stem: str, seed: int) -> Any:
    case = cases[stem]
    done = inject(kind, case.answer, case.text, random.Random(f"{stem}:{kind}:{seed}"))
    if done is None:
        raise LookupError(f"{kind} has no place in {stem}")  # not an AssertionError: a known miss is really missed
    mutated, mistake = done
    (noisy,) = harness.extract_many([(case, mutated)])
    return judge(mistake, case.text, case.answer, cleans[stem], mutated, noisy)


# -- the data ------------------------------------------------------------------------------
def test_cases_are_real_news_with_perfect_answers(cases: dict[str, Any]) -> None:
    from llm_extract.tasks.security_events.schema import ArticleMentions

    new = [c for c in cases.values() if not c.stem.startswith("seed_")]
    assert len(new) >= 20 and len(cases) - len(new) == 5
    countries = {iso for c in new for iso in c.meta["countries"]}
    assert len(countries) >= 12, countries
    for case in cases.values():
        ArticleMentions.model_validate(case.answer)
        for rec in [*case.answer["agreements"], *case.answer["seizures"]]:
            assert rec["evidence"] in case.text, (case.stem, rec["evidence"][:60])  # verbatim
    for case in new:
        assert case.meta["url"].startswith("http") and case.meta["outlet"], case.stem
        assert 150 <= len(case.text.split()) <= 400, (case.stem, len(case.text.split()))
    kinds = {k for c in new for k in ("agreements", "seizures") if c.answer[k]}
    assert kinds == {"agreements", "seizures"}
    assert any(s.get("is_total") for c in new for s in c.answer["seizures"])


def test_injectors_are_pure_deterministic_and_schema_valid(cases: dict[str, Any]) -> None:
    applied = {k: 0 for k in INJECTORS}
    for case in cases.values():
        before = copy.deepcopy(case.answer)
        for kind in INJECTORS:
            first = inject(kind, case.answer, case.text, random.Random(f"{case.stem}:{kind}:0"))
            again = inject(kind, case.answer, case.text, random.Random(f"{case.stem}:{kind}:0"))
            assert first == again, kind  # seeded: the same mistake
            if first is not None:
                applied[kind] += 1
                mutated, mistake = first
                assert mutated != case.answer and mistake.kind == kind and mistake.expect == INJECTORS[kind].expect
        assert case.answer == before, case.stem  # the perfect answer is never touched
    assert all(applied.values()), [k for k, n in applied.items() if not n]
    assert set(CORE) <= set(CAUGHT) and set(INJECTORS) == set(CAUGHT) | {m[0] for m in MISSED} | {m[0] for m in FIXED}


# -- the mistakes --------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(CAUGHT))
def test_mistake_is_caught(harness: Any, cases: dict[str, Any], cleans: dict[str, Any], kind: str) -> None:
    stem, seed = CAUGHT[kind]
    verdict = _verdict(harness, cases, cleans, kind, stem, seed)
    assert verdict.caught, f"{verdict.mistake.description}: {verdict.how} {verdict.flags}"
    wanted = {e.partition(":")[0] if not e.startswith("flag:") else "flag" for e in verdict.mistake.expect}
    assert verdict.how.partition(":")[0] in wanted


@pytest.mark.parametrize(
    ("kind", "stem", "seed"),
    [
        pytest.param(k, s, n, id=f"{k}-{s}-{n}", marks=pytest.mark.xfail(strict=True, raises=AssertionError, reason=w))
        for k, s, n, w in MISSED
    ],
)
def test_known_miss(harness: Any, cases: dict[str, Any], cleans: dict[str, Any], kind: str, stem: str, seed: int) -> None:
    verdict = _verdict(harness, cases, cleans, kind, stem, seed)
    assert verdict.caught, f"{verdict.mistake.description}: {verdict.how}"


@pytest.mark.parametrize(("kind", "stem", "seed"), [pytest.param(k, s, n, id=f"{k}-{s}-{n}") for k, s, n, _ in FIXED])
def test_once_missed_now_caught(harness: Any, cases: dict[str, Any], cleans: dict[str, Any], kind: str, stem: str, seed: int) -> None:
    verdict = _verdict(harness, cases, cleans, kind, stem, seed)
    assert verdict.caught, f"{verdict.mistake.description}: {verdict.how}"


def test_a_noisy_answer_replays_as_recorded(harness: Any, cases: dict[str, Any], tmp_path: Path) -> None:
    """What the harness records is an ordinary recording: replay gives the same records."""
    from llm_extract import Extractor

    case = cases["sau_zatca_haditha"]
    mutated, _ = inject("total_as_seizure", case.answer, case.text, random.Random(0))
    recorder = Harness(tmp_path)
    (recorded,) = recorder.extract_many([(case, mutated)])
    replayed = Extractor(mode="replay", replay_dir=tmp_path).extract(case.article())
    drop = {"run"}
    assert replayed.model_dump(exclude=drop) == recorded.model_dump(exclude=drop)
    assert json.loads(next(tmp_path.glob("*.json")).read_text(encoding="utf-8"))["interactions"]


# -- the perfect answers ---------------------------------------------------------------------
def test_perfect_answers_get_no_new_doubt(cases: dict[str, Any], cleans: dict[str, Any]) -> None:
    known = load_known_flags(DATA / "known_flags.json")
    new = [d for stem, case in cases.items() for d in clean_flags(case, cleans[stem], known) if d.verdict == "new"]
    assert not new, "\n".join(f"{d.stem} {d.record} {d.evidence[:60]!r}: {d.flag}" for d in new)


_KNOWN = load_known_flags(DATA / "known_flags.json")


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(
            k,
            id=f"{k['stem']}-{k['flag']}",
            marks=[pytest.mark.xfail(strict=True, raises=AssertionError, reason=k["why"])]
            if k["verdict"] == "false_alarm"
            else [],
        )
        for k in _KNOWN
    ],
)
def test_known_flag_on_a_perfect_answer(cases: dict[str, Any], cleans: dict[str, Any], entry: dict[str, str]) -> None:
    """A justified flag is still there (it passes); a false alarm is gone (xfail until fixed)."""
    doubts = [
        d
        for d in clean_flags(cases[entry["stem"]], cleans[entry["stem"]], _KNOWN)
        if d.flag.partition(":")[0] == entry["flag"] and d.evidence.startswith(entry["evidence"])
    ]
    if entry["verdict"] == "justified":
        assert doubts, "the justified flag is gone: remove it from known_flags.json"
    else:
        assert not doubts, f"false alarm: {doubts[0].flag}"
