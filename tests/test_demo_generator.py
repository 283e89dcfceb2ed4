"""The demo corpus generator: determinism, on-disk layout, record shapes, call pairing and the fix-date property.

Only plain JSON parsing here — the real rollout parser is tested elsewhere.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import zstandard

from ccl_tui.demo.causes import MISSING_MODULE_TEXT
from ccl_tui.demo.episode import SPECS
from ccl_tui.demo.generate import FIX_DATE, generate, main
from ccl_tui.demo.harbor_runs import FOLDER, SIMULATED_SUFFIX
from ccl_tui.demo.repos import PY, REPOS

COMMITTED = Path(__file__).resolve().parents[1] / "demo_sessions"
NAME = re.compile(r"^rollout-(\d{4})-(\d{2})-(\d{2})T\d{2}-\d{2}-\d{2}-([0-9a-f-]{36})\.jsonl(\.zst)?$")
PYTHON_URLS = {repo.url for repo in REPOS if repo.lang == PY}


def content(path: Path) -> bytes:
    data = path.read_bytes()
    return zstandard.ZstdDecompressor().decompress(data) if path.suffix == ".zst" else data


def records(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in content(path).split(b"\n") if line]


def rollouts(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("rollout-*") if p.is_file())


def bundle_heads(path: Path) -> bytes:
    """A git bundle compared on the refs it holds: commit hashes pin the whole history, whatever the pack bytes
    (which may differ across git versions)."""
    out = subprocess.run(["git", "bundle", "list-heads", str(path)], capture_output=True, check=True)
    return out.stdout


def snapshot(root: Path) -> dict[str, bytes]:
    """Every generated file, compared on content (zstd frames may differ across zstandard versions, git packs
    across git versions). Real Harbor job folders (harbor-jobs/real-*, scripts/demo_harbor_runs.py) are not
    generated and not compared."""
    files = [p for p in root.rglob("*") if p.is_file() and not _real_job(p.relative_to(root))]
    return {p.relative_to(root).as_posix(): bundle_heads(p) if p.suffix == ".bundle" else content(p) for p in files}


def _real_job(rel: Path) -> bool:
    return len(rel.parts) > 1 and rel.parts[0] == FOLDER and not rel.parts[1].endswith(SIMULATED_SUFFIX)


def ts(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def meta_of(recs: list[dict[str, Any]]) -> dict[str, Any]:
    first = recs[0]
    return first.get("payload", first)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh corpus with the default arguments (what `demo_sessions/` must equal)."""
    out = tmp_path_factory.mktemp("demo") / "demo_sessions"
    generate(out)
    return out


@pytest.fixture(scope="module")
def parsed(corpus: Path) -> dict[Path, list[dict[str, Any]]]:
    return {path: records(path) for path in rollouts(corpus)}


# --------------------------------------------------------------------------- (a) determinism


def test_same_seed_gives_identical_content(tmp_path: Path) -> None:
    generate(tmp_path / "a", sessions=60, seed=7)
    generate(tmp_path / "b", sessions=60, seed=7)
    first, second = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    # 60 planned + 5 runnable rollouts + CORPUS.md + two simulated Harbor jobs (30 trial results, result.json,
    # config.json and SIMULATED.md each) + repos/ (8 bundles and a README)
    assert len(first) == 60 + len(SPECS) + 1 + 2 * 33 + 9
    assert first == second


def test_different_seed_gives_a_different_corpus(tmp_path: Path) -> None:
    generate(tmp_path / "a", sessions=60, seed=7)
    generate(tmp_path / "b", sessions=60, seed=8)
    assert snapshot(tmp_path / "a") != snapshot(tmp_path / "b")


def test_committed_corpus_equals_a_fresh_regeneration(corpus: Path) -> None:
    assert COMMITTED.is_dir(), "run: python -m ccl_tui.demo.generate --out demo_sessions --force"
    assert snapshot(COMMITTED) == snapshot(corpus)


def test_cli_refuses_to_overwrite_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--out", str(tmp_path / "out"), "--sessions", "20", "--seed", "3"]
    assert main(args) == 0
    assert f"wrote {20 + len(SPECS)} sessions (20 planned + {len(SPECS)} runnable" in capsys.readouterr().out
    assert main(args) == 1
    assert main([*args, "--force"]) == 0
    assert len(rollouts(tmp_path / "out")) == 20 + len(SPECS)


