"""Kept for existing imports: flat exports and statistics now live in
`llm_extract.tasks.security_events.views.export`.
"""

from llm_extract.tasks.security_events.views.export import *  # noqa: F403
from llm_extract.tasks.security_events.views.export import __all__ as __all__
