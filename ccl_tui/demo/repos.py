"""The fictional repositories and developers of the demo corpus.

Each repository carries a small, real-looking code excerpt per "site" (a function the agent works on), so
that `sed -n` output, `apply_patch` context lines and unified diffs all agree with each other.
"""

from __future__ import annotations

from dataclasses import dataclass

PY, TS, RS, GO = "python", "typescript", "rust", "go"


@dataclass(frozen=True, slots=True)
class Edit:
    """Insert ``add`` after excerpt line ``after`` (0-based), replacing the next ``remove`` lines."""

    after: int
    add: tuple[str, ...]
    remove: int = 0


@dataclass(frozen=True, slots=True)
class SiteTask:
    prompts: tuple[str, ...]
    edits: tuple[Edit, ...]
    summary: str


@dataclass(frozen=True, slots=True)
class Site:
    path: str
    symbol: str
    param: str
    first_line: int
    lines: tuple[str, ...]
    body: int  # excerpt index after which a body statement can be inserted
    indent: str
    test_path: str
    tasks: tuple[SiteTask, ...]


@dataclass(frozen=True, slots=True)
class Repo:
    name: str
    org: str
    lang: str
    package: str  # python import root / npm package / crate / go module
    version: str
    branches: tuple[str, ...]
    files: tuple[str, ...]
    sites: tuple[Site, ...]
    weight: float

    @property
    def url(self) -> str:
        return f"git@github.com:{self.org}/{self.name}.git"


@dataclass(frozen=True, slots=True)
class Developer:
    name: str
    shell: str
    repos: tuple[str, ...]


DEVELOPERS: tuple[Developer, ...] = (
    Developer("maya", "zsh", ("billing-api", "web-dashboard", "support-bot", "notify-service")),
    Developer("jonas", "bash", ("ingest-gateway", "tilecache", "orders-svc", "etl-pipeline")),
    Developer("priya", "bash", ("etl-pipeline", "billing-api", "notify-service", "web-dashboard")),
    Developer("tom", "zsh", ("support-bot", "orders-svc", "web-dashboard", "ingest-gateway", "billing-api")),
)


def _site(
    *,
    path: str,
    symbol: str,
    param: str,
    first_line: int,
    body: int,
    indent: str,
    test_path: str,
    code: str,
    tasks: tuple[SiteTask, ...],
) -> Site:
    """A site whose excerpt is ``code`` (a triple-quoted block, first line = ``first_line`` in the file)."""
    return Site(path, symbol, param, first_line, tuple(code.strip("\n").split("\n")), body, indent, test_path, tasks)


