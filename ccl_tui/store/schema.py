"""SQLite schema, versioned with forward-only migrations (``PRAGMA user_version``)."""

from __future__ import annotations

# Each entry migrates from version i to i+1. Never edit a released migration: append a new one.
MIGRATIONS: list[str] = [
    # v1: files, sessions, events (the trace spine), malformed lines
    """
    CREATE TABLE files (
        path          TEXT PRIMARY KEY,
        session_id    TEXT,
        status        TEXT NOT NULL,           -- ok | duplicate | empty | unrecognized | error
        size          INTEGER NOT NULL DEFAULT 0,
        mtime_ns      INTEGER NOT NULL DEFAULT 0,
        head_hash     TEXT,
        offset        INTEGER NOT NULL DEFAULT 0, -- bytes consumed (decompressed bytes for .zst/.gz)
        lines         INTEGER NOT NULL DEFAULT 0,
        malformed     INTEGER NOT NULL DEFAULT 0,
        pending_bytes INTEGER NOT NULL DEFAULT 0,
        compressed    TEXT,
        state         BLOB,
        error         TEXT,
        ingested_at   TEXT
    );
    CREATE INDEX files_session ON files(session_id);

    CREATE TABLE sessions (
        sid               INTEGER PRIMARY KEY,     -- compact key for events (the uuid stays in id)
        id                TEXT NOT NULL UNIQUE,
        file              TEXT NOT NULL,
        era               TEXT,
        started_at        TEXT,
        ended_at          TEXT,
        cwd               TEXT,
        repo              TEXT,
        originator        TEXT,
        source            TEXT,
        origin            TEXT,
        cli_version       TEXT,
        model             TEXT,
        model_provider    TEXT,
        git_commit        TEXT,
        git_branch        TEXT,
        git_repo_url      TEXT,
        forked_from       TEXT,
        parent_id         TEXT,
        instructions_size INTEGER NOT NULL DEFAULT 0,
        events            INTEGER NOT NULL DEFAULT 0,
        turns             INTEGER NOT NULL DEFAULT 0,
        user_messages     INTEGER NOT NULL DEFAULT 0,
        tool_calls        INTEGER NOT NULL DEFAULT 0,
        tokens_total      INTEGER,
        context_window    INTEGER,
        max_context_input INTEGER,
        updated_at        TEXT
    );
    CREATE INDEX sessions_started ON sessions(started_at);

    CREATE TABLE events (
        id          INTEGER PRIMARY KEY,
        sid         INTEGER NOT NULL,            -- sessions.sid
        seq         INTEGER NOT NULL,
        kind        TEXT NOT NULL,
        raw_type    TEXT,
        line        INTEGER,
        ts          TEXT,
        turn        INTEGER NOT NULL DEFAULT 0,
        call_id     TEXT,
        tool        TEXT,
        command     TEXT,
        workdir     TEXT,
        exit_code   INTEGER,
        duration_ms INTEGER,
        success     INTEGER,
        status      TEXT,
        text_size   INTEGER NOT NULL DEFAULT 0,
        data        TEXT,
        text        TEXT                       -- last: large values spill to overflow pages
    );
    CREATE UNIQUE INDEX events_session_seq ON events(sid, seq);

    CREATE TABLE malformed (
        path    TEXT NOT NULL,
        line    INTEGER NOT NULL,
        reason  TEXT NOT NULL,
        excerpt TEXT,
        PRIMARY KEY (path, line)
    );
    """,
    # v2: detection state, signals (with evidence and cost), ranked issues
    """
    CREATE TABLE detection (
        session_id  TEXT PRIMARY KEY,
        events      INTEGER NOT NULL,            -- event count the signals were computed from
        fingerprint TEXT NOT NULL,               -- detector version + thresholds
        detected_at TEXT
    );

    CREATE TABLE signals (
        id           INTEGER PRIMARY KEY,
        session_id   TEXT NOT NULL,
        kind         TEXT NOT NULL,
        polarity     TEXT NOT NULL,
        seq          INTEGER NOT NULL,           -- primary evidence event
        evidence     TEXT NOT NULL,              -- JSON list of event seqs
        turn         INTEGER NOT NULL DEFAULT 0,
        severity     REAL NOT NULL,
        signature    TEXT NOT NULL,
        detail       TEXT,
        call_id      TEXT,
        ts           TEXT,
        source       TEXT NOT NULL DEFAULT 'rule', -- rule | model
        cost_turns   INTEGER NOT NULL DEFAULT 0,
        cost_seconds REAL NOT NULL DEFAULT 0,
        cost_tokens  INTEGER NOT NULL DEFAULT 0,
        resolved     INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX signals_session ON signals(session_id, seq);
    CREATE INDEX signals_signature ON signals(signature);

    CREATE TABLE issues (
        id           TEXT PRIMARY KEY,
        rank         INTEGER NOT NULL,
        signature    TEXT NOT NULL,
        kind         TEXT NOT NULL,
        title        TEXT NOT NULL,
        impact       TEXT NOT NULL,              -- JSON: every factor of the score
        score        REAL NOT NULL,
        occurrences  INTEGER NOT NULL,
        first_seen   TEXT,
        last_seen    TEXT,
        repos        TEXT NOT NULL,              -- JSON list
        origins      TEXT NOT NULL,              -- JSON object
        kinds        TEXT NOT NULL,              -- JSON object
        session_ids  TEXT NOT NULL,              -- JSON list
        evidence     TEXT NOT NULL,              -- JSON list, most severe first
        cluster_id   TEXT
    );
    CREATE INDEX issues_rank ON issues(rank);
    """,
    # v3: semantic layer (ccl_tui.semantic): LLM response cache, issue clusters, analyze runs
    """
    CREATE TABLE llm_cache (
        key           TEXT PRIMARY KEY,          -- sha256 of model + purpose + schema + redacted messages
        purpose       TEXT NOT NULL,             -- classify | name_cluster
        model         TEXT NOT NULL,
        response      TEXT NOT NULL,             -- the structured output, JSON
        input_tokens  INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd      REAL NOT NULL DEFAULT 0,
        created_at    TEXT
    );

    CREATE TABLE clusters (
        id            TEXT PRIMARY KEY,          -- stable across runs (ccl_tui.semantic.cluster.stable_ids)
        embedder      TEXT NOT NULL,             -- e.g. hashing-v2-1024, openai-text-embedding-3-small-1536
        name          TEXT NOT NULL,
        summary       TEXT NOT NULL DEFAULT '',
        model_derived INTEGER NOT NULL DEFAULT 0, -- 1: name and summary were written by the LLM
        members       TEXT NOT NULL,             -- JSON list of issue ids
        signatures    TEXT NOT NULL,             -- JSON list of member signatures
        updated_at    TEXT
    );

    CREATE TABLE cluster_members (
        issue_id   TEXT PRIMARY KEY,
        cluster_id TEXT NOT NULL,
        signature  TEXT NOT NULL
    );
    CREATE INDEX cluster_members_cluster ON cluster_members(cluster_id);

    CREATE TABLE semantic_runs (
        id          INTEGER PRIMARY KEY,
        finished_at TEXT NOT NULL,
        embedder    TEXT NOT NULL,
        llm         INTEGER NOT NULL DEFAULT 0,
        summary     TEXT NOT NULL                -- JSON AnalyzeSummary
    );
    """,
    # v4: small key/value facts about derived tables (e.g. what the stored ranking was computed from)
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # v5: Harbor runs imported from job folders, their trials, and the day an issue's fix went in
    """
    CREATE TABLE runs (
        id          INTEGER PRIMARY KEY,
        label       TEXT NOT NULL UNIQUE,
        job_id      TEXT NOT NULL UNIQUE,            -- JobResult.id (else the trials' job id, else the folder)
        job_dir     TEXT NOT NULL,
        started_at  TEXT,
        finished_at TEXT,
        imported_at TEXT NOT NULL
    );

    CREATE TABLE trials (
        trial_id       TEXT PRIMARY KEY,             -- TrialResult.id: a re-import adds nothing twice
        run_id         INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        trial_name     TEXT NOT NULL,
        task_name      TEXT NOT NULL,
        task_path      TEXT,
        task_checksum  TEXT,
        issue_id       TEXT,                         -- NULL: not a ccl-tui task (or its issue is unknown)
        match          TEXT NOT NULL,                -- metadata | name | signal | ''
        reward         REAL,                         -- NULL: no verifier result
        rewards        TEXT NOT NULL,                -- JSON {name: number}
        exception_type TEXT,
        exception_message TEXT,
        agent          TEXT,
        agent_version  TEXT,
        model          TEXT,
        started_at     TEXT,
        finished_at    TEXT,
        cost_usd       REAL,
        input_tokens   INTEGER,
        output_tokens  INTEGER
    );
    CREATE INDEX trials_run ON trials(run_id);
    CREATE INDEX trials_issue ON trials(issue_id);

    CREATE TABLE fixes (
        issue_id  TEXT PRIMARY KEY,
        fixed_on  TEXT NOT NULL,                     -- YYYY-MM-DD: first day of the "after" period
        note      TEXT NOT NULL DEFAULT '',
        marked_at TEXT NOT NULL
    );
    """,
    # v6: the parser version a file was read with; files read by an older parser are read again
    """
    ALTER TABLE files ADD COLUMN parser INTEGER NOT NULL DEFAULT 0;
    """,
    # v7: the ccl-tui marker in the file header (APPLICATION_ID, 0x43434C54 "CCLT"): another application's SQLite
    # file is told apart from ours and never converted (databases from before v7 are recognized by their tables)
    """
    PRAGMA application_id = 1128483924;
    """,
    # v8: outcomes of `ccl-tui tasks check --execute`: the class each task proved to be (the task contract:
    # proven-fix | keep-green | unproven | refused), with its evidence, rewards and the run's details
    """
    CREATE TABLE task_checks (
        id            INTEGER PRIMARY KEY,
        checked_at    TEXT NOT NULL,
        task_name     TEXT NOT NULL,
        task_path     TEXT NOT NULL,
        issue_id      TEXT,
        session_id    TEXT,
        signal_seq    INTEGER,
        class         TEXT NOT NULL,
        evidence      TEXT NOT NULL,
        planned_class TEXT NOT NULL,
        reason        TEXT NOT NULL,
        reward_before REAL,
        reward_after  REAL,
        reproducible  INTEGER,                       -- 1 / 0 / NULL (a run that cannot tell)
        detail        TEXT NOT NULL                  -- JSON: install steps, network, notes
    );
    CREATE INDEX task_checks_task ON task_checks(task_name, checked_at);
    CREATE INDEX task_checks_issue ON task_checks(issue_id);
    """,
    # v9: where a Harbor run's outcomes come from: harbor | local (ccl-tui's unisolated LocalEnvironment) |
    # simulated (generated job folders, no agent ran); runs imported before v9 were Harbor runs
    """
    ALTER TABLE runs ADD COLUMN provenance TEXT NOT NULL DEFAULT 'harbor';
    """,
    # v10: affected sessions per agent (codex, claude_code) of each ranked issue; rankings stored before v10
    # have none until the next re-rank
    """
    ALTER TABLE issues ADD COLUMN agents TEXT NOT NULL DEFAULT '{}';
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)

#: ``PRAGMA application_id`` of a ccl-tui database (set by migration v7).
APPLICATION_ID = 0x43434C54
