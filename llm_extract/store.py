"""Kept for existing imports: the SQLite event store now live in
`llm_extract.runs.store`.
"""

from llm_extract.runs.store import *  # noqa: F403
from llm_extract.runs.store import __all__ as __all__
