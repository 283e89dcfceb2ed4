"""Find and redact credentials in untrusted transcript text.

Codex session text (commands, tool outputs, user prompts, patches) routinely contains API keys, tokens and
passwords. Everything that leaves the machine (prompts sent to OpenAI) or lands in a generated task directory
goes through :func:`redact` (or :func:`redact_obj` for decoded JSON) first.

Only the secret *value* is replaced, by ``[REDACTED:<kind>]``; key names, URL schemes, header names, quotes
and PEM armour lines stay visible so the redacted text still reads naturally::

    OPENAI_API_KEY="sk-proj-..."          -> OPENAI_API_KEY="[REDACTED:openai-key]"
    postgres://app:hunter2@db:5432/x      -> postgres://app:[REDACTED:url-password]@db:5432/x
    Authorization: Bearer eyJ...          -> Authorization: Bearer [REDACTED:jwt]

Kinds
-----
Token formats recognised anywhere (prefix + shape, word-bounded):
``openai-key`` (``sk-``, ``sk-proj-``, ``sk-svcacct-``, ``sk-admin-``), ``anthropic-key`` (``sk-ant-``),
``github-token`` (``ghp_ gho_ ghu_ ghs_ ghr_`` + 36, ``github_pat_``), ``gitlab-token`` (``glpat-`` ...),
``aws-access-key-id`` (``AKIA ASIA AGPA AIDA AROA ...`` + 16), ``slack-token`` (``xox[abposr]-``, ``xapp-``),
``slack-webhook``, ``google-api-key`` (``AIza`` + 35), ``stripe-key`` (``sk_live_ rk_live_ sk_test_
rk_test_``), ``huggingface-token`` (``hf_``), ``npm-token`` (``npm_``), ``pypi-token`` (``pypi-AgE...``),
``private-key`` (PEM/OpenSSH/PGP private key bodies, also when truncated before the END line) and ``jwt``.

Context-dependent values:
``bearer-token`` / ``basic-auth`` (``Authorization:`` headers, bare ``Bearer <token>``,
``curl -u user:pass``), ``url-password`` (``scheme://user:PASSWORD@host``; this also covers ``DATABASE_URL``),
``aws-secret-key``, ``password-assignment`` and ``env-secret`` (``.env``/shell/JSON/YAML/TOML/CLI-flag
assignments whose key name looks secret, plus ``sshpass -p``, ``mysql -pX``, ``redis-cli -a``,
``docker login -p`` and ``.netrc``).

Rules for ambiguous cases
-------------------------
* A key name looks secret when, split into words (``_ - .`` and camelCase, last dotted segment only), its last
  word is ``token``, ``secret``, ``credential``, ``apikey`` (or a compound ending in ``token``/``secret``/
  ``apikey``/``secretkey``/``privatekey``/``accesskey``), or ``key`` *with a qualifier* (``API_KEY``; bare
  ``key`` never, so ``sort(key=len)`` stays), or ``pass``/``pwd`` after a known qualifier (``DB_PASS``,
  ``SMTP_PWD``; not ``PWD=/home``, ``on_pass``), or when it contains ``password``/``passwd``/``passphrase``.
  One harmless trailing word is allowed after the secret word (``SECRET_KEY_BASE``, ``API_KEY_V2``).
* Key names whose last word describes metadata are not secret: ``TOKEN_COUNT``, ``KEY_ID``, ``MAX_TOKENS``
  (plurals never count), ``PASSWORD_MIN_LENGTH``, ``TOKEN_URL``, ``KEY_FILE``, ``password_hash`` ...; nor are
  ``PUBLIC_KEY``, ``SORT_KEY``, ``CACHE_KEY``, ``PRIMARY_KEY``, ``NEXT_PAGE_TOKEN``, ``EOS_TOKEN`` .... Other
  ``*_KEY`` names without a credential qualifier (``HEADER_KEY``, ``METADATA_KEY``) usually hold a lookup key,
  so their values are only redacted when they look generated (8+ characters mixing letters and digits).
* Values that stay: empty or shorter than 3 characters; placeholders (``<...>``, ``$VAR``, ``${VAR}``,
  ``$(cmd)``, ``%VAR%``, ``{{ tmpl }}``, ``%s``, masks of ``* x . # ?`` or containing ``***``/``...``,
  ``your-...``/``..._here``, ``UPPER_SNAKE`` constants, and words such as ``changeme password secret token
  example placeholder redacted dummy none null true false``); integers of at most 5 digits (counts, ports,
  limits: ``TOKEN_LIMIT=4096``; a 6+ digit PIN is redacted); values that name themselves (``api_key=api_key``,
  ``REFRESH_TOKEN = "refresh_token"``, ``"secret": "V1SecretVolumeSource"``, ``password: Redis password``);
  lowercase identifiers for token/key names (``token="failed-to-connect"``); and code rather than literals:
  unquoted values followed by ``(``/``[``/``.``/a quote, kwargs passing an identifier (``f(token=tok)``),
  dotted references (``os.environ``, ``creds.secret_key``, ``process.env.X``), type annotations
  (``api_key: str | None``) and, around a spaced ``=`` (code style), identifiers without digits
  (``password = user_input``; an INI line ``password = hunter`` is therefore kept, ``hunter2`` is not).
* An unquoted value after ``:`` (YAML, HTTP headers) is the rest of the line, taken only when the key starts
  its line (after indentation, ``- * > # + "``) so prose such as ``Invalid token: expected a string`` is left
  alone, and not when it reads as prose (``- password: The password to use``). A quoted key (JSON) or a quoted
  value may appear anywhere. A space-separated value is only taken after ``--flags`` (``--password x``), and
  not when it is a prose word (``the --username and --password options``).
* ``Authorization:`` needs a scheme (``Bearer``/``Token`` values under 6 characters need a digit, ``Basic``
  values 8+ characters) or a 20+ character value with digits; a bare ``Bearer <token>`` outside a header
  needs 16+ characters with digits (or 32+ mixed case) so prose (``Bearer authentication``) stays. URL passwords: ``scheme://user:PASSWORD@host`` only (not ``host:port``).
* Overlapping findings are merged into one span (their union) labelled with the most specific kind, so
  ``Authorization: Bearer <jwt>`` yields one ``[REDACTED:jwt]`` and ``OPENAI_API_KEY=sk-...`` one
  ``[REDACTED:openai-key]``; existing ``[REDACTED:...]`` markers are never matched again, which makes
  :func:`redact` idempotent.
* Hex hashes (commit shas, ``sha256:`` digests), UUIDs, Fernet/base64 blobs (``gAAAA...``) and paths match no
  rule: there is deliberately no generic "high entropy string" detector. ``sk-`` needs a non-word character
  before it (``task-list``, ``disk-usage`` are words) and a mixed-case or digit-bearing body.

Speed: scanning happens on an ASCII view of the text (non-ASCII code points replaced by ``?``, same indexes)
and on its lowercased copy. Every rule is a regex that starts with a literal, so ``re`` uses its fast prefix
search instead of trying each position; word boundaries are look-behinds placed *after* that literal, and
case-insensitive rules (headers, key names) run on the lowercased copy so they start with a literal too.
Most rules are first gated by ``needle in text`` (``str.find`` skips ahead and stops at the first hit), so a
text without candidates costs about 30 fast passes: roughly 30-45 MB/s, small outputs included. Values are bounded
(4 KiB) and hits inside an already parsed value are skipped, so adversarial input stays linear.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["SecretMatch", "contains_secret", "find_secrets", "redact", "redact_obj"]


@dataclass(frozen=True, slots=True)
class SecretMatch:
    """One secret value found in a text: ``text[start:end]`` is the value (never the key name)."""

    kind: str
    start: int
    end: int


# (start, end, kind, priority); lower priority number = more specific kind, wins when spans overlap.
_Candidate = tuple[int, int, str, int]
_Scanner = Callable[[str, str], Iterator[_Candidate]]

_MARKER = re.compile(r"\[REDACTED:[a-z0-9-]+\]")

_P_PEM = 0
_P_FORMAT = 1
_P_JWT = 2
_P_CONTEXT = 3
_P_ASSIGN = 4
_P_LOOSE = 5

# ----------------------------------------------------------------------------------------------------------
# Value heuristics
# ----------------------------------------------------------------------------------------------------------

_PLACEHOLDER_WORDS = frozenset(
    {
        "changeme", "change_me", "change-me", "changeit", "password", "passwd", "pass", "secret", "token",
        "apikey", "api_key", "api-key", "key", "example", "placeholder", "redacted", "dummy", "none", "null",
        "nil", "undefined", "todo", "fixme", "tbd", "replaceme", "replace_me", "replace-me", "true", "false",
        "yes", "no", "on", "off", "self", "this", "str", "string", "int", "bool", "boolean", "number",
        "bytes", "any", "optional", "secretstr", "required", "masked", "hidden", "empty", "default",
        "notset", "unset", "await", "new", "lambda", "function", "async", "return", "bearer", "basic", "asc",
        "desc",
    }
)  # fmt: skip
_MASK = re.compile(r"[*xX.•#?_\s-]+")
_UPPER_SNAKE = re.compile(r"_?[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")  # CONSTANT_NAME: a reference or a placeholder
_TEMPLATE = re.compile(r"%[sd(]|\{[^{}]*\}|^#[0-9a-fA-F]{3,8}$|^os\.environ")
_SMALL_NUMBER = re.compile(r"-?\d{1,5}(?:\.\d+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z_]*")  # identifier without digits
_SNAKE_IDENT = re.compile(r"[A-Za-z_]\w*_\w*")
_DOTTED = re.compile(r"[A-Za-z_$][\w$]*(?:(?:\.|::)[A-Za-z_$][\w$]*)+")
_CODE_ROOTS = frozenset(
    {
        "self", "cls", "this", "os", "settings", "config", "cfg", "conf", "env", "process", "args", "opts",
        "options", "ctx", "context", "request", "req", "params", "kwargs", "app", "secrets", "credentials",
        "creds", "st", "environ", "vault", "std", "props", "state", "window", "import",
    }
)  # fmt: skip


def _is_placeholder(value: str) -> bool:
    v = value.strip()
    if not v:
        return True
    first = v[0]
    if first in "$%{<" or (v.endswith(">") and "<" in v):
        return True
    if _MASK.fullmatch(v) or "***" in v or "..." in v or "…" in v or "••" in v:
        return True
    lv = v.lower()
    if (
        lv in _PLACEHOLDER_WORDS
        or lv.startswith("your")
        or lv.endswith(("_here", "-here"))
        or "redacted" in lv
    ):
        return True
    return bool(_UPPER_SNAKE.fullmatch(v) or _TEMPLATE.search(v))


def _classes(value: str) -> int:
    """How many of lowercase / uppercase / digit occur in ``value``."""
    lower = upper = digit = False
    for ch in value:
        if "a" <= ch <= "z":
            lower = True
        elif "A" <= ch <= "Z":
            upper = True
        elif "0" <= ch <= "9":
            digit = True
    return lower + upper + digit


def _looks_random(value: str) -> bool:
    return _classes(value) >= 2


def _random_enough(value: str) -> bool:
    """At least 8 characters mixing letters and digits, as generated keys do."""
    return len(value) >= 8 and any(ch.isdigit() for ch in value) and any(ch.isalpha() for ch in value)


# ----------------------------------------------------------------------------------------------------------
# Fixed-format tokens
# ----------------------------------------------------------------------------------------------------------
# Each regex starts with a literal so re uses its fast prefix search (an alternation of different first
# letters drops that to ~100 MB/s). Word boundaries are look-behinds placed *after* the literal:
# "(?<![A-Za-z0-9].{N})" where N is the literal's length. Formats sharing a first literal are one regex; the
# kind comes from the group that matched.

_AWS_ID_PREFIXES = "KIA|SIA|GPA|IDA|ROA|IPA|NPA|NVA|PKA|BIA|CCA"
# (needles: the regex only runs when one occurs, or always when empty; regex; group -> kind; value check)
_FORMAT_RULES: list[tuple[tuple[str, ...], re.Pattern[str], dict[str, str], Callable[[str], bool] | None]] = [
    (
        ("sk-", "sk_"),
        re.compile(
            r"(?P<v>sk(?<![A-Za-z0-9_-].{2})(?:"
            r"(?P<ant>-ant-[A-Za-z0-9_-]{20,})"
            r"|(?P<oai>-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,})"
            r"|(?P<stripe>_(?:live|test)_[A-Za-z0-9]{10,})))"
        ),
        {"ant": "anthropic-key", "oai": "openai-key", "stripe": "stripe-key"},
        lambda v: _looks_random(v[3:]),
    ),
    (
        ("rk_",),
        re.compile(r"(?P<v>rk_(?<![A-Za-z0-9_-].{3})(?:live|test)_[A-Za-z0-9]{10,})"),
        {"v": "stripe-key"},
        _looks_random,
    ),
    (
        ("gh", "gl", "github_pat_"),
        re.compile(
            r"(?P<v>g(?<![A-Za-z0-9_-].)(?:"
            r"(?P<gh>h[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])|ithub_pat_[A-Za-z0-9_]{22,255})"
            r"|(?P<gl>l(?:pat|dt|rt|ptt)-[A-Za-z0-9_-]{20,})))"
        ),
        {"gh": "github-token", "gl": "gitlab-token"},
        _looks_random,
    ),
    (
        (),
        re.compile(
            r"(?P<v>A(?<![A-Za-z0-9_-].)(?:"
            r"(?P<aws>(?:" + _AWS_ID_PREFIXES + r")[A-Z0-9]{16}(?![A-Za-z0-9]))"
            r"|(?P<google>Iza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-]))))"
        ),
        {"aws": "aws-access-key-id", "google": "google-api-key"},
        None,
    ),
    (
        ("xox", "xapp-"),
        re.compile(r"(?P<v>x(?<![A-Za-z0-9_-].)(?:ox[abposr]-[A-Za-z0-9-]{10,}|app-\d-[A-Za-z0-9-]{10,}))"),
        {"v": "slack-token"},
        None,
    ),
    (
        ("hooks.slack.com",),
        re.compile(
            r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<v>T[A-Za-z0-9]+/[A-Za-z0-9/_-]{8,})"
        ),
        {"v": "slack-webhook"},
        None,
    ),
    (
        ("hf_",),
        re.compile(r"(?P<v>hf_(?<![A-Za-z0-9_-].{3})[A-Za-z0-9]{30,})(?![A-Za-z0-9_])"),
        {"v": "huggingface-token"},
        _looks_random,
    ),
    (
        ("npm_",),
        re.compile(r"(?P<v>npm_(?<![A-Za-z0-9_-].{4})[A-Za-z0-9]{36,})(?![A-Za-z0-9_])"),
        {"v": "npm-token"},
        _looks_random,
    ),
    (
        ("pypi-",),
        re.compile(r"(?P<v>pypi-(?<![A-Za-z0-9_-].{5})AgE[A-Za-z0-9_-]{50,})"),
        {"v": "pypi-token"},
        None,
    ),
]

_JWT = re.compile(
    r"(?P<v>eyJ(?<![A-Za-z0-9_-].{3})[A-Za-z0-9_-]{8,4096}"
    r"\.eyJ[A-Za-z0-9_-]{8,65536}\.[A-Za-z0-9_=-]{0,4096})"
)


def _present(text: str, needles: tuple[str, ...]) -> bool:
    """Cheap pre-check: ``str.find`` skips through text faster than a regex scan and stops at the first hit."""
    for needle in needles:
        if needle in text:
            return True
    return not needles


def _scan_formats(text: str, low: str) -> Iterator[_Candidate]:
    for needles, pattern, kinds, check in _FORMAT_RULES:
        if not _present(text, needles):
            continue
        for m in pattern.finditer(text):
            if check is not None and not check(m.group("v")):
                continue
            for group, kind in kinds.items():
                if m.group(group) is not None:
                    yield m.start("v"), m.end("v"), kind, _P_FORMAT
                    break
    if "eyJ" in text:
        for m in _JWT.finditer(text):
            yield m.start("v"), m.end("v"), "jwt", _P_JWT


# ----------------------------------------------------------------------------------------------------------
# Private keys
# ----------------------------------------------------------------------------------------------------------

_PEM_FULL = re.compile(
    r"-----BEGIN (?P<label>[A-Z0-9 ]{0,40}?)PRIVATE KEY(?P<blk>(?: BLOCK)?)-----"
    r"(?P<v>(?:[^-]|-(?!----)){1,65536})"  # never crosses another "-----" line: linear even without END
    r"-----END (?P=label)PRIVATE KEY(?P=blk)-----"
)
# Armour cut off before its END line (truncated tool output): take the base64 / header / blank lines.
_PEM_OPEN = re.compile(
    r"-----BEGIN [A-Z0-9 ]{0,40}?PRIVATE KEY(?: BLOCK)?-----"
    r"(?P<v>(?:[ \t]*(?:[A-Za-z0-9+/=]{1,200}|[A-Za-z][A-Za-z0-9-]*:[^\r\n\\]*)?[ \t]*(?:\r?\n|\\r\\n|\\n))*"
    r"[ \t]*[A-Za-z0-9+/=]*)"
)
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/=]{16,}")
_LEAD_WS = re.compile(r"(?:\s|\\[rn])*")
_TAIL_WS = re.compile(r"(?:\s|\\[rn])*$")


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink ``[start, end)`` past leading/trailing whitespace and literal ``\\n``/``\\r`` escapes."""
    value = text[start:end]
    lead = _LEAD_WS.match(value)
    s = start + (lead.end() if lead else 0)
    tail = _TAIL_WS.search(value)
    e = start + (tail.start() if tail else len(value))
    return s, max(s, e)


