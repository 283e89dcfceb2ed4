"""Planted secrets never survive into a task, a prompt for the model or a Markdown report.

Fifty-odd kinds of credential (provider tokens, private keys, connection strings, Basic/Bearer values, passwords
in prose ...) are planted in every place a session carries text: the user's request, the failing command, its
output and the agent's patch (a different secret per place, so a survivor says where it came from), plus files of
the local repository the task snapshots. They flow through the real pipeline (rollouts in Codex's format,
ingest, refresh, task writing and export, the prompt builders of ccl_tui.semantic.llm, ``report --markdown``);
nothing of them may be left: not the secret, nor any 12-character piece of its random part.

Every value is generated at runtime from a seed, so this file holds no scannable key.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import io
import json
import random
import re
import shlex
import string
import tarfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from ccl_tui.cli import main
from ccl_tui.semantic.analyze import issue_text
from ccl_tui.semantic.llm import LLMClient
from ccl_tui.store import semantic as ssql
from ccl_tui.store.db import Store
from ccl_tui.tasks.api import write_task_for_signal
from ccl_tui.tasks.export import export_tasks
from ccl_tui.text.redact import find_secrets, redact
from tests.builders import Rollout
from tests.tasks_helpers import BUGGY_CALC, PYTEST, TEST_CALC, make_repo, populated, python_on_path

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"


def _rnd(seed: str, n: int, alphabet: str = ALNUM) -> str:
    """A deterministic random string that mixes letter cases and digits (as generated keys do)."""
    rng = random.Random(seed)
    while True:
        out = "".join(rng.choice(alphabet) for _ in range(n))
        kinds = sum(
            any(c in group for c in out)
            for group in (string.ascii_lowercase, string.ascii_uppercase, string.digits)
            if any(g in alphabet for g in group)
        )
        wanted = sum(
            1
            for group in (string.ascii_lowercase, string.ascii_uppercase, string.digits)
            if any(g in alphabet for g in group)
        )
        if kinds == wanted:
            return out


@dataclass(frozen=True)
class Planted:
    kind: str
    secret: str  # the value: must not survive, nor any 12-character piece of ``core``
    text: str  # the secret in its natural context
    core: str = ""  # the random part (defaults to the secret)

    @property
    def pieces(self) -> set[str]:
        core = self.core or self.secret
        out: set[str] = set()
        for line in core.replace("\\n", "\n").split("\n"):
            out.update(line[i : i + 12] for i in range(max(len(line) - 11, 0)))
        return out


def _pem_body(seed: str, lines: int) -> str:
    return "\n".join(_rnd(f"{seed}{i}", 64, B64) for i in range(lines)) + "\n" + _rnd(f"{seed}end", 24, B64) + "=="


def corpus(place: str = "") -> list[Planted]:
    """One planted secret per kind, different for every ``place`` (so a survivor names where it came from).

    ``core`` is the secret's random part (a provider's fixed prefix such as ``ghp_`` is public): no 12-character
    piece of it may survive.
    """
    out: list[Planted] = []

    def rnd(seed: str, n: int, alphabet: str = ALNUM) -> str:
        return _rnd(f"{place}/{seed}", n, alphabet)

    def add(kind: str, prefix: str, core: str, template: str, suffix: str = "") -> None:
        """A secret ``prefix + core + suffix`` shown as ``template`` (``{}`` marks where it goes)."""
        secret = prefix + core + suffix
        out.append(Planted(kind, secret, template.replace("{}", secret), core))

    upper_digits = string.ascii_uppercase + string.digits
    add("openai", "sk-" + "proj-", rnd("openai", 48, URLSAFE), "OPENAI_API_KEY={}")
    add("anthropic", "sk-" + "ant-api03-", rnd("anthropic", 86, URLSAFE), "the anthropic key is {}", "AA")
    add("github-classic", "ghp" + "_", rnd("ghp", 36), "git clone https://{}@github.com/acme/app.git")
    add(
        "github-fine-grained",
        "github" + "_pat_",
        rnd("ghfine1", 22) + "_" + rnd("ghfine2", 59),
        "GH_TOKEN={}",
    )
    add(
        "gitlab",
        "glpat" + "-",
        rnd("gitlab", 20, URLSAFE),
        "glab auth login --hostname gitlab.com --token {}",
    )
    add("aws-access-key-id", "AKIA", rnd("awsid", 16, upper_digits), "aws_access_key_id = {}")
    add("aws-secret", "", rnd("awssecret", 40, B64), "aws_secret_access_key = {}")
    add(
        "slack-bot",
        "xox" + "b-",
        "2048" + rnd("slackn", 8, string.digits) + "-" + rnd("slackn2", 13, string.digits) + "-" + rnd("slack", 24),
        "SLACK_BOT={}",
    )
    add(
        "slack-webhook",
        "T0" + rnd("hookt", 8, upper_digits) + "/B0" + rnd("hookb", 8, upper_digits) + "/",
        rnd("hook", 24),
        "curl -X POST https://hooks.slack.com/services/{}",
    )
    add(
        "google-api",
        "AI" + "za",
        rnd("google", 35, URLSAFE),
        "GET https://maps.googleapis.com/maps/api/geocode/json?key={}",
    )
    add("stripe", "sk" + "_live_", rnd("stripe", 24), "Stripe.api_key = '{}'")
    add("huggingface", "hf" + "_", rnd("hf", 34), "huggingface-cli login --token {}")
    add("npm", "npm" + "_", rnd("npm", 36), "//registry.npmjs.org/:_authToken={}")
    add(
        "pypi",
        "pypi-" + "AgEIcHlwaS5vcmc",
        rnd("pypi", 70, URLSAFE),
        "twine upload -u __token__ -p {} dist/*",
    )
    head = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
    claims = base64.urlsafe_b64encode(('{"sub":"' + rnd("jwtsub", 12) + '","iat":1700000000}').encode()).decode()
    add("jwt", head + ".", claims.rstrip("=") + "." + rnd("jwtsig", 43, URLSAFE), "session={}")
    add("bearer", "", rnd("bearer", 44), 'curl -H "Authorization: Bearer {}" https://api.example.com/v1/me')
    add(
        "basic-header",
        "",
        base64.b64encode(("deploy:" + rnd("basicpw", 18)).encode()).decode(),
        "Authorization: Basic {}",
    )
    add(
        "basic-no-header",
        "",
        base64.b64encode(("svc-user:" + rnd("basicpw2", 20)).encode()).decode(),
        'AUTH = "Basic {}"',
    )
    add("url-password", "", rnd("urlpw", 18), "DATABASE_URL=postgres://app:{}@db.internal:5432/app")
    add(
        "libpq",
        "",
        rnd("libpq", 16),
        'conn = psycopg2.connect("host=db port=5432 user=app password={} dbname=app")',
    )
    add(
        "odbc",
        "",
        rnd("odbc", 16),
        "Driver={ODBC Driver 18 for SQL Server};Server=tcp:db,1433;Uid=app;Pwd={};Encrypt=yes",
    )
    add("env-password", "", rnd("envpw", 14), "DB_PASSWORD={}")
    for kind, label, lines in (("pem-rsa", "RSA ", 6), ("pem-openssh", "OPENSSH ", 6), ("pem-ec", "EC ", 3)):
        body = _pem_body(f"{place}/{kind}", lines)
        add(kind, "", body, f"-----BEGIN {label}PRIVATE KEY-----\n{{}}\n-----END {label}PRIVATE KEY-----")
    body = _pem_body(f"{place}/gcp", 4)
    out.append(
        Planted(
            "pem-json",
            body.replace("\n", "\\n"),
            '"private_key": "-----BEGIN PRIVATE KEY-----\\n'
            + body.replace("\n", "\\n")
            + '\\n-----END PRIVATE KEY-----\\n"',
            body,
        )
    )
    add(
        "sendgrid",
        "SG.",
        rnd("sg1", 22, URLSAFE) + "." + rnd("sg2", 43, URLSAFE),
        "sendgrid.SendGridAPIClient('{}')",
    )
    add(
        "azure-storage",
        "",
        rnd("azkey", 86, B64) + "==",
        "DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey={};EndpointSuffix=core.windows.net",
    )
    add(
        "azure-sas",
        "",
        rnd("azsas", 40) + "%2B" + rnd("azsas2", 8) + "%3D",
        "https://acmeprod.blob.core.windows.net/backups/db.bak?sv=2022-11-02&ss=b&srt=co&sp=rl"
        "&se=2030-01-01T00:00:00Z&spr=https&sig={}",
    )
    add(
        "azure-service-bus",
        "",
        rnd("azsb", 43, B64) + "=",
        "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={}",
    )
    add("prose-password", "", "Tr0ub4dor" + rnd("prose", 6) + "!", "my password is {} by the way")
    add("twilio", "SK", rnd("twilio", 32, HEX), "twilio api key {}")
    add("mailgun", "key-", rnd("mailgun", 32, HEX), "mailgun {}")
    bot_id = base64.b64encode(("1" + rnd("discord0", 17, string.digits)).encode()).decode().rstrip("=")
    add(
        "discord-bot",
        "",
        bot_id + "." + rnd("discord2", 6, URLSAFE) + "." + rnd("discord3", 38, URLSAFE),
        "client.run('{}')",
    )
    add("square", "sq0" + "atp-", rnd("square", 22, URLSAFE), "square access token {}")
    add("shopify", "shp" + "at_", rnd("shopify", 32, HEX), "shopify {}")
    add("digitalocean", "dop" + "_v1_", rnd("digitalocean", 64, HEX), "doctl auth init -t {}")
    add("datadog", "", rnd("datadog", 32, HEX), "DD_API_KEY={}")
    add(
        "telegram",
        rnd("tgid", 10, string.digits) + ":AA",
        rnd("telegram", 33, URLSAFE),
        "https://api.telegram.org/bot{}/getMe",
    )
    add("curl-user", "", rnd("curlpw", 15), "curl -u deploy:{} https://ci.example.com/api")
    add("vault", "hvs.", rnd("vault", 90, URLSAFE), "vault login {}")
    add("grafana", "glsa" + "_", rnd("grafana", 32) + "_" + rnd("grafana2", 8, HEX), "grafana token {}")
    add("linear", "lin" + "_api_", rnd("linear", 40), "linear {}")
    add("databricks", "dapi", rnd("databricks", 32, HEX), "databricks token {}")
    add("age", "AGE-SECRET-KEY-1", rnd("age", 58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"), "age key {}")
    add("groq", "gsk" + "_", rnd("groq", 52), "groq {}")
    add("perplexity", "pplx" + "-", rnd("pplx", 48), "perplexity {}")
    add("replicate", "r8" + "_", rnd("replicate", 37), "replicate {}")
    add(
        "tailscale",
        "tskey" + "-auth-",
        rnd("ts1", 12) + "CNTRL-" + rnd("ts2", 32),
        "tailscale up --authkey {}",
    )
    add("postman", "PMAK" + "-", rnd("pm1", 24, HEX) + "-" + rnd("pm2", 34, HEX), "postman {}")
    add("newrelic", "NRAK" + "-", rnd("newrelic", 27, upper_digits), "newrelic {}")
    add("supabase", "sbp" + "_", rnd("supabase", 40, HEX), "supabase {}")
    add(
        "mapbox-secret",
        "sk." + "eyJ1IjoiYWNtZSIsImEiOiJj",
        rnd("mapbox", 40, URLSAFE) + "." + rnd("mapbox2", 22, URLSAFE),
        "mapbox {}",
    )
    add("doppler", "dp" + ".st." + "prd.", rnd("doppler", 43), "doppler {}")
    add("planetscale", "pscale" + "_tkn_", rnd("pscale", 43, URLSAFE), "planetscale {}")
    add("atlassian", "ATATT3" + "xFfGF0", rnd("atlassian", 180, URLSAFE), "atlassian {}")
    add("google-oauth-secret", "GOCSPX-", rnd("gocspx", 28, URLSAFE), '"client_secret": "{}"')
    add(
        "azure-client-secret",
        rnd("azad", 3) + "8Q~",
        rnd("azad2", 34, ALNUM + "_~.-"),
        "AZURE_CLIENT_SECRET {}",
    )
    add(
        "docker-pat",
        "dckr" + "_pat_",
        rnd("dckr", 27, URLSAFE),
        "docker login -u acme --password-stdin <<< {}",
    )
    return out


# ---------------------------------------------------------------------------------------------------------------
# The pipeline
# ---------------------------------------------------------------------------------------------------------------

PLACES = ("user", "command", "output", "patch")
#: Repository places: a text file, a non-UTF-8 text file, a binary file, a file name, a secret file (.env).
REPO_PLACES = ("repo", "repo-latin1", "repo-binary", "repo-env")
KINDS = [p.kind for p in corpus()]
_TOKEN_RUN = re.compile(r"[A-Za-z0-9+/=_.%~-]{12,}")


def test_corpus_is_large_and_distinct() -> None:
    assert len(KINDS) == len(set(KINDS)) >= 50
    everything = [p for place in (*PLACES, *REPO_PLACES) for p in corpus(place)]
    assert len({p.secret for p in everything}) == len(everything)  # a survivor names its kind and place


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_redacted_in_its_context(kind: str) -> None:
    (planted,) = [p for p in corpus("unit") if p.kind == kind]
    out = redact(planted.text)
    assert planted.secret not in out and not any(piece in out for piece in planted.pieces), out
    assert "[REDACTED:" in out and find_secrets(out) == []


@pytest.mark.parametrize("kind", KINDS)
def test_secrets_cut_short_are_still_redacted(kind: str) -> None:
    """Text cut by an excerpt elsewhere (an issue title, a signal's detail: ``Bearer abc…``) before it reached the
    redactor: at every cut point, with ``…`` or ``...``, no 12-character piece of the secret is left."""
    (planted,) = [p for p in corpus("cut") if p.kind == kind]
    start = planted.text.index(planted.secret.split("\n")[0])
    for end in range(start + 1, len(planted.text)):
        for mark in ("…", "..."):
            out = redact(planted.text[:end] + mark)
            assert not [piece for piece in planted.pieces if piece in out], (end - start, mark, out[-80:])


def test_flattened_private_key_cut_at_200_characters() -> None:
    """The tester's case: a key inside a command, whitespace-normalised and cut before redaction."""
    (planted,) = [p for p in corpus("flat") if p.kind == "pem-rsa"]
    flat = " ".join(f"printf '%s' '{planted.text}' | ssh-add -".split())
    for cut in (80, 120, 200, 260, len(flat)):
        out = redact(flat[:cut] + "…")
        assert not [piece for piece in planted.pieces if piece in out], (cut, out)


def _patch(kind: str, text: str) -> str:
    added = "".join(f"+{line}\n" for line in text.split("\n"))
    return (
        "*** Begin Patch\n*** Update File: calc.py\n@@\n-    return a - b\n+    return a + b\n"
        f"*** Add File: notes/{kind}.txt\n{added}*** End Patch\n"
    )


def _session(i: int, repo: Path, commit: str, planted: dict[str, Planted]) -> Rollout:
    r = Rollout(
        cwd=str(repo),
        start=f"2026-10-05T{9 + i // 60:02d}:{i % 60:02d}:00",
        git={"commit_hash": commit, "branch": "main", "repository_url": ""},
    )
    user = planted["user"].text
    r.user(f"add() returns the wrong result; fix it so the tests pass. Context:\n{user}")
    command = f"printf '%s\\n' {shlex.quote(planted['command'].text)} > /dev/null; {PYTEST}"
    r.exec(
        command,
        f"F.\nE   assert -1 == 5\n{planted['output'].text}\nFAILED tests/test_calc.py::test_add\n1 failed",
        1,
    )
    cid = r.call_id()
    kind = planted["patch"].kind
    r.add(
        "response_item",
        {
            "type": "custom_tool_call",
            "status": "completed",
            "call_id": cid,
            "name": "apply_patch",
            "input": _patch(kind, planted["patch"].text),
        },
    )
    r.add(
        "response_item",
        {
            "type": "custom_tool_call_output",
            "call_id": cid,
            "output": json.dumps(
                {
                    "output": f"Success. Updated the following files:\nM calc.py\nA notes/{kind}.txt\n",
                    "metadata": {"exit_code": 0, "duration_seconds": 0.1},
                }
            ),
        },
    )
    r.exec(command, "..\n2 passed in 0.01s", 0)
    r.assistant(f"Fixed add(); the tests pass. You pasted this, keep it safe:\n{user}")
    r.complete()
    r.user(f"One more thing about the setup:\n{user}\nCan you check the README mentions it?")
    r.assistant("The README does not mention it.")
    r.complete()
    return r


def _repo_files() -> dict[str, str | bytes]:
    texts = {place: "\n\n".join(p.text for p in corpus(place)) + "\n" for place in REPO_PLACES}
    return {
        "calc.py": BUGGY_CALC,
        "tests/test_calc.py": TEST_CALC,
        "config/credentials_dump.txt": texts["repo"],
        "docs/notes-latin1.txt": ("Café crème, señor\n" + texts["repo-latin1"]).encode("latin-1"),
        "assets/blob.bin": b"\x00\x01\x02BIN" + texts["repo-binary"].encode() + b"\x00" * 64,
        ".env": texts["repo-env"],
        f"keys/{corpus('repo-name')[2].secret}.txt": "named after a token\n",
    }


def _task_blobs(root: Path) -> list[str]:
    """Every text of every task under ``root``: files, and the members of each repository snapshot."""
    out: list[str] = []
    for path in sorted(root.rglob("*")):
        out.append(str(path.relative_to(root)))  # task and file names too
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.name.endswith(".tar.gz"):
            with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tar:
                for member in tar.getmembers():
                    out.append(member.name + " -> " + member.linkname)
                    fh = tar.extractfile(member) if member.isfile() else None
                    if fh is not None:
                        out.append(fh.read().decode("latin-1"))
        else:
            out.append(data.decode("latin-1"))
    return out


def _survivors(haystacks: dict[str, list[str]], places: tuple[str, ...]) -> list[str]:
    """``where: kind@place`` for every planted secret (or 12-character piece of one) found in a haystack."""
    owner: dict[str, tuple[str, str]] = {}
    for place in places:
        for planted in corpus(place):
            for piece in planted.pieces:
                owner[piece] = (planted.kind, place)
    found: set[str] = set()
    for where, blobs in haystacks.items():
        for blob in dict.fromkeys(blobs):  # tasks share most of their text: scan each distinct one once
            for run in _TOKEN_RUN.finditer(blob):
                token = run.group()
                for i in range(len(token) - 11):
                    hit = owner.get(token[i : i + 12])
                    if hit is not None:
                        found.add(f"{where}: {hit[0]}@{hit[1]}")
    return sorted(found)


async def test_planted_secrets_never_survive(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", python_on_path())
    repo, commit = make_repo(tmp_path / "app", _repo_files())
    by_place = {place: corpus(place) for place in PLACES}
    for i in range(len(KINDS)):
        _session(i, repo, commit, {place: by_place[place][i] for place in PLACES}).write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")

    # The secrets really are in the store, in every place (otherwise this test would prove nothing).
    raw = []
    for session_id in await store.session_infos():
        raw += [e.text for e in await store.events(session_id)]
    raw_text = "\n".join(raw)
    carried = [f"{p.kind}@{place}" for place in PLACES for p in by_place[place] if p.secret.split("\n")[0] in raw_text]
    assert len(carried) == len(KINDS) * len(PLACES)

    # 1. Task folders: one task per session (its failing check), plus an exported dataset of the top issues.
    signals = await store.signals(kinds=["command_failure"])
    assert len({s.session_id for s in signals}) == len(KINDS)
    tasks = tmp_path / "tasks"
    for sig in signals:
        result = await write_task_for_signal(store, sig.session_id, sig.seq, tasks)
        assert result.environment_mode == "snapshot", result.reason
    report = await export_tasks(store, tmp_path / "dataset", top=3)
    assert report.tasks
    # Every place reached the task, redacted: the request and output (instruction.md), the check (tests/check.sh)
    # and the edits (solution/fix.patch, kept: a key spanning lines goes as a whole, not the whole patch).
    for task in tasks.iterdir():
        for name in ("instruction.md", "tests/check.sh", "solution/fix.patch"):
            assert "[REDACTED:" in (task / name).read_text(), f"{task.name}/{name}"
    meta = tomllib.loads(next(tasks.iterdir()).joinpath("task.toml").read_text())["metadata"]["environment"]
    assert meta["redacted_files"] == ["config/credentials_dump.txt", "docs/notes-latin1.txt"]
    excluded = " ".join(meta["excluded_files"])
    assert ".env (secret file)" in excluded and "assets/blob.bin (binary file containing a credential)" in excluded
    assert "(credential in the file name)" in excluded and meta["secrets_policy"]
    task_blobs = _task_blobs(tasks) + _task_blobs(tmp_path / "dataset")
    joined = "\n".join(task_blobs)
    assert "[REDACTED:" in joined and "Café" in joined  # redacted, and the latin-1 file is there

    # 2. Prompts for the model, built by the real prompt builders (no request is sent).
    client = LLMClient(store.db, api_key="unused")
    from ccl_tui.pipeline import USER_ORIGINS

    messages = await ssql.unflagged_user_messages(store.db, tuple(USER_ORIGINS))
    assert len(messages) >= len(KINDS) // 2
    prompts = [client.classify_task(m.text, m.context) for m in messages]
    issues = await store.issues()
    for start in range(0, len(issues), 6):
        group = issues[start : start + 6]
        prompts.append(client.cluster_task([i.title for i in group], [issue_text(i) for i in group]))
    prompt_texts = [m["content"] for task in prompts for m in task.messages]

    # 3. The Markdown report.
    capsys.readouterr()
    argv = ["report", "--db", str(tmp_path / "test.sqlite"), "--markdown", "--top", "100"]
    assert await asyncio.to_thread(main, argv) == 0
    markdown = capsys.readouterr().out
    assert "# ccl-tui report" in markdown

    survivors = _survivors(
        {"tasks": task_blobs, "prompts": prompt_texts, "report --markdown": [markdown]},
        (*PLACES, *REPO_PLACES, "repo-name"),
    )
    assert survivors == [], f"{len(survivors)} planted secrets survived:\n" + "\n".join(survivors)


async def test_output_tail_is_cut_after_redaction(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """instruction.md shows the last lines of the failing output: a key whose BEGIN line falls before them is
    redacted on the whole output first, so none of its body lines survive the cut."""
    monkeypatch.setenv("PATH", python_on_path())
    repo, commit = make_repo(tmp_path / "app", {"calc.py": BUGGY_CALC, "tests/test_calc.py": TEST_CALC})
    (planted,) = [p for p in corpus("tail") if p.kind == "pem-openssh"]
    r = Rollout(cwd=str(repo), git={"commit_hash": commit, "branch": "main", "repository_url": ""})
    r.user("fix add()")
    log = "\n".join(f"DEBUG step {n}" for n in range(26))
    r.exec(PYTEST, f"$ cat deploy_key\n{planted.text}\n{log}\nE   assert -1 == 5\n1 failed", 1)
    r.complete()
    r.write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    (sig,) = await store.signals(kinds=["command_failure"])
    task = (await write_task_for_signal(store, sig.session_id, sig.seq, tmp_path / "tasks")).path
    instruction = (task / "instruction.md").read_text()
    assert "DEBUG step 25" in instruction and "-----END OPENSSH PRIVATE KEY-----" in instruction
    assert not [piece for piece in planted.pieces if piece in instruction]
