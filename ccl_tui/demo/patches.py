"""Build apply_patch inputs and unified diffs from code excerpts, plus the failure text Codex records."""

from __future__ import annotations

from collections.abc import Sequence

from ccl_tui.demo.repos import GO, PY, RS, TS, Edit, Site
from ccl_tui.demo.steps import Patch


def _context(lines: Sequence[str], edit: Edit) -> tuple[int, list[str], list[str], list[str]]:
    lo = max(0, edit.after - 1)
    cut = edit.after + 1 + edit.remove
    return lo, list(lines[lo : edit.after + 1]), list(lines[edit.after + 1 : cut]), list(lines[cut : cut + 2])


def _unmerged_patch(
    path: str, first_line: int, lines: Sequence[str], edits: Sequence[Edit], header: bool = False
) -> Patch:
    """One hunk per edit, each against the original excerpt: how the generator wrote patches before hunks that
    overlap were merged. Kept only to bill the same context tokens as before (see :func:`make_patch`)."""
    body: list[str] = []
    for n, edit in enumerate(sorted(edits, key=lambda e: e.after)):
        _lo, before, removed, after = _context(lines, edit)
        body.append(f"@@ {lines[0].strip()}" if header and n == 0 else "@@")
        body += [" " + x for x in before] + ["-" + x for x in removed] + ["+" + x for x in edit.add]
        body += [" " + x for x in after]
    text = f"*** Begin Patch\n*** Update File: {path}\n" + "\n".join(body) + "\n*** End Patch\n"
    return Patch(path, text, "")


def _groups(lines: Sequence[str], edits: Sequence[Edit]) -> list[tuple[int, int, list[Edit]]]:
    """Edits whose hunks would overlap, grouped: (first old line, end of old lines, edits), in order."""
    groups: list[tuple[int, int, list[Edit]]] = []
    for edit in sorted(edits, key=lambda e: e.after):
        lo, _before, _removed, after = _context(lines, edit)
        end = edit.after + 1 + edit.remove + len(after)
        if groups and lo < groups[-1][1]:
            first, last, members = groups[-1]
            groups[-1] = (first, max(last, end), [*members, edit])
        else:
            groups.append((lo, end, [edit]))
    return groups


def make_patch(path: str, first_line: int, lines: Sequence[str], edits: Sequence[Edit], header: bool = False) -> Patch:
    """An ``*** Update File`` patch applying ``edits`` to the excerpt ``lines`` that starts at ``first_line``.

    Each edit gets a hunk with up to two lines of context either side; edits whose hunks would overlap share one
    hunk (Codex, like ``git apply``, looks for each hunk after the previous one, so overlapping hunks could never
    apply). A merged patch bills the context tokens of the older unmerged text (``Patch.billed``), so that the
    token counts of the corpus stay what they were."""
    body: list[str] = []
    diff: list[str] = []
    delta = 0
    groups = _groups(lines, edits)
    for n, (lo, end, members) in enumerate(groups):
        hunk: list[str] = []
        i = lo
        for edit in members:
            while i <= edit.after:
                hunk.append(" " + lines[i])
                i += 1
            hunk += ["-" + x for x in lines[i : i + edit.remove]]
            i += edit.remove
            hunk += ["+" + x for x in edit.add]
        hunk += [" " + x for x in lines[i:end]]
        old_len = sum(1 for x in hunk if x[0] in " -")
        new_len = sum(1 for x in hunk if x[0] in " +")
        start = first_line + lo
        diff.append(f"@@ -{start},{old_len} +{start + delta},{new_len} @@")
        diff.extend(hunk)
        body.append(f"@@ {lines[0].strip()}" if header and n == 0 else "@@")
        body.extend(hunk)
        delta += new_len - old_len
    text = f"*** Begin Patch\n*** Update File: {path}\n" + "\n".join(body) + "\n*** End Patch\n"
    patch = Patch(path, text, "\n".join(diff) + "\n")
    if len(groups) < len(edits):
        patch.billed = _unmerged_patch(path, first_line, lines, edits, header).text
    return patch


def site_patch(site: Site, edits: Sequence[Edit], header: bool = False) -> Patch:
    return make_patch(site.path, site.first_line, site.lines, edits, header)


def add_file(path: str, content: str) -> Patch:
    body = "\n".join("+" + line for line in content.rstrip("\n").split("\n"))
    return Patch(path, f"*** Begin Patch\n*** Add File: {path}\n{body}\n*** End Patch\n", content, kind="add")


def revert(patch: Patch) -> Patch:
    """The inverse of an update patch (what the agent applies after "revert that")."""
    return Patch(patch.path, _flip(patch.text), _flip(patch.diff), billed=_flip(patch.billed) if patch.billed else "")