def _scan_private_keys(text: str, low: str) -> Iterator[_Candidate]:
    if "PRIVATE KEY" not in text:
        return
    for pattern in (_PEM_FULL, _PEM_OPEN):
        for m in pattern.finditer(text):
            s, e = _trim(text, m.start("v"), m.end("v"))
            if e > s and _BASE64_RUN.search(text, s, e):  # not b"-----BEGIN ... KEY-----" constants in code
                yield s, e, "private-key", _P_PEM


# ----------------------------------------------------------------------------------------------------------
# Authorization headers, bearer tokens, URL passwords, command-line passwords
# ----------------------------------------------------------------------------------------------------------
# Case-insensitive rules run on ``low`` (a lowercased copy with identical indexes), so they too start with a
# single literal; values are then read from the case-preserving text.

_AUTH_HEADER = re.compile(
    r"authorization(?:\\?[\"'])?[ \t]*[:=][ \t]*(?:f?\\?[\"'])?[ \t]*"
    r"(?:(?P<scheme>bearer|basic|token)[ \t]+)?"
    r"(?P<v>[a-z0-9\-._~+/]+=*)"
)
_BEARER = re.compile(r"bearer(?<![a-z0-9_].{6})[ \t]+(?P<v>[a-z0-9\-._~+/]+=*)")
_SCHEME_WORDS = frozenset({"bearer", "basic", "token", "digest", "negotiate"})


