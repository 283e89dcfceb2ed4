"""Where the OpenAI-compatible provider is: the one place that reads ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``.

Arguments win over the environment; an empty value counts as unset. Both the GPT-4o client and the embedder
use this, so a local OpenAI-compatible server set in ``OPENAI_BASE_URL`` serves both.
"""

from __future__ import annotations

import os


def api_key(given: str | None = None) -> str | None:
    """The API key: ``given``, else ``$OPENAI_API_KEY``, else None (the rules and the offline embedder run)."""
    return given or os.environ.get("OPENAI_API_KEY") or None


def base_url(given: str | None = None) -> str | None:
    """The endpoint: ``given``, else ``$OPENAI_BASE_URL``, else None (the client's default, api.openai.com)."""
    return given or os.environ.get("OPENAI_BASE_URL") or None


def has_api_key() -> bool:
    return api_key() is not None
