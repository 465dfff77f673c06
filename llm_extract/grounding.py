"""Kept for existing imports: evidence quotes → character spans now live in
`llm_extract.core.grounding`.
"""

from llm_extract.core.grounding import *  # noqa: F403
from llm_extract.core.grounding import __all__ as __all__
