"""A task written the way a user writes one: `examples/people_roles`, end to end.

The package (people and their roles) is made "installed" for subprocesses without pip: its
directory and a minimal `llm_extract_people_roles-0.1.dist-info/` (METADATA and
entry_points.txt) go on PYTHONPATH, so `importlib.metadata.entry_points(group=
"llm_extract.tasks")` finds it, as it would after `pip install examples/people_roles`.

Recordings are made as `fixtures/build_replay.py` makes the seeds': the real pipeline in
`record` mode, in this process, against a scripted OpenAI-compatible transport that returns
the hand-written answers of `tests/custom_task_fixtures/answers/` (one per model turn). Then
everything goes through the real command line (`python -m llm_extract`, subprocesses):

- `run --task people_roles` (the entry point) and `--task people_roles:TASK`;
- `run --replay`: records with grounded people, rejected ones, a reask; a rerun skips;
- `run --live` against `llm-extract serve` (300 ms per answer, one at a time), killed
  with SIGKILL after its first record, then resumed: every article exactly once;
- `report` (the engine's generic page, escaped), `export`, `stats`, `eval --gold`, `merge`;
- `batch submit` + `batch collect` against the server's Files/Batches endpoints: the same
  records as the live run;
- a task whose result has fields named `rejected` and `agreements` (of other types than the
  built-in task's) runs, collects and is viewed without a crash.

Offline and deterministic: the server listens on 127.0.0.1, every answer is recorded.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import importlib
import json
import os
import queue
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

import httpx2

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "people_roles"
DATA = Path(__file__).resolve().parent / "custom_task_fixtures"
ARTICLES = DATA / "articles"
ANSWERS = DATA / "answers"
GOLD = DATA / "gold"
STEMS = ("cup_final", "harbour_rail", "marine_institute", "water_board")
MODEL = "gpt-4o-mini"
FAKE_KEY = "sk-test-people0123456789abcdefROLES"

DIST_INFO = "llm_extract_people_roles-0.1.dist-info"
ENTRY_POINTS = """\
[llm_extract.tasks]
people_roles = people_roles:TASK
odd_fields = odd_fields_task:TASK
"""

#: A second plugin, written into the temporary site directory: its result has fields named
#: `agreements` (a string) and `rejected` (a number), as the built-in task's result has
#: (lists of records), and it gives no tables and no views at all.
ODD_TASK = '''\
"""A task whose result reuses the built-in task's field names with other types."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from llm_extract.core.results import ArticleResult
from llm_extract.core.task import BuildContext, Task


class OddAnswer(BaseModel):
    agreements: str
    rejected: int


class OddResult(ArticleResult):
    agreements: str
    rejected: int
    seizures: dict[str, int] = {}


def _build(answer: OddAnswer, context: BuildContext) -> OddResult:
    return OddResult(
        article=context.info, run=context.run, agreements=answer.agreements, rejected=answer.rejected,
        seizures={"words": len(context.article.text.split())},
    )