def _flip(text: str) -> str:
    out: list[str] = []
    run: list[str] = []
    for line in [*text.split("\n"), ""]:
        if line[:1] in ("+", "-") and not line.startswith("***"):
            run.append(("-" if line[0] == "+" else "+") + line[1:])
            continue
        out.extend(sorted(run, key=lambda x: x[0] == "+"))
        run = []
        out.append(_swap_header(line) if line.startswith("@@ -") else line)
    return "\n".join(out[:-1])


def _swap_header(line: str) -> str:
    old, new = line[3:].split(" @@")[0].split(" ")
    return f"@@ -{new[1:]} +{old[1:]} @@"


def expected_lines(patch: Patch) -> list[str]:
    """The old-side lines of the first hunk: what apply_patch looks for in the file."""
    hunk = patch.text.split("\n@@", 2)[1].split("\n")[1:]
    return [line[1:] for line in hunk if line[:1] in (" ", "-")]


def stale(patch: Patch, param: str, nth: int = 0) -> Patch:
    """The same patch written against an outdated memory of the file, so its context no longer matches."""
    lines = patch.text.split("\n")
    context = [i for i, line in enumerate(lines) if line.startswith(" ") and line.strip()]
    i = context[nth % len(context)]
    lines[i] = _mutate(lines[i], param)
    billed = stale(Patch(patch.path, patch.billed, ""), param, nth).text if patch.billed else ""
    return Patch(patch.path, "\n".join(lines), patch.diff, patch.kind, billed)


def _mutate(line: str, param: str) -> str:
    if '"' in line:
        return line.replace('"', "'")
    if param in line:
        return line.replace(param, param + "_id", 1)
    return line.rstrip() + "  # legacy"


def verification_error(cwd: str, patch: Patch) -> str:
    """The exact text Codex records when an update patch's context is not found."""
    lines = "\n".join(expected_lines(patch))
    return f"apply_patch verification failed: Failed to find expected lines in {cwd}/{patch.path}:\n{lines}"


_LOG_LINE = {
    PY: 'logger.info("{symbol} called", extra={{"{param}": {param}}})',
    TS: 'logger.debug({{ {param} }}, "{symbol} called");',
    RS: 'tracing::debug!(?{param}, "{symbol} called");',
    GO: 'slog.Debug("{symbol} called", "{param}", {param})',
}


def logging_edit(site: Site, lang: str) -> Edit:
    line = _LOG_LINE[lang].format(symbol=site.symbol, param=site.param)
    return Edit(site.body, (site.indent + line,))


def module_of(site: Site) -> str:
    """Python import path of a ``src/...`` file."""
    return site.path.removeprefix("src/").removesuffix(".py").replace("/", ".")


def edge_test(site: Site, lang: str, package: str) -> Patch:
    """A new test file covering the edge case of ``site`` (the "write tests for X" tasks)."""
    sym, param = site.symbol, site.param
    if lang == PY:
        path = f"tests/test_{sym}_edge_cases.py"
        content = (
            f"import pytest\n\nfrom {module_of(site)} import {sym}\n\n\n"
            f"def test_{sym}_rejects_missing_{param}() -> None:\n"
            f"    with pytest.raises((ValueError, TypeError)):\n        {sym}({param}=None)\n"
        )
    elif lang == TS:
        base = site.path.rsplit("/", 1)
        path = f"{base[0]}/__tests__/{sym}.edge.test.ts" if base[0].startswith("src/") else f"test/{sym}.edge.test.ts"
        content = (
            f'import {{ describe, expect, it }} from "vitest";\nimport {{ {sym} }} from "../{base[1][:-3]}";\n\n'
            f'describe("{sym}", () => {{\n  it("handles a missing {param}", async () => {{\n'
            f"    await expect(async () => {sym}(undefined as never)).rejects.toThrow();\n  }});\n}});\n"
        )
    elif lang == RS:
        path = f"tests/{sym}_edge_cases.rs"
        content = (
            f"use {package}::*;\n\n#[test]\nfn {sym}_handles_empty_{param}() {{\n"
            f"    let result = std::panic::catch_unwind(|| {sym}_for_test(Default::default()));\n"
            f"    assert!(result.is_ok());\n}}\n"
        )
    else:
        path = site.test_path.replace("_test.go", "_edge_test.go")
        pkg = site.path.split("/")[-2]
        content = (
            f'package {pkg}\n\nimport "testing"\n\nfunc Test{sym}EmptyInput(t *testing.T) {{\n'
            f'\tif _, err := {sym}ForTest(""); err == nil {{\n\t\tt.Fatal("expected an error for empty input")\n\t}}\n}}\n'
        )
    return add_file(path, content)


def readme_patch(site: Site, summary: str) -> Patch:
    lines = ("## Behaviour notes", "", "- Money values are stored in minor units (cents).")
    note = f"- `{site.symbol}` ({site.path}): {summary.rstrip('.')}."
    return make_patch("README.md", 41, lines, (Edit(2, (note,)),))