BILLING_API = Repo(
    name="billing-api",
    org="acme-labs",
    lang=PY,
    package="billing",
    version="2.14.0",
    branches=("main", "feat/invoice-pagination", "fix/vat-rounding", "chore/ruff-upgrade"),
    files=(
        "AGENTS.md",
        "README.md",
        "pyproject.toml",
        "uv.lock",
        "alembic.ini",
        "alembic/versions/0031_add_invoice_due_date.py",
        "alembic/versions/0032_customer_tax_id.py",
        "src/billing/__init__.py",
        "src/billing/app.py",
        "src/billing/db.py",
        "src/billing/models.py",
        "src/billing/settings.py",
        "src/billing/api/__init__.py",
        "src/billing/api/customers.py",
        "src/billing/api/invoices.py",
        "src/billing/services/tax.py",
        "src/billing/services/pdf.py",
        "src/billing/webhooks/stripe.py",
        "tests/conftest.py",
        "tests/test_invoices.py",
        "tests/test_tax.py",
        "tests/test_stripe_webhooks.py",
        "tests/test_customers.py",
    ),
    sites=(
        _site(
            path="src/billing/api/invoices.py",
            symbol="list_invoices",
            param="account_id",
            first_line=38,
            body=4,
            indent="    ",
            test_path="tests/test_invoices.py",
            code="""
@router.get("/invoices", response_model=list[InvoiceOut])
def list_invoices(
    account_id: UUID,
    session: Session = Depends(get_session),
) -> list[InvoiceOut]:
    query = select(Invoice).where(Invoice.account_id == account_id)
    query = query.order_by(Invoice.issued_at.desc())
    rows = session.execute(query).scalars().all()
    return [InvoiceOut.model_validate(row) for row in rows]
""",
            tasks=(
                SiteTask(
                    (
                        "Add pagination to the /invoices endpoint (limit + offset, default 50, max 200)",
                        "GET /invoices returns every invoice for big accounts; page it with limit/offset",
                    ),
                    (
                        Edit(
                            2,
                            (
                                "    limit: int = Query(50, ge=1, le=200),",
                                "    offset: int = Query(0, ge=0),",
                            ),
                        ),
                        Edit(6, ("    query = query.limit(limit).offset(offset)",)),
                    ),
                    "Added `limit`/`offset` query parameters to `GET /invoices` (default 50, max 200) and applied "
                    "them to the query in `src/billing/api/invoices.py`.",
                ),
                SiteTask(
                    ("Hide voided invoices from the /invoices listing unless include_void=true",),
                    (
                        Edit(2, ("    include_void: bool = False,",)),
                        Edit(
                            5,
                            (
                                "    if not include_void:",
                                "        query = query.where(Invoice.status != InvoiceStatus.VOID)",
                            ),
                        ),
                    ),
                    "`GET /invoices` now filters out voided invoices unless `include_void=true` is passed.",
                ),
            ),
        ),
        _site(
            path="src/billing/services/tax.py",
            symbol="compute_tax",
            param="region",
            first_line=22,
            body=1,
            indent="    ",
            test_path="tests/test_tax.py",
            code='''
def compute_tax(amount: Decimal, region: str, issued_at: datetime) -> Decimal:
    """Return the tax owed for ``amount`` in ``region`` at ``issued_at``."""
    rate = TAX_RATES.get(region)
    if rate is None:
        raise UnknownRegionError(region)
    if issued_at < VAT_CHANGE_DATE:
        rate = LEGACY_RATES[region]
    return (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)
''',
            tasks=(
                SiteTask(
                    (
                        "compute_tax compares naive and aware datetimes and blows up for Stripe imports; make it "
                        "timezone-aware (UTC)",
                        "Fix `TypeError: can't compare offset-naive and offset-aware datetimes` in compute_tax",
                    ),
                    (
                        Edit(
                            1,
                            (
                                "    if issued_at.tzinfo is None:",
                                "        issued_at = issued_at.replace(tzinfo=UTC)",
                            ),
                        ),
                    ),
                    "`compute_tax` now normalises naive `issued_at` values to UTC before comparing them with "
                    "`VAT_CHANGE_DATE`.",
                ),
                SiteTask(
                    ("Region codes come in lowercase from the CSV import; make compute_tax case-insensitive",),
                    (Edit(1, ("    region = region.upper()",)),),
                    "`compute_tax` upper-cases the region code before the rate lookup, so `de`/`DE` both work.",
                ),
            ),
        ),
        _site(
            path="src/billing/webhooks/stripe.py",
            symbol="handle_event",
            param="payload",
            first_line=57,
            body=1,
            indent="    ",
            test_path="tests/test_stripe_webhooks.py",
            code="""
async def handle_event(payload: bytes, signature: str) -> None:
    event = stripe.Webhook.construct_event(payload, signature, settings.stripe_webhook_secret)
    handler = HANDLERS.get(event["type"])
    if handler is None:
        logger.debug("ignoring stripe event %s", event["type"])
        return
    await handler(event["data"]["object"])
""",
            tasks=(
                SiteTask(
                    (
                        "Make the Stripe webhook handler idempotent: skip events we've already processed",
                        "We process some Stripe webhooks twice after retries. Deduplicate by event id.",
                    ),
                    (
                        Edit(
                            1,
                            (
                                '    if await processed_events.seen(event["id"]):',
                                '        logger.info("skipping duplicate stripe event %s", event["id"])',
                                "        return",
                            ),
                        ),
                        Edit(6, ('    await processed_events.mark(event["id"])',)),
                    ),
                    'Stripe webhook events are now deduplicated by `event["id"]` via `processed_events`.',
                ),
            ),
        ),
    ),
    weight=0.17,
)

