"""Bad and unusual input: every case is handled, counted and never fatal."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import zstandard

from ccl_tui.model.events import EVENT_COLUMNS, Event
from ccl_tui.sources.discover import find_rollouts
from ccl_tui.sources.outcome import classify_output
from ccl_tui.sources.outputs import argv_to_command, duration_to_ms
from ccl_tui.sources.parse import parse_file
from tests.builders import Rollout, legacy_rollout

COL = {c: i for i, c in enumerate(EVENT_COLUMNS)}


def kinds(rows: list[tuple]) -> list[str]:
    return [r[COL["kind"]] for r in rows]


def basic(tmp_path: Path, **kw: object) -> tuple[Rollout, Path]:
    r = Rollout(**kw)  # type: ignore[arg-type]
    r.user("fix the failing test")
    r.exec("pytest -q", "1 failed", 1)
    r.assistant("done")
    r.complete()
    return r, r.write(tmp_path)


def test_malformed_line_in_the_middle_is_skipped_and_counted(tmp_path: Path) -> None:
    r, path = basic(tmp_path)
    lines = path.read_bytes().split(b"\n")
    lines.insert(3, b'{"timestamp": "2026-10-05T09:00:01.000Z", "type": "event_msg", "payl')
    lines.insert(5, b"not json at all")
    path.write_bytes(b"\n".join(lines))
    res = parse_file(str(path))
    assert [(b.line, b.reason.split(" (")[0]) for b in res.bad] == [(4, "invalid JSON"), (6, "invalid JSON")]
    assert res.session is not None and res.session.id == r.id
    assert "tool_output" in kinds(res.rows)
    assert res.pending_bytes == 0


def test_partial_last_line_is_left_for_next_time(tmp_path: Path) -> None:
    _, path = basic(tmp_path)
    full = path.read_bytes()
    extra = b'{"timestamp":"2026-10-05T09:10:00.000Z","type":"event_msg","payload":{"type":"user_message","message":"thanks"}}\n'
    path.write_bytes(full + extra[:40])
    res = parse_file(str(path))
    assert res.bad == []
    assert res.pending_bytes == 40
    assert res.end_offset == len(full)
    # Codex finishes the line: continuing from the offset reads it exactly once.
    path.write_bytes(full + extra)
    cont = parse_file(str(path), res.end_offset, res.lines, res.state)
    assert kinds(cont.rows) == ["user_message"]
    assert cont.rows[0][COL["seq"]] == len(res.rows)
    assert cont.rows[0][COL["line"]] == res.lines + 1


def test_complete_last_line_without_newline_is_consumed_once(tmp_path: Path) -> None:
    _, path = basic(tmp_path)
    data = path.read_bytes().rstrip(b"\n")
    path.write_bytes(data)
    res = parse_file(str(path))
    assert res.pending_bytes == 0 and res.end_offset == len(data)
    path.write_bytes(data + b"\n")
    cont = parse_file(str(path), res.end_offset, res.lines, res.state)
    assert cont.rows == [] and cont.bad == []


def test_invalid_utf8_and_lone_surrogates_are_replaced(tmp_path: Path) -> None:
    r = Rollout()
    r.user("run it")
    cid = r.exec("cat bin.dat", "PLACEHOLDER", 0)
    path = r.write(tmp_path)
    raw = path.read_bytes().replace(b"PLACEHOLDER", b"bad \xff\xfe bytes \\ud800 lone", 2)
    path.write_bytes(raw)
    res = parse_file(str(path))
    assert res.bad == []
    outs = [row for row in res.rows if row[COL["kind"]] == "tool_output" and row[COL["call_id"]] == cid]
    assert outs and "bad \ufffd\ufffd bytes \ufffd lone" in outs[0][COL["text"]]
    outs[0][COL["text"]].encode("utf-8")  # storable


def test_ansi_and_control_codes_stripped_at_ingest(tmp_path: Path) -> None:
    r = Rollout()
    r.user("go")
    r.exec("pytest", "\x1b[31mFAILED\x1b[0m tests/test_a.py\r\n\x07done", 1)
    res = parse_file(str(r.write(tmp_path)))
    text = next(row[COL["text"]] for row in res.rows if row[COL["kind"]] == "tool_output")
    assert text == "FAILED tests/test_a.py\ndone"


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "rollout-2026-10-05T09-00-00-0199a000-0000-7000-8000-000000000000.jsonl"
    p.write_bytes(b"")
    res = parse_file(str(p))
    assert res.session is None and res.rows == [] and res.bad == [] and res.error is None and res.lines == 0


def test_file_that_disappears(tmp_path: Path) -> None:
    res = parse_file(str(tmp_path / "rollout-gone.jsonl"))
    assert res.error == "file disappeared before it could be read"


def test_huge_line_is_capped(tmp_path: Path) -> None:
    r = Rollout()
    r.user("dump the log")
    big = ("x" * 99 + "\n") * 500_000  # 50 MB
    r.exec("cat huge.log", big + "ERROR at the end", 1)
    path = r.write(tmp_path)
    assert path.stat().st_size > 100_000_000  # appears twice (output + exec end)
    res = parse_file(str(path))
    outs = [row for row in res.rows if row[COL["kind"]] == "tool_output"]
    assert len(outs) == 2
    first, second = outs
    for o in outs:
        assert o[COL["text_size"]] == len(big) + len("ERROR at the end")
    assert len(first[COL["text"]]) < 10_000
    assert first[COL["text"]].endswith("ERROR at the end")
    assert "characters omitted" in first[COL["text"]]
    # exec_command_end repeats the same output: stored once, referenced by the second record.
    assert second[COL["text"]] == ""
    assert json.loads(second[COL["data"]])["same_text_as"] == first[COL["seq"]]


def test_images_and_encrypted_content_never_stored(tmp_path: Path) -> None:
    r = Rollout()
    r.add(
        "response_item",
        {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_text", "text": "look"},
                {"type": "input_image", "image_url": "data:image/png;base64," + "A" * 10000},
            ],
        },
    )
    r.user("what is in the screenshot?")
    r.add(
        "response_item",
        {"type": "reasoning", "summary": [], "content": None, "encrypted_content": "gAAAA" + "B" * 5000},
    )
    res = parse_file(str(r.write(tmp_path)))
    blob = json.dumps([list(x) for x in res.rows])
    assert "AAAAAAAAAA" not in blob and "BBBBBBBBBB" not in blob


def test_zstd_compressed_rollout(tmp_path: Path) -> None:
    _r, path = basic(tmp_path)
    plain = parse_file(str(path))
    zpath = path.with_name(path.name + ".zst")
    zpath.write_bytes(zstandard.ZstdCompressor(level=3).compress(path.read_bytes()))
    path.unlink()
    res = parse_file(str(zpath))
    assert res.compressed == "zstd"
    assert res.rows == plain.rows
    assert find_rollouts([tmp_path]) == [zpath]


def test_truncated_zstd_keeps_what_it_read(tmp_path: Path) -> None:
    r = Rollout()
    for i in range(3000):
        r.user(f"prompt number {i} " + "lorem ipsum " * (i % 17))
    path = r.write(tmp_path)
    data = zstandard.ZstdCompressor(level=3).compress(path.read_bytes())
    zpath = path.with_name(path.name + ".zst")
    zpath.write_bytes(data[: len(data) // 2])
    path.unlink()
    res = parse_file(str(zpath))
    assert res.session is not None
    assert 0 < sum(1 for k in kinds(res.rows) if k == "user_message") < 3000
    assert res.error is not None and "truncated" in res.error


def test_legacy_unenveloped_era(tmp_path: Path) -> None:
    p = tmp_path / "rollout-2025-08-20T15-20-47-5973b6c0-94b8-487b-a530-2aeb6098ae0e.jsonl"
    p.write_text(legacy_rollout())
    res = parse_file(str(p))
    s = res.session
    assert s is not None and s.era == "legacy"
    assert s.id == "5973b6c0-94b8-487b-a530-2aeb6098ae0e"
    assert s.cwd == "/home/dev/src/legacy-app"  # from <environment_context>
    assert s.git_repo_url == "https://github.com/acme/legacy-app.git"
    assert s.origin == "interactive"
    assert kinds(res.rows) == ["context", "user_message", "reasoning", "tool_call", "tool_output", "assistant_message"]
    out = res.rows[4]
    assert out[COL["exit_code"]] == 1 and out[COL["command"]] == "pytest -q"
    # No per-line timestamps in this era: every event takes the header's time, and says where it came from.
    assert all(r[COL["ts"]] == "2025-08-20T13:20:47.060Z" for r in res.rows)
    assert all(json.loads(r[COL["data"]])["ts_from"] == "session header" for r in res.rows)
    assert res.rows[1][COL["turn"]] == 1


def test_legacy_times_from_the_file_name_when_the_header_has_none(tmp_path: Path) -> None:
    p = tmp_path / "rollout-2025-08-20T15-20-47-5973b6c0-94b8-487b-a530-2aeb6098ae0e.jsonl"
    lines = legacy_rollout().split("\n")
    header = json.loads(lines[0])
    del header["timestamp"]
    p.write_text("\n".join([json.dumps(header), *lines[1:]]))
    res = parse_file(str(p))
    assert res.session is not None and res.session.started_at == "2025-08-20T15:20:47.000Z"
    assert {r[COL["ts"]] for r in res.rows} == {"2025-08-20T15:20:47.000Z"}
    assert {json.loads(r[COL["data"]])["ts_from"] for r in res.rows} == {"file name"}


def test_unknown_types_kept_as_other(tmp_path: Path) -> None:
    r = Rollout()
    r.user("hi")
    r.add("world_state", {"foo": 1})
    r.add("event_msg", {"type": "brand_new_event", "x": 2})
    r.add("response_item", {"type": "future_item", "y": 3, "encrypted_content": "secretblob"})
    res = parse_file(str(r.write(tmp_path)))
    others = [(row[COL["raw_type"]], row[COL["text"]]) for row in res.rows if row[COL["kind"]] == "other"]
    assert [o[0] for o in others] == ["world_state", "event_msg/brand_new_event", "response_item/future_item"]
    assert "secretblob" not in others[2][1]


def test_denials_as_codex_records_them(tmp_path: Path) -> None:
    r = Rollout(era="C")
    r.user("push it")
    cid = r.deny("git push origin main")
    b = Rollout(era="B", start="2026-10-06T09:00:00")
    b.user("install deps")
    bid = b.call_id()
    b.add(
        "response_item",
        {
            "type": "function_call",
            "name": "shell",
            "call_id": bid,
            "arguments": json.dumps(
                {
                    "command": ["bash", "-lc", "npm install"],
                    "with_escalated_permissions": True,
                    "justification": "network",
                }
            ),
        },
    )
    b.add("response_item", {"type": "function_call_output", "call_id": bid, "output": "exec command rejected by user"})
    b.patch("src/a.py")
    pid = b.call_id()
    b.add(
        "response_item",
        {"type": "custom_tool_call", "call_id": pid, "name": "apply_patch", "input": "*** Begin Patch\n*** End Patch"},
    )
    b.add("response_item", {"type": "custom_tool_call_output", "call_id": pid, "output": "patch rejected by user"})
    rc = parse_file(str(r.write(tmp_path)))
    denials = [row for row in rc.rows if row[COL["kind"]] == "denial"]
    assert {d[COL["call_id"]] for d in denials} == {cid}
    assert {d[COL["raw_type"]] for d in denials} == {"response_item/function_call_output", "event_msg/exec_command_end"}
    assert all(d[COL["command"]] == "git push origin main" for d in denials)
    escalated = next(row for row in rc.rows if row[COL["kind"]] == "tool_call")
    assert json.loads(escalated[COL["data"]])["escalated"] is True
    rb = parse_file(str(b.write(tmp_path)))
    denials_b = [(row[COL["tool"]], row[COL["command"]]) for row in rb.rows if row[COL["kind"]] == "denial"]
    assert denials_b == [("shell", "npm install"), ("apply_patch", None)]


def test_compaction_pair_is_one_event_and_tokens_recorded(tmp_path: Path) -> None:
    r = Rollout()
    r.user("long task")
    r.tokens(250_000, 900_000)
    r.compact("We were fixing the invoice API.")
    res = parse_file(str(r.write(tmp_path)))
    ks = kinds(res.rows)
    assert ks.count("compaction") == 1
    tok = next(row for row in res.rows if row[COL["kind"]] == "token_count")
    # fresh = input not served from cache + output (cumulative), the measure friction costs use
    assert json.loads(tok[COL["data"]]) == {
        "input": 250_000,
        "last": 250_100,
        "total": 900_000,
        "fresh": 250_100,
        "last_fresh": 250_100,
        "output": 100,
        "window": 272000,
    }


def test_turns_interrupts_and_errors(tmp_path: Path) -> None:
    r = Rollout(era="C")
    r.user("first")
    r.assistant("ok")
    r.complete()
    r.user("second")
    r.error("stream disconnected before completion", {"response_stream_disconnected": {"http_status_code": 502}})
    r.stream_error()
    r.abort()
    r.user("third")
    res = parse_file(str(r.write(tmp_path)))
    prompts = [(row[COL["text"]], row[COL["turn"]]) for row in res.rows if row[COL["kind"]] == "user_message"]
    assert prompts == [("first", 1), ("second", 2), ("third", 3)]
    err = next(row for row in res.rows if row[COL["kind"]] == "error")
    assert err[COL["status"]] == "response_stream_disconnected"
    ab = next(row for row in res.rows if row[COL["kind"]] == "turn_aborted")
    assert (ab[COL["status"]], ab[COL["turn"]]) == ("interrupted", 2)
    assert "stream_error" in kinds(res.rows)


def test_fork_counts_only_its_own_lines(tmp_path: Path) -> None:
    parent = Rollout(start="2026-10-05T09:00:00")
    parent.user("parent prompt")
    parent.exec("pytest", "boom", 1)
    parent.assistant("parent answer")
    fork = Rollout(start="2026-10-05T10:00:00", forked_from=parent.id)
    # Codex writes the parent's meta and history right after the fork's own meta, in one burst.
    for line in parent.lines:
        fork.add(line["type"], line["payload"])
    fork.tick(30)
    fork.user("fork prompt")
    fork.exec("pytest -x", "ok", 0)
    res = parse_file(str(fork.write(tmp_path)))
    assert res.session is not None and res.session.id == fork.id
    assert res.session.forked_from == parent.id
    prompts = [row[COL["text"]] for row in res.rows if row[COL["kind"]] == "user_message"]
    assert prompts == ["fork prompt"]
    assert res.skipped_replay == len(parent.lines) - 1


def test_subagent_source(tmp_path: Path) -> None:
    r = Rollout(
        source={"subagent": {"thread_spawn": {"parent_thread_id": "019a0000-aaaa-7bbb-8ccc-000000000001", "depth": 1}}},
        originator="codex-tui",
    )
    r.user("sub task")
    res = parse_file(str(r.write(tmp_path)))
    s = res.session
    assert s is not None
    assert (s.source, s.origin, s.parent_id) == (
        "subagent:thread_spawn",
        "subagent",
        "019a0000-aaaa-7bbb-8ccc-000000000001",
    )
    r2 = Rollout(source={"subagent": "review"}, start="2026-10-07T09:00:00")
    s2 = parse_file(str(r2.write(tmp_path))).session
    assert s2 is not None and s2.origin == "review"


def test_not_a_rollout(tmp_path: Path) -> None:
    p = tmp_path / "history.jsonl"
    p.write_text('{"session_id":"x","ts":1,"text":"hello"}\n')
    res = parse_file(str(p))
    assert res.session is None and res.bad == []


def test_discovery_of_codex_home(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    _r1, p1 = basic(home)
    r2 = Rollout(start="2026-10-09T09:00:00")
    r2.user("x")
    p2 = r2.write(home / "archived_sessions", dated=False)
    (home / "history.jsonl").write_text("{}\n")
    (home / "sessions" / "notes.txt").write_text("x")
    assert find_rollouts([home]) == [p1, p2]
    os.environ["CODEX_HOME"] = str(home)
    assert find_rollouts() == [p1, p2]


@pytest.mark.parametrize(
    ("raw", "text", "code", "status"),
    [
        ('{"output":"ok\\n","metadata":{"exit_code":0,"duration_seconds":1.5}}', "ok\n", 0, "ok"),
        ("Exit code: 2\nWall time: 0.3 seconds\nOutput:\nboom", "boom", 2, "failed"),
        (
            "Chunk ID: a\nWall time: 1.0 seconds\nProcess exited with code 1\nOriginal token count: 3\nOutput:\nx",
            "x",
            1,
            "failed",
        ),
        (
            "Chunk ID: a\nWall time: 1.0 seconds\nProcess running with session ID 42\nOriginal token count: 0\nOutput:\n",
            "",
            None,
            "running",
        ),
        ("exec command rejected by user", "exec command rejected by user", None, "rejected"),
        ("aborted by user", "aborted by user", None, "aborted"),
        ('{"content":[{"type":"text","text":"nope"}],"isError":true}', "nope", None, "failed"),
        ("plain text", "plain text", None, "unknown"),
    ],
)
def test_decode_output_shapes(raw: str, text: str, code: int | None, status: str | None) -> None:
    d = classify_output(raw)
    assert (d.body, d.exit_code, d.status) == (text, code, status)


def test_small_helpers() -> None:
    assert argv_to_command(["bash", "-lc", "pytest -q"]) == "pytest -q"
    assert argv_to_command(["/bin/zsh", "-lc", "ls"]) == "ls"
    assert argv_to_command(["git", "commit", "-m", "a b"]) == "git commit -m 'a b'"
    assert duration_to_ms({"secs": 1, "nanos": 500_000_000}) == 1500
    assert duration_to_ms("350ms") == 350
    assert duration_to_ms("1.2s") == 1200
    assert Event(seq=0, kind="x", raw_type="x", line=1, text="ab", text_size=5).truncated
