"""The committed demo corpus, read by the ordinary parser: counts in range, injected causes on top, a fix."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from ccl_tui.demo.plan import FIX_DATE
from ccl_tui.issues.trend import find_change_points
from ccl_tui.pipeline import ranked_issues, refresh, scope_from
from ccl_tui.stats import overview
from ccl_tui.store.db import Store
from ccl_tui.store.ingest import ingest
from tests.tui_support import DEMO

# The injected dominant root causes, as the rules name them (signatures computed by the product).
INJECTED = {
    "npm install | npm ERR! EAI_AGAIN",
    "apply_patch | patch context mismatch",
    "pytest | ModuleNotFoundError: httpx",
    "cargo test | rust E0433",
    "context | compaction",
    "denied | npm install",
}
FIXED = "pytest | ModuleNotFoundError: httpx"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo_store(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Store]:
    store = await Store.open(tmp_path_factory.mktemp("corpus") / "demo.sqlite")
    summary = await ingest(store, [DEMO])
    assert summary.errors == [] and summary.malformed == 0 and summary.pending_partial == []
    await refresh(store)
    yield store
    await store.close()


pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_counts(demo_store: Store) -> None:
    ov = await overview(demo_store)
    assert ov.sessions == 505 and ov.files == 505 and ov.malformed == 0  # 500 planned + the runnable episode
    assert 20_000 <= ov.events <= 40_000
    # The seed's demo showed ~1,700 friction/delight patterns; ours are computed and land near it.
    assert 1_500 <= ov.signals <= 2_300
    assert 700 <= sum(ov.friction.values()) <= 1_200
    assert 0.5 <= ov.friction_share <= 0.8
    issues = await ranked_issues(demo_store)
    assert 30 <= len(issues) <= 70
    assert len(ov.repos) == 8
    assert set(ov.origins) >= {"interactive", "exec", "ide", "subagent", "review"}


async def test_every_era_and_layout_is_read(demo_store: Store) -> None:
    sessions = await demo_store.sessions()
    eras = {s.era for s in sessions}
    assert eras == {"enveloped", "legacy"}
    files = [s.file for s in sessions]
    assert sum(f.endswith(".zst") for f in files) == 6
    assert sum("archived_sessions" in f for f in files) == 15
    assert sum(1 for s in sessions if s.forked_from) >= 3


async def test_top_issues_are_the_injected_root_causes(demo_store: Store) -> None:
    top = await ranked_issues(demo_store, scope_from("all"))
    top8 = {i.signature for i in top[:8]}
    assert len(top8 & INJECTED) >= 5, [i.signature for i in top[:8]]
    assert top[0].signature in INJECTED
    user_top = await ranked_issues(demo_store)
    assert user_top[0].signature in INJECTED


async def test_the_fixed_issue_is_found_from_the_data(demo_store: Store) -> None:
    issues = await ranked_issues(demo_store)
    improvements = find_change_points(issues, await demo_store.session_infos(), origins=scope_from(None).origins)
    assert improvements, "no measurable improvement found"
    best = improvements[0]
    fixed = next(i for i in issues if i.signature == FIXED)
    assert best.issue_id == fixed.id
    assert best.split == FIX_DATE  # found without being told
    assert best.before_rate >= 4 * best.after_rate and best.z >= 3