ETL_PIPELINE = Repo(
    name="etl-pipeline",
    org="northwind-data",
    lang=PY,
    package="etl",
    version="0.9.3",
    branches=("main", "feat/crm-incremental", "fix/normalize-emails"),
    files=(
        "AGENTS.md",
        "README.md",
        "pyproject.toml",
        "uv.lock",
        "Makefile",
        "src/etl/__init__.py",
        "src/etl/cli.py",
        "src/etl/config.py",
        "src/etl/clients/crm.py",
        "src/etl/extract/s3_reader.py",
        "src/etl/transform/normalize.py",
        "src/etl/load/warehouse.py",
        "tests/conftest.py",
        "tests/test_crm_client.py",
        "tests/test_normalize.py",
        "tests/test_warehouse.py",
        "tests/fixtures/contacts_page1.json",
    ),
    sites=(
        _site(
            path="src/etl/clients/crm.py",
            symbol="fetch_contacts",
            param="since",
            first_line=30,
            body=0,
            indent="    ",
            test_path="tests/test_crm_client.py",
            code="""
async def fetch_contacts(client: httpx.AsyncClient, since: datetime) -> list[Contact]:
    params = {"updated_since": since.isoformat(), "page_size": 500}
    contacts: list[Contact] = []
    async for page in _paginate(client, "/v2/contacts", params):
        contacts.extend(Contact.model_validate(item) for item in page["items"])
    return contacts
""",
            tasks=(
                SiteTask(
                    (
                        "Implement retry with exponential backoff in fetch_contacts for 429/5xx responses",
                        "The CRM API rate-limits us at night; make fetch_contacts retry transient errors (max 5 tries)",
                    ),
                    (
                        Edit(
                            0,
                            (
                                "    retry = AsyncRetrying(",
                                "        stop=stop_after_attempt(5),",
                                "        wait=wait_exponential(multiplier=0.5, max=30),",
                                "        retry=retry_if_exception(is_transient),",
                                "    )",
                            ),
                        ),
                        Edit(
                            3,
                            ('    async for page in retry_pages(retry, _paginate(client, "/v2/contacts", params)):',),
                            remove=1,
                        ),
                    ),
                    "`fetch_contacts` now retries 429/5xx responses with exponential backoff (up to 5 attempts).",
                ),
                SiteTask(
                    ("Make the CRM page size configurable via ETL_CRM_PAGE_SIZE",),
                    (
                        Edit(
                            0,
                            ('    params = {"updated_since": since.isoformat(), "page_size": settings.crm_page_size}',),
                            remove=1,
                        ),
                    ),
                    "The CRM page size now comes from `settings.crm_page_size` (env `ETL_CRM_PAGE_SIZE`).",
                ),
            ),
        ),
        _site(
            path="src/etl/transform/normalize.py",
            symbol="normalize_record",
            param="record",
            first_line=14,
            body=0,
            indent="    ",
            test_path="tests/test_normalize.py",
            code="""
def normalize_record(record: dict[str, Any]) -> dict[str, Any]:
    out = {key.strip().lower(): value for key, value in record.items()}
    out["email"] = (out.get("email") or "").strip().lower() or None
    out["country"] = COUNTRY_ALIASES.get(out.get("country"), out.get("country"))
    out["updated_at"] = parse_timestamp(out["updated_at"])
    return out
""",
            tasks=(
                SiteTask(
                    (
                        "normalize_record crashes with KeyError when updated_at is missing; default it to None",
                        "Fix the KeyError on 'updated_at' in normalize_record",
                    ),
                    (
                        Edit(
                            3,
                            (
                                '    raw_updated = out.get("updated_at")',
                                '    out["updated_at"] = parse_timestamp(raw_updated) if raw_updated else None',
                            ),
                            remove=1,
                        ),
                    ),
                    "`normalize_record` no longer raises `KeyError` when `updated_at` is missing; it is set to None.",
                ),
                SiteTask(
                    ("Strip whitespace from phone numbers in normalize_record and store them in E.164",),
                    (
                        Edit(
                            3,
                            ('    out["phone"] = to_e164(out.get("phone"), default_region=out.get("country"))',),
                        ),
                    ),
                    "Phone numbers are normalised to E.164 in `normalize_record`.",
                ),
            ),
        ),
        _site(
            path="src/etl/load/warehouse.py",
            symbol="load_batch",
            param="rows",
            first_line=48,
            body=0,
            indent="    ",
            test_path="tests/test_warehouse.py",
            code="""
def load_batch(conn: Connection, table: str, rows: Sequence[Mapping[str, Any]]) -> int:
    columns = sorted(rows[0])
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES %s ON CONFLICT DO NOTHING"
    with conn.cursor() as cur:
        execute_values(cur, sql, [tuple(row[c] for c in columns) for row in rows])
    return len(rows)
""",
            tasks=(
                SiteTask(
                    ("load_batch fails with IndexError on an empty batch; it should be a no-op",),
                    (Edit(0, ("    if not rows:", "        return 0")),),
                    "`load_batch` returns 0 for an empty batch instead of raising `IndexError`.",
                ),
                SiteTask(
                    ("Split load_batch inserts into chunks of 5,000 rows so we stop hitting the statement size limit",),
                    (
                        Edit(
                            3,
                            (
                                "        for chunk in batched(rows, 5_000):",
                                "            execute_values(cur, sql, [tuple(row[c] for c in columns) for row in chunk])",
                            ),
                            remove=1,
                        ),
                    ),
                    "`load_batch` now inserts in chunks of 5,000 rows.",
                ),
            ),
        ),
    ),
    weight=0.15,
)

