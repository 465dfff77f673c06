"""Kept for existing imports: the built-in task's normalisers (kg, ISO3, drugs, dates) now live in
`llm_extract.tasks.security_events.normalize`.
"""

from llm_extract.tasks.security_events.normalize import *  # noqa: F403
from llm_extract.tasks.security_events.normalize import __all__ as __all__
