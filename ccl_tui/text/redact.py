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
``aws-access-key-id`` (``AKIA ASIA AGPA AIDA AROA ...`` + 16), ``slack-token`` (``xox[abposre]-``, ``xapp-``),
``slack-webhook``, ``google-api-key`` (``AIza`` + 35), ``stripe-key`` (``sk_live_ rk_live_ sk_test_
rk_test_ whsec_``), ``huggingface-token`` (``hf_``), ``npm-token`` (``npm_``), ``pypi-token`` (``pypi-AgE...``),
``private-key`` (PEM/OpenSSH/PGP private key bodies, also when truncated before the END line or flattened onto
one line) and ``jwt``. Services with a distinctive prefix (:data:`_PREFIXED_RULES`): ``sendgrid-key``
(``SG.x.y``), ``twilio-key`` (``SK`` + 32 hex), ``mailgun-key`` (``key-`` + 32 lowercase letters and digits), ``square-token``,
``shopify-token``, ``digitalocean-token``, ``vault-token`` (``hvs.``), ``grafana-token``, ``linear-key``,
``databricks-token``, ``age-secret-key``, ``groq-key``, ``perplexity-key``, ``replicate-token``, ``xai-key``,
``tailscale-key``, ``postman-key``, ``newrelic-key``, ``supabase-token``, ``mapbox-token`` (``sk.eyJ``),
``doppler-token``, ``planetscale-token``, ``atlassian-token``, ``sentry-token``, ``figma-token``, ``flyio-token``,
``netlify-token``, ``notion-token``, ``dynatrace-token``, ``buildkite-token``, ``contentful-token``,
``docker-token``, ``pulumi-token``, ``brevo-key``, ``rubygems-key``, ``google-oauth-secret`` (``GOCSPX-``),
``google-oauth-token`` (``ya29.``), ``shippo-token``, ``heroku-key``, ``onepassword-token``, ``nuget-key``,
``firebase-key``; and shapes found from a literal inside them: ``telegram-bot-token`` (``<id>:AA...``),
``discord-token`` (checked: its first part is the base64 of a numeric id), ``mailchimp-key`` (``-us<N>``),
``azure-client-secret`` (``xxx8Q~...``).

Context-dependent values:
``bearer-token`` / ``basic-auth`` (``Authorization:`` headers, bare ``Bearer <token>``,
``curl -u user:pass``, and ``Basic <base64>`` anywhere when it decodes to ``user:pass``), ``url-password``
(``scheme://user:PASSWORD@host``; this also covers ``DATABASE_URL``), ``url-signature`` (``sig=`` of Azure SAS
URLs, ``X-Amz-Signature=``, ``X-Goog-Signature=``), ``aws-secret-key``, ``password-assignment`` and ``env-secret``
(``.env``/shell/JSON/YAML/TOML/CLI-flag assignments whose key name looks secret, which covers libpq
``host=db password=...``, Azure ``AccountKey=``/``SharedAccessKey=`` and ``*_API_KEY=...`` of any provider; ODBC
``...;Pwd=...;``; ``sshpass -p``, ``mysql -pX``, ``redis-cli -a``, ``docker login -p`` and ``.netrc``), and
secrets in prose (``my password is hunter2``, ``the api key is 9f8e...``).