SUPPORT_BOT = Repo(
    name="support-bot",
    org="acme-labs",
    lang=PY,
    package="support_bot",
    version="1.4.1",
    branches=("main", "feat/triage-labels", "fix/thread-replies"),
    files=(
        "AGENTS.md",
        "README.md",
        "pyproject.toml",
        "uv.lock",
        "Dockerfile",
        "src/support_bot/__init__.py",
        "src/support_bot/app.py",
        "src/support_bot/config.py",
        "src/support_bot/handlers.py",
        "src/support_bot/slack_client.py",
        "src/support_bot/triage.py",
        "tests/test_handlers.py",
        "tests/test_slack_client.py",
        "tests/test_triage.py",
    ),
    sites=(
        _site(
            path="src/support_bot/handlers.py",
            symbol="handle_mention",
            param="event",
            first_line=25,
            body=0,
            indent="    ",
            test_path="tests/test_handlers.py",
            code="""
async def handle_mention(event: dict[str, Any], say: AsyncSay) -> None:
    text = strip_mention(event.get("text", ""))
    ticket = await triage.classify_ticket(text)
    thread_ts = event.get("thread_ts") or event["ts"]
    await say(text=render_ticket(ticket), thread_ts=thread_ts)
""",
            tasks=(
                SiteTask(
                    ("The bot answers empty mentions with a blank ticket; reply with a short help text instead",),
                    (
                        Edit(
                            1,
                            (
                                "    if not text:",
                                '        await say(text=HELP_TEXT, thread_ts=event["ts"])',
                                "        return",
                            ),
                        ),
                    ),
                    "Empty mentions now get the help text instead of a blank ticket.",
                ),
                SiteTask(
                    ("Add the triage label as a reaction emoji on the original message",),
                    (
                        Edit(
                            4,
                            ('    await add_reaction(event["channel"], event["ts"], LABEL_EMOJI[ticket.label])',),
                        ),
                    ),
                    "`handle_mention` now reacts with the triage label emoji on the original message.",
                ),
            ),
        ),
        _site(
            path="src/support_bot/slack_client.py",
            symbol="post_message",
            param="channel",
            first_line=18,
            body=0,
            indent="    ",
            test_path="tests/test_slack_client.py",
            code="""
async def post_message(channel: str, text: str, *, thread_ts: str | None = None) -> str:
    async with httpx.AsyncClient(base_url=SLACK_API, timeout=10.0) as client:
        resp = await client.post(
            "/chat.postMessage",
            json={"channel": channel, "text": text, "thread_ts": thread_ts},
            headers={"Authorization": f"Bearer {settings.slack_bot_token}"},
        )
    resp.raise_for_status()
    return resp.json()["ts"]
""",
            tasks=(
                SiteTask(
                    (
                        "Slack returns 200 with ok=false on errors; raise SlackError in post_message when that happens",
                        "post_message silently ignores Slack API errors, surface them",
                    ),
                    (
                        Edit(
                            7,
                            (
                                "    body = resp.json()",
                                '    if not body.get("ok"):',
                                '        raise SlackError(body.get("error", "unknown_error"))',
                                '    return body["ts"]',
                            ),
                            remove=1,
                        ),
                    ),
                    "`post_message` raises `SlackError` when Slack answers `ok: false`.",
                ),
                SiteTask(
                    ("Honour Slack's Retry-After header in post_message when we get a 429",),
                    (
                        Edit(
                            6,
                            (
                                "    if resp.status_code == 429:",
                                '        raise RateLimited(retry_after=float(resp.headers.get("Retry-After", "1")))',
                            ),
                        ),
                    ),
                    "`post_message` raises `RateLimited` with the `Retry-After` delay on HTTP 429.",
                ),
            ),
        ),
    ),
    weight=0.11,
)

