"""Compose the turns of one session from its plan: the task, the woven-in root causes, and the user's replies."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ccl_tui.demo import phrases, toolout
from ccl_tui.demo.causes import BLOCKED, CAUSES, OK, STUCK, TAIL, Ctx
from ccl_tui.demo.fake_secrets import plant
from ccl_tui.demo.patches import edge_test, logging_edit, make_patch, readme_patch, revert, site_patch
from ccl_tui.demo.plan import SessionPlan
from ccl_tui.demo.repos import GO, PY, RS, TS, Edit, Repo, Site
from ccl_tui.demo.steps import ApplyPatch, Exec, Hiccup, Patch, Story, Think, Turn, UpdatePlan

INTERRUPTED = "interrupted"

_GENERIC_PROMPTS = {
    "logging": (
        "Add structured logging to {symbol}",
        "Log the {param} when {symbol} is called so we can debug the prod issue",
        "Add a debug log line at the start of {symbol}",
    ),
    "tests": (
        "Write unit tests for {symbol}",
        "Add a test covering a missing {param} in {symbol}",
        "We have no test for the edge cases of {symbol} in {path}; add one",
    ),
    "docs": (
        "Document the behaviour of {symbol} in the README",
        "Add a note about {symbol} to the README's behaviour section",
    ),
}
_DOC_PREFIX = {PY: "# ", TS: "/** ", RS: "/// ", GO: "// "}
_HICCUP_ERRORS = (
    (
        "stream disconnected before completion: error sending request for url "
        "(https://chatgpt.com/backend-api/codex/responses)",
        {"response_too_many_failed_attempts": {"http_status_code": None}},
    ),
    ("We're currently experiencing high demand, which may cause temporary errors.", "internal_server_error"),
)


@dataclass(frozen=True, slots=True)
class Task:
    site: Site
    prompt: str
    patch: Patch
    summary: str


def pick_task(repo: Repo, rng: random.Random, update_only: bool = False, avoid: Site | None = None) -> Task:
    site = rng.choice([s for s in repo.sites if s is not avoid] or list(repo.sites))
    roll = rng.random()
    if update_only or roll < 0.74:
        chosen = rng.choice(site.tasks)
        return Task(
            site,
            rng.choice(chosen.prompts),
            site_patch(site, chosen.edits, rng.random() < 0.35),
            chosen.summary,
        )
    kind = "logging" if roll < 0.84 else "tests" if roll < 0.94 else "docs"
    prompt = rng.choice(_GENERIC_PROMPTS[kind]).format(symbol=site.symbol, param=site.param, path=site.path)
    if kind == "logging":
        patch = site_patch(site, (logging_edit(site, repo.lang),))
        return Task(site, prompt, patch, f"Added a debug log line to `{site.symbol}` that records `{site.param}`.")
    if kind == "tests":
        patch = edge_test(site, repo.lang, repo.package)
        return Task(site, prompt, patch, f"Added `{patch.path}` covering a missing `{site.param}` in `{site.symbol}`.")
    summary = f"Documented `{site.symbol}` in the README's behaviour notes."
    return Task(site, prompt, readme_patch(site, site.tasks[0].summary), summary)


def _delete(patch: Patch) -> Patch:
    return Patch(patch.path, f"*** Begin Patch\n*** Delete File: {patch.path}\n*** End Patch\n", patch.diff, "delete")


class StoryBuilder:
    def __init__(self, plan: SessionPlan, rng: random.Random) -> None:
        self.plan = plan
        self.rng = rng
        self.story = Story()

    def build(self) -> Story:
        if self.plan.kind == "review":
            self._review()
        elif self.plan.kind == "subagent":
            self._subagent()
        else:
            self._task_session()
        if self.plan.long:
            self._scale_costs()
        return self.story

    # ------------------------------------------------------------------ helpers

    def _ctx(self, task: Task) -> Ctx:
        p = self.plan
        return Ctx(
            self.rng,
            p.repo,
            task.site,
            p.dev,
            p.cwd,
            p.day,
            p.interactive,
            task.patch,
            toolout.focused_test_cmd(p.repo, task.site),
        )

    def _turn(self, prompt: str, pause: tuple[float, float] = (15, 400)) -> Turn:
        turn = Turn(prompt, pause=round(self.rng.uniform(*pause), 1))
        self.story.turns.append(turn)
        return turn

    def _can_abort(self) -> bool:
        return self.plan.interactive and self.plan.era != "A"

    def _cause(self, key: str) -> None:
        if key not in self.story.causes:
            self.story.causes.append(key)

    def _episodes(self, t: Turn, c: Ctx, phase: str, keys: list[str]) -> str:
        status = OK
        for key in keys:
            cause = CAUSES[key]
            if cause.phase == phase and cause.applies(c.repo):
                self._cause(key)
                outcome = cause.episode(t, c)
                status = outcome if outcome != OK else status
        return status

    def _final(self, t: Turn, c: Ctx, summary: str, tested: bool) -> None:
        text = summary
        if tested and c.last_test:
            text += f"\n\nVerified with `{c.last_test}`: all tests pass."
        for note in c.notes:
            text += "\n\n" + note
        c.notes.clear()
        t.steps.append(Think(c.fmt(self.rng.choice(("**Summarizing changes**", "**Preparing final summary**")))))
        t.final = text

    # ------------------------------------------------------------------ the main task turn

    def _work_turn(
        self, task: Task, causes: list[str], pause: tuple[float, float] = (2, 40), prompt: str | None = None
    ) -> tuple[Turn, Ctx, str]:
        rng, repo = self.rng, self.plan.repo
        t = self._turn(prompt or task.prompt, pause)
        c = self._ctx(task)
        if self.plan.secret == "openai_key_prompt" and len(self.story.turns) == 1:
            self._plant(t)
        c.think(t, phrases.THINK_EXPLORE)
        if repo.lang == PY and self.plan.post_fix and "py_missing_module" not in causes and rng.random() < 0.85:
            c.say(t, "Following AGENTS.md, syncing the environment with `uv sync` first.")
            c.run(t, "uv sync --frozen", toolout.uv_sync_ok(rng), 0, round(rng.uniform(0.3, 2.5), 2))
            c.test_cmd = c.test_cmd.replace("pytest", "uv run pytest", 1)
        status = self._episodes(t, c, "setup", causes)
        self._explore(t, c)
        self._episodes(t, c, "explore", causes)
        if self.plan.secret and self.plan.secret != "openai_key_prompt" and len(self.story.turns) == 1:
            self._plant(t)
        if self.plan.era != "A" and rng.random() < 0.25:
            t.steps.append(
                UpdatePlan(
                    [
                        ("Inspect current implementation", "completed"),
                        (f"Update {task.site.symbol}", "in_progress"),
                        ("Run focused tests", "pending"),
                    ]
                )
            )
        c.think(t, phrases.THINK_IMPLEMENT)
        if rng.random() < 0.5:
            c.say(t, rng.choice(phrases.SAY_IMPLEMENT))
        if "patch_mismatch" in causes and task.patch.kind == "update":
            self._cause("patch_mismatch")
            if CAUSES["patch_mismatch"].episode(t, c) == STUCK:
                return t, c, self._stuck(t, c, task)
        else:
            t.steps.append(ApplyPatch(task.patch))
        return t, c, self._verify(t, c, task, causes, status)

    def _explore(self, t: Turn, c: Ctx) -> None:
        rng, site = self.rng, c.site
        c.say(t, rng.choice(phrases.SAY_EXPLORE))
        if rng.random() < 0.25:
            c.run(t, "rg --files", toolout.files_output(c.repo))
        c.run(t, toolout.rg_cmd(c.repo, site), toolout.rg_output(site, rng))
        c.run(t, toolout.sed_cmd(site), toolout.sed_output(site))
        if rng.random() < 0.1:
            log, cost = toolout.git_log_output(list(self.plan.log) or [self.plan.commit[:7]], self.plan.commit, rng)
            c.run(t, "git log --oneline -5", log)
            step = t.steps[-1]
            if isinstance(step, Exec):
                step.cost = cost

    def _verify(self, t: Turn, c: Ctx, task: Task, causes: list[str], status: str) -> str:
        rng = self.rng
        tested = status != BLOCKED
        if tested:
            verify = [k for k in causes if CAUSES[k].phase == "verify" and CAUSES[k].applies(c.repo)]
            if verify:
                self._episodes(t, c, "verify", verify)
            elif self._can_abort() and rng.random() < 0.05:
                return self._interrupted(t, c)
            else:
                c.think(t, phrases.THINK_VERIFY)
                if rng.random() < 0.4:
                    c.say(t, rng.choice(phrases.SAY_VERIFY))
                c.tests_pass(t)
            if rng.random() < (0.6 if self.plan.long else 0.15):
                c.tests_pass(t, toolout.TEST_CMD[c.repo.lang])
        lint = [k for k in causes if CAUSES[k].phase == "lint" and CAUSES[k].applies(c.repo)]
        if lint and tested:
            self._episodes(t, c, "lint", lint)
        elif tested and rng.random() < 0.3:
            c.run(
                t,
                toolout.LINT_CMD[c.repo.lang],
                toolout.lint_passed(c.repo, rng),
                0,
                round(rng.uniform(0.2, 9), 2),
            )
        self._final(t, c, task.summary, tested)
        return status

    def _interrupted(self, t: Turn, c: Ctx) -> str:
        c.say(t, "Running the whole suite to be safe.")
        t.aborted, t.orphan = True, Exec(toolout.TEST_CMD[c.repo.lang])
        return INTERRUPTED

    def _stuck(self, t: Turn, c: Ctx, task: Task) -> str:
        if self._can_abort():
            t.aborted, t.orphan = True, Exec(toolout.numbered_cmd(c.site))
        else:
            t.final = (
                f"I couldn't apply the change: every patch for `{task.site.path}` failed verification because the "
                "expected lines were not found. The file was left unchanged."
            )
        return STUCK

    def _plant(self, t: Turn) -> None:
        kind = self.plan.secret or ""
        plant(t, kind, self.rng, f"{self.plan.repo.org}/{self.plan.repo.name}")
        self.story.secrets.append(kind)

    # ------------------------------------------------------------------ sessions

    def _task_session(self) -> None:
        p, rng = self.plan, self.rng
        main = [k for k in p.causes if CAUSES[k].phase != "followup"]
        task = pick_task(p.repo, rng, update_only="patch_mismatch" in main)
        prompt = None
        if p.kind == "fork":
            prompt = "let's try a different approach on a fresh branch: " + task.prompt[0].lower() + task.prompt[1:]
        first, c, status = self._work_turn(task, main, prompt=prompt)
        if p.hiccup:
            self._hiccup(first)
        if not p.interactive:
            return
        if self._recover(task, c, status):
            return
        for key in p.causes:
            if CAUSES[key].phase == "followup":
                self._followup_cause(task, key)
        if p.long:
            self._long_tail(task)
        self._reply(task, c, status)

    def _hiccup(self, first: Turn) -> None:
        rng = self.rng
        if rng.random() < 0.6 or first.final is None:
            at = rng.randint(1, max(1, len(first.steps) - 1))
            first.steps.insert(at, Hiccup("stream", attempts=rng.randint(1, 3)))
            return
        message, info = rng.choice(_HICCUP_ERRORS)
        first.steps.append(Hiccup("error", message, info))
        cont = self._turn(rng.choice(phrases.CONTINUE), (20, 120))
        cont.steps.append(Think("**Finishing up**"))
        cont.final, first.final = first.final, None

    def _recover(self, task: Task, c: Ctx, status: str) -> bool:
        """Follow up on a turn that did not finish cleanly; True when the user gave up on the session."""
        rng = self.rng
        if status == STUCK and self.story.turns[-1].aborted:
            if rng.random() < 0.4:
                self._turn(
                    rng.choice(phrases.GIVE_UP)
                ).final = "Understood — I'll leave it there; the file is unchanged."
                return True
            t = self._turn("stop retrying blind — re-read the file and then apply the change")
            c.run(t, toolout.numbered_cmd(c.site), toolout.numbered_output(c.site))
            t.steps.append(ApplyPatch(task.patch))
            c.tests_pass(t)
            self._final(t, c, task.summary, True)
        elif status == INTERRUPTED:
            t = self._turn(rng.choice(phrases.PUSHBACK_AFTER_ABORT), (5, 40))
            c.tests_pass(t)
            self._final(t, c, task.summary, True)
        elif status == BLOCKED and rng.random() < 0.7:
            t = self._turn("ok, I ran `npm ci` myself — node_modules is there now. Run the tests.", (60, 600))
            c.think(t, phrases.THINK_VERIFY)
            c.tests_pass(t)
            self._final(t, c, "Dependencies are installed now and the change works.", True)
        return False

    def _followup_cause(self, task: Task, key: str) -> None:
        cause = CAUSES[key]
        t = self._turn(cause.prompt.format(repo=self.plan.repo.name))
        c = self._ctx(task)
        c.think(t, ("**Handling the follow-up request**",))
        self._cause(key)
        done = cause.episode(t, c) == OK
        self._final(t, c, "Done." if done else "I couldn't finish this one from inside the sandbox.", False)

    def _long_tail(self, task: Task) -> None:
        rng, repo = self.rng, self.plan.repo
        previous = task.site
        for _ in range(rng.randint(2, 4)):
            nxt = pick_task(repo, rng, avoid=previous)
            previous = nxt.site
            tail = [k.key for k in TAIL if k.phase in ("verify", "lint") and k.applies(repo)]
            causes = [rng.choice(tail)] if tail and rng.random() < 0.4 else []
            t, _, _ = self._work_turn(nxt, causes, pause=(30, 600), prompt="next: " + nxt.prompt)
            head = toolout.rg_output(nxt.site, rng).splitlines()
            big = toolout.truncated(head * 2, head, rng.randint(400, 2400))
            t.steps.insert(2, Exec(f'rg -n "{nxt.site.param}" .', big, 0, 0.3))

    def _reply(self, task: Task, c: Ctx, status: str) -> None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.2 and status != STUCK:
            self._pushback(task, c)
        elif roll < 0.35:
            self._near_miss(task, c)
        praise = 0.45 if status in (OK, INTERRUPTED) else 0.15
        if self.story.turns[-1].final is not None and rng.random() < praise:
            self._turn(rng.choice(phrases.PRAISE), (10, 300)).final = rng.choice(phrases.DONE_ACK)

    def _pushback(self, task: Task, c: Ctx) -> None:
        rng = self.rng
        kind = rng.choice(("revert", "recheck", "scope"))
        if kind == "revert":
            t = self._turn(rng.choice(phrases.PUSHBACK_REVERT))
            t.steps.append(Think("**Reverting the previous change**"))
            t.steps.append(ApplyPatch(revert(task.patch) if task.patch.kind == "update" else _delete(task.patch)))
            c.tests_pass(t)
            self._final(t, c, f"Reverted the change to `{task.patch.path}`.", True)
        elif kind == "recheck":
            t = self._turn(rng.choice(phrases.PUSHBACK_RECHECK))
            c.think(t, phrases.THINK_DEBUG)
            c.tests_pass(t, toolout.TEST_CMD[c.repo.lang])
            self._final(
                t,
                c,
                "The full suite passes here. If it still fails for you, please paste the output — "
                "a stale build or an old virtualenv would explain it.",
                True,
            )
        else:
            t = self._turn(rng.choice(phrases.PUSHBACK_SCOPE))
            c.run(t, "git status --short", f" M {task.patch.path}\n")
            self._final(t, c, f"Understood. Only `{task.patch.path}` is modified; nothing else was touched.", False)

    def _near_miss(self, task: Task, c: Ctx) -> None:
        rng = self.rng
        which = rng.randrange(len(phrases.NEAR_MISS))
        t = self._turn(phrases.NEAR_MISS[which])
        site, lang = task.site, c.repo.lang
        if which == 0:
            doc = site.indent[: len(site.indent) - 4 if lang != GO else 0] + _DOC_PREFIX[lang]
            doc += f"{site.symbol}: see README behaviour notes." + (" */" if lang == TS else "")
            t.steps.append(ApplyPatch(make_patch(site.path, site.first_line, site.lines, (Edit(-1, (doc,)),))))
            self._final(t, c, f"Added a doc comment to `{site.symbol}`.", False)
        elif which == 1:
            c.run(t, toolout.LINT_CMD[lang], toolout.lint_passed(c.repo, rng), 0, round(rng.uniform(0.2, 9), 2))
            self._final(t, c, "Lint is clean.", False)
        elif which == 2:
            c.run(t, "git status --short", f" M {task.patch.path}\n")
            self._final(t, c, f"Only `{task.patch.path}` changed.", False)
        elif which == 3:
            c.tests_pass(t, c.test_cmd)
            self._final(t, c, f"Yes: `{c.test_cmd}` runs just this module's tests.", True)
        elif which == 4:
            lines = ("# Changelog", "", "## Unreleased", "")
            t.steps.append(ApplyPatch(make_patch("CHANGELOG.md", 1, lines, (Edit(2, ("- " + task.summary,)),))))
            self._final(t, c, "Added an entry under *Unreleased* in `CHANGELOG.md`.", False)
        else:
            self._final(t, c, "Yes — the change only uses language features that are available there.", False)

    def _review(self) -> None:
        p, rng = self.plan, self.rng
        task = pick_task(p.repo, rng, update_only=True)
        t = self._turn(
            "Review the current code changes (staged, unstaged and untracked files) and provide prioritized findings.",
            (1, 5),
        )
        c = self._ctx(task)
        c.think(t, ("**Reviewing the diff**",))
        added = task.patch.diff.count("\n+")
        c.run(
            t,
            "git diff --stat",
            f" {task.patch.path} | {added} {'+' * added}\n 1 file changed, {added} insertions(+)\n",
        )
        c.run(
            t,
            "git diff",
            f"diff --git a/{task.patch.path} b/{task.patch.path}\nindex "
            f"{p.commit[:7]}..{p.commit[-7:]} 100644\n--- a/{task.patch.path}\n+++ b/{task.patch.path}\n"
            + task.patch.diff,
        )
        c.run(t, toolout.numbered_cmd(task.site), toolout.numbered_output(task.site))
        c.tests_pass(t)
        line = task.site.first_line + task.site.body
        t.final = (
            f"Findings:\n\n- [P2] `{task.site.symbol}` has no test for the new branch — {task.site.path}:{line}\n"
            f"  The change is exercised only indirectly; add a focused case to `{task.site.test_path}`.\n"
            f"- [P3] Naming: consider a constant for the new limit in {task.site.path}:{line + 1}.\n\n"
            "Overall: the patch looks correct; no blocking issues."
        )

    def _subagent(self) -> None:
        p, rng = self.plan, self.rng
        task = pick_task(p.repo, rng, update_only=True)
        t = self._turn(
            f"Investigate why `{task.site.test_path}` is flaky on CI. Don't edit files; report the root "
            "cause and a suggested fix.",
            (0, 2),
        )
        c = self._ctx(task)
        c.think(t, phrases.THINK_EXPLORE)
        self._explore(t, c)
        c.tests_pass(t)
        flake, code = toolout.flaky_failure(p.repo, task.site, rng)
        c.run(t, c.test_cmd, flake, code, round(rng.uniform(1, 6), 2))
        c.tests_pass(t)
        t.final = (
            f"`{task.site.test_path}` depends on wall-clock timing: it passes 2 of 3 runs locally. Suggested fix: "
            f"inject the clock into `{task.site.symbol}` (or freeze time in the test) instead of sleeping."
        )

    def _scale_costs(self) -> None:
        """Long sessions: spread enough context tokens over the tool calls to cross ~93% of the window."""
        tools = [s for s in self.story.steps() if isinstance(s, Exec | ApplyPatch)]
        budget = int(self.plan.window * 0.93) - 20_000
        per = budget // max(1, int(len(tools) * 0.7))
        for step in tools:
            step.cost = int(per * self.rng.uniform(0.7, 1.3))


def build_story(plan: SessionPlan, rng: random.Random) -> Story:
    return StoryBuilder(plan, rng).build()
