"""Small pieces of task generation: TOML writing, command rewriting, paths, urls, language, Dockerfiles."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

from ccl_tui.tasks import toml
from ccl_tui.tasks.environment import BASE_IMAGES, Environment, clone_url, detect_language, dockerfile
from ccl_tui.tasks.model import CLONE, NEEDS_REPOSITORY, SNAPSHOT
from ccl_tui.tasks.paths import portable_command, rel_path, task_name, workdir_rel
from ccl_tui.tasks.render import fence, inline_code
from ccl_tui.tasks.snapshot import is_secret_file

HOSTILE = [
    "plain",
    'quo"te',
    "back\\slash",
    "new\nline",
    "tab\tcr\r",
    "nul\x00bell\x07del\x7f",
    "esc\x1b[31m",
    "uni ☃ é 𝄞",
    "lone \ud800 surrogate",
    "$(touch x) `id` '",
    '"""',
    "''' ]]",
    "[table]\nkey = 1",
]


def test_toml_round_trips_hostile_strings() -> None:
    doc = {
        "a": HOSTILE,
        "meta": {"k": HOSTILE[3], "nested": {"x": 1.5, "y": True, "z": 0}},
        "weird key.with dots": "v",
        "list": [{"s": HOSTILE[9], "n": 2}],
        "empty": {},
    }
    parsed = tomllib.loads(toml.dumps(doc))
    expected = [s.replace("\ud800", "\ufffd") for s in HOSTILE]
    assert parsed["a"] == expected
    assert parsed["meta"]["k"] == "new\nline" and parsed["meta"]["nested"] == {"x": 1.5, "y": True, "z": 0}
    assert parsed["weird key.with dots"] == "v" and parsed["list"] == [{"s": HOSTILE[9], "n": 2}]
    assert parsed["empty"] == {}


def test_toml_floats_and_none() -> None:
    parsed = tomllib.loads(toml.dumps({"a": 600.0, "b": 1e-5, "c": float("nan"), "d": None, "e": 3}))
    assert parsed == {"a": 600.0, "b": 1e-5, "c": 0.0, "e": 3}


def _expand(command: str, root: str) -> str:
    out = subprocess.run(
        ["bash", "-c", command],
        env={"CCL_REPO_ROOT": root, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


@pytest.mark.parametrize(
    "command",
    [
        "echo /home/me/src/app/tests",
        "echo '/home/me/src/app/tests'",
        'echo "/home/me/src/app/tests"',
        "cd /home/me/src/app && echo $PWD/tests",
        "echo '/home/me/src/app'/tests",
    ],
)
def test_portable_command_points_at_the_task_copy(command: str, tmp_path: Path) -> None:
    root = str(tmp_path / "copy with space")
    Path(root).mkdir()
    rewritten = portable_command(command, "/home/me/src/app")
    assert "/home/me/src/app" not in rewritten
    assert _expand(rewritten, root).strip() == f"{root}/tests"


def test_portable_command_leaves_lookalikes_alone() -> None:
    assert portable_command("ls /home/me/src/app2 /home/me/src/apple", "/home/me/src/app") == (
        "ls /home/me/src/app2 /home/me/src/apple"
    )
    assert portable_command("pytest -q", None) == "pytest -q"
    assert portable_command("echo /", "/") == "echo /"


def test_rel_path_and_workdir() -> None:
    assert rel_path("src/a.py", "/w") == "src/a.py"
    assert rel_path("/w/src/./a.py", "/w") == "src/a.py"
    assert rel_path("./a.py", "/w") == "a.py"
    for bad in ("../a", "/etc/passwd", "/w/../x", "a\nb", "a\\b", "", ".", " a", 'q"'):
        assert rel_path(bad, "/w") is None, bad
    assert workdir_rel("/w/pkg", "/w") == "pkg" and workdir_rel("/w", "/w/") == "."
    assert workdir_rel(None, "/w") == "." and workdir_rel("/elsewhere", "/w") == "."


def test_task_name_shape() -> None:
    assert task_name("ccl", "I-0a1b2c3d4e", "pytest fails: ModuleNotFoundError: httpx") == (
        "ccl-i-0a1b2c3d4e-pytest-fails-modulenotfounderror-httpx"
    )
    assert len(task_name("ccl", "x" * 300, "y" * 300)) <= 64
    assert task_name("", "") == "task"


def test_fences_cannot_be_closed_by_the_text() -> None:
    text = "a ``` b\n````\nc"
    block = fence(text)
    assert block.startswith("`````text\n") and block.endswith("\n`````\n")
    assert inline_code("a`b") == "``a`b``" and inline_code("`x") == "`` `x ``"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("git@github.com:acme-labs/billing-api.git", "https://github.com/acme-labs/billing-api.git"),
        ("https://github.com/acme/x.git", "https://github.com/acme/x.git"),
        ("https://user:pass@gitlab.example.com:8443/g/x.git", "https://gitlab.example.com:8443/g/x.git"),
        ("ssh://git@github.com:22/acme/x.git", "https://github.com/acme/x.git"),
        ("redacted://url/4eecca0551", None),
        ("file:///home/me/x.git", None),
        ("/home/me/x.git", None),
        ("https://localhost/x.git", None),
        ("https://github.com/acme/x.git?ref=$(id)", None),
        ("https://github.com/acme/$(id).git", None),
        ("https://github.com/acme/../x.git", None),
        ("-uhttps://evil.com/x", None),
        ("", None),
        (None, None),
    ],
)
def test_clone_url(url: str | None, expected: str | None) -> None:
    got, reason = clone_url(url)
    assert got == expected
    assert bool(reason) == (expected is None)