WEB_DASHBOARD = Repo(
    name="web-dashboard",
    org="acme-labs",
    lang=TS,
    package="@acme/web-dashboard",
    version="0.31.0",
    branches=("main", "feat/invoice-table-paging", "fix/money-format", "chore/vite-6"),
    files=(
        "AGENTS.md",
        "README.md",
        "package.json",
        "package-lock.json",
        "tsconfig.json",
        "vite.config.ts",
        "eslint.config.js",
        "src/main.tsx",
        "src/App.tsx",
        "src/api/client.ts",
        "src/api/types.ts",
        "src/api/__tests__/client.test.ts",
        "src/components/InvoiceTable.tsx",
        "src/components/__tests__/InvoiceTable.test.tsx",
        "src/hooks/usePagination.ts",
        "src/hooks/__tests__/usePagination.test.ts",
        "src/pages/Settings.tsx",
        "src/utils/formatMoney.ts",
        "src/utils/__tests__/formatMoney.test.ts",
    ),
    sites=(
        _site(
            path="src/api/client.ts",
            symbol="fetchInvoices",
            param="cursor",
            first_line=31,
            body=1,
            indent="  ",
            test_path="src/api/__tests__/client.test.ts",
            code="""
export async function fetchInvoices(accountId: string, cursor?: string): Promise<InvoicePage> {
  const params = new URLSearchParams({ account_id: accountId });
  if (cursor) params.set("cursor", cursor);
  const res = await fetch(`${API_BASE}/invoices?${params}`, { headers: authHeaders() });
  if (!res.ok) throw new ApiError(res.status, await res.text());
  return (await res.json()) as InvoicePage;
}
""",
            tasks=(
                SiteTask(
                    (
                        "Add an AbortSignal parameter to fetchInvoices so the table can cancel stale requests",
                        "Typing fast in the invoice search fires overlapping requests; let fetchInvoices be aborted",
                    ),
                    (
                        Edit(
                            3,
                            (
                                "  const res = await fetch(`${API_BASE}/invoices?${params}`, { headers: authHeaders(), signal });",
                            ),
                            remove=1,
                        ),
                    ),
                    "`fetchInvoices` accepts an optional `AbortSignal` and passes it to `fetch`.",
                ),
                SiteTask(
                    ("Retry fetchInvoices once on a 502/503 before showing the error banner",),
                    (
                        Edit(
                            4,
                            (
                                "  if (res.status === 502 || res.status === 503) return retryOnce(() => fetchInvoices(accountId, cursor));",
                            ),
                        ),
                    ),
                    "`fetchInvoices` retries once on 502/503 before surfacing an `ApiError`.",
                ),
            ),
        ),
        _site(
            path="src/hooks/usePagination.ts",
            symbol="usePagination",
            param="pageSize",
            first_line=9,
            body=1,
            indent="  ",
            test_path="src/hooks/__tests__/usePagination.test.ts",
            code="""
export function usePagination<T>(items: T[], pageSize = 25) {
  const [page, setPage] = useState(0);
  const pageCount = Math.ceil(items.length / pageSize);
  const visible = useMemo(
    () => items.slice(page * pageSize, (page + 1) * pageSize),
    [items, page, pageSize],
  );
  return { page, pageCount, visible, setPage };
}
""",
            tasks=(
                SiteTask(
                    (
                        "usePagination keeps an out-of-range page after filtering; clamp it to the last page",
                        "After filtering the invoice table shows an empty page 7 of 2. Fix usePagination.",
                    ),
                    (
                        Edit(
                            2,
                            (
                                "  useEffect(() => {",
                                "    if (page > 0 && page >= pageCount) setPage(Math.max(pageCount - 1, 0));",
                                "  }, [page, pageCount]);",
                            ),
                        ),
                    ),
                    "`usePagination` clamps the current page when the item count shrinks.",
                ),
            ),
        ),
        _site(
            path="src/utils/formatMoney.ts",
            symbol="formatMoney",
            param="amountCents",
            first_line=3,
            body=0,
            indent="  ",
            test_path="src/utils/__tests__/formatMoney.test.ts",
            code="""
export function formatMoney(amountCents: number, currency = "EUR", locale = "de-DE"): string {
  const formatter = new Intl.NumberFormat(locale, { style: "currency", currency });
  return formatter.format(amountCents / 100);
}
""",
            tasks=(
                SiteTask(
                    (
                        "formatMoney shows 1.000,00 ¥ for JPY; respect the currency's minor units",
                        "Fix formatMoney for zero-decimal currencies (JPY, KRW)",
                    ),
                    (
                        Edit(
                            1,
                            (
                                "  const digits = formatter.resolvedOptions().maximumFractionDigits ?? 2;",
                                "  return formatter.format(amountCents / 10 ** digits);",
                            ),
                            remove=1,
                        ),
                    ),
                    "`formatMoney` divides by the currency's minor units instead of a hard-coded 100.",
                ),
            ),
        ),
    ),
    weight=0.16,
)

