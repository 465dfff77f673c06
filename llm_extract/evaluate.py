"""Kept for existing imports: scores against gold annotations now live in
`llm_extract.tasks.security_events.views.evaluate`.
"""

from llm_extract.tasks.security_events.views.evaluate import *  # noqa: F403
from llm_extract.tasks.security_events.views.evaluate import __all__ as __all__
