"""Inputs as people have them: UTF-16 with a BOM, Latin-1 files, Word and PDF files, bad settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_extract import ConfigError, ExtractorSettings, InputError
from llm_extract.core.articles import iter_articles

TEXT = "A polícia de São Paulo apreendeu 1,2 tonelada de cocaína no porto de Santos."


@pytest.mark.parametrize("encoding, bom", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"), ("utf-32-le", b"\xff\xfe\x00\x00")])
def test_utf16_and_utf32_with_a_bom_are_read(tmp_path: Path, encoding: str, bom: bytes) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(bom + TEXT.encode(encoding))
    (article,) = iter_articles([path])
    assert not isinstance(article, InputError) and article.text == TEXT


def test_a_latin1_file_gets_a_hint_that_does_not_garble_it(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes(TEXT.encode("latin-1"))
    (error,) = iter_articles([path])
    assert isinstance(error, InputError)
    message = str(error)
    assert str(path) in message and "not UTF-8" in message
    assert "iconv -f WINDOWS-1252 -t UTF-8" in message
    assert TEXT.encode("latin-1").decode("cp1252") == TEXT  # the hinted code page reads it right


@pytest.mark.parametrize("name, kind", [("report.docx", "a Word document"), ("scan.pdf", "a PDF"), ("old.doc", "a Word document")])
def test_unsupported_formats_are_named_and_never_skipped_in_a_directory(tmp_path: Path, name: str, kind: str) -> None:
    (tmp_path / name).write_bytes(b"PK\x03\x04\x00\x00binary")
    (tmp_path / "ok.txt").write_text(TEXT, encoding="utf-8")
    items = list(iter_articles([tmp_path]))
    errors = [i for i in items if isinstance(i, InputError)]
    assert len(items) == 2 and len(errors) == 1
    assert name in str(errors[0]) and kind in str(errors[0]) and "not supported" in str(errors[0])
    assert "binary" not in str(errors[0])
    (named,) = iter_articles([tmp_path / name])  # named explicitly: the same message
    assert isinstance(named, InputError) and kind in str(named)


def test_unknown_settings_are_a_config_error_not_a_pydantic_error() -> None:
    with pytest.raises(ConfigError, match="foo"):
        ExtractorSettings(foo=1)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="max_reasks"):
        ExtractorSettings(max_reasks=-1)
    assert issubclass(ConfigError, Exception) and ExtractorSettings(model="m").model == "m"
