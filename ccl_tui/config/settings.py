"""All tunable thresholds and weights in one place, with TOML overrides.

The file is ``$CCL_TUI_CONFIG`` or ``<user config dir>/ccl-tui/config.toml``::

    [signals]
    context_fill_threshold = 0.9
    retry_loop_min = 3

    [impact]
    recency_half_life_days = 21

    [ingest]
    workers = 0                 # parser processes (0: one per CPU core)
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from ccl_tui.locations import config_file


@dataclass(frozen=True, slots=True)
class Severities:
    """How much one friction signal weighs (0..1) before its cost and recency: the ``severity`` factor of impact;
    and how strong a delight signal is. Override in ``[signals.severity]``. The step values grow a signal with
    repetition or duration, capped."""

    command_failure: float = 0.45  # a command that failed (not a test/build/lint run)
    verification_failure: float = 0.6  # a test, build, lint or type check that failed
    timeout: float = 0.6  # a command killed by its time limit
    patch_failure: float = 0.5  # an edit (apply_patch in any form) that did not apply
    denial: float = 0.4  # the first refusal in a session (sandbox, policy, user) ...
    denial_step: float = 0.1  # ... plus this for each later one (up to four) and for a repeated identical one
    approval_wait: float = 0.3  # a call that waited on a person ...
    approval_wait_max_extra: float = 0.4  # ... plus 0.1 per 3 minutes waited, at most this much
    compaction: float = 0.5  # history compacted: the agent lost detail of earlier turns
    context_exceeded: float = 0.8  # the context window overflowed (a Codex error)
    context_full: float = 0.4  # a request filled the window past ``context_fill_threshold``
    output_truncated: float = 0.2  # tool outputs cut before the model saw them
    codex_error: float = 0.6  # an error Codex reported
    account_error: float = 0.7  # usage limit reached or unauthorized
    stream_error: float = 0.3  # the model stream dropped and reconnected
    mcp_error: float = 0.4  # an MCP tool call failed
    interrupt: float = 0.6  # the user stopped the agent
    turn_replaced: float = 0.3  # a new prompt replaced the running turn
    retry_loop: float = 0.5  # the same failing step twice ...
    retry_loop_step: float = 0.1  # ... plus this for each further repeat
    # Delight: how strong a good moment is (0..1).
    fast_completion_one_prompt: float = 1.0  # done after the first prompt, without friction
    fast_completion: float = 0.8  # done within ``fast_completion_max_turns`` prompts
    zero_denials: float = 0.4  # tools used under an approval policy, never refused
    zero_denials_escalated: float = 0.6  # ... with escalation requests, all approved
    first_try_verification: float = 0.7  # the first test/build/lint run passed
    first_try_patch: float = 0.5  # no verification run; the first patch applied
    praise: float = 0.7  # the user praised the work
    praise_at_end: float = 0.9  # ... in the session's last prompt


@dataclass(frozen=True, slots=True)
class SignalThresholds:
    context_fill_threshold: float = 0.85  # last request's input tokens / context window
    approval_wait_min_s: float = 120.0  # a call waiting this long on a person (beyond its run time) is friction
    retry_loop_min: int = 3  # same failing step this many times in one session
    fast_completion_max_turns: int = 3
    pushback_max_gap_turns: int = 1  # pushback must come within this many turns of agent work
    long_output_marker_min: int = 1  # truncated-output markers in a session before it counts
    zero_denials_min_calls: int = 3  # tool calls a session needs before "no denials" means something
    severity: Severities = field(default_factory=Severities)  # [signals.severity]


@dataclass(frozen=True, slots=True)
class ImpactWeights:
    """impact = sessions x severity x cost x recency, with cost in "turn equivalents"."""

    cost_per_turn: float = 1.0  # each extra prompt the user had to send
    cost_per_minute: float = 0.1  # each minute spent until resolved (10 minutes ~ one extra prompt)
    cost_per_million_tokens: float = 2.0  # tokens spent until resolved, not served from cache (new input + output)
    unresolved_penalty: float = 1.0  # added when the failing step never succeeded
    recency_half_life_days: float = 14.0  # weight halves for every half-life since the issue was last seen
    recency_floor: float = 0.05  # reached after ~4.3 half-lives: a months-old issue never outranks by age alone


@dataclass(frozen=True, slots=True)
class IngestSettings:
    workers: int = 0  # CPU cores ingest may use (0: all): as many processes parse and detect, this one writes
    process_threshold_mb: float = 48.0  # MiB to read below which one thread beats starting worker processes


@dataclass(frozen=True, slots=True)
class Settings:
    signals: SignalThresholds = field(default_factory=SignalThresholds)
    impact: ImpactWeights = field(default_factory=ImpactWeights)
    ingest: IngestSettings = field(default_factory=IngestSettings)

    def fingerprint(self) -> str:
        """Changes whenever a value that affects detection changes (stored with detection results)."""
        return hashlib.sha1(repr(asdict(self.signals)).encode()).hexdigest()[:10]


class ConfigError(ValueError):
    pass


def _section(cls: type, raw: Any, name: str) -> Any:
    if raw is None:
        return cls()
    if not isinstance(raw, dict):
        raise ConfigError(f"[{name}] must be a table")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"unknown key(s) in [{name}]: {', '.join(unknown)} (known: {', '.join(known)})")
    values = {}
    for k, v in raw.items():
        default = getattr(cls(), k)
        if is_dataclass(default):
            values[k] = _section(type(default), v, f"{name}.{k}")
            continue
        if isinstance(default, float) and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if type(v) is not type(default):
            raise ConfigError(f"[{name}] {k} must be {type(default).__name__}, got {v!r}")
        values[k] = v
    return cls(**values)


def load_settings(path: Path | None = None) -> Settings:
    """Defaults, overridden by the config file when it exists. Bad files raise ConfigError with the reason."""
    path = path or config_file()
    if not path.is_file():
        return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return Settings(
        signals=_section(SignalThresholds, raw.get("signals"), "signals"),
        impact=_section(ImpactWeights, raw.get("impact"), "impact"),
        ingest=_section(IngestSettings, raw.get("ingest"), "ingest"),
    )