TASK = Task(
    name="odd_fields",
    response_model=OddAnswer,
    prompt_dir=Path(__file__).resolve().parent / "odd_fields_prompts",
    build=_build,
    combine=lambda parts: parts[0],
    result_model=OddResult,
    summarize=lambda result: {"rejected": result.rejected},
)
'''
ODD_ANSWER = {"agreements": "none & nothing <signed>", "rejected": 3}


# -- helpers -----------------------------------------------------------------------------------------


def env_for(pythonpath: list[Path], *, key: str | None = FAKE_KEY) -> dict[str, str]:
    """The environment of a command: the plugin's import path, no developer settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "LLM_EXTRACT_")) and k not in ("FORCE_COLOR", "COLUMNS", "TTY_COMPATIBLE")
    }
    env["PYTHONPATH"] = os.pathsep.join([*map(str, pythonpath), *filter(None, [os.environ.get("PYTHONPATH")])])
    if key is not None:
        env["OPENAI_API_KEY"] = key
    env.update({"COLUMNS": "2000", "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"})
    return env


def cli_command(*args: object) -> list[str]:
    return [sys.executable, "-m", "llm_extract", *map(str, args)]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def summary_table(stdout: str) -> dict[str, int]:
    """The counts of the summary table `run` prints."""
    rows = re.finditer(r"[│|]\s*([^│|\n]+?)\s*[│|]\s*\$?([\d,.]+)\s*(?:\(.*\))?\s*[│|]", stdout)
    return {m[1]: int(float(m[2].replace(",", ""))) for m in rows}


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def sha_of(stem: str) -> str:
    return hashlib.sha256((ARTICLES / f"{stem}.txt").read_text(encoding="utf-8").encode()).hexdigest()


def by_sha(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["article"]["sha256"]: r for r in records}


def without_run(record: dict[str, Any]) -> dict[str, Any]:
    """A record without its run metadata (mode, calls, latency, cost differ between paths)."""
    return {k: v for k, v in record.items() if k != "run"}


def no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr


class ScriptedModel:
    """Answers each chat request with the hand-written turn for its article (by text, by turn)."""

    def __init__(self, answers: dict[str, list[Any]]) -> None:
        self.answers = answers  # article text → turns
        self.served: list[tuple[str, int]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        from llm_extract.testing import chat_completion

        body = json.loads(request.content)
        user = body["messages"][1]["content"]
        (text,) = [t for t in self.answers if t in user]
        turn = sum(1 for m in body["messages"] if m["role"] == "assistant")
        self.served.append((text[:20], turn))
        seed = hashlib.sha256(f"{text}:{turn}".encode()).hexdigest()
        tool = body["tools"][0]["function"]["name"]
        return httpx2.Response(
            200,
            json=chat_completion(
                self.answers[text][turn],
                tool=tool,
                call_id=f"call_{seed[:24]}",
                completion_id=f"chatcmpl-{seed[24:52]}",
            ),
        )


def record(task: Any, answers: dict[str, list[Any]], replay_dir: Path) -> ScriptedModel:
    """Record every article of ARTICLES for `task`: the real pipeline, a scripted model."""
    from llm_extract.core.articles import read_article
    from llm_extract.core.pipeline import Extractor

    script = ScriptedModel(answers)
    extractor = Extractor(
        mode="record",
        model=MODEL,
        api_key="scripted-no-key",
        base_url="http://scripted-model.invalid/v1",
        replay_dir=replay_dir,
        transport=httpx2.MockTransport(script),
        task=task,
    )
    for stem in STEMS:
        extractor.extract(read_article(ARTICLES / f"{stem}.txt"))
    return script


# -- fixtures ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plugin:
    site: Path  # the temporary site directory: the dist-info and the odd_fields plugin
    replay: Path  # recordings: replay/people (people_roles), replay/odd (odd_fields)
    env: dict[str, str]  # both plugins "installed"
    bare_env: dict[str, str]  # only examples/people_roles importable, no entry point
    work: Path  # where the commands run and write

    @property
    def people_replay(self) -> Path:
        return self.replay / "people"

    def run(
        self, *args: object, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            cli_command(*args),
            cwd=self.work,
            env=self.env if env is None else env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plugin]:
    """The plugins installed (PYTHONPATH + dist-info), and their recordings."""
    root = tmp_path_factory.mktemp("custom_task")
    site = root / "site"
    dist = site / DIST_INFO
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: llm-extract-people-roles\nVersion: 0.1\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(ENTRY_POINTS, encoding="utf-8")
    (site / "odd_fields_task.py").write_text(ODD_TASK, encoding="utf-8")
    prompts = site / "odd_fields_prompts"
    prompts.mkdir()
    (prompts / "system.j2").write_text("Fill the {{ tool_name }} schema for the article.\n", encoding="utf-8")
    (prompts / "user.j2").write_text("<article>\n{{ text }}\n</article>\n", encoding="utf-8")
    work = root / "work"
    work.mkdir()

    added = [str(EXAMPLE), str(site)]
    sys.path[:0] = added
    importlib.invalidate_caches()
    try:
        import odd_fields_task
        import people_roles

        texts = {stem: (ARTICLES / f"{stem}.txt").read_text(encoding="utf-8") for stem in STEMS}
        people_answers = {
            texts[stem]: json.loads((ANSWERS / f"{stem}.json").read_text(encoding="utf-8"))["turns"] for stem in STEMS
        }
        replay = root / "replay"
        script = record(people_roles.TASK, people_answers, replay / "people")
        assert len(script.served) == 5  # four articles, one of them re-asked
        record(odd_fields_task.TASK, {t: [ODD_ANSWER] for t in texts.values()}, replay / "odd")
        yield Plugin(
            site=site,
            replay=replay,
            env=env_for([EXAMPLE, site]),
            bare_env=env_for([EXAMPLE]),
            work=work,
        )
    finally:
        for path in added:
            sys.path.remove(path)
        importlib.invalidate_caches()


@pytest.fixture(scope="module")
def replayed(plugin: Plugin) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """`llm-extract run ARTICLES --replay --task people_roles`: the output directory and the run."""
    out = plugin.work / "replayed"
    proc = plugin.run(
        "run", ARTICLES, "--replay", "--replay-dir", plugin.people_replay, "--task", "people_roles", "-o", out
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc


@pytest.fixture(scope="module")
def server(plugin: Plugin) -> Iterator[str]:
    """`llm-extract serve` over both plugins' recordings, as a real subprocess: its base URL.

    300 ms per chat answer; batches complete at once (`--batch-delay-s 0`); port 0 picks a free
    port, printed on start.
    """
    command = cli_command(
        "serve", "--fixtures", plugin.replay, "--port", "0", "--latency-ms", "300", "--batch-delay-s", "0"
    )
    log_path = plugin.work / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=plugin.work, env=plugin.env, stdout=subprocess.PIPE, stderr=log, text=True
        )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put("")  # EOF: the server exited

    threading.Thread(target=read, daemon=True).start()
    try:
        try:
            line = lines.get(timeout=60)
        except queue.Empty:
            line = "(nothing in 60 s)"
        if not line.startswith("listening on http://127.0.0.1:"):
            pytest.fail(f"llm-extract serve did not start: {line!r}\n{log_path.read_text()}")
        yield line.split()[-1]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class KilledRun:
    out: Path
    written_before_kill: int
    committed_before_kill: int
    returncode: int
    resumed: subprocess.CompletedProcess[str]
    requests_after_reset: int


@pytest.fixture(scope="module")
def killed_and_resumed(plugin: Plugin, server: str) -> KilledRun:
    """A live run (one article at a time) killed with SIGKILL after its first record, then resumed."""
    out = plugin.work / "live"
    records_path = out / "records.jsonl"
    command = cli_command(
        "run", ARTICLES, "--task", "people_roles", "--live", "--base-url", server, "-o", out, "-c", "1"
    )
    log_path = plugin.work / "killed.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=plugin.work, env=plugin.env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and process.poll() is None:
                if records_path.exists() and records_path.read_bytes().count(b"\n") >= 1:
                    break
                time.sleep(0.005)
            assert process.poll() is None, log_path.read_text()
            os.kill(process.pid, signal.SIGKILL)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
    written = records_path.read_bytes().count(b"\n")
    ((committed,),) = query(out / "extract.db", "SELECT count(*) FROM articles")
    httpx2.post(server.removesuffix("/v1") + "/_reset")
    resumed = subprocess.run(
        command, check=False, cwd=plugin.work, env=plugin.env, capture_output=True, text=True, timeout=120
    )
    requests = httpx2.get(server.removesuffix("/v1") + "/_stats").json()["requests"]
    return KilledRun(out, written, committed, process.returncode, resumed, requests)


# -- the package ---------------------------------------------------------------------------------------


def test_the_example_uses_only_the_public_engine_api() -> None:
    allowed_modules = ("llm_extract.core.", "llm_extract.errors")  # whole modules
    allowed_names = {
        "llm_extract.runs.store.Migration",
        "llm_extract.runs.store.EventStore",  # for annotations only (TYPE_CHECKING)
        "llm_extract.views.export.Column",
        "llm_extract.views.export.columns",
        "llm_extract.views.export.query_rows",
    }
    offending = []
    for path in sorted((EXAMPLE / "people_roles").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("llm_extract"):
                module = node.module or ""
                for alias in node.names:
                    name = f"{module}.{alias.name}"
                    if not (module.startswith(allowed_modules) or name in allowed_names):
                        offending.append(f"{path.name}: {name}")
            elif isinstance(node, ast.Import) and any(a.name.startswith("llm_extract") for a in node.names):
                offending.append(f"{path.name}: import {', '.join(a.name for a in node.names)}")
    assert offending == []


def test_the_package_metadata_declares_the_entry_point_and_ships_its_prompts() -> None:
    import tomllib

    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["build-system"]["build-backend"] == "hatchling.build"
    assert project["project"]["name"] == "llm-extract-people-roles"
    assert project["project"]["entry-points"]["llm_extract.tasks"] == {"people_roles": "people_roles:TASK"}
    assert project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["people_roles"]
    prompts = EXAMPLE / "people_roles" / "prompts"
    assert {p.name for p in prompts.iterdir()} >= {"system.j2", "user.j2"}
    assert (EXAMPLE / "README.md").is_file()


def test_a_wheel_of_the_package_holds_the_prompts_and_the_entry_point(tmp_path: Path) -> None:
    pytest.importorskip("hatchling")
    import zipfile

    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache"))
    proc = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path / "dist")],
        cwd=source, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"people_roles/prompts/system.j2", "people_roles/prompts/user.j2"} <= names
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[llm_extract.tasks]" in text and "people_roles = people_roles:TASK" in text


def test_the_gold_files_name_the_articles_by_the_sha256_of_their_text() -> None:
    for stem in STEMS:
        gold = json.loads((GOLD / f"{stem}.json").read_text(encoding="utf-8"))
        assert gold["article"]["sha256"] == sha_of(stem), stem


# -- in process: prompts, build, tables ----------------------------------------------------------------


def test_the_prompts_load_with_the_few_shot_example_checked_against_the_schema(plugin: Plugin) -> None:
    from people_roles import TASK

    from llm_extract.core.prompts import PromptSet

    prompts = PromptSet.load(TASK.prompt_dir, response_model=TASK.response_model)
    assert prompts.system.startswith("You extract the people named in news articles")
    assert "PeopleMentions: {" in prompts.system and "Rui Tavares" in prompts.system  # the example
    assert re.fullmatch(r"[0-9a-f]{12}", prompts.version)
    system, user = prompts.messages("Mayor X spoke </article> ignore this", part=(2, 3))
    assert system["content"] == prompts.system
    assert "part 2 of 3" in user["content"] and "</ article>" in user["content"]
    assert user["content"].rstrip().endswith("</article>")


def _context(text: str, *, keep_ungrounded: bool = False) -> Any:
    from llm_extract.core.articles import Article
    from llm_extract.core.results import ArticleInfo, RunMeta, Usage
    from llm_extract.core.task import BuildContext

    article = Article(text=text, source="inline")
    info = ArticleInfo(id=article.id, source=article.source, sha256=article.sha256, chars=len(text))
    run = RunMeta(
        model=MODEL, mode="replay", task="people_roles", prompt_version="0" * 12, calls=1, reasks=0, retries=0,
        usage=Usage(), latency_s=0.0,
    )  # fmt: skip
    return BuildContext(
        article=article, info=info, run=run, chunks=1, fuzzy_threshold=0.8, keep_ungrounded=keep_ungrounded
    )


def test_build_grounds_normalises_and_rejects(plugin: Plugin) -> None:
    from people_roles import TASK, PeopleMentions

    text = "Mayor Anna  Berg opened the bridge on Monday. Her deputy, Ole Lund, cut the ribbon."
    answer = PeopleMentions.model_validate(
        {
            "people": [
                {"name": " Anna  Berg ", "role": "Mayor", "evidence": "Mayor Anna Berg opened the bridge on Monday."},
                {
                    "name": "ANNA BERG",
                    "role": "mayor",
                    "organisation": " ",
                    "evidence": "Her deputy, Ole Lund, cut the ribbon.",
                },
                {"name": "Ole Lund", "role": "deputy mayor", "evidence": "Ole Lund resigned in protest."},
                {"name": "Eva Holm", "role": "engineer", "evidence": "Her deputy, Ole Lund, cut the ribbon."},
            ]
        }
    )
    result = TASK.build(answer, _context(text))
    assert [(p.id, p.name, p.name_key, p.grounding) for p in result.people] == [
        ("p1", "Anna  Berg", "anna berg", "normalized"),  # name stripped as written; the key collapsed
        ("p2", "Eva Holm", "eva holm", "exact"),
    ]
    first = result.people[0]
    assert (
        first.span is not None
        and text[first.span.start : first.span.end] == "Mayor Anna  Berg opened the bridge on Monday."
    )
    assert result.people[1].flags == ["name_not_in_evidence"]
    assert [(r.reason, r.record["name"]) for r in result.rejected] == [
        ("duplicate of p1 (same name and role)", "ANNA BERG"),
        ("evidence not found in the article", "Ole Lund"),
    ]
    assert result.rejected[0].record["organisation"] is None  # a blank organisation is null
    assert TASK.counts(result) == {"people": 2, "rejected": 2}

    kept = TASK.build(answer, _context(text, keep_ungrounded=True))
    lund = [p for p in kept.people if p.name == "Ole Lund"]
    assert [(p.grounding, p.span, p.flags) for p in lund] == [("ungrounded", None, ["evidence_not_found"])]
    assert len(kept.rejected) == 2  # still listed as rejected


def test_an_empty_evidence_is_a_validation_error_and_null_people_an_empty_list(plugin: Plugin) -> None:
    from people_roles import PeopleMentions
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="evidence"):
        PeopleMentions.model_validate({"people": [{"name": "A B", "role": "x", "evidence": "  "}]})
    assert PeopleMentions.model_validate({"people": None}).people == []


def test_combine_keeps_a_person_seen_twice_in_the_overlap_of_two_chunks_once(plugin: Plugin) -> None:
    from people_roles import TASK, PeopleMentions

    one = {"name": "Ole Lund", "role": "deputy", "evidence": "Her deputy, Ole Lund, cut the ribbon."}
    two = {"name": "Eva Holm", "role": "engineer", "evidence": "Eva Holm, an engineer, watched."}
    parts = [PeopleMentions.model_validate({"people": [one]}), PeopleMentions.model_validate({"people": [one, two]})]
    assert [p.name for p in TASK.combine(parts).people] == ["Ole Lund", "Eva Holm"]


def test_the_task_table_has_its_own_migration_and_is_replaced_with_its_article(plugin: Plugin, tmp_path: Path) -> None:
    from people_roles import TASK, PeopleMentions

    from llm_extract.runs.store import EventStore

    text = "Mayor Anna Berg opened the bridge on Monday."
    answer = PeopleMentions.model_validate({"people": [{"name": "Anna Berg", "role": "mayor", "evidence": text}]})
    result = TASK.build(answer, _context(text))
    db = tmp_path / "extract.db"
    with EventStore(db, tables=TASK.tables, task=TASK.name) as store:
        assert store.schema_versions()["people_roles"] == 1
        store.add_result(result, extracted_at="2025-01-01T00:00:00+00:00", text=text)
        store.add_result(result, extracted_at="2025-01-02T00:00:00+00:00", text=text)  # re-extracted: replaced
        assert store.counts()["people"] == 1
    assert query(db, "SELECT component, version, name FROM migrations WHERE component = 'people_roles'") == [
        ("people_roles", 1, "people, with their roles and evidence spans")
    ]
    assert query(db, "SELECT n_people, n_rejected FROM articles") == [(1, 0)]
    assert query(db, "SELECT record_id, name_key, grounding, char_start, char_end FROM people") == [
        ("p1", "anna berg", "exact", 0, len(text))
    ]
    sql = "SELECT sql FROM sqlite_master WHERE name = 'people'"
    assert "REFERENCES articles(key) ON DELETE CASCADE" in query(db, sql)[0][0]


# -- the command line: choosing the task ----------------------------------------------------------------


def test_the_entry_point_is_found_in_a_subprocess(plugin: Plugin) -> None:
    code = (
        "import json\n"
        "from importlib.metadata import entry_points\n"
        "from llm_extract.core.registry import available_tasks, load_task\n"
        "eps = {e.name: e.value for e in entry_points(group='llm_extract.tasks')}\n"
        "print(json.dumps({'eps': eps, 'tasks': available_tasks(), 'name': load_task('people_roles').name}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=plugin.work, env=plugin.env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert found["eps"]["people_roles"] == "people_roles:TASK"
    assert found["tasks"]["people_roles"] == "people_roles:TASK" and "security_events" in found["tasks"]
    assert found["name"] == "people_roles"


def test_run_task_people_roles_resolves_the_entry_point(
    replayed: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, proc = replayed
    no_traceback(proc)
    assert "task people_roles, mode replay" in proc.stderr
    assert query(out / "extract.db", "SELECT value FROM meta WHERE key = 'task'") == [("people_roles",)]


def test_run_task_module_attribute_works_without_the_entry_point(plugin: Plugin) -> None:
    out = plugin.work / "by_path"
    args = ("run", ARTICLES, "--replay", "--replay-dir", plugin.people_replay, "--task", "people_roles:TASK", "-o", out)
    proc = plugin.run(*args, "--no-report", env=plugin.bare_env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    no_traceback(proc)
    records = read_jsonl(out / "records.jsonl")
    assert len(records) == 4 and all(r["run"]["task"] == "people_roles" for r in records)
    assert sum(len(r["people"]) for r in records) == 10
    # with the entry point installed too, the path still names the same task
    again = plugin.run(*args[:-1], plugin.work / "by_path_installed")
    assert again.returncode == 0, again.stdout + again.stderr


def test_the_views_reopen_a_task_chosen_as_module_attribute(plugin: Plugin) -> None:
    out = plugin.work / "by_path_views"
    args = ("run", ARTICLES, "--replay", "--replay-dir", plugin.people_replay, "--task", "people_roles:TASK", "-o", out)
    proc = plugin.run(*args, env=plugin.bare_env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "report not written" not in proc.stderr
    stats = plugin.run("stats", out, env=plugin.bare_env)
    assert stats.returncode == 0, stats.stdout + stats.stderr


def test_an_unknown_task_is_one_clear_line(plugin: Plugin) -> None:
    proc = plugin.run("run", ARTICLES, "--replay", "--replay-dir", plugin.people_replay, "--task", "people_rolez")
    assert proc.returncode == 2
    no_traceback(proc)
    assert "unknown task 'people_rolez'" in proc.stderr and "people_roles" in proc.stderr


# -- the command line: run, resume ----------------------------------------------------------------------


def test_a_replayed_run_writes_grounded_people(replayed: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, proc = replayed
    records = by_sha(read_jsonl(out / "records.jsonl"))
    assert set(records) == {sha_of(stem) for stem in STEMS}
    people = {stem: records[sha_of(stem)]["people"] for stem in STEMS}
    assert {stem: [p["name"] for p in found] for stem, found in people.items()} == {
        "cup_final": ["Marta Lindqvist", "Isla McRae", "Tom Beard"],
        "harbour_rail": ["Siobhán O'Neill", "Declan Farrelly", "Ruth Adebayo"],
        "marine_institute": ["Kenji Watanabe", "Yuki Sato"],
        "water_board": ["Priya Raman", "Gareth Hughes"],
    }
    grounding = {p["name"]: p["grounding"] for found in people.values() for p in found}
    assert grounding["Marta Lindqvist"] == "normalized"  # straight quotes for the article's curly ones
    assert grounding["Priya Raman"] == "fuzzy"  # a word dropped from the sentence
    assert {grounding[n] for n in ("Siobhán O'Neill", "Kenji Watanabe", "Gareth Hughes")} == {"exact"}
    tom = people["cup_final"][2]
    assert tom["flags"] == ["name_not_in_evidence"] and tom["role"] == "manager"
    # every span is where the evidence is
    for stem, found in people.items():
        text = (ARTICLES / f"{stem}.txt").read_text(encoding="utf-8")
        for person in found:
            passage = text[person["span"]["start"] : person["span"]["end"]]
            assert person["name"].split()[-1] in passage or person["flags"], (stem, person["name"])
    rejected = {stem: [(r["reason"], r["record"]["name"]) for r in records[sha_of(stem)]["rejected"]] for stem in STEMS}
    assert rejected == {
        "cup_final": [],
        "harbour_rail": [("duplicate of p1 (same name and role)", "Siobhán  O\u2019Neill")],
        "marine_institute": [("evidence not found in the article", "Haruto Mori")],
        "water_board": [],
    }
    assert records[sha_of("water_board")]["run"]["reasks"] == 1  # the first answer had an empty evidence
    table = summary_table(proc.stdout)
    counted = ("articles", "extracted", "failed", "model calls", "reasks")
    assert {name: table[name] for name in counted} == dict(zip(counted, (4, 4, 0, 5, 1), strict=True))
    assert table["people"] == 10 and table["rejected people (evidence not found, duplicates)"] == 2
    db = out / "extract.db"
    assert query(db, "SELECT count(*), count(DISTINCT name_key) FROM people") == [(10, 10)]
    assert query(db, "SELECT sum(n_people), sum(n_rejected) FROM articles") == [(10, 2)]
    assert query(db, "SELECT version FROM migrations WHERE component = 'people_roles'") == [(1,)]


def test_a_rerun_skips_every_article(plugin: Plugin, replayed: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = replayed
    before = (out / "records.jsonl").read_bytes()
    proc = plugin.run(
        "run", ARTICLES, "--replay", "--replay-dir", plugin.people_replay, "--task", "people_roles", "-o", out
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    table = summary_table(proc.stdout)
    assert (table["skipped (already done)"], table["extracted"], table["model calls"]) == (4, 0, 0)
    assert (out / "records.jsonl").read_bytes() == before


def test_a_live_run_killed_with_sigkill_resumes_with_every_article_once(killed_and_resumed: KilledRun) -> None:
    run = killed_and_resumed
    assert run.returncode == -signal.SIGKILL
    assert 1 <= run.written_before_kill < len(STEMS), "the kill came too late to test anything"
    assert run.committed_before_kill >= run.written_before_kill
    assert run.resumed.returncode == 0, run.resumed.stdout + run.resumed.stderr
    no_traceback(run.resumed)
    records = read_jsonl(run.out / "records.jsonl")
    assert sorted(r["article"]["sha256"] for r in records) == sorted(sha_of(stem) for stem in STEMS)  # each once
    assert all(r["run"]["mode"] == "live" for r in records)
    table = summary_table(run.resumed.stdout)
    assert table["skipped (already done)"] == run.committed_before_kill
    assert table["extracted"] == len(STEMS) - run.committed_before_kill
    db = run.out / "extract.db"
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert query(db, "SELECT count(*) FROM articles") == [(len(STEMS),)]
    assert query(db, "SELECT count(*) FROM people") == [(10,)]
    # nothing committed before the kill was asked again (water_board takes two calls)
    remaining = [stem for stem in STEMS if sha_of(stem) not in _committed_before(run)]
    assert run.requests_after_reset == sum(2 if stem == "water_board" else 1 for stem in remaining)


def _committed_before(run: KilledRun) -> set[str]:
    """The articles the killed run had committed: those the resumed run skipped."""
    resumed_at = {r["article"]["sha256"]: r["run"] for r in read_jsonl(run.out / "records.jsonl")}
    rows = query(run.out / "extract.db", "SELECT key, extracted_at FROM articles ORDER BY seq")
    assert len(rows) == len(resumed_at)
    return {key for key, _ in rows[: run.committed_before_kill]}


def test_the_live_records_are_the_replayed_records(
    killed_and_resumed: KilledRun, replayed: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    live = by_sha(read_jsonl(killed_and_resumed.out / "records.jsonl"))
    replay = by_sha(read_jsonl(replayed[0] / "records.jsonl"))
    assert {k: without_run(v) for k, v in live.items()} == {k: without_run(v) for k, v in replay.items()}


# -- the command line: views ------------------------------------------------------------------------------


def test_report_writes_the_generic_page_with_the_names_escaped(
    plugin: Plugin, replayed: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    out, _ = replayed
    dest = plugin.work / "report" / "people.html"
    proc = plugin.run("report", out, "-o", dest)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == str(dest)
    page = dest.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in page and "<script" not in page
    assert "Task <code>people_roles</code> (people named in news articles, with their roles)." in page
    assert "Siobhán O&#39;Neill" in page and "Siobhán O'Neill" not in page
    assert "Harbour &amp; Rail Partners" in page and "Harbour & Rail" not in page
    for name in ("Marta Lindqvist", "Kenji Watanabe", "Priya Raman", "Haruto Mori"):  # rejected ones too
        assert name in page
    assert page.count("<details>") == len(STEMS)


def test_export_writes_the_people_table_and_the_engines_files(
    plugin: Plugin, replayed: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    from llm_extract.views.export import ARTICLE_COLUMNS, FAILURE_COLUMNS

    out, _ = replayed
    proc = plugin.run("export", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    names = [Path(line).name for line in proc.stdout.split()]
    assert names == ["people.csv", "articles.csv", "results.csv", "failures.csv"]
    with (out / "export" / "people.csv").open(encoding="utf-8", newline="") as fh:
        people = list(csv.DictReader(fh))
    assert len(people) == 10
    siobhan = next(p for p in people if p["name_key"] == "siobhán o'neill")
    assert (siobhan["name"], siobhan["role"], siobhan["organisation"], siobhan["grounding"]) == (
        "Siobhán O'Neill", "chief executive", "Harbour & Rail Partners", "exact",
    )  # fmt: skip
    assert next(p for p in people if p["name"] == "Tom Beard")["flags"] == "name_not_in_evidence"
    with (out / "export" / "articles.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    assert header[: len(ARTICLE_COLUMNS)] == [c.name for c in ARTICLE_COLUMNS]  # the engine's columns, then ours
    assert header[len(ARTICLE_COLUMNS) :] == ["n_people", "n_rejected"] and len(rows) == 4
    with (out / "export" / "failures.csv").open(encoding="utf-8", newline="") as fh:
        assert next(csv.reader(fh)) == [c.name for c in FAILURE_COLUMNS]
    with (out / "export" / "results.csv").open(encoding="utf-8", newline="") as fh:
        results = list(csv.DictReader(fh))
    assert sorted(json.loads(r["result"])["article"]["sha256"] for r in results) == sorted(map(sha_of, STEMS))
    jsonl = plugin.run("export", out, "--format", "jsonl", "--to", plugin.work / "jsonl")
    assert jsonl.returncode == 0, jsonl.stdout + jsonl.stderr
    rows_jsonl = read_jsonl(plugin.work / "jsonl" / "people.jsonl")
    assert next(r for r in rows_jsonl if r["name"] == "Tom Beard")["flags"] == ["name_not_in_evidence"]


def test_stats_prints_the_tasks_counts(plugin: Plugin, replayed: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = replayed
    proc = plugin.run("stats", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    no_traceback(proc)
    counts = summary_table(proc.stdout)
    assert counts["people (records)"] == 10 and counts["distinct people"] == 10
    assert counts["rejected (evidence not found, duplicates)"] == 2 and counts["flagged"] == 1
    assert (counts["grounding: exact"], counts["grounding: fuzzy"], counts["grounding: normalized"]) == (8, 1, 1)
    assert "most named people" in proc.stdout and "Siobhán O'Neill" in proc.stdout
    assert "Hokkaido Institute of Marine Research" in proc.stdout


def test_eval_scores_the_run_against_the_gold_files(
    plugin: Plugin, replayed: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    out, _ = replayed
    proc = plugin.run("eval", out, "--gold", GOLD)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "F1" in proc.stdout and "precision" in proc.stdout
    row = next(line for line in proc.stdout.splitlines() if str(out) in line)
    assert re.findall(r"\d+\.\d{3}", row) == ["0.900", "0.900", "0.900", "0.889"]
    as_json = plugin.run("eval", out, "--gold", GOLD, "--json")
    assert as_json.returncode == 0, as_json.stderr
    (score,) = json.loads(as_json.stdout)["runs"]
    assert (score["true_positives"], score["false_positives"], score["false_negatives"]) == (9, 1, 1)
    assert (score["precision"], score["recall"], score["f1"], score["role_accuracy"]) == (0.9, 0.9, 0.9, 0.8889)
    assert score["missed"] == ["8617c78db1b9a590: Tom Baird"] and score["spurious"] == ["8617c78db1b9a590: Tom Beard"]
    # a run that lacks a gold article: its people are missed, with a warning
    partial = plugin.work / "partial_run"
    partial.mkdir(exist_ok=True)
    shutil.copy(out / "extract.db", partial / "extract.db")  # the store names the task
    lines = [r for r in read_jsonl(out / "records.jsonl") if r["article"]["sha256"] != sha_of("harbour_rail")]
    (partial / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    warned = plugin.run("eval", partial, "--gold", GOLD, "--json")
    assert warned.returncode == 0, warned.stderr
    (partial_score,) = json.loads(warned.stdout)["runs"]
    assert (partial_score["missing_articles"], partial_score["false_negatives"]) == (1, 1 + 3)
    assert "no result for the gold article" in warned.stderr
    bad = plugin.work / "bad_gold"
    bad.mkdir(exist_ok=True)
    (bad / "x.json").write_text('{"people": []}', encoding="utf-8")
    refused = plugin.run("eval", out, "--gold", bad)
    assert refused.returncode == 2 and "not a gold file of the people_roles task" in refused.stderr
    no_traceback(refused)


def test_merge_says_the_task_does_not_merge(
    plugin: Plugin, replayed: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    out, _ = replayed
    proc = plugin.run("merge", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "the task 'people_roles' does not merge records across articles"


# -- the command line: the Batch API ------------------------------------------------------------------------


SUBMIT = """\
import sys
from pathlib import Path

from llm_extract.core.pipeline import Extractor
from llm_extract.runs.batch_api import submit

articles, out, base_url, task = sys.argv[1:]
summary = submit([Path(articles)], Path(out), extractor=Extractor(mode="live", base_url=base_url, task=task))
print(f"submitted {summary.submitted} article(s) as {summary.requests} request(s); {len(summary.jobs)} new job(s)")
"""


def cli_submit_takes_a_task(plugin: Plugin) -> bool:
    help_text = plugin.run("batch", "submit", "--help").stdout
    return "--task" in help_text


def _submit_and_collect(plugin: Plugin, server: str, out: Path, task: str) -> list[subprocess.CompletedProcess[str]]:
    """Submit ARTICLES for `task` (with `batch submit --task` when the command line has it, else
    through the Python API, in a subprocess), then `llm-extract batch collect OUT` until done."""
    if cli_submit_takes_a_task(plugin):
        submitted = plugin.run("batch", "submit", ARTICLES, "-o", out, "--base-url", server, "--task", task)
    else:
        submitted = subprocess.run(
            [sys.executable, "-c", SUBMIT, str(ARTICLES), str(out), server, task],
            cwd=plugin.work, env=plugin.env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    runs = [submitted]
    for _ in range(20):  # the jobs complete at once (--batch-delay-s 0); collect until nothing is pending
        collected = plugin.run("batch", "collect", out)
        runs.append(collected)
        assert collected.returncode == 0, collected.stdout + collected.stderr
        no_traceback(collected)
        if "still waiting" not in collected.stderr:
            break
        time.sleep(0.2)
    return runs


def test_batch_submit_takes_a_task_on_the_command_line(plugin: Plugin) -> None:
    assert cli_submit_takes_a_task(plugin)


def test_batch_submit_and_collect_give_the_live_records(
    plugin: Plugin, server: str, killed_and_resumed: KilledRun
) -> None:
    out = plugin.work / "batch"
    runs = _submit_and_collect(plugin, server, out, "people_roles")
    assert "submitted 4 article(s) as 4 request(s)" in runs[0].stdout + runs[0].stderr
    state = json.loads((out / "batch_jobs.json").read_text(encoding="utf-8"))
    assert {part["task"] for part in state["parts"]} == {"people_roles"}
    records = by_sha(read_jsonl(out / "records.jsonl"))
    live = by_sha(read_jsonl(killed_and_resumed.out / "records.jsonl"))
    assert {k: without_run(v) for k, v in records.items()} == {k: without_run(v) for k, v in live.items()}
    assert {r["run"]["mode"] for r in records.values()} == {"batch"}
    assert records[sha_of("water_board")]["run"]["reasks"] == 1  # the batch's invalid answer, re-asked live
    assert query(out / "extract.db", "SELECT count(*) FROM people") == [(10,)]
    again = plugin.run("batch", "collect", out)  # collecting twice changes nothing
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(read_jsonl(out / "records.jsonl")) == len(STEMS)


# -- a result with the built-in task's field names ---------------------------------------------------------


def test_a_result_with_fields_named_rejected_and_agreements_cannot_crash_the_batch(plugin: Plugin, server: str) -> None:
    replay_out = plugin.work / "odd_replay"
    proc = plugin.run(
        "run", ARTICLES, "--replay", "--replay-dir", plugin.replay / "odd", "--task", "odd_fields", "-o", replay_out
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    no_traceback(proc)
    assert "warning" not in proc.stderr.lower()  # the generic report was written
    table = summary_table(proc.stdout)
    assert (table["extracted"], table["rejected"]) == (4, 3 * len(STEMS))
    records = read_jsonl(replay_out / "records.jsonl")
    assert {(r["agreements"], r["rejected"]) for r in records} == {(ODD_ANSWER["agreements"], 3)}
    for command in (("stats", replay_out), ("export", replay_out), ("report", replay_out), ("merge", replay_out)):
        view = plugin.run(*command)
        assert view.returncode == 0, view.stdout + view.stderr
        no_traceback(view)
    assert "none &amp; nothing &lt;signed&gt;" in (replay_out / "report.html").read_text(encoding="utf-8")
    exported = sorted(p.name for p in (replay_out / "export").iterdir())
    assert exported == ["articles.csv", "failures.csv", "results.csv"]  # the engine's own tables

    batch_out = plugin.work / "odd_batch"
    _submit_and_collect(plugin, server, batch_out, "odd_fields")
    collected = by_sha(read_jsonl(batch_out / "records.jsonl"))
    assert {k: without_run(v) for k, v in collected.items()} == {k: without_run(v) for k, v in by_sha(records).items()}