def _masked_or_cut(text: str, end: int) -> bool:
    """The token goes on with a character it cannot hold: ``hf_***`` (masked), ``base64_encoded_creds``, or
    ``abc…`` (``?`` in the ASCII view)."""
    return text[end : end + 1] in ("*", "_", "?", "…", "$", "{", "<")


def _scan_auth(text: str, low: str) -> Iterator[_Candidate]:
    for m in _AUTH_HEADER.finditer(low) if "authorization" in low else ():
        s, e = m.span("v")
        v = text[s:e]
        if _is_placeholder(v) or v.rstrip("=").lower() in _SCHEME_WORDS or _masked_or_cut(text, e):
            continue
        scheme = m.group("scheme")
        if scheme == "basic":
            if len(v) >= 8:
                yield s, e, "basic-auth", _P_CONTEXT
        elif scheme:
            if len(v) >= 6 or any(c.isdigit() for c in v):
                yield s, e, "bearer-token", _P_CONTEXT
        elif len(v) >= 20 and _looks_random(v) and any(c.isdigit() for c in v):
            yield s, e, "bearer-token", _P_CONTEXT
    for m in _BEARER.finditer(low) if "bearer" in low else ():
        s, e = m.span("v")
        v = text[s:e]
        if _is_placeholder(v) or _masked_or_cut(text, e):
            continue
        has_digit = any(ch.isdigit() for ch in v)
        if (len(v) >= 16 and has_digit and _looks_random(v)) or (len(v) >= 32 and _looks_random(v)):
            yield s, e, "bearer-token", _P_LOOSE