# --------------------------------------------------------------------------- (b) format and layout


def test_every_line_is_json_with_the_era_shape(parsed: dict[Path, list[dict[str, Any]]]) -> None:
    for path, recs in parsed.items():
        assert content(path).endswith(b"\n")
        if "payload" in recs[0]:
            for rec in recs:
                assert set(rec) == {"timestamp", "type", "payload"}, path
                ts(rec["timestamp"])
            stamps = [rec["timestamp"] for rec in recs]
            assert stamps == sorted(stamps), f"timestamps go backwards in {path}"
        else:  # era A: bare header, state markers and bare response items
            assert "id" in recs[0] and "type" not in recs[0]
            assert {"record_type": "state"} in recs
            assert all("timestamp" not in rec for rec in recs[1:])


def test_session_ids_are_unique_and_match_file_names(parsed: dict[Path, list[dict[str, Any]]]) -> None:
    ids = []
    for path, recs in parsed.items():
        match = NAME.match(path.name)
        assert match, path.name
        meta = meta_of(recs)
        assert meta["id"] == match.group(4)
        assert meta["id"][:13].replace("-", "") == f"{int(ts(meta['timestamp']).timestamp() * 1000):012x}"
        ids.append(meta["id"])
    assert len(ids) == 500 + len(SPECS)
    assert len(set(ids)) == 500 + len(SPECS)


def test_layout_matches_how_codex_stores_sessions(corpus: Path, parsed: dict[Path, list[dict[str, Any]]]) -> None:
    kinds: Counter[str] = Counter()
    for path, recs in parsed.items():
        rel = path.relative_to(corpus).parts
        match = NAME.match(path.name)
        assert match
        if rel[0] == "archived_sessions":
            assert len(rel) == 2
            kinds["archived"] += 1
        else:
            assert rel[0] == "sessions" and rel[1:4] == match.groups()[:3], path
            kinds["zst" if path.suffix == ".zst" else "plain"] += 1
        kinds["legacy"] += "payload" not in recs[0]
    assert kinds == Counter({"plain": 479 + len(SPECS), "archived": 15, "zst": 6, "legacy": 8})
    assert (corpus / "CORPUS.md").read_text(encoding="utf-8").count(FIX_DATE) >= 2


def test_forks_replay_their_parent_in_one_burst(parsed: dict[Path, list[dict[str, Any]]]) -> None:
    by_id = {meta_of(recs)["id"]: recs for recs in parsed.values()}
    forks = [recs for recs in parsed.values() if "forked_from_id" in meta_of(recs)]
    assert len(forks) == 3
    for recs in forks:
        parent = by_id[meta_of(recs)["forked_from_id"]]
        assert recs[1]["type"] == "session_meta" and recs[1]["payload"] == parent[0]["payload"]
        replay = recs[1 : len(parent) + 1]
        assert [r["payload"] for r in replay] == [r["payload"] for r in parent]
        start = ts(recs[0]["timestamp"])
        assert (ts(replay[-1]["timestamp"]) - start).total_seconds() < 1
        assert (ts(recs[len(parent) + 1]["timestamp"]) - start).total_seconds() > 5


def test_subagent_and_review_threads(parsed: dict[Path, list[dict[str, Any]]]) -> None:
    sources = [meta_of(recs).get("source") for recs in parsed.values()]
    ids = {meta_of(recs)["id"] for recs in parsed.values()}
    spawned = [
        s["subagent"]["thread_spawn"] for s in sources if isinstance(s, dict) and isinstance(s["subagent"], dict)
    ]
    assert len(spawned) == 2 and all(s["parent_thread_id"] in ids and s["depth"] == 1 for s in spawned)
    assert sources.count({"subagent": "review"}) == 3


# --------------------------------------------------------------------------- (c) calls and outputs


def _call_and_output(rec: dict[str, Any]) -> tuple[str | None, str | None]:
    item = rec if "payload" not in rec else rec["payload"] if rec["type"] == "response_item" else {}
    kind = item.get("type")
    if kind in ("function_call", "custom_tool_call"):
        return item["call_id"], None
    if kind in ("function_call_output", "custom_tool_call_output"):
        return None, item["call_id"]
    return None, None


