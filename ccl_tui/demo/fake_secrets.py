"""Planted fake credentials: pattern-valid (so redaction has something to find) but obviously not real."""

from __future__ import annotations

import base64
import json
import random
import string

from ccl_tui.demo.steps import Exec, Turn

KINDS = ("env_file", "openai_key_cmd", "github_token", "bearer_jwt", "aws_key", "openai_key_prompt")
UPPER_DIGITS = string.ascii_uppercase + string.digits
ALNUM = string.ascii_letters + string.digits


def _chars(rng: random.Random, n: int, alphabet: str = ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def openai_key(rng: random.Random) -> str:
    return "sk-proj-FAKEdemo" + _chars(rng, 48, ALNUM + "-_")


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def jwt(rng: random.Random) -> str:
    header = _b64({"alg": "HS256", "typ": "JWT"})
    body = _b64({"sub": "demo-user-" + _chars(rng, 6), "name": "FAKE DEMO TOKEN", "iat": 1790000000})
    return f"{header}.{body}.{_chars(rng, 43, ALNUM + '-_')}"


def plant(t: Turn, kind: str, rng: random.Random, repo_slug: str) -> None:
    """Add the step (or prompt text) that exposes a fake secret of ``kind`` to turn ``t``."""
    if kind == "openai_key_prompt":
        t.prompt += f"\n\nFor the smoke test use OPENAI_API_KEY={openai_key(rng)}"
    elif kind == "env_file":
        out = (
            "APP_ENV=development\nLOG_LEVEL=debug\nDATABASE_URL=postgres://app:hunter2pass@db:5432/app\n"
            f"STRIPE_SECRET_KEY=sk_live_FAKE{_chars(rng, 28)}\nSENTRY_DSN=\n"
        )
        t.steps.append(Exec("cat .env", out, 0, 0.01))
    elif kind == "openai_key_cmd":
        cmd = f"export OPENAI_API_KEY={openai_key(rng)} && python scripts/smoke_llm.py --dry-run"
        t.steps.append(Exec(cmd, "smoke: 3 prompts, 0 failures (dry run)\n", 0, 1.8))
    elif kind == "github_token":
        token = "ghp_FAKE" + _chars(rng, 32)
        out = (
            f"origin\thttps://x-access-token:{token}@github.com/{repo_slug}.git (fetch)\n"
            f"origin\thttps://x-access-token:{token}@github.com/{repo_slug}.git (push)\n"
        )
        t.steps.append(Exec("git remote -v", out, 0, 0.01))
    elif kind == "aws_key":
        out = (
            f"[default]\naws_access_key_id = AKIAFAKE{_chars(rng, 12, UPPER_DIGITS)}\n"
            f"aws_secret_access_key = FAKE{_chars(rng, 36, ALNUM + '/+')}\nregion = eu-central-1\n"
        )
        t.steps.append(Exec("cat ~/.aws/credentials", out, 0, 0.01))
    else:
        token = jwt(rng)
        cmd = f"curl -sv http://localhost:8000/health -H 'Authorization: Bearer {token}'"
        out = (
            "*   Trying 127.0.0.1:8000...\n* Connected to localhost (127.0.0.1) port 8000\n> GET /health HTTP/1.1\n"
            f"> Host: localhost:8000\n> Authorization: Bearer {token}\n>\n< HTTP/1.1 200 OK\n"
            '< content-type: application/json\n<\n{"status":"ok"}\n'
        )
        t.steps.append(Exec(cmd, out, 0, 0.08))