# scheme://user:PASSWORD@host — anchored on "://"; the password may contain '@' (the last one ends it).
_URL_PASSWORD = re.compile(
    r"://(?P<user>[^\s:/?#@'\"<>\[\]\\]{0,256}):(?P<v>[^\s/?#'\"<>\\]{1,256})@(?=[A-Za-z0-9\[_])"
)


def _scan_url_passwords(text: str, low: str) -> Iterator[_Candidate]:
    if "://" not in text:
        return
    for m in _URL_PASSWORD.finditer(text):
        v = m.group("v")
        if not _is_placeholder(v):
            yield m.start("v"), m.end("v"), "url-password", _P_CONTEXT


_ARG_VALUE = r"(?:\"(?P<d>[^\"\n]+)\"|'(?P<s>[^'\n]+)'|(?P<u>[^\s\"'`;&|<>()]+))"
_CURL_USER = (  # only tried when "-u" occurs (it also starts "--user")
    re.compile(r"-u[ \t=]+[\"']?(?P<user>[^\s:\"'$]+):(?P<v>[^\s\"']+)"),
    re.compile(r"--user[ \t=]+[\"']?(?P<user>[^\s:\"'$]+):(?P<v>[^\s\"']+)"),
)
_CLI_PASSWORDS = (  # (needle, regex): the regex only runs when the needle occurs
    ("sshpass", re.compile(r"sshpass[ \t]+-p[ \t]*" + _ARG_VALUE)),
    ("mysql", re.compile(r"mysql(?:dump|admin)?(?:\.exe)?\b[^\n|;&]{0,200}?[ \t]-p" + _ARG_VALUE)),
    ("docker login", re.compile(r"docker login\b[^\n|;&]{0,200}?[ \t]-p[ \t]+" + _ARG_VALUE)),
    ("redis-cli", re.compile(r"redis-cli\b[^\n|;&]{0,200}?[ \t]-a[ \t]+" + _ARG_VALUE)),
    (" password", re.compile(r"login[ \t]+\S+[ \t]+password[ \t]+" + _ARG_VALUE)),  # .netrc
)