def test_every_call_has_an_output_unless_the_turn_was_aborted(
    parsed: dict[Path, list[dict[str, Any]]],
) -> None:
    orphans = 0
    for path, recs in parsed.items():
        pending: dict[str, int] = {}
        for i, rec in enumerate(recs):
            call, output = _call_and_output(rec)
            if call:
                pending[call] = i
            if output:
                assert output in pending, f"output without call in {path}"
                del pending[output]
            payload = rec.get("payload")
            if isinstance(payload, dict) and payload.get("type") == "turn_aborted":
                assert len(pending) <= 1, path
                orphans += len(pending)
                pending.clear()
            if isinstance(payload, dict) and payload.get("type") == "user_message":
                assert not pending, f"unanswered call before a new prompt in {path}"
        assert not pending, f"unanswered call at the end of {path}"
    assert orphans > 0


def test_denials_look_like_codex_records_them(parsed: dict[Path, list[dict[str, Any]]]) -> None:
    declined = patches_rejected = 0
    for recs in parsed.values():
        calls = {}
        for rec in recs:
            payload = rec.get("payload", {})
            if payload.get("type") == "function_call":
                calls[payload["call_id"]] = orjson.loads(payload["arguments"])
            if payload.get("type") == "function_call_output" and payload["output"] == "exec command rejected by user":
                args = calls[payload["call_id"]]
                assert args.get("justification")
                assert args.get("sandbox_permissions") == "require_escalated" or args.get("with_escalated_permissions")
            if payload.get("type") == "exec_command_end" and payload["status"] == "declined":
                assert payload["exit_code"] == -1 and payload["stderr"] == "exec command rejected by user"
                declined += 1
            patches_rejected += payload.get("output") == "patch rejected by user"
    assert declined > 5
    assert patches_rejected > 0


# --------------------------------------------------------------------------- (d) the fixed root cause


def test_fixed_root_cause_becomes_rare_after_fix_date(parsed: dict[Path, list[dict[str, Any]]]) -> None:
    hits: dict[bool, list[int]] = {False: [], True: []}
    for path, recs in parsed.items():
        meta = meta_of(recs)
        if meta["git"]["repository_url"] not in PYTHON_URLS:
            continue
        match = NAME.match(path.name)
        assert match
        day = "-".join(match.groups()[:3])
        hits[day >= FIX_DATE].append(content(path).count(MISSING_MODULE_TEXT.encode()))
    before = sum(1 for n in hits[False] if n) / len(hits[False])
    after = sum(1 for n in hits[True] if n) / len(hits[True])
    assert sum(1 for n in hits[False] if n) >= 40
    assert after <= 0.25 * before


def test_compaction_follows_a_nearly_full_context(parsed: dict[Path, list[dict[str, Any]]]) -> None:
    compacted = 0
    for recs in parsed.values():
        fill = 0.0
        for i, rec in enumerate(recs):
            payload = rec.get("payload")
            if not isinstance(payload, dict):
                continue
            info = payload.get("info") if payload.get("type") == "token_count" else None
            if info:
                fill = info["last_token_usage"]["input_tokens"] / info["model_context_window"]
            if rec.get("type") == "compacted":
                compacted += 1
                assert fill > 0.85
                assert recs[i + 1]["payload"] == {"type": "context_compacted"}
    assert compacted >= 25


def test_planted_secrets_are_present(corpus: Path) -> None:
    text = (corpus / "CORPUS.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| ([0-9a-f-]{36}) \| ([a-z_, ]+) \| `([^`]+)` \|$", text, re.MULTILINE)
    assert len(rows) == 10
    patterns = {
        "env_file": rb"sk_live_FAKE\w{20,}",
        "openai_key_cmd": rb"sk-proj-[\w-]{48,}",
        "openai_key_prompt": rb"sk-proj-[\w-]{48,}",
        "github_token": rb"ghp_[A-Za-z0-9]{36}\b",
        "aws_key": rb"AKIA[A-Z0-9]{16}\b",
        "bearer_jwt": rb"Bearer eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+",
    }
    for _, kind, rel in rows:
        assert re.search(patterns[kind], content(corpus / rel)), (kind, rel)


def test_corpus_stays_small(corpus: Path) -> None:
    assert sum(p.stat().st_size for p in corpus.rglob("*") if p.is_file()) < 15_000_000