NOTIFY_SERVICE = Repo(
    name="notify-service",
    org="orbit-hq",
    lang=TS,
    package="notify-service",
    version="1.8.0",
    branches=("main", "feat/digest-emails", "fix/ws-reconnect"),
    files=(
        "AGENTS.md",
        "README.md",
        "package.json",
        "package-lock.json",
        "tsconfig.json",
        "jest.config.ts",
        "src/server.ts",
        "src/routes/subscriptions.ts",
        "src/routes/health.ts",
        "src/ws/reconnect.ts",
        "src/ws/socket.ts",
        "src/queue/worker.ts",
        "src/db/pool.ts",
        "test/subscriptions.test.ts",
        "test/ws.reconnect.test.ts",
        "test/worker.test.ts",
    ),
    sites=(
        _site(
            path="src/routes/subscriptions.ts",
            symbol="createSubscription",
            param="topic",
            first_line=20,
            body=1,
            indent="  ",
            test_path="test/subscriptions.test.ts",
            code="""
export async function createSubscription(req: Request, res: Response): Promise<void> {
  const { topic, channel } = req.body as CreateSubscriptionBody;
  const subscription = await subscriptions.insert({ userId: req.user.id, topic, channel });
  await queue.publish("subscription.created", { id: subscription.id });
  res.status(201).json(subscription);
}
""",
            tasks=(
                SiteTask(
                    (
                        "Add input validation to POST /subscriptions: reject unknown topics with a 400",
                        "POST /subscriptions accepts any topic string; validate it against KNOWN_TOPICS",
                    ),
                    (
                        Edit(
                            1,
                            (
                                "  if (!KNOWN_TOPICS.has(topic)) {",
                                "    res.status(400).json({ error: `unknown topic: ${topic}` });",
                                "    return;",
                                "  }",
                            ),
                        ),
                    ),
                    "`POST /subscriptions` now rejects topics outside `KNOWN_TOPICS` with a 400.",
                ),
                SiteTask(
                    (
                        "Make createSubscription idempotent: return the existing subscription with 200 instead of a duplicate",
                    ),
                    (
                        Edit(
                            1,
                            (
                                "  const existing = await subscriptions.find({ userId: req.user.id, topic, channel });",
                                "  if (existing) {",
                                "    res.status(200).json(existing);",
                                "    return;",
                                "  }",
                            ),
                        ),
                    ),
                    "`createSubscription` returns the existing subscription (200) instead of inserting a duplicate.",
                ),
            ),
        ),
        _site(
            path="src/ws/reconnect.ts",
            symbol="scheduleReconnect",
            param="attempt",
            first_line=12,
            body=0,
            indent="  ",
            test_path="test/ws.reconnect.test.ts",
            code="""
export function scheduleReconnect(socket: ManagedSocket, attempt: number): NodeJS.Timeout {
  const delay = Math.min(BASE_DELAY_MS * 2 ** attempt, MAX_DELAY_MS);
  return setTimeout(() => {
    socket.connect().catch((err) => socket.emit("error", err));
  }, delay);
}
""",
            tasks=(
                SiteTask(
                    (
                        "Fix the flaky websocket reconnect test",
                        "test/ws.reconnect.test.ts fails randomly on CI; make the reconnect timing deterministic",
                    ),
                    (
                        Edit(
                            1,
                            (
                                "  const jitter = options.random() * JITTER_MS;",
                                "  const delay = Math.min(BASE_DELAY_MS * 2 ** attempt + jitter, MAX_DELAY_MS);",
                            ),
                            remove=1,
                        ),
                    ),
                    "The reconnect jitter now comes from an injectable `options.random`, so the test can pin it.",
                ),
                SiteTask(
                    ("Add jitter to the websocket reconnect backoff so clients don't stampede after a deploy",),
                    (
                        Edit(
                            1,
                            (
                                "  const delay = Math.min(BASE_DELAY_MS * 2 ** attempt, MAX_DELAY_MS) * (0.5 + Math.random());",
                            ),
                            remove=1,
                        ),
                    ),
                    "Reconnect delays now carry ±50% jitter.",
                ),
            ),
        ),
        _site(
            path="src/queue/worker.ts",
            symbol="processJob",
            param="job",
            first_line=40,
            body=1,
            indent="  ",
            test_path="test/worker.test.ts",
            code="""
export async function processJob(job: Job<NotificationPayload>): Promise<void> {
  const payload = job.data;
  const template = await templates.load(payload.templateId);
  const rendered = render(template, payload.variables);
  await transports[payload.channel].send(payload.recipient, rendered);
}
""",
            tasks=(
                SiteTask(
                    (
                        "Skip notifications for users who unsubscribed in processJob",
                        "Users who unsubscribed still get digest emails; check preferences in the worker",
                    ),
                    (
                        Edit(
                            1,
                            (
                                "  if (await preferences.isMuted(payload.recipient, payload.channel)) {",
                                '    logger.info({ jobId: job.id }, "recipient muted, skipping");',
                                "    return;",
                                "  }",
                            ),
                        ),
                    ),
                    "`processJob` skips recipients who muted the channel.",
                ),
            ),
        ),
    ),
    weight=0.12,
)

