"""Kept for existing imports: the local OpenAI-compatible server now live in
`llm_extract.testing.server`.
"""

from llm_extract.testing.server import *  # noqa: F403
from llm_extract.testing.server import __all__ as __all__