def _arg_span(m: re.Match[str]) -> tuple[int, int] | None:
    for group in ("d", "s", "u"):
        if m.group(group) is not None:
            v = m.group(group)
            if _is_placeholder(v) or v.startswith("-"):
                return None
            return m.start(group), m.end(group)
    return None


def _scan_cli(text: str, low: str) -> Iterator[_Candidate]:
    if "-u" in text:
        for pattern in _CURL_USER:
            for m in pattern.finditer(text):
                before = text[m.start() - 1] if m.start() else " "
                user, v = m.group("user"), m.group("v")
                if (
                    not before.isspace()
                    or _is_placeholder(v)
                    or v == user
                    or (user.isdigit() and v.isdigit())
                ):
                    continue
                yield m.start("v"), m.end("v"), "basic-auth", _P_CONTEXT
    for needle, pattern in _CLI_PASSWORDS:
        for m in pattern.finditer(text) if needle in text else ():
            span = _arg_span(m)
            if span:
                yield span[0], span[1], "password-assignment", _P_CONTEXT


# ----------------------------------------------------------------------------------------------------------
# Assignments: KEY=value, "key": "value", key: value, --flag value
# ----------------------------------------------------------------------------------------------------------

_KEYWORDS = ("token", "secret", "key", "pass", "pwd", "credential")
# Run on ``low``: keyword, rest of the name, closing quote/bracket of the key, separator. One regex per
# keyword keeps re's literal-prefix fast path; a name holding two keywords is found twice and merged later.
_ASSIGN_HITS = tuple(
    re.compile(kw + r"(?P<rest>[a-z0-9_.-]{0,64})(?P<close>\\?[\"']?\]?)[ \t]*(?P<sep>:=|[:=](?![=>:]))")
    for kw in _KEYWORDS
)
_FLAG_HIT = re.compile(
    r"--(?=[a-z])[a-z0-9_.-]{0,40}?(?:" + "|".join(_KEYWORDS) + r")[a-z0-9_.-]{0,40}(?P<sep>[ \t]+)"
)
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_LINE_PREFIX_CHARS = frozenset(" \t-*>#<+\"'|")