def test_detect_language() -> None:
    assert detect_language(["pytest", "ruff"], ["src/a.py"], "pytest") == "python"
    assert detect_language(["npm test"], ["package.json"], "npm test") == "node"
    assert detect_language([], ["go.mod", "main.go"], "") == "go"
    assert detect_language(["cargo test"], [], "cargo test") == "rust"
    assert detect_language([], [], "") == "unknown"
    # marker files beat a stray command
    assert detect_language(["python"], ["Cargo.toml", "src/lib.rs"], "cargo test") == "rust"


def test_dockerfiles_per_mode() -> None:
    sha = "a" * 40
    snap = Environment(SNAPSHOT, "python", BASE_IMAGES["python"], "r", True, prefix="pkg", commit=sha)
    text = dockerfile(snap)
    assert "ADD repo.tar.gz /app/" in text and "WORKDIR /app/pkg" in text and "pytest" in text
    clone = Environment(
        CLONE,
        "go",
        BASE_IMAGES["go"],
        "r",
        False,
        clone_url="https://github.com/a/b.git",
        commit=sha,
        prefix="we ird$x",
    )
    text = dockerfile(clone)
    assert f"fetch -q --depth 1 origin {sha}" in text and "https://github.com/a/b.git" in text
    assert "WORKDIR /app\n" in text and "we ird" not in text and "go mod download" in text
    needs = Environment(NEEDS_REPOSITORY, "unknown", BASE_IMAGES["unknown"], "no url", False)
    text = dockerfile(needs)
    assert "exit 1" in text and "NEEDS_REPOSITORY.md" in text and "git" not in text.split("RUN", 1)[1][:10]
    with pytest.raises(ValueError):
        dockerfile(Environment(CLONE, "go", "x", "r", False, clone_url="https://a.b/c", commit="HEAD; rm -rf /"))


@pytest.mark.parametrize(
    "name",
    [
        ".env",
        ".env.local",
        "prod.env",
        "config/.npmrc",
        "keys/id_rsa",
        "id_ed25519.pub",
        "server.pem",
        "tls.key",
        "terraform.tfvars",
        "x/credentials.json",
    ],
)
def test_secret_files(name: str) -> None:
    assert is_secret_file(name)


@pytest.mark.parametrize("name", ["env.py", "src/environment.ts", "keyboard.py", "README.md", "tokens.py"])
def test_ordinary_files(name: str) -> None:
    assert not is_secret_file(name)