Text cut short before it got here (an excerpt made elsewhere: ``Bearer abc…``, ``sk-proj-Ab3dEf...``): a value
that ends in ``…``/``...`` is still a secret when what is left is (12+ characters mixing letters and digits, or a
known prefix followed by 6+ characters of key material), so the visible part goes. Callers should still redact
the full text *before* cutting it (ccl_tui.tasks.text does).

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
  ``your-...``/``..._here`` (but not a long generated value cut short: ``Zq8x7Vb2Nm4L…``), ``UPPER_SNAKE`` constants, and words such as ``changeme password secret token
  example placeholder redacted dummy none null true false``); integers of at most 5 digits (counts, ports,
  limits: ``TOKEN_LIMIT=4096``; a 6+ digit PIN is redacted); values that name themselves (``api_key=api_key``,
  ``REFRESH_TOKEN = "refresh_token"``, ``"secret": "V1SecretVolumeSource"``, ``password: Redis password``);
  lowercase identifiers for token/key names (``token="failed-to-connect"``); and code rather than literals:
  unquoted values followed by ``(``/``[``/``.`` or by a quote (``f"..."``; unless the value is a 12+
  character generated key closing an outer quote: ``'KEY = Zq8x...'``), kwargs passing an identifier (``f(token=tok)``),
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
Most rules are first gated by ``needle in text`` (``str.find`` skips ahead and stops at the first hit); the
forty-odd service prefixes share one pass over runs of 20+ token characters instead of one pass each. Measured
on 258 MB of source, docs, JSON and rollouts (this package, the demo rollouts, the fixtures, site-packages; a
2-core machine): about 16 MB/s, against 43 MB/s before the service prefixes, prose and cut-value rules were added.
Redaction runs on task text, prompts, reports and repository snapshots, never during ingest. Values are bounded (4 KiB) and hits inside an already
parsed value are skipped, so adversarial input stays linear.
"""

from __future__ import annotations

import base64
import binascii
import itertools
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
        "changeme",
        "change_me",
        "change-me",
        "changeit",
        "password",
        "passwd",
        "pass",
        "secret",
        "token",
        "apikey",
        "api_key",
        "api-key",
        "key",
        "example",
        "placeholder",
        "redacted",
        "dummy",
        "none",
        "null",
        "nil",
        "undefined",
        "todo",
        "fixme",
        "tbd",
        "replaceme",
        "replace_me",
        "replace-me",
        "true",
        "false",
        "yes",
        "no",
        "on",
        "off",
        "self",
        "this",
        "str",
        "string",
        "int",
        "bool",
        "boolean",
        "number",
        "bytes",
        "any",
        "optional",
        "secretstr",
        "required",
        "masked",
        "hidden",
        "empty",
        "default",
        "notset",
        "unset",
        "await",
        "new",
        "lambda",
        "function",
        "async",
        "return",
        "bearer",
        "basic",
        "asc",
        "desc",
    }
)
_MASK = re.compile(r"[*xX.•#?_\s-]+")
_UPPER_SNAKE = re.compile(r"_?[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")  # CONSTANT_NAME: a reference or a placeholder
_TEMPLATE = re.compile(r"%[sd(]|\{[^{}]*\}|^#[0-9a-fA-F]{3,8}$|^os\.environ")
_SMALL_NUMBER = re.compile(r"-?\d{1,5}(?:\.\d+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z_]*")  # identifier without digits
_SNAKE_IDENT = re.compile(r"[A-Za-z_]\w*_\w*")
_DOTTED = re.compile(r"[A-Za-z_$][\w$]*(?:(?:\.|::)[A-Za-z_$][\w$]*)+")
_CODE_ROOTS = frozenset(
    {
        "self",
        "cls",
        "this",
        "os",
        "settings",
        "config",
        "cfg",
        "conf",
        "env",
        "process",
        "args",
        "opts",
        "options",
        "ctx",
        "context",
        "request",
        "req",
        "params",
        "kwargs",
        "app",
        "secrets",
        "credentials",
        "creds",
        "st",
        "environ",
        "vault",
        "std",
        "props",
        "state",
        "window",
        "import",
    }
)


def _is_placeholder(value: str) -> bool:
    v = value.strip()
    if not v:
        return True
    core = _cut_core(v)
    if core is not None and _long_cut_secret(core) and not _is_placeholder(core):
        return False  # "abc123def456ghi…": a secret cut short, not a mask
    first = v[0]
    if first in "$%{<" or (v.endswith(">") and "<" in v):
        return True
    if _MASK.fullmatch(v) or "***" in v or "..." in v or "…" in v or "••" in v:
        return True
    lv = v.lower()
    if lv in _PLACEHOLDER_WORDS or lv.startswith("your") or lv.endswith(("_here", "-here")) or "redacted" in lv:
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
        re.compile(r"(?P<v>x(?<![A-Za-z0-9_-].)(?:ox[abposre]-[A-Za-z0-9-]{10,}|app-\d-[A-Za-z0-9-]{10,}))"),
        {"v": "slack-token"},
        None,
    ),
    (
        ("hooks.slack.com",),
        re.compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<v>T[A-Za-z0-9]+/[A-Za-z0-9/_-]{8,})"),
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


def _prefixed(prefix: str, body: str, tail: str = r"(?![A-Za-z0-9_-])") -> re.Pattern[str]:
    """``prefix`` + ``body`` as one word: the literal comes first (fast search), the boundary is checked after."""
    return re.compile(rf"(?P<v>{re.escape(prefix)}(?<![A-Za-z0-9_-].{{{len(prefix)}}}){body}){tail}")


# Services whose keys carry a distinctive prefix: (regex, kind). Each prefix is specific enough on its
# own together with the exact shape after it (lengths and alphabets from the providers' documentation and from
# gitleaks' rule set); nothing here matches a hash, a UUID or a word.
_PREFIXED_RULES: list[tuple[re.Pattern[str], str]] = [
    (_prefixed("SG.", r"[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"), "sendgrid-key"),
    (_prefixed("SK", r"[0-9a-f]{32}"), "twilio-key"),
    (_prefixed("key-", r"(?=[a-z]{0,31}[0-9])[0-9a-z]{32}"), "mailgun-key"),
    (_prefixed("sq0atp-", r"[A-Za-z0-9_-]{22,60}"), "square-token"),
    (_prefixed("sq0csp-", r"[A-Za-z0-9_-]{22,60}"), "square-token"),
    *((_prefixed(f"shp{t}_", r"[a-fA-F0-9]{32}"), "shopify-token") for t in ("at", "ca", "pa", "ss")),
    *((_prefixed(f"do{t}_v1_", r"[a-f0-9]{64}"), "digitalocean-token") for t in "por"),
    *((_prefixed(f"hv{t}.", r"[A-Za-z0-9_-]{90,1024}"), "vault-token") for t in "sb"),
    (_prefixed("glsa_", r"[A-Za-z0-9]{32}_[a-f0-9]{8}"), "grafana-token"),
    (_prefixed("glc_", r"[A-Za-z0-9+/]{32,1024}={0,2}"), "grafana-token"),
    (_prefixed("lin_api_", r"[A-Za-z0-9]{40}"), "linear-key"),
    (_prefixed("dapi", r"[a-f0-9]{32}(?:-\d)?"), "databricks-token"),
    (_prefixed("AGE-SECRET-KEY-1", r"[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}"), "age-secret-key"),
    (_prefixed("gsk_", r"[A-Za-z0-9]{52}"), "groq-key"),
    (_prefixed("pplx-", r"[A-Za-z0-9]{48}"), "perplexity-key"),
    (_prefixed("r8_", r"[A-Za-z0-9]{37}"), "replicate-token"),
    (_prefixed("xai-", r"[A-Za-z0-9]{70,90}"), "xai-key"),
    (_prefixed("tskey-", r"[a-z]{3,8}-[A-Za-z0-9]{8,}-[A-Za-z0-9]{16,}"), "tailscale-key"),
    (_prefixed("PMAK-", r"[a-f0-9]{24}-[a-f0-9]{34}"), "postman-key"),
    *((_prefixed(f"NR{t}-", r"[A-Z0-9]{27,32}"), "newrelic-key") for t in ("AK", "II")),
    (_prefixed("sbp_", r"[a-f0-9]{40}"), "supabase-token"),
    (_prefixed("sk.eyJ", r"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}"), "mapbox-token"),
    *(
        (_prefixed(f"dp.{t}.", r"[A-Za-z0-9_.-]{40,256}"), "doppler-token")
        for t in ("st", "sa", "ct", "pt", "scim", "audit")
    ),
    *((_prefixed(f"pscale_{t}_", r"[A-Za-z0-9_.-]{32,64}"), "planetscale-token") for t in ("tkn", "pw", "oauth")),
    (_prefixed("ATATT3", r"[A-Za-z0-9_=-]{100,1024}"), "atlassian-token"),
    (_prefixed("sntrys_", r"eyJ[A-Za-z0-9+/=_-]{50,1024}"), "sentry-token"),
    (_prefixed("sntryu_", r"[a-f0-9]{64}"), "sentry-token"),
    (_prefixed("figd_", r"[A-Za-z0-9_-]{40,}"), "figma-token"),
    (_prefixed("fo1_", r"[A-Za-z0-9_-]{43}"), "flyio-token"),
    (_prefixed("nfp_", r"[A-Za-z0-9]{36}"), "netlify-token"),
    (_prefixed("ntn_", r"[A-Za-z0-9]{40,50}"), "notion-token"),
    (_prefixed("secret_", r"[A-Za-z0-9]{43}"), "notion-token"),
    (_prefixed("dt0c01.", r"[A-Z0-9]{24}\.[A-Z0-9]{64}"), "dynatrace-token"),
    (_prefixed("bkua_", r"[a-f0-9]{40}"), "buildkite-token"),
    (_prefixed("CFPAT-", r"[A-Za-z0-9_-]{43}"), "contentful-token"),
    (_prefixed("dckr_pat_", r"[A-Za-z0-9_-]{27,}"), "docker-token"),
    (_prefixed("pul-", r"[a-f0-9]{40}"), "pulumi-token"),
    (_prefixed("xkeysib-", r"[a-f0-9]{64}-[A-Za-z0-9]{16}"), "brevo-key"),
    (_prefixed("whsec_", r"[A-Za-z0-9+/=]{32,}"), "stripe-key"),
    (_prefixed("rubygems_", r"[a-f0-9]{48}"), "rubygems-key"),
    (_prefixed("GOCSPX-", r"[A-Za-z0-9_-]{28}"), "google-oauth-secret"),
    (_prefixed("ya29.", r"[A-Za-z0-9_-]{30,}"), "google-oauth-token"),
    *((_prefixed(f"shippo_{t}_", r"[a-f0-9]{40}"), "shippo-token") for t in ("live", "test")),
    (_prefixed("HRKU-", r"[A-Za-z0-9_-]{58,}"), "heroku-key"),
    (_prefixed("ops_eyJ", r"[A-Za-z0-9+/=_-]{100,}"), "onepassword-token"),
    (_prefixed("oy2", r"[a-z0-9]{43}"), "nuget-key"),
    (
        _prefixed("AAAA", r"[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{100,}"),
        "firebase-key",
    ),  # only tried with ":APA91b"
]
# Forty-odd ``needle in text`` passes would cost more than all other rules together, so these rules are tried
# only where a prefix starts a run of 20+ token characters (the start of the run, or after . = ~ : in it;
# not after + or /, which base64 blobs are full of).
_RUN = re.compile(r"[A-Za-z0-9_.+/=~:-]{20,}")
_RUN_INNER = re.compile(r"[.=~:]")
_PREFIXED_BY_FIRST: dict[str, list[tuple[str, re.Pattern[str], str]]] = {}
for _pattern, _kind in _PREFIXED_RULES:
    _literal = _pattern.pattern[len("(?P<v>") :].split("(?<!", 1)[0].replace("\\", "")
    _PREFIXED_BY_FIRST.setdefault(_literal[0], []).append((_literal, _pattern, _kind))


def _scan_prefixed(text: str) -> Iterator[_Candidate]:
    first = _PREFIXED_BY_FIRST
    for run in _RUN.finditer(text):
        start, token = run.start(), run.group()
        heads: tuple[int, ...] = (0,)
        if "." in token or "=" in token or ":" in token or "~" in token:
            heads = (0, *(m.end() for m in _RUN_INNER.finditer(token)))
        for i in heads:
            for literal, pattern, kind in first.get(token[i : i + 1], ()):
                if token.startswith(literal, i) and (literal != "AAAA" or ":APA91b" in token):
                    m = pattern.match(text, start + i)
                    if m is not None:
                        yield m.start("v"), m.end("v"), kind, _P_FORMAT


# Shapes without a literal prefix, found from a literal inside them and checked around it.
_TELEGRAM = re.compile(r"(?<![0-9])(?P<v>\d{8,10}:AA[A-Za-z0-9_-]{33})(?![A-Za-z0-9_-])")
_MAILCHIMP = re.compile(r"(?<![A-Za-z0-9])(?P<v>[0-9a-f]{32}-us\d{1,2})(?![A-Za-z0-9])")
_AZURE_AD_SECRET = re.compile(
    r"(?<![A-Za-z0-9_~.-])(?P<v>[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~.-])"
)
# Discord bot tokens: base64 of the bot's numeric id, a timestamp and an HMAC (three literal-first regexes).
_DISCORD = tuple(
    re.compile(
        rf"(?P<v>{c}(?<![A-Za-z0-9_.-].)[A-Za-z0-9_-]{{22,27}}\.[A-Za-z0-9_-]{{6}}\.[A-Za-z0-9_-]{{27,38}})"
        r"(?![A-Za-z0-9_.-])"
    )
    for c in "MNO"
)


def _discord_id(segment: str) -> bool:
    """The first part of a Discord token is the base64 of a 17-20 digit snowflake id."""
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (ValueError, binascii.Error):
        return False
    return 17 <= len(raw) <= 20 and raw.isdigit()


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
    yield from _scan_prefixed(text)
    for needle, pattern, kind in (
        (":AA", _TELEGRAM, "telegram-bot-token"),
        ("-us", _MAILCHIMP, "mailchimp-key"),
        ("Q~", _AZURE_AD_SECRET, "azure-client-secret"),
    ):
        if needle in text:
            for m in pattern.finditer(text):
                if kind != "azure-client-secret" or _looks_random(m.group("v")):
                    yield m.start("v"), m.end("v"), kind, _P_FORMAT
    if "." in text:
        for pattern in _DISCORD:
            for m in pattern.finditer(text):
                if _discord_id(m.group("v").split(".", 1)[0]):
                    yield m.start("v"), m.end("v"), "discord-token", _P_FORMAT


# Tokens cut short by an earlier excerpt (``ghp_Ab12Cd…``, ``sk-proj-Ab3dEf...``): too short for their format
# rule, but the visible part is still a piece of the secret. Taken when a known prefix is followed by 6+
# characters mixing classes and then the cut mark.
_CUT_PREFIXES: dict[str, str] = {
    "sk-": "openai-key",
    "sk_live_": "stripe-key",
    "sk_test_": "stripe-key",
    "rk_live_": "stripe-key",
    "rk_test_": "stripe-key",
    "ghp_": "github-token",
    "gho_": "github-token",
    "ghu_": "github-token",
    "ghs_": "github-token",
    "ghr_": "github-token",
    "github_pat_": "github-token",
    "glpat-": "gitlab-token",
    "AKIA": "aws-access-key-id",
    "ASIA": "aws-access-key-id",
    "AIza": "google-api-key",
    "xoxb-": "slack-token",
    "xoxp-": "slack-token",
    "xoxa-": "slack-token",
    "xoxe-": "slack-token",
    "xapp-": "slack-token",
    "hf_": "huggingface-token",
    "npm_": "npm-token",
    "pypi-AgE": "pypi-token",
    "eyJ": "jwt",
    "SG.": "sendgrid-key",
    "sq0atp-": "square-token",
    "sq0csp-": "square-token",
    "shpat_": "shopify-token",
    "shpss_": "shopify-token",
    "dop_v1_": "digitalocean-token",
    "hvs.": "vault-token",
    "glsa_": "grafana-token",
    "lin_api_": "linear-key",
    "AGE-SECRET-KEY-1": "age-secret-key",
    "gsk_": "groq-key",
    "pplx-": "perplexity-key",
    "r8_": "replicate-token",
    "tskey-": "tailscale-key",
    "PMAK-": "postman-key",
    "NRAK-": "newrelic-key",
    "sbp_": "supabase-token",
    "dp.st.": "doppler-token",
    "pscale_tkn_": "planetscale-token",
    "ATATT3": "atlassian-token",
    "GOCSPX-": "google-oauth-secret",
    "ya29.": "google-oauth-token",
    "dckr_pat_": "docker-token",
    "whsec_": "stripe-key",
    "xkeysib-": "brevo-key",
    "sk.eyJ": "mapbox-token",
    "SK": "twilio-key",
    "key-": "mailgun-key",
    "dapi": "databricks-token",
    "sntrys_": "sentry-token",
    "figd_": "figma-token",
    "glc_": "grafana-token",
    "ntn_": "notion-token",
    "HRKU-": "heroku-key",
}
#: Prefixes whose rest is hex only (so "SKIPPED…" or "key-value…" is not taken for a cut key).
_CUT_HEX = frozenset({"SK", "dapi", "dop_v1_", "shpat_", "shpss_", "sbp_", "PMAK-"})
_CUT_PREFIX_TUPLE = tuple(sorted(_CUT_PREFIXES, key=len, reverse=True))
# A cut mark right after 9+ token characters; the token is then read backwards from it.
_CUT_MARKS = (
    re.compile(r"\?(?<=[A-Za-z0-9_+/.~-]{9}.)"),
    re.compile(r"\.\.\.(?<=[A-Za-z0-9_+/.~-]{8}[A-Za-z0-9_+/~-]\.\.\.)"),  # the first "..." of a run of dots
)
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+/.~-")
_INNER_START = re.compile(r"[./+]")
_HEX_REST = re.compile(r"[0-9a-f]+(?:-[0-9a-f]*)*")
_TELEGRAM_HEAD = re.compile(r"(?<![0-9])\d{8,10}:$")
_AZURE_AD_HEAD = re.compile(r"[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{4,}")


def _cut_rest_ok(prefix: str, rest: str) -> bool:
    """What follows a known prefix up to the cut is key material, not a word or a placeholder."""
    if len(rest) < 6:
        return False
    if prefix in _CUT_HEX:
        return _HEX_REST.fullmatch(rest) is not None and any(ch.isdigit() for ch in rest)
    if prefix == "eyJ" and "." not in rest:
        return False  # only a JWT's header, which is public
    return any(ch.isdigit() for ch in rest) or _classes(rest) >= 2


def _cut_special(text: str, start: int, token: str) -> tuple[int, str] | None:
    """Cut tokens whose shape has no literal prefix: Telegram bot tokens (``123456789:AA…``), Discord bot
    tokens (base64 of a numeric id first) and Azure AD client secrets (``xxx8Q~…``)."""
    if token.startswith("AA") and len(token) >= 8 and _TELEGRAM_HEAD.search(text, max(0, start - 11), start):
        return len(token), "telegram-bot-token"
    if token[:1] in ("M", "N", "O") and len(token) >= 12:
        head = token.split(".", 1)[0][:24]
        head = head[: len(head) - len(head) % 4]
        try:
            raw = base64.urlsafe_b64decode(head)
        except (ValueError, binascii.Error):
            raw = b""
        if len(raw) >= 8 and raw.isdigit():
            return len(token), "discord-token"
    if "Q~" in token and _AZURE_AD_HEAD.fullmatch(token):
        return len(token), "azure-client-secret"
    return None


def _scan_cut_tokens(text: str, low: str) -> Iterator[_Candidate]:
    if "?" not in text and "..." not in text:
        return
    for mark in itertools.chain.from_iterable(pattern.finditer(text) for pattern in _CUT_MARKS):
        end = mark.start()
        start = end
        limit = max(0, end - 4096)
        while start > limit and text[start - 1] in _TOKEN_CHARS and text[start - 2 : start] != "..":
            start -= 1  # (never across an earlier "..": tokens between marks are read once, linear overall)
        token = text[start:end].rstrip(".")
        special = _cut_special(text, start, token)
        if special is not None:
            yield start, start + special[0], special[1], _P_FORMAT
            continue
        # A prefix starts the token or follows "." "/" "+" inside it (a URL, a dotted name).
        for i in (0, *(m.end() for m in _INNER_START.finditer(token))):
            prefix = next((p for p in _CUT_PREFIX_TUPLE if token.startswith(p, i)), None)
            if prefix is None:
                continue
            rest = token[i + len(prefix) :]
            if _cut_rest_ok(prefix, rest):
                yield start + i, start + len(token), _CUT_PREFIXES[prefix], _P_FORMAT
            break


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
# The same armour with its lines joined by spaces (a command or detail whitespace-normalised, maybe cut short):
# base64 chunks of 16+ characters separated by blanks, the last one possibly cut.
_PEM_FLAT = re.compile(
    r"-----BEGIN [A-Z0-9 ]{0,40}?PRIVATE KEY(?: BLOCK)?-----"
    r"(?P<v>(?:[ \t]+Proc-Type:[ \t]*[^\s]{1,40}[ \t]+DEK-Info:[ \t]*[^\s]{1,80})?"
    r"(?:[ \t]+[A-Za-z0-9+/=]{16,200}){0,2048}[ \t]+[A-Za-z0-9+/=]{1,200})"
)
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/=]{8,}")
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
    for pattern in (_PEM_FULL, _PEM_OPEN, _PEM_FLAT):
        for m in pattern.finditer(text):
            s, e = _trim(text, m.start("v"), m.end("v"))
            # Some base64 (8+ characters: a body cut short is still a piece of the key); not the empty armour
            # of code such as b"-----BEGIN OPENSSH PRIVATE KEY-----".
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


def _masked(text: str, end: int) -> bool:
    """The token goes on with a character it cannot hold: ``hf_***`` (masked), ``base64_encoded_creds``."""
    return text[end : end + 1] in ("*", "_", "$", "{", "<")


def _cut_core(value: str, text: str = "", end: int = 0) -> str | None:
    """``value`` without the mark of a cut (``abc…``, ``abc...``; ``…`` is ``?`` in the ASCII view), when it was
    cut: either the mark ends the value or it follows the value in ``text`` at ``end``."""
    for mark in ("...", "…", "?"):
        if value.endswith(mark):
            return value[: -len(mark)].rstrip(".")
    if text and (text.startswith("...", end) or text[end : end + 1] in ("?", "…")):
        return value.rstrip(".")
    return None


def _long_cut_secret(core: str) -> bool:
    """What is left of a cut value still leaks a secret: 12+ characters mixing letters and digits."""
    return len(core) >= 12 and _random_enough(core) and _looks_random(core)


def _auth_value(text: str, s: int, e: int) -> tuple[int, str] | None:
    """The end and value of an Authorization/Bearer token, or None for placeholders, masks and short cut
    remains (``Bearer abc…``). A long token cut with ``…`` is still a secret: its visible part goes."""
    v = text[s:e]
    core = _cut_core(v, text, e)
    if core is not None:
        return (s + len(core), core) if _long_cut_secret(core) and not _is_placeholder(core) else None
    if _is_placeholder(v) or _masked(text, e):
        return None
    return e, v


def _scan_auth(text: str, low: str) -> Iterator[_Candidate]:
    for m in _AUTH_HEADER.finditer(low) if "authorization" in low else ():
        s, e = m.span("v")
        found = _auth_value(text, s, e)
        if found is None or found[1].rstrip("=").lower() in _SCHEME_WORDS:
            continue
        e, v = found
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
        found = _auth_value(text, s, e)
        if found is None:
            continue
        e, v = found
        has_digit = any(ch.isdigit() for ch in v)
        if (len(v) >= 16 and has_digit and _looks_random(v)) or (len(v) >= 32 and _looks_random(v)):
            yield s, e, "bearer-token", _P_LOOSE
    for m in _BASIC.finditer(low) if "basic" in low else ():
        s, e = m.span("v")
        v = text[s:e]
        if _basic_credentials(v) or (_cut_core(v, text, e) is not None and len(v.rstrip(".")) >= 8):
            yield s, s + len(v.rstrip(".")), "basic-auth", _P_CONTEXT


# ``Basic <base64>`` outside a header (``AUTH = "Basic dXNlcjpwYXNz"``): taken when it decodes to ``user:pass``.
_BASIC = re.compile(r"basic(?<![a-z0-9_].{5})[ \t]+(?P<v>[a-z0-9+/]{8,1024}={0,2})(?![a-z0-9+/=_-])")
# (a value cut short, ``Basic dXNlcjpw…``, cannot be decoded: 8+ base64 characters before the cut are taken.)


def _basic_credentials(value: str) -> bool:
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
        decoded = raw.decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    _user, sep, password = decoded.partition(":")
    return bool(sep) and decoded.isprintable() and len(password) >= 3 and not _is_placeholder(password)


# Connection strings: ODBC/ADO ``...;Uid=app;Pwd=secret;...`` (``PWD=/home/x`` alone is the shell's variable)
# and signed URLs (Azure SAS ``sig=``, S3/GCS presigned ``X-Amz-Signature=``, ``X-Goog-Signature=``).
_CONN_KEYS = re.compile(r"(?:uid|user id|server|data source|database|driver|host|dsn)[ \t]*=")
_CONN_PWD = re.compile(r"pwd(?<![a-z0-9_].{3})[ \t]*=[ \t]*(?P<v>\{[^}\n]{1,256}\}|[^;\s\"'`]{1,256})")
_URL_SIGNATURE = re.compile(
    r"(?<=[?&;])(?:sig|signature|x-amz-signature|x-goog-signature)=(?P<v>[a-z0-9%+/=_.-]{8,4096})"
)


def _scan_connection_strings(text: str, low: str) -> Iterator[_Candidate]:
    if "pwd" in low:
        for m in _CONN_PWD.finditer(low):
            s, e = m.span("v")
            lo = max(0, m.start() - 300)  # bounded look-back: linear on a huge single line
            line_start = text.rfind("\n", lo, m.start()) + 1 or lo
            before = text[line_start : m.start()].rstrip(" \t")
            after_semicolon = text[e : e + 1] == ";" and _CONN_KEYS.search(low, line_start, m.start()) is not None
            if not (before.endswith(";") or after_semicolon):
                continue
            value = text[s:e]
            if _plausible_value(value.strip("{}"), "password", "password-assignment"):
                yield s, e, "password-assignment", _P_CONTEXT
    if "signature=" in low or "sig=" in low:
        for m in _URL_SIGNATURE.finditer(low):
            s, e = m.span("v")
            if _looks_random(text[s:e]):
                yield s, e, "url-signature", _P_CONTEXT


# Passwords in prose: "my password is hunter2", "the db password for staging was Tr0ub4dor&3". Only verbs, never
# ":"/"=" (those are assignments, judged with the code-aware rules below); the value must look made up (a digit,
# a symbol or inner capitals: "the password is incorrect" stays). Tokens and keys need 8+ letters and digits.
_PROSE_VERB = (
    r"(?P<gap>(?:[ \t]+[a-z0-9_.@'-]{1,40}){0,4}?)[ \t]+"
    r"(?:is now|is set to|was set to|(?:is|was|has been) changed to|changed to|set to|would be|will be|should be"
    r"|is|was|became)(?:[ \t]*:[ \t]*|[ \t]+)"
    r"(?:[\"'`](?P<q>[^\"'`\n]{3,128})[\"'`]|(?P<u>[^\s\"'`]{3,128}))"
)
_PROSE_WORDS_SECRET = ("password", "passphrase", "passwd", "passcode", "token", "api key", "apikey", "secret")
_PROSE_HITS = tuple(re.compile(kw + rf"(?<![a-z0-9_.-].{{{len(kw)}}})" + _PROSE_VERB) for kw in _PROSE_WORDS_SECRET)
_PROSE_STOP = frozenset(
    {
        "not",
        "none",
        "null",
        "empty",
        "missing",
        "wrong",
        "incorrect",
        "invalid",
        "required",
        "optional",
        "expired",
        "stored",
        "saved",
        "set",
        "unset",
        "correct",
        "valid",
        "too",
        "the",
        "a",
        "an",
        "in",
        "on",
        "still",
        "now",
        "being",
        "used",
        "given",
        "provided",
        "hashed",
        "encrypted",
        "ignored",
        "blank",
    }
)
_TRAIL_PUNCT = ".,;:)"


def _made_up(value: str) -> bool:
    """A password-like value: a digit, a symbol or a capital after the first letter; not code or a word."""
    if any(ch.isdigit() for ch in value) or any(not ch.isalnum() for ch in value):
        return True
    return any(ch.isupper() for ch in value[1:]) and any(ch.islower() for ch in value)


def _scan_prose(text: str, low: str) -> Iterator[_Candidate]:
    for keyword, hit in zip(_PROSE_WORDS_SECRET, _PROSE_HITS, strict=True):
        if keyword not in low:
            continue
        for m in hit.finditer(low):
            group = "q" if m.group("q") is not None else "u"
            s, e = m.span(group)
            value = text[s:e]
            if group == "u":
                stripped = value.rstrip(_TRAIL_PUNCT)
                e -= len(value) - len(stripped)
                value = stripped
            lv = value.lower()
            if (
                len(value) < 4
                or lv in _PROSE_STOP
                or _is_placeholder(value)
                or _SMALL_NUMBER.fullmatch(value)
                or _DOTTED.fullmatch(value)
                or any(ch in value for ch in "([{")
            ):
                continue
            if keyword.startswith("pass"):
                if _made_up(value):
                    yield s, e, "password-assignment", _P_LOOSE
            elif _random_enough(value) and _looks_random(value):
                yield s, e, "env-secret", _P_LOOSE


# scheme://user:PASSWORD@host — anchored on "://"; the password may contain '@' (the last one ends it).
_URL_PASSWORD = re.compile(
    r"://(?P<user>[^\s:/?#@'\"<>\[\]\\]{0,256}):(?P<v>[^\s/?#'\"<>\\]{1,256})@(?=[A-Za-z0-9\[_])"
)


# The same cut before its "@host" (``postgres://app:s3cr…``): the password runs up to the cut.
_URL_PASSWORD_CUT = re.compile(
    r"://(?P<user>[^\s:/?#@'\"<>\[\]\\]{1,256}):(?P<v>[^\s/?#'\"<>\\@`]{4,256})@?(?=\?|\.\.\.)"
)


def _scan_url_passwords(text: str, low: str) -> Iterator[_Candidate]:
    if "://" not in text:
        return
    for m in _URL_PASSWORD.finditer(text):
        v = m.group("v")
        if not _is_placeholder(v):
            yield m.start("v"), m.end("v"), "url-password", _P_CONTEXT
    if "?" in text or "..." in text:
        for m in _URL_PASSWORD_CUT.finditer(text):
            v = m.group("v").rstrip(".")
            if len(v) >= 4 and not v.isdigit() and not _is_placeholder(v):
                yield m.start("v"), m.start("v") + len(v), "url-password", _P_CONTEXT


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
                if not before.isspace() or _is_placeholder(v) or v == user or (user.isdigit() and v.isdigit()):
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
_FLAG_HIT = re.compile(r"--(?=[a-z])[a-z0-9_.-]{0,40}?(?:" + "|".join(_KEYWORDS) + r")[a-z0-9_.-]{0,40}(?P<sep>[ \t]+)")
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
        "and",
        "or",
        "to",
        "is",
        "are",
        "option",
        "options",
        "flag",
        "flags",
        "argument",
        "arguments",
        "arg",
        "args",
        "parameter",
        "parameters",
        "requires",
        "required",
        "must",
        "should",
        "can",
        "will",
        "the",
        "a",
        "an",
        "with",
        "for",
        "of",
        "in",
        "instead",
        "when",
        "if",
        "that",
        "this",
        "was",
        "not",
        "as",
        "be",
        "value",
        "values",
        "only",
        "also",
        "env",
        "file",
        "from",
        "switch",
        "takes",
        "expects",
    }
)
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
        "str",
        "int",
        "bool",
        "bytes",
        "float",
        "dict",
        "list",
        "tuple",
        "set",
        "frozenset",
        "object",
        "any",
        "none",
        "optional",
        "union",
        "callable",
        "sequence",
        "mapping",
        "annotated",
        "notrequired",
        "required",
        "readonly",
        "final",
        "secretstr",
        "secretbytes",
        "string",
        "number",
        "boolean",
        "array",
        "unknown",
        "void",
        "never",
        "bigint",
        "char",
        "varchar",
        "text",
        "uuid",
        "path",
        "pathlike",
        "type",
        "literal",
    }
)
_PASS_QUALIFIERS = frozenset(
    {
        "db",
        "database",
        "smtp",
        "mail",
        "email",
        "imap",
        "pop",
        "user",
        "admin",
        "root",
        "ftp",
        "sftp",
        "ssh",
        "redis",
        "mysql",
        "pg",
        "postgres",
        "postgresql",
        "mongo",
        "mongodb",
        "ldap",
        "api",
        "app",
        "service",
        "account",
        "login",
        "cert",
        "keystore",
        "truststore",
        "vault",
        "rabbitmq",
        "amqp",
        "mq",
        "wifi",
        "http",
        "basic",
        "auth",
        "sql",
        "master",
        "bind",
        "proxy_auth",
        "registry",
        "docker",
        "git",
        "sudo",
        "key",
    }
)
_WORD = re.compile(r"(?<![A-Za-z])[Vv]\d+(?![a-z])|[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

_NON_SECRET_TAIL = frozenset(
    {
        "count",
        "counts",
        "id",
        "ids",
        "file",
        "files",
        "path",
        "paths",
        "dir",
        "url",
        "uri",
        "endpoint",
        "name",
        "names",
        "type",
        "types",
        "size",
        "len",
        "length",
        "min",
        "max",
        "limit",
        "limits",
        "hash",
        "digest",
        "sha",
        "checksum",
        "policy",
        "expiry",
        "expires",
        "expiration",
        "ttl",
        "lifetime",
        "timeout",
        "reset",
        "hint",
        "field",
        "label",
        "prompt",
        "env",
        "var",
        "mode",
        "rotation",
        "stdin",
        "command",
        "cmd",
        "header",
        "prefix",
        "suffix",
        "format",
        "algorithm",
        "alg",
        "issuer",
        "audience",
        "scope",
        "scopes",
        "version",
        "arn",
        "ref",
        "location",
        "kind",
        "index",
        "usage",
        "used",
        "budget",
        "estimate",
        "estimator",
        "bytes",
        "required",
        "enabled",
        "disabled",
        "regex",
        "pattern",
        "validation",
        "validator",
        "strength",
        "input",
        "placeholder",
        "help",
        "description",
        "message",
        "msg",
        "error",
        "text",
        "title",
        "doc",
        "docs",
        "warning",
        "info",
        "note",
        "question",
        "notice",
        "manager",
        "mgr",
        "store",
        "helper",
        "provider",
        "spec",
        "schema",
        "handler",
        "callback",
        "factory",
        "class",
        "service",
        "fn",
        "func",
        "method",
        "attr",
        "attribute",
    }
)
_TAIL_OK = frozenset(
    {
        "base",
        "value",
        "val",
        "b64",
        "base64",
        "encoded",
        "raw",
        "prod",
        "production",
        "dev",
        "development",
        "staging",
        "stage",
        "test",
        "live",
        "default",
        "override",
        "plain",
        "plaintext",
        "local",
        "global",
        "hex",
    }
)
_KEY_QUALIFIER_DENY = frozenset(
    {
        "public",
        "pub",
        "sort",
        "sorting",
        "cache",
        "primary",
        "foreign",
        "partition",
        "hot",
        "lookup",
        "map",
        "dict",
        "hash",
        "group",
        "grouping",
        "index",
        "row",
        "column",
        "unique",
        "composite",
        "shortcut",
        "object",
        "idempotency",
        "dedup",
        "dedupe",
        "cursor",
        "routing",
        "range",
        "shard",
        "secondary",
        "natural",
        "surrogate",
        "translation",
        "i18n",
        "event",
        "state",
        "item",
        "node",
        "query",
        "table",
        "join",
        "lock",
        "config",
        "setting",
        "settings",
        "record",
        "registry",
        "s3",
        "prefix",
        "react",
        "dom",
        "keyboard",
        "press",
        "sign",
        "verify",
        "verification",
        "jwks",
        "sys",
        "str",
        "bytes",
        "int",
        "string",
    }
)
_TOKEN_QUALIFIER_DENY = frozenset(
    {
        "next",
        "page",
        "pagination",
        "continuation",
        "cancel",
        "cancellation",
        "eos",
        "bos",
        "pad",
        "unk",
        "sep",
        "cls",
        "mask",
        "start",
        "end",
        "stop",
        "special",
        "max",
        "min",
        "num",
        "last",
        "first",
        "sample",
        "split",
        "delimiter",
        "sentence",
        "word",
        "bpe",
        "decoder",
        "encoder",
        "eot",
        "eom",
        "im",
        "image",
        "audio",
        "vision",
        "begin",
        "sync",
        "resume",
        "type",
        "lexer",
        "parser",
        "syntax",
        "default",
    }
)
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
        "api",
        "secret",
        "private",
        "access",
        "signing",
        "encryption",
        "encrypt",
        "crypt",
        "master",
        "client",
        "auth",
        "app",
        "service",
        "account",
        "license",
        "admin",
        "hmac",
        "jwt",
        "cipher",
        "aes",
        "enc",
        "storage",
        "subscription",
        "consumer",
        "deploy",
        "session",
        "ssh",
        "gpg",
        "pgp",
        "webhook",
        "write",
        "read",
        "root",
        "server",
        "stripe",
        "openai",
        "anthropic",
        "aws",
        "azure",
        "gcp",
        "google",
        "mapbox",
        "sendgrid",
        "mailgun",
        "twilio",
        "algolia",
        "sentry",
        "datadog",
        "dd",
        "pusher",
        "firebase",
        "supabase",
        "cohere",
        "mistral",
        "groq",
        "gemini",
        "huggingface",
        "hf",
        "replicate",
        "pinecone",
        "langchain",
        "langsmith",
        "wandb",
        "tavily",
        "serp",
        "serpapi",
        "brave",
        "exa",
        "perplexity",
        "xai",
        "deepseek",
        "together",
        "fireworks",
        "voyage",
        "jina",
        "elevenlabs",
        "assemblyai",
        "deepgram",
        "stability",
    }
)


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
    if nxt and nxt in "([.":
        return True
    if nxt and nxt in "\"'" and not (len(value) >= 12 and _random_enough(value) and _looks_random(value)):
        return True  # f"...", r'...': a string prefix; but a generated key closing an outer quote is a literal
    if nxt and nxt in "),:" and (_IDENT.fullmatch(value) or _SNAKE_IDENT.fullmatch(value)):
        return True  # f(password=pw), f(token=s3_token), {token: tok}
    if _DOTTED.fullmatch(value):  # creds.secret_key, process.env.TOKEN, settings.X
        root = re.split(r"\.|::", value, maxsplit=1)[0].lower()
        if spaced or root in _CODE_ROOTS or not any(ch.isdigit() for ch in value):
            return True
    return spaced and bool(_IDENT.fullmatch(value))


def _plausible_value(value: str, name: str, kind: str) -> bool:
    """Whether a literal assigned to a secret-looking name is worth redacting (also used by redact_obj)."""
    if len(value) < 3 or _is_placeholder(value) or _SMALL_NUMBER.fullmatch(value) or _names_itself(value, name):
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
    _scan_cut_tokens,
    _scan_auth,
    _scan_url_passwords,
    _scan_connection_strings,
    _scan_cli,
    _scan_assignments,
    _scan_prose,
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