_VALUE = re.compile(
    r"[ \t]*(?:"
    r"[rRbBuU]{0,2}\\\"(?P<e>(?:[^\"\\\n]|\\[^\"\n]){0,4096})\\\""
    r"|[rRbBuU]{0,2}\"(?P<d>(?:[^\"\\\n]|\\.){0,4096})\""
    r"|[rRbBuU]{0,2}'(?P<s>[^'\n]{0,4096})'"
    r"|(?P<u>[^\s\"'`,;&|<>(){}\[\]\\]{1,4096})"
    r")"
)
_LINE_VALUE = re.compile(r"[ \t]+(?P<u>[^\s\"'`#\\|>&!*\[{][^\n\"'`\\]{0,4096})")
_ANNOTATION = re.compile(
    r"[ \t]*[A-Za-z_][\w.]*(?:\[[^\]\n]*\])?"
    r"(?:[ \t]*\|[ \t]*[A-Za-z_][\w.]*(?:\[[^\]\n]*\])?)*[ \t]*=(?![=>])"
)
_FLAG_PROSE = frozenset(
    {
        "and", "or", "to", "is", "are", "option", "options", "flag", "flags", "argument", "arguments", "arg",
        "args", "parameter", "parameters", "requires", "required", "must", "should", "can", "will", "the",
        "a", "an", "with", "for", "of", "in", "instead", "when", "if", "that", "this", "was", "not", "as",
        "be", "value", "values", "only", "also", "env", "file", "from", "switch", "takes", "expects",
    }
)  # fmt: skip
_PROSE_WORDS = frozenset(
    {"the", "a", "an", "to", "for", "of", "is", "are", "with", "your", "this", "that", "be", "in", "if", "or"}
)
_SELF_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "api key",
    "credential",
)
_NAME_SECRET_WORDS = frozenset({"key", "pass", "pwd", "passphrase"})
_LOWER_IDENT = re.compile(r"[a-z]+(?:[_-]+[a-z]+)+|_+[a-z_]+")  # failed-to-connect, key_hash, __dunder__
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_TYPE_HEAD = re.compile(r"[A-Za-z_][\w.]*")
_CAMEL = re.compile(r"(?:[A-Z][a-z]+)+[A-Z]?|[A-Z][A-Za-z]*[a-z][A-Za-z]*")
_TYPE_WORDS = frozenset(
    {
        "str", "int", "bool", "bytes", "float", "dict", "list", "tuple", "set", "frozenset", "object", "any",
        "none", "optional", "union", "callable", "sequence", "mapping", "annotated", "notrequired",
        "required", "readonly", "final", "secretstr", "secretbytes", "string", "number", "boolean", "array",
        "unknown", "void", "never", "bigint", "char", "varchar", "text", "uuid", "path", "pathlike", "type",
        "literal",
    }
)  # fmt: skip
_PASS_QUALIFIERS = frozenset(
    {
        "db", "database", "smtp", "mail", "email", "imap", "pop", "user", "admin", "root", "ftp", "sftp",
        "ssh", "redis", "mysql", "pg", "postgres", "postgresql", "mongo", "mongodb", "ldap", "api", "app",
        "service", "account", "login", "cert", "keystore", "truststore", "vault", "rabbitmq", "amqp", "mq",
        "wifi", "http", "basic", "auth", "sql", "master", "bind", "proxy_auth", "registry", "docker", "git",
        "sudo", "key",
    }
)  # fmt: skip
_WORD = re.compile(r"(?<![A-Za-z])[Vv]\d+(?![a-z])|[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

_NON_SECRET_TAIL = frozenset(
    {
        "count", "counts", "id", "ids", "file", "files", "path", "paths", "dir", "url", "uri", "endpoint",
        "name", "names", "type", "types", "size", "len", "length", "min", "max", "limit", "limits", "hash",
        "digest", "sha", "checksum", "policy", "expiry", "expires", "expiration", "ttl", "lifetime",
        "timeout", "reset", "hint", "field", "label", "prompt", "env", "var", "mode", "rotation", "stdin",
        "command", "cmd", "header", "prefix", "suffix", "format", "algorithm", "alg", "issuer", "audience",
        "scope", "scopes", "version", "arn", "ref", "location", "kind", "index", "usage", "used", "budget",
        "estimate", "estimator", "bytes", "required", "enabled", "disabled", "regex", "pattern",
        "validation", "validator", "strength", "input", "placeholder", "help", "description", "message",
        "msg", "error", "text", "title", "doc", "docs", "warning", "info", "note", "question", "notice",
        "manager", "mgr", "store", "helper", "provider", "spec", "schema", "handler", "callback", "factory",
        "class", "service", "fn", "func", "method", "attr", "attribute",
    }
)  # fmt: skip
_TAIL_OK = frozenset(
    {
        "base", "value", "val", "b64", "base64", "encoded", "raw", "prod", "production", "dev",
        "development", "staging", "stage", "test", "live", "default", "override", "plain", "plaintext",
        "local", "global", "hex",
    }
)  # fmt: skip
_KEY_QUALIFIER_DENY = frozenset(
    {
        "public", "pub", "sort", "sorting", "cache", "primary", "foreign", "partition", "hot", "lookup",
        "map", "dict", "hash", "group", "grouping", "index", "row", "column", "unique", "composite",
        "shortcut", "object", "idempotency", "dedup", "dedupe", "cursor", "routing", "range", "shard",
        "secondary", "natural", "surrogate", "translation", "i18n", "event", "state", "item", "node",
        "query", "table", "join", "lock", "config", "setting", "settings", "record", "registry", "s3",
        "prefix", "react", "dom", "keyboard", "press", "sign", "verify", "verification", "jwks", "sys",
        "str", "bytes", "int", "string",
    }
)  # fmt: skip
_TOKEN_QUALIFIER_DENY = frozenset(
    {
        "next", "page", "pagination", "continuation", "cancel", "cancellation", "eos", "bos", "pad", "unk",
        "sep", "cls", "mask", "start", "end", "stop", "special", "max", "min", "num", "last", "first",
        "sample", "split", "delimiter", "sentence", "word", "bpe", "decoder", "encoder", "eot", "eom", "im",
        "image", "audio", "vision", "begin", "sync", "resume", "type", "lexer", "parser", "syntax",
        "default",
    }
)  # fmt: skip
_COMPOUND_SUFFIXES = ("token", "secret", "apikey", "secretkey", "privatekey", "accesskey", "signingkey")


def _harmless_tail(word: str) -> bool:
    """A word that may follow the secret word: ``SECRET_KEY_BASE``, ``API_KEY_V2``, ``GITHUB_TOKEN_2``."""
    return word in _TAIL_OK or word.isdigit() or (word[:1] == "v" and word[1:].isdigit())


@lru_cache(maxsize=4096)
def _classify_name(name: str) -> str | None:
    """Kind of secret a key name holds (``password-assignment``, ``env-secret``, ``aws-secret-key``) or None.

    Only the last dotted segment counts: ``self.api_key`` is ``api_key``, ``self.key`` is a bare ``key``.
    """
    words = [w.lower() for w in _WORD.findall(name.rsplit(".", 1)[-1])]
    if not words:
        return None
    last = words[-1]
    if last in _NON_SECRET_TAIL:
        return None
    compact = "".join(words)
    if "secretaccesskey" in compact or compact.endswith("awssecretkey"):
        return "aws-secret-key"
    if "password" in compact or "passwd" in compact or "passphrase" in compact:
        return "password-assignment"
    idx = len(words) - 1
    if idx > 0 and _harmless_tail(last):
        idx -= 1
    word = words[idx]
    prev = words[idx - 1] if idx > 0 else None
    if word == "token":
        return None if prev in _TOKEN_QUALIFIER_DENY else "env-secret"
    if word in ("secret", "credential", "apikey") or word.endswith(_COMPOUND_SUFFIXES):
        return "env-secret"
    if word == "key":
        if prev is None or prev in _KEY_QUALIFIER_DENY:
            return None
        return "env-secret"
    if word in ("pass", "pwd") and prev in _PASS_QUALIFIERS:
        return "password-assignment"
    return None


_STRONG_KEY_QUALIFIERS = frozenset(
    {
        "api", "secret", "private", "access", "signing", "encryption", "encrypt", "crypt", "master",
        "client", "auth", "app", "service", "account", "license", "admin", "hmac", "jwt", "cipher", "aes",
        "enc", "storage", "subscription", "consumer", "deploy", "session", "ssh", "gpg", "pgp", "webhook",
        "write", "read", "root", "server", "stripe", "openai", "anthropic", "aws", "azure", "gcp", "google",
        "mapbox", "sendgrid", "mailgun", "twilio", "algolia", "sentry", "datadog", "dd", "pusher",
        "firebase", "supabase", "cohere", "mistral", "groq", "gemini", "huggingface", "hf", "replicate",
        "pinecone", "langchain", "langsmith", "wandb", "tavily", "serp", "serpapi", "brave", "exa",
        "perplexity", "xai", "deepseek", "together", "fireworks", "voyage", "jina", "elevenlabs",
        "assemblyai", "deepgram", "stability",
    }
)  # fmt: skip


@lru_cache(maxsize=4096)
def _weak_key_name(name: str) -> bool:
    """``*_KEY`` names that usually hold an identifier (``CACHE_PREFIX_KEY = "user"``) rather than a key:
    their values are only redacted when they look random."""
    words = [w.lower() for w in _WORD.findall(name.rsplit(".", 1)[-1])]
    idx = len(words) - 1
    if idx > 0 and _harmless_tail(words[idx]):
        idx -= 1
    if idx < 1 or words[idx] != "key":
        return False
    return words[idx - 1] not in _STRONG_KEY_QUALIFIERS


def _name_start(text: str, end: int) -> int:
    start = end
    limit = max(0, end - 128)
    while start > limit and text[start - 1] in _NAME_CHARS:
        start -= 1
    return start


def _names_itself(value: str, name: str) -> bool:
    """``api_key=api_key``, ``REFRESH_TOKEN = "refresh_token"``, ``"secret": "V1SecretVolumeSource"``: the
    value is an identifier or a description, not a credential."""
    lv = value.lower()
    words = [w.lower() for w in _WORD.findall(name)]
    if (" " in lv or not any(ch.isdigit() for ch in lv)) and (
        any(word in lv for word in _SELF_WORDS) or any(w in lv for w in words if w in _NAME_SECRET_WORDS)
    ):
        return True
    compact = _NON_ALNUM.sub("", lv)
    return bool(compact) and compact in "".join(words)


def _looks_like_type(value: str) -> bool:
    """``str | None``, ``Optional[str]``, ``bool, default True``, ``TokenCredential``: annotations, docs."""
    head = _TYPE_HEAD.match(value)
    if head is None:
        return False
    first = head.group(0)
    if first.lower().rsplit(".", 1)[-1] in _TYPE_WORDS:
        return True
    rest = value[head.end() :].lstrip()
    if rest[:1] in ("|", "["):
        return True
    return not rest and _CAMEL.fullmatch(first) is not None


def _code_reference(value: str, text: str, end: int, spaced: bool) -> bool:
    """Unquoted values that are code (a call, subscript, dotted reference or variable), not a literal."""
    nxt = text[end : end + 1]
    if nxt and nxt in "([\"'.":
        return True
    if nxt and nxt in "),:" and (_IDENT.fullmatch(value) or _SNAKE_IDENT.fullmatch(value)):
        return True  # f(password=pw), f(token=s3_token), {token: tok}
    if _DOTTED.fullmatch(value):  # creds.secret_key, process.env.TOKEN, settings.X
        root = re.split(r"\.|::", value, maxsplit=1)[0].lower()
        if spaced or root in _CODE_ROOTS or not any(ch.isdigit() for ch in value):
            return True
    return spaced and bool(_IDENT.fullmatch(value))


def _plausible_value(value: str, name: str, kind: str) -> bool:
    """Whether a literal assigned to a secret-looking name is worth redacting (also used by redact_obj)."""
    if (
        len(value) < 3
        or _is_placeholder(value)
        or _SMALL_NUMBER.fullmatch(value)
        or _names_itself(value, name)
    ):
        return False
    if kind == "env-secret" and _LOWER_IDENT.fullmatch(value):
        return False  # token="failed-to-connect", api_key=resolved_key: names, not credentials
    return not _weak_key_name(name) or _random_enough(value)


def _value_span(m: re.Match[str]) -> tuple[int, int, str, bool]:
    for group in ("e", "d", "s"):
        if m.group(group) is not None:
            return m.start(group), m.end(group), m.group(group), False
    return m.start("u"), m.end("u"), m.group("u"), True


def _assignment(text: str, m: re.Match[str]) -> tuple[_Candidate | None, int]:
    """Judge one ``<name containing a keyword><sep>`` hit; the value is read from the original text.

    Returns the finding (or None) and where the parsed value ends (0 if none was parsed).
    """
    key_end = m.end("rest")
    start = _name_start(text, m.start())
    name = text[start:key_end]
    kind = _classify_name(name.strip(".-"))
    if kind is None:
        return None, 0
    before = text[start - 1] if start else ""
    if before == "$":  # $TOKEN / ${TOKEN}: a reference, not an assignment
        return None, 0
    close = m.group("close")
    quote = close.replace("\\", "").replace("]", "")
    if quote and before != quote:
        return None, 0
    if close.endswith("]") and (text[start - 2 : start - 1] if quote else before) != "[":
        return None, 0
    sep = m.group("sep")
    pos = m.end()
    spaced = sep != ":" and text[m.start("sep") - 1 : m.start("sep")] in (" ", "\t")
    if sep == ":":
        ann = _ANNOTATION.match(text, pos)
        if ann:  # api_key: str = "..."
            pos, sep, spaced = ann.end(), "=", True
    vm = _VALUE.match(text, pos)
    if vm is None:
        return None, 0
    vs, ve, value, unquoted = _value_span(vm)
    spaced = spaced or (vs > pos and text[pos] in " \t")
    if unquoted and sep == ":" and not quote:
        # YAML / HTTP header: the value is the rest of the line, taken only when the key starts its line and a
        # space follows the colon ("key:value" is not YAML, "Invalid token: expected" is prose).
        lo = max(0, start - 80)
        newline = text.rfind("\n", lo, start)
        if newline < 0 and lo > 0:
            return None, ve
        prefix = text[newline + 1 : start]
        if before in "\"'" and len(prefix) >= 2 and prefix[-2].isspace():
            prefix = ""  # curl -H "X-Api-Key: ...": the key opens a quoted argument
        if vs == pos or not all(ch in _LINE_PREFIX_CHARS for ch in prefix):
            return None, ve
        lm = _LINE_VALUE.match(text, pos)
        if lm is None:
            return None, ve
        vs = lm.start("u")
        value = lm.group("u")
        cut = value.find(" #")
        if cut >= 0:
            value = value[:cut]
        value = value.rstrip().rstrip(",;").rstrip()
        ve = vs + len(value)
        words = value.lower().split()
        if len(words) >= 3 and not _PROSE_WORDS.isdisjoint(words):  # "- password: The password to use."
            return None, ve
        if _looks_like_type(value) or any(ch in value for ch in "([{"):  # annotations, code
            return None, ve
    elif unquoted and _code_reference(value, text, ve, spaced):
        return None, ve
    elif not unquoted and sep == ":" and not quote and _looks_like_type(value):
        return None, ve  # def f(key: "StreamingScanKey | None")
    if not _plausible_value(value, name, kind):
        return None, ve
    return (vs, ve, kind, _P_ASSIGN), ve


def _scan_assignments(text: str, low: str) -> Iterator[_Candidate]:
    for keyword, hit in zip(_KEYWORDS, _ASSIGN_HITS, strict=True):
        if keyword not in low:
            continue
        skip_to = 0  # hits inside a value already parsed (API_KEY=API_KEY=...) are not names
        for m in hit.finditer(low):
            if m.start() < skip_to:
                continue
            found, skip_to = _assignment(text, m)
            if found is not None:
                yield found
    if "--" in text:
        for m in _FLAG_HIT.finditer(low):
            if m.start() and not (text[m.start() - 1].isspace() or text[m.start() - 1] in "\"'"):
                continue
            kind = _classify_name(text[m.start() : m.start("sep")].strip("-"))
            if kind is None:
                continue
            vm = _VALUE.match(text, m.end())
            if vm is None:
                continue
            vs, ve, value, unquoted = _value_span(vm)
            if value.startswith("-") or (unquoted and value.lower() in _FLAG_PROSE):
                continue  # "the --username and --password options can't be used"
            if _plausible_value(value, text[m.start() : m.start("sep")], kind):
                yield vs, ve, kind, _P_ASSIGN


# ----------------------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------------------

_SCANNERS: tuple[_Scanner, ...] = (
    _scan_private_keys,
    _scan_formats,
    _scan_auth,
    _scan_url_passwords,
    _scan_cli,
    _scan_assignments,
)


def _ascii_view(text: str) -> str:
    """``text`` with every non-ASCII code point replaced by ``?``: same length and indexes, one byte per char.

    Every credential format is ASCII, so rules lose nothing, and ``re`` scans a 1-byte string faster than the
    2- or 4-byte strings a single emoji or box-drawing character turns a log into. Its ``lower()`` is also
    length-preserving, unlike ``str.lower`` on some non-ASCII text (``"İ".lower()`` is two code points).
    """
    if text.isascii():
        return text
    return text.encode("ascii", "replace").decode("ascii")


def _outside_markers(text: str, candidates: list[_Candidate]) -> list[_Candidate]:
    """Drop findings that overlap an existing ``[REDACTED:...]`` marker (keeps :func:`redact` idempotent)."""
    starts: list[int] = []
    ends: list[int] = []
    for mm in _MARKER.finditer(text):
        starts.append(mm.start())
        ends.append(mm.end())
    if not starts:
        return candidates
    kept: list[_Candidate] = []
    for c in candidates:
        i = bisect_left(starts, c[1]) - 1  # last marker starting before the candidate ends
        if i < 0 or ends[i] <= c[0]:
            kept.append(c)
    return kept


def find_secrets(text: str) -> list[SecretMatch]:
    """All secret values in ``text``: non-overlapping, sorted by start; spans cover the value only."""
    if not text:
        return []
    view = _ascii_view(text)
    low = view.lower()
    candidates: list[_Candidate] = []
    for scan in _SCANNERS:
        candidates.extend(scan(view, low))
    if candidates and "[REDACTED:" in text:
        candidates = _outside_markers(text, candidates)
    if not candidates:
        return []
    candidates.sort(key=lambda c: (c[0], -c[1], c[3]))
    merged: list[SecretMatch] = []
    start, end, kind, prio = candidates[0]
    for s, e, k, p in candidates[1:]:
        if s < end:
            if e > end:
                end = e
            if p < prio:
                kind, prio = k, p
            continue
        merged.append(SecretMatch(kind, start, end))
        start, end, kind, prio = s, e, k, p
    merged.append(SecretMatch(kind, start, end))
    return merged


def redact(text: str) -> str:
    """Replace every secret value in ``text`` by ``[REDACTED:<kind>]``. Idempotent."""
    matches = find_secrets(text)
    if not matches:
        return text
    parts: list[str] = []
    pos = 0
    for match in matches:
        parts.append(text[pos : match.start])
        parts.append(f"[REDACTED:{match.kind}]")
        pos = match.end
    parts.append(text[pos:])
    return "".join(parts)


def contains_secret(text: str) -> bool:
    return bool(find_secrets(text))


def redact_obj(value: Any) -> Any:
    """Recursively redact strings inside dicts, lists and tuples, returning new containers.

    Dict keys are kept as they are. A string stored under a secret-looking key (``{"password": "hunter2"}``,
    ``{"GITHUB_TOKEN": "abc"}``) is replaced as a whole, by the same rules as a ``key=value`` assignment in
    text (placeholders, small numbers, names ... stay), because the key that identifies it is not part of the
    string itself. Any other string is passed through :func:`redact`. Other types are returned unchanged.
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and isinstance(item, str):
                kind = _classify_name(key)
                if kind is not None and _plausible_value(item.strip(), key, kind):
                    out[key] = f"[REDACTED:{kind}]"
                    continue
            out[key] = redact_obj(item)
        return out
    if isinstance(value, list):
        return [redact_obj(item) for item in value]
    if isinstance(value, tuple):
        return tuple(redact_obj(item) for item in value)
    return value