INGEST_GATEWAY = Repo(
    name="ingest-gateway",
    org="orbit-hq",
    lang=RS,
    package="ingest_gateway",
    version="0.4.2",
    branches=("main", "feat/frame-codec", "fix/backpressure"),
    files=(
        "AGENTS.md",
        "README.md",
        "Cargo.toml",
        "Cargo.lock",
        "src/main.rs",
        "src/lib.rs",
        "src/config.rs",
        "src/codec.rs",
        "src/routes/mod.rs",
        "src/routes/ingest.rs",
        "src/sink/mod.rs",
        "src/sink/kafka.rs",
        "tests/ingest.rs",
        "tests/codec.rs",
    ),
    sites=(
        _site(
            path="src/routes/ingest.rs",
            symbol="ingest_batch",
            param="batch",
            first_line=27,
            body=3,
            indent="    ",
            test_path="tests/ingest.rs",
            code="""
pub async fn ingest_batch(
    State(state): State<AppState>,
    Json(batch): Json<Vec<Event>>,
) -> Result<StatusCode, ApiError> {
    let accepted = state.sink.write_all(&batch).await?;
    metrics::counter!("ingest_events_total").increment(accepted as u64);
    Ok(StatusCode::ACCEPTED)
}
""",
            tasks=(
                SiteTask(
                    (
                        "Reject ingest batches larger than 10k events with 413",
                        "Huge batches OOM the gateway; cap /ingest at 10_000 events",
                    ),
                    (
                        Edit(
                            3,
                            (
                                "    if batch.len() > MAX_BATCH_EVENTS {",
                                "        return Err(ApiError::PayloadTooLarge(batch.len()));",
                                "    }",
                            ),
                        ),
                    ),
                    "`ingest_batch` rejects batches above `MAX_BATCH_EVENTS` (10k) with 413.",
                ),
                SiteTask(
                    ("Return 503 from /ingest when the sink is saturated instead of blocking",),
                    (
                        Edit(
                            3,
                            (
                                "    if state.sink.is_saturated() {",
                                "        return Err(ApiError::Backpressure);",
                                "    }",
                            ),
                        ),
                    ),
                    "`/ingest` answers 503 when the sink reports saturation.",
                ),
            ),
        ),
        _site(
            path="src/codec.rs",
            symbol="decode_frame",
            param="buf",
            first_line=44,
            body=0,
            indent="    ",
            test_path="tests/codec.rs",
            code="""
pub fn decode_frame(buf: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    let len = u32::from_be_bytes(buf[..4].try_into().unwrap()) as usize;
    if buf.len() < HEADER_LEN + len {
        return Ok(None);
    }
    let payload = buf.split_to(HEADER_LEN + len).split_off(HEADER_LEN);
    Ok(Some(Frame::new(payload.freeze())))
}
""",
            tasks=(
                SiteTask(
                    (
                        "decode_frame trusts the length prefix; reject frames over MAX_FRAME_LEN",
                        "Fuzzing found that a bogus length prefix makes decode_frame allocate gigabytes. Guard it.",
                    ),
                    (
                        Edit(
                            4,
                            (
                                "    if len > MAX_FRAME_LEN {",
                                "        return Err(CodecError::FrameTooLarge(len));",
                                "    }",
                            ),
                        ),
                    ),
                    "`decode_frame` now rejects frames whose length prefix exceeds `MAX_FRAME_LEN`.",
                ),
                SiteTask(
                    ("Move decode_frame onto tokio_util's Decoder trait",),
                    (Edit(0, ("    // Decoder::decode delegates here; see FrameCodec in codec/framed.rs",)),),
                    "Added a `FrameCodec` implementing `tokio_util::codec::Decoder` on top of `decode_frame`.",
                ),
            ),
        ),
    ),
    weight=0.10,
)

TILECACHE = Repo(
    name="tilecache",
    org="northwind-data",
    lang=RS,
    package="tilecache",
    version="0.2.7",
    branches=("main", "feat/ttl-eviction"),
    files=(
        "AGENTS.md",
        "README.md",
        "Cargo.toml",
        "Cargo.lock",
        "src/main.rs",
        "src/lib.rs",
        "src/cache.rs",
        "src/render.rs",
        "src/coord.rs",
        "tests/cache.rs",
        "tests/render.rs",
        "benches/render.rs",
    ),
    sites=(
        _site(
            path="src/cache.rs",
            symbol="get",
            param="key",
            first_line=61,
            body=1,
            indent="        ",
            test_path="tests/cache.rs",
            code="""
    pub fn get(&self, key: &str) -> Option<Bytes> {
        let mut inner = self.inner.lock();
        let expired = inner.entries.get(key)?.expires_at <= Instant::now();
        if expired {
            inner.entries.remove(key);
            return None;
        }
        inner.entries.get(key).map(|entry| entry.data.clone())
    }
""",
            tasks=(
                SiteTask(
                    ("Count cache hits and misses in TileCache::get and expose them on /metrics",),
                    (Edit(2, ("        self.stats.record(!expired);",)),),
                    "`TileCache::get` records hit/miss counters that `/metrics` exports.",
                ),
                SiteTask(
                    ("TileCache::get never refreshes LRU order; touch the entry on every hit",),
                    (Edit(6, ("        inner.touch(key);",)),),
                    "Cache hits now refresh the entry's LRU position.",
                ),
            ),
        ),
        _site(
            path="src/render.rs",
            symbol="render_tile",
            param="layers",
            first_line=18,
            body=0,
            indent="    ",
            test_path="tests/render.rs",
            code="""
pub fn render_tile(coord: TileCoord, layers: &[Layer]) -> Result<Vec<u8>, RenderError> {
    let mut canvas = Canvas::new(TILE_SIZE, TILE_SIZE);
    for layer in layers.iter().filter(|l| l.visible_at(coord.z)) {
        layer.draw(&mut canvas, coord)?;
    }
    canvas.encode_png().map_err(RenderError::Encode)
}
""",
            tasks=(
                SiteTask(
                    ("Return a transparent tile early from render_tile when no layer is visible",),
                    (
                        Edit(
                            0,
                            (
                                "    if layers.iter().all(|l| !l.visible_at(coord.z)) {",
                                "        return Ok(EMPTY_TILE_PNG.to_vec());",
                                "    }",
                            ),
                        ),
                    ),
                    "`render_tile` returns the cached transparent PNG when no layer is visible at that zoom.",
                ),
            ),
        ),
    ),
    weight=0.06,
)

