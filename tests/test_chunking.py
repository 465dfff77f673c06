"""Chunking long articles: coverage, offsets, sizes and overlap, for any text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_extract.core.chunking import chunk_text

sentence = st.text(alphabet="abcdefghij klmnop", min_size=1, max_size=120).map(lambda s: s.strip() + ". ")
texts = st.lists(sentence, min_size=1, max_size=80).map("".join) | st.text(min_size=0, max_size=3000)


@settings(max_examples=200, deadline=None)
@given(texts, st.integers(min_value=50, max_value=800), st.integers(min_value=0, max_value=20))
def test_chunks_cover_the_text_with_true_offsets(text, max_chars, overlap):
    chunks = chunk_text(text, max_chars=max_chars, overlap=overlap)
    assert chunks[0].start == 0 and chunks[-1].end == len(text)
    for i, chunk in enumerate(chunks):
        assert chunk.index == i
        assert text[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text) <= max_chars
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert before.start < after.start <= before.end  # no gap, always progress


def test_short_text_is_one_chunk():
    (only,) = chunk_text("Short article.", max_chars=100, overlap=10)
    assert (only.start, only.end) == (0, 14)


def test_chunks_end_at_sentence_boundaries_and_overlap():
    text = "".join(f"Sentence number {i} is here. " for i in range(100))
    chunks = chunk_text(text, max_chars=500, overlap=100)
    assert len(chunks) > 5
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert before.text.endswith(". ")
        assert after.text.startswith("Sentence number")
        assert before.end - after.start >= 60  # roughly `overlap` characters shared


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError):
        chunk_text("x", max_chars=10, overlap=10)
