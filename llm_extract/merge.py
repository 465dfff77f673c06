"""Kept for existing imports: the built-in task's cross-article merge now live in
`llm_extract.tasks.security_events.merge`.
"""

from llm_extract.tasks.security_events.merge import *  # noqa: F403
from llm_extract.tasks.security_events.merge import __all__ as __all__