ORDERS_SVC = Repo(
    name="orders-svc",
    org="orbit-hq",
    lang=GO,
    package="github.com/orbit-hq/orders-svc",
    version="1.12.0",
    branches=("main", "feat/order-cursor", "fix/jwt-leeway"),
    files=(
        "AGENTS.md",
        "README.md",
        "go.mod",
        "go.sum",
        "Makefile",
        "cmd/orders/main.go",
        "internal/handler/orders.go",
        "internal/handler/orders_test.go",
        "internal/handler/errors.go",
        "internal/store/postgres.go",
        "internal/store/postgres_test.go",
        "internal/auth/jwt.go",
        "internal/auth/jwt_test.go",
        "migrations/0007_orders_status_idx.sql",
    ),
    sites=(
        _site(
            path="internal/handler/orders.go",
            symbol="ListOrders",
            param="cursor",
            first_line=52,
            body=1,
            indent="\t",
            test_path="internal/handler/orders_test.go",
            code="""
func (h *Handler) ListOrders(w http.ResponseWriter, r *http.Request) {
	cursor := r.URL.Query().Get("cursor")
	orders, next, err := h.store.ListOrders(r.Context(), cursor, defaultPageSize)
	if err != nil {
		h.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, listOrdersResponse{Orders: orders, NextCursor: next})
}
""",
            tasks=(
                SiteTask(
                    (
                        "Add a `limit` query param to GET /orders (default 50, max 200)",
                        "Let clients choose the page size on /orders, capped at 200",
                    ),
                    (
                        Edit(
                            1,
                            (
                                '\tlimit, err := parseLimit(r.URL.Query().Get("limit"), defaultPageSize, maxPageSize)',
                                "\tif err != nil {",
                                "\t\th.writeError(w, errBadRequest(err))",
                                "\t\treturn",
                                "\t}",
                            ),
                        ),
                        Edit(
                            2,
                            ("\torders, next, err := h.store.ListOrders(r.Context(), cursor, limit)",),
                            remove=1,
                        ),
                    ),
                    "`GET /orders` accepts `limit` (default 50, max 200) and validates it.",
                ),
                SiteTask(
                    ("Reject malformed cursors in ListOrders with a 400 instead of a 500",),
                    (
                        Edit(
                            1,
                            (
                                '\tif cursor != "" && !validCursor(cursor) {',
                                '\t\th.writeError(w, errBadRequest(errors.New("malformed cursor")))',
                                "\t\treturn",
                                "\t}",
                            ),
                        ),
                    ),
                    "`ListOrders` answers 400 for malformed cursors.",
                ),
            ),
        ),
        _site(
            path="internal/auth/jwt.go",
            symbol="ParseToken",
            param="raw",
            first_line=33,
            body=0,
            indent="\t",
            test_path="internal/auth/jwt_test.go",
            code="""
func ParseToken(raw string, keys KeySet) (*Claims, error) {
	claims := &Claims{}
	_, err := jwt.ParseWithClaims(raw, claims, keys.Lookup, jwt.WithValidMethods([]string{"RS256"}))
	if err != nil {
		return nil, fmt.Errorf("parse token: %w", err)
	}
	return claims, nil
}
""",
            tasks=(
                SiteTask(
                    (
                        "Allow 30s of clock skew when validating JWTs in ParseToken",
                        "Tokens from the mobile app fail with 'token used before issued'; add leeway",
                    ),
                    (
                        Edit(
                            1,
                            (
                                "\t_, err := jwt.ParseWithClaims(raw, claims, keys.Lookup,",
                                '\t\tjwt.WithValidMethods([]string{"RS256"}), jwt.WithLeeway(30*time.Second))',
                            ),
                            remove=1,
                        ),
                    ),
                    "`ParseToken` tolerates 30s of clock skew via `jwt.WithLeeway`.",
                ),
            ),
        ),
        _site(
            path="internal/store/postgres.go",
            symbol="InsertOrder",
            param="order",
            first_line=88,
            body=0,
            indent="\t",
            test_path="internal/store/postgres_test.go",
            code="""
func (s *Store) InsertOrder(ctx context.Context, order Order) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx,
		`INSERT INTO orders (customer_id, status, total_cents) VALUES ($1, $2, $3) RETURNING id`,
		order.CustomerID, order.Status, order.TotalCents,
	).Scan(&id)
	return id, err
}
""",
            tasks=(
                SiteTask(
                    ("Wrap InsertOrder errors with context and map unique violations to ErrDuplicateOrder",),
                    (Edit(5, ("\tif isUniqueViolation(err) {", "\t\treturn 0, ErrDuplicateOrder", "\t}")),),
                    "`InsertOrder` maps unique-constraint violations to `ErrDuplicateOrder`.",
                ),
            ),
        ),
    ),
    weight=0.13,
)

REPOS: tuple[Repo, ...] = (
    BILLING_API,
    ETL_PIPELINE,
    SUPPORT_BOT,
    WEB_DASHBOARD,
    NOTIFY_SERVICE,
    INGEST_GATEWAY,
    TILECACHE,
    ORDERS_SVC,
)


def developers_for(repo: Repo) -> list[Developer]:
    return [dev for dev in DEVELOPERS if repo.name in dev.repos]
