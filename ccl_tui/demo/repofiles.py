"""The files of the demo corpus's fictional repositories, as they are at the root commit of each history.

Every file of ``Repo.files`` exists (plus ``CHANGELOG.md``, which sessions edit). What the sessions rely on sits
at exactly the recorded line: each site's excerpt at its ``first_line`` (``sed -n``/``nl -ba`` output, patch
contexts and diff line numbers), and the other lines some episode patches touch: the README's behaviour notes
(line 41), the changelog head, ``Cargo.toml``'s ``[dependencies]`` (line 9), the imports ``eslint`` complains
about, the ``use`` lines of the E0433 fix, ``types.ts``'s ``InvoicePage`` (line 18), the test blocks that the
``pytest``/``vitest`` assertion episodes rewrite, the clippy and data-race lines. :func:`compose` checks each
placement, so a content edit that shifts an anchored block fails loudly instead of breaking the corpus.

The Python modules of the runnable episode (``billing.services.tax`` and ``etl.transform.normalize``) and their
``unittest`` tests use the standard library only; everything else is a plausible sketch that is never built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ccl_tui.demo.injected import agents_md
from ccl_tui.demo.repos import GO, PY, RS, TS, Repo, Site

#: Lines the episodes patch outside the sites (see causes.py / story.py / patches.py).
BEHAVIOUR_NOTES = ("## Behaviour notes", "", "- Money values are stored in minor units (cents).")
CHANGELOG_HEAD = ("# Changelog", "", "## Unreleased", "")
ESLINT_IMPORTS = ('import { useEffect, useMemo, useState } from "react";', 'import { ApiError } from "./errors";')
CARGO_DEPS = (
    "[dependencies]",
    'axum = "0.7"',
    'bytes = "1.7"',
    'tokio = { version = "1.40", features = ["full"] }',
    'tracing = "0.1"',
)
RUST_HEAD = ("use axum::extract::State;", "use axum::http::StatusCode;", "")
INVOICE_PAGE = ("export interface InvoicePage {", "  items: Invoice[];", "  total: number;", "}")
ORDER_CACHE = ("func (s *Store) cacheOrder(o Order) {", "\ts.cache[o.ID] = o", "}")


@dataclass(frozen=True, slots=True)
class At:
    """A block that must start at ``line`` (1-based) of its file."""

    line: int
    lines: tuple[str, ...]


def block(text: str) -> list[str]:
    """The lines of a triple-quoted block: one newline right after the opening quotes and one right before the
    closing quotes are dropped; every other (blank) line counts."""
    if text.startswith("\n"):
        text = text[1:]
    if text.endswith("\n"):
        text = text[:-1]
    return text.split("\n")


def compose(path: str, *parts: str | At | Sequence[str]) -> str:
    """Join text blocks and anchored blocks; raise if an anchored block would not start at its line."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, At):
            if len(out) + 1 != part.line:
                raise ValueError(f"{path}: the block for line {part.line} would start at line {len(out) + 1}")
            out.extend(part.lines)
        elif isinstance(part, str):
            out.extend(block(part))
        else:
            out.extend(part)
    return "\n".join(out) + "\n"


def site(repo: Repo, path: str) -> Site:
    return next(s for s in repo.sites if s.path == path)


def at_site(repo: Repo, path: str) -> At:
    s = site(repo, path)
    return At(s.first_line, s.lines)


def clippy_lines(s: Site) -> At:
    """The two lines the clippy episode fixes, 6 lines after the site's excerpt."""
    lines = (f"{s.indent}let key = request.key.clone();", f"{s.indent}self.index.insert(key.clone(), now);")
    return At(s.first_line + len(s.lines) + 6, lines)


def pytest_block(s: Site) -> list[str]:
    """The assertion the ``pytest_assert`` episode rewrites (it finds the block by its context)."""
    name = f"test_{s.symbol}_handles_{s.param}"
    return ["", "", f"def {name}():", f"    result = {s.symbol}(**make_args())", "    assert len(result) == 2"]


def vitest_block(s: Site) -> At:
    """The assertion the ``ts_test_fail`` episode rewrites, at line 30 of the site's test file."""
    call = f"call{s.symbol[0].upper()}{s.symbol[1:]}"
    return At(
        30,
        (
            '  it("handles the new case", async () => {',
            f"    const res = await {call}();",
            "    expect(res.status).toBe(201);",
        ),
    )


# --------------------------------------------------------------------------------------------------------------
# shared files
# --------------------------------------------------------------------------------------------------------------

_SETUP = {
    PY: ("uv sync", "uv run pytest -q", "uv run ruff check ."),
    TS: ("npm ci", "npm test", "npm run lint"),
    RS: ("cargo build", "cargo test", "cargo clippy -- -D warnings"),
    GO: ("go mod download", "go test ./...", "go vet ./..."),
}
_ABOUT = {
    "billing-api": "Invoices, customers, VAT and Stripe webhooks for Acme's billing.",
    "etl-pipeline": "Nightly CRM extract, normalisation and warehouse load.",
    "support-bot": "Slack bot that triages support requests into tickets.",
    "web-dashboard": "Customer-facing dashboard for invoices and settings.",
    "notify-service": "Notification fan-out: subscriptions, digests, websocket pushes.",
    "ingest-gateway": "HTTP gateway that batches events into Kafka.",
    "tilecache": "Map tile renderer with an in-memory TTL cache.",
    "orders-svc": "Orders API over Postgres with JWT auth.",
}


def readme(repo: Repo) -> str:
    """README with the behaviour notes at line 41 (the docs episode appends to them)."""
    install, test, lint = _SETUP[repo.lang]
    head = [
        f"# {repo.name}",
        "",
        _ABOUT[repo.name],
        "",
        "## Development",
        "",
        "```sh",
        install,
        test,
        lint,
        "```",
        "",
        "Agents: read `AGENTS.md` first.",
        "",
        "## Layout",
        "",
    ]
    files = [f"- `{f}`" for f in repo.files if f not in ("AGENTS.md", "README.md")]
    room = 40 - len(head) - 2
    listed = files[:room] if len(files) <= room else [*files[: room - 1], "- ..."]
    pad = 40 - len(head) - len(listed) - 1
    body = head + listed + [""] * pad + [f"Version {repo.version}."]
    return compose("README.md", body, At(41, BEHAVIOUR_NOTES), ["", "## Notes", ""])


def changelog(repo: Repo) -> str:
    return compose(
        "CHANGELOG.md",
        At(1, CHANGELOG_HEAD),
        [f"## {repo.version} (2026-09-14)", "", "- Maintenance release.", ""],
    )


def agents_file(repo: Repo, post_fix: bool) -> str:
    return agents_md(repo, post_fix) + "\n"


# --------------------------------------------------------------------------------------------------------------
# Python
# --------------------------------------------------------------------------------------------------------------


def pyproject(repo: Repo, deps: Sequence[str]) -> str:
    dep_lines = "".join(f'    "{d}",\n' for d in deps)
    return (
        f'[project]\nname = "{repo.name}"\nversion = "{repo.version}"\nrequires-python = ">=3.12"\n'
        f"dependencies = [\n{dep_lines}]\n\n[dependency-groups]\n"
        'dev = ["pytest>=8.3", "respx>=0.21", "ruff>=0.8", "mypy>=1.13"]\n\n'
        '[tool.pytest.ini_options]\npythonpath = ["src"]\ntestpaths = ["tests"]\n\n'
        "[tool.ruff]\nline-length = 110\n"
    )


def uv_lock(repo: Repo, locked: Sequence[tuple[str, str]]) -> str:
    out = ["version = 1", 'requires-python = ">=3.12"', ""]
    for name, version in locked:
        out += [
            "[[package]]",
            f'name = "{name}"',
            f'version = "{version}"',
            'source = { registry = "https://pypi.org/simple" }',
            "",
        ]
    out += ["[[package]]", f'name = "{repo.name}"', f'version = "{repo.version}"', 'source = { editable = "." }']
    return "\n".join(out) + "\n"


BILLING_TAX_OK = "    vat = (gross * rate / (1 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)"
BILLING_TAX_BUG = "    vat = Decimal(int(gross * rate / (1 + rate) * 100)) / 100"
BILLING_TAX_LINE = 18  # the line of split_gross the regression changes


def _billing(repo: Repo) -> dict[str, str]:
    tax = compose(
        "src/billing/services/tax.py",
        '''
"""VAT for invoices: rates per region, tax on net amounts and the split of gross amounts."""

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
VAT_CHANGE_DATE = datetime(2026, 1, 1, tzinfo=UTC)
TAX_RATES = {"AT": Decimal("0.20"), "DE": Decimal("0.19"), "FR": Decimal("0.20"), "NL": Decimal("0.21")}
LEGACY_RATES = {"AT": Decimal("0.20"), "DE": Decimal("0.16"), "FR": Decimal("0.20"), "NL": Decimal("0.21")}


class UnknownRegionError(ValueError):
    """No VAT rate is configured for the region."""


def split_gross(gross: Decimal, region: str) -> tuple[Decimal, Decimal]:
    rate = TAX_RATES[region]''',
        At(BILLING_TAX_LINE, (BILLING_TAX_OK,)),
        "    return gross - vat, vat",
        ["", ""],
        at_site(repo, "src/billing/services/tax.py"),
    )
    invoices = compose(
        "src/billing/api/invoices.py",
        '''
"""Invoice endpoints."""

from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.db import get_session
from billing.models import Invoice, InvoiceStatus
from billing.services.pdf import render_invoice_pdf

router = APIRouter(tags=["invoices"])


class InvoiceOut(BaseSchema):
    id: UUID
    account_id: UUID
    number: str
    status: InvoiceStatus
    total_cents: int
    currency: str


@router.get("/invoices/{invoice_id}", response_model=InvoiceOut)
def get_invoice(invoice_id: UUID, session: Session = Depends(get_session)) -> InvoiceOut:
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise HTTPException(status_code=404, detail="invoice not found")
    return InvoiceOut.model_validate(invoice)


@router.get("/invoices/{invoice_id}/pdf")
def invoice_pdf(invoice_id: UUID, session: Session = Depends(get_session)) -> bytes:
    return render_invoice_pdf(session.get(Invoice, invoice_id))
''',
        ["", ""],
        at_site(repo, "src/billing/api/invoices.py"),
    )
    stripe = compose(
        "src/billing/webhooks/stripe.py",
        '''
"""Stripe webhooks: verify the signature, dispatch by event type."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import stripe

from billing.db import processed_events
from billing.settings import settings

logger = logging.getLogger(__name__)
SIGNATURE_TOLERANCE = 300  # seconds

Handler = Callable[[dict[str, Any]], Awaitable[None]]


async def on_invoice_paid(invoice: dict[str, Any]) -> None:
    logger.info("invoice %s paid", invoice["id"])


async def on_invoice_payment_failed(invoice: dict[str, Any]) -> None:
    logger.warning("payment failed for invoice %s", invoice["id"])


async def on_customer_updated(customer: dict[str, Any]) -> None:
    logger.info("customer %s updated", customer["id"])


async def on_subscription_deleted(subscription: dict[str, Any]) -> None:
    logger.info("subscription %s deleted", subscription["id"])


async def on_charge_refunded(charge: dict[str, Any]) -> None:
    logger.info("charge %s refunded", charge["id"])


async def on_checkout_completed(session: dict[str, Any]) -> None:
    logger.info("checkout session %s completed", session["id"])


HANDLERS: dict[str, Handler] = {
    "invoice.paid": on_invoice_paid,
    "invoice.payment_failed": on_invoice_payment_failed,
    "customer.updated": on_customer_updated,
    "customer.subscription.deleted": on_subscription_deleted,
    "charge.refunded": on_charge_refunded,
    "checkout.session.completed": on_checkout_completed,
}


def event_type(payload: dict[str, Any]) -> str:
    """The Stripe event type, for logs."""
    return str(payload.get("type", "unknown"))
''',
        ["", ""],
        at_site(repo, "src/billing/webhooks/stripe.py"),
    )
    test_tax = compose(
        "tests/test_tax.py",
        """
import unittest
from datetime import UTC, datetime
from decimal import Decimal

from billing.services.tax import compute_tax, split_gross


class SplitGrossTest(unittest.TestCase):
    def test_vat_is_rounded_not_truncated(self) -> None:
        self.assertEqual(split_gross(Decimal("100.00"), "DE"), (Decimal("84.03"), Decimal("15.97")))

    def test_half_cent_rounds_up(self) -> None:
        self.assertEqual(split_gross(Decimal("0.15"), "AT"), (Decimal("0.12"), Decimal("0.03")))

    def test_net_plus_vat_is_gross(self) -> None:
        net, vat = split_gross(Decimal("59.90"), "NL")
        self.assertEqual(net + vat, Decimal("59.90"))


class ComputeTaxTest(unittest.TestCase):
    def test_current_rate(self) -> None:
        issued = datetime(2026, 3, 1, tzinfo=UTC)
        self.assertEqual(compute_tax(Decimal("100.00"), "DE", issued), Decimal("19.00"))


def make_args() -> dict[str, object]:
    return {"amount": Decimal("10.00"), "region": "DE", "issued_at": datetime(2026, 3, 1, tzinfo=UTC)}""",
        pytest_block(site(repo, "src/billing/services/tax.py")),
    )
    s_inv, s_stripe = site(repo, "src/billing/api/invoices.py"), site(repo, "src/billing/webhooks/stripe.py")
    return {
        "pyproject.toml": pyproject(
            repo,
            ("fastapi>=0.115", "sqlalchemy>=2.0", "alembic>=1.13", "stripe>=11.0", "httpx>=0.27", "weasyprint>=62"),
        ),
        "alembic.ini": "[alembic]\nscript_location = alembic\nsqlalchemy.url = driver://user:pass@localhost/dbname\n",
        "alembic/versions/0031_add_invoice_due_date.py": _migration(
            "0031", "0030", "invoices", "due_date", "sa.Date()"
        ),
        "alembic/versions/0032_customer_tax_id.py": _migration("0032", "0031", "customers", "tax_id", "sa.String(32)"),
        "src/billing/__init__.py": f'"""Acme billing API."""\n\n__version__ = "{repo.version}"\n',
        "src/billing/app.py": (
            '"""The FastAPI application."""\n\nfrom fastapi import FastAPI\n\nfrom billing.api import customers, '
            'invoices\n\napp = FastAPI(title="billing-api")\napp.include_router(invoices.router)\n'
            "app.include_router(customers.router)\n"
        ),
        "src/billing/db.py": (
            '"""Database session and small persistence helpers."""\n\nfrom collections.abc import Iterator\n\n'
            "from sqlalchemy import create_engine\nfrom sqlalchemy.orm import Session, sessionmaker\n\n"
            "from billing.settings import settings\n\nengine = create_engine(settings.database_url)\n"
            "SessionLocal = sessionmaker(engine)\n\n\ndef get_session() -> Iterator[Session]:\n"
            "    with SessionLocal() as session:\n        yield session\n"
        ),
        "src/billing/models.py": (
            '"""ORM models."""\n\nimport enum\nfrom datetime import date, datetime\nfrom uuid import UUID\n\n'
            "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n\nclass Base(DeclarativeBase):\n"
            '    pass\n\n\nclass InvoiceStatus(enum.StrEnum):\n    DRAFT = "draft"\n    OPEN = "open"\n'
            '    PAID = "paid"\n    VOID = "void"\n\n\nclass Invoice(Base):\n    __tablename__ = "invoices"\n\n'
            "    id: Mapped[UUID] = mapped_column(primary_key=True)\n    account_id: Mapped[UUID]\n"
            "    number: Mapped[str]\n    status: Mapped[InvoiceStatus]\n    total_cents: Mapped[int]\n"
            "    currency: Mapped[str]\n    issued_at: Mapped[datetime]\n    due_date: Mapped[date | None]\n"
        ),
        "src/billing/settings.py": (
            '"""Settings from the environment."""\n\nfrom pydantic_settings import BaseSettings\n\n\n'
            'class Settings(BaseSettings):\n    database_url: str = "postgresql+psycopg://localhost/billing"\n'
            '    stripe_webhook_secret: str = ""\n\n\nsettings = Settings()\n'
        ),
        "src/billing/api/__init__.py": "",
        "src/billing/api/customers.py": (
            '"""Customer endpoints."""\n\nfrom uuid import UUID\n\nfrom fastapi import APIRouter\n\n'
            'router = APIRouter(tags=["customers"])\n\n\n@router.get("/customers/{customer_id}")\n'
            'def get_customer(customer_id: UUID) -> dict[str, str]:\n    return {"id": str(customer_id)}\n'
        ),
        "src/billing/api/invoices.py": invoices,
        "src/billing/services/tax.py": tax,
        "src/billing/services/pdf.py": (
            '"""Invoice PDFs."""\n\nfrom weasyprint import HTML\n\n\ndef render_invoice_pdf(invoice: object) -> bytes:\n'
            '    return HTML(string=f"<h1>Invoice {invoice.number}</h1>").write_pdf()\n'
        ),
        "src/billing/webhooks/stripe.py": stripe,
        "tests/conftest.py": (
            "import httpx\nimport pytest\n\nfrom billing.app import app\n\n\n@pytest.fixture\n"
            "def client() -> httpx.Client:\n    return httpx.Client(transport=httpx.ASGITransport(app=app),"
            ' base_url="http://test")\n'
        ),
        "tests/test_invoices.py": _pytest_file(
            "from billing.api.invoices import list_invoices",
            "def test_unknown_invoice_is_404(client):\n"
            '    assert client.get("/invoices/00000000-0000-0000-0000-000000000000").status_code == 404',
            'def make_args():\n    return {"account_id": ACCOUNT, "session": FakeSession(rows=2)}',
            s_inv,
        ),
        "tests/test_tax.py": test_tax,
        "tests/test_stripe_webhooks.py": _pytest_file(
            "from billing.webhooks.stripe import handle_event",
            "def test_unknown_events_are_ignored(signed_event):\n"
            '    assert handle_event(*signed_event("ping")) is not None',
            'def make_args():\n    return {"payload": b"{}", "signature": "t=0,v1=0"}',
            s_stripe,
        ),
        "tests/test_customers.py": (
            "def test_get_customer(client):\n"
            '    assert client.get("/customers/00000000-0000-0000-0000-000000000001").status_code == 200\n'
        ),
    }


def _migration(rev: str, down: str, table: str, column: str, kind: str) -> str:
    return (
        f'"""{table}.{column}\n\nRevision ID: {rev}\nRevises: {down}\n"""\n\nimport sqlalchemy as sa\n'
        f'from alembic import op\n\nrevision = "{rev}"\ndown_revision = "{down}"\n\n\ndef upgrade() -> None:\n'
        f'    op.add_column("{table}", sa.Column("{column}", {kind}, nullable=True))\n\n\ndef downgrade() -> None:\n'
        f'    op.drop_column("{table}", "{column}")\n'
    )


def _pytest_file(imports: str, test: str, make_args: str, s: Site) -> str:
    return compose(s.test_path, imports, "", "", test, "", "", make_args, pytest_block(s))


ETL_AMOUNT_OK = "    return int((Decimal(text) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))"
ETL_AMOUNT_BUG = "    return int(float(text) * 100)"
ETL_AMOUNT_LINE = 27  # the last line of parse_amount (the regression changes it)
ETL_DECIMAL_IMPORT = "from decimal import ROUND_HALF_UP, Decimal"


def _etl(repo: Repo) -> dict[str, str]:
    normalize = compose(
        "src/etl/transform/normalize.py",
        '''
"""Normalise CRM contact records before they are loaded."""

from datetime import datetime''',
        At(4, (ETL_DECIMAL_IMPORT,)),
        """
from typing import Any

COUNTRY_ALIASES = {"Deutschland": "DE", "Germany": "DE", "Österreich": "AT", "Schweiz": "CH"}


def parse_timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
""",
        ["", ""],
        at_site(repo, "src/etl/transform/normalize.py"),
        '''


def parse_amount(raw: str) -> int:
    """Cents from a CRM amount such as "19.99", "1.234,56 €" or "-5"."""
    text = raw.replace("€", "").replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")''',
        At(ETL_AMOUNT_LINE, (ETL_AMOUNT_OK,)),
    )
    test_normalize = compose(
        "tests/test_normalize.py",
        """
import unittest

from etl.transform.normalize import normalize_record, parse_amount


class ParseAmountTest(unittest.TestCase):
    def test_plain_amount(self) -> None:
        self.assertEqual(parse_amount("19.99"), 1999)

    def test_german_format(self) -> None:
        self.assertEqual(parse_amount("1.234,56 €"), 123456)

    def test_half_cent_rounds_up(self) -> None:
        self.assertEqual(parse_amount("0.125"), 13)

    def test_negative(self) -> None:
        self.assertEqual(parse_amount("-5"), -500)


class NormalizeRecordTest(unittest.TestCase):
    def test_email_is_lowercased(self) -> None:
        record = {"Email": " Ana@Example.COM ", "country": "Germany", "updated_at": "2026-09-01T10:00:00Z"}
        self.assertEqual(normalize_record(record)["email"], "ana@example.com")


def make_args() -> dict[str, object]:
    return {"record": {"email": "a@b.example", "country": "DE", "updated_at": "2026-09-01T10:00:00Z"}}""",
        pytest_block(site(repo, "src/etl/transform/normalize.py")),
    )
    crm = compose(
        "src/etl/clients/crm.py",
        '''
"""Client for the CRM's REST API (v2)."""

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from etl.config import settings


class Contact(BaseModel):
    id: str
    email: str | None = None
    country: str | None = None
    updated_at: datetime


async def _paginate(client: httpx.AsyncClient, path: str, params: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    cursor: str | None = None
    while True:
        resp = await client.get(path, params={**params, "cursor": cursor} if cursor else params)
        resp.raise_for_status()
        page = resp.json()
        yield page
        if not (cursor := page.get("next_cursor")):
            return
''',
        at_site(repo, "src/etl/clients/crm.py"),
    )
    warehouse = compose(
        "src/etl/load/warehouse.py",
        '''
"""Load normalised rows into the warehouse (Postgres)."""

from collections.abc import Mapping, Sequence
from itertools import batched
from typing import Any

from psycopg2.extensions import connection as Connection
from psycopg2.extras import execute_values

TABLES = ("contacts", "companies", "deals")


def qualified(table: str, schema: str = "crm") -> str:
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    return f"{schema}.{table}"


def truncate(conn: Connection, table: str) -> None:
    with conn.cursor() as cur:
        cur.execute(f"TRUNCATE {qualified(table)}")


def row_count(conn: Connection, table: str) -> int:
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {qualified(table)}")
        return int(cur.fetchone()[0])


def analyze(conn: Connection, table: str) -> None:
    with conn.cursor() as cur:
        cur.execute(f"ANALYZE {qualified(table)}")


def vacuum(conn: Connection, table: str) -> None:
    old = conn.autocommit
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f"VACUUM {qualified(table)}")
    finally:
        conn.autocommit = old


def columns_of(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    return sorted(rows[0]) if rows else []

''',
        at_site(repo, "src/etl/load/warehouse.py"),
    )
    s_crm, s_wh = site(repo, "src/etl/clients/crm.py"), site(repo, "src/etl/load/warehouse.py")
    return {
        "pyproject.toml": pyproject(
            repo,
            ("httpx>=0.27", "pydantic>=2.8", "tenacity>=9.0", "psycopg2-binary>=2.9", "boto3>=1.35", "typer>=0.12"),
        ),
        "Makefile": ".PHONY: test lint run\n\ntest:\n\tuv run pytest -q\n\nlint:\n\tuv run ruff check .\n\n"
        "run:\n\tuv run python -m etl.cli run --since yesterday\n",
        "src/etl/__init__.py": f'__version__ = "{repo.version}"\n',
        "src/etl/cli.py": (
            '"""etl run --since DATE"""\n\nimport typer\n\napp = typer.Typer()\n\n\n@app.command()\n'
            'def run(since: str = "yesterday") -> None:\n    typer.echo(f"extracting contacts since {since}")\n\n\n'
            'if __name__ == "__main__":\n    app()\n'
        ),
        "src/etl/config.py": (
            '"""Settings (env prefix ETL_)."""\n\nfrom pydantic_settings import BaseSettings, SettingsConfigDict\n\n\n'
            'class Settings(BaseSettings):\n    model_config = SettingsConfigDict(env_prefix="ETL_")\n\n'
            '    crm_base_url: str = "https://crm.example.com/api"\n    crm_page_size: int = 500\n'
            '    warehouse_dsn: str = "postgresql://localhost/warehouse"\n\n\nsettings = Settings()\n'
        ),
        "src/etl/clients/crm.py": crm,
        "src/etl/extract/s3_reader.py": (
            '"""Read CSV exports from S3."""\n\nimport csv\nimport io\n\n\ndef read_csv(bucket: str, key: str) -> '
            'list[dict[str, str]]:\n    import boto3\n\n    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)'
            '["Body"].read()\n    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))\n'
        ),
        "src/etl/transform/normalize.py": normalize,
        "src/etl/load/warehouse.py": warehouse,
        "tests/conftest.py": (
            'import json\nfrom pathlib import Path\n\nimport pytest\n\nFIXTURES = Path(__file__).parent / "fixtures"\n'
            "\n\n@pytest.fixture\ndef contacts_page() -> dict:\n"
            '    return json.loads((FIXTURES / "contacts_page1.json").read_text())\n'
        ),
        "tests/test_crm_client.py": _pytest_file(
            "from etl.clients.crm import fetch_contacts",
            'def test_contacts_page_fixture(contacts_page):\n    assert len(contacts_page["items"]) == 2',
            'def make_args():\n    return {"client": FakeClient(pages=1), "since": SINCE}',
            s_crm,
        ),
        "tests/test_normalize.py": test_normalize,
        "tests/test_warehouse.py": _pytest_file(
            "from etl.load.warehouse import load_batch, qualified",
            'def test_qualified_rejects_unknown_tables():\n    assert qualified("contacts") == "crm.contacts"',
            'def make_args():\n    return {"conn": FakeConn(), "table": "contacts", "rows": ROWS}',
            s_wh,
        ),
        "tests/fixtures/contacts_page1.json": (
            '{\n  "items": [\n    {"id": "c_1", "email": "Ana@Example.com", "country": "Germany", '
            '"updated_at": "2026-09-01T10:00:00Z"},\n    {"id": "c_2", "email": null, "country": "AT", '
            '"updated_at": "2026-09-02T08:30:00Z"}\n  ],\n  "next_cursor": null\n}\n'
        ),
    }


def _support_bot(repo: Repo) -> dict[str, str]:
    handlers = compose(
        "src/support_bot/handlers.py",
        '''
"""Slack event handlers."""

from typing import Any

from slack_bolt.context.say.async_say import AsyncSay

from support_bot import triage
from support_bot.slack_client import add_reaction

HELP_TEXT = "Mention me with a description of the problem and I'll open a ticket."
LABEL_EMOJI = {"bug": "beetle", "billing": "moneybag", "question": "grey_question", "outage": "rotating_light"}


def strip_mention(text: str) -> str:
    """Drop the leading <@U123> mention."""
    if text.startswith("<@"):
        return text.split(">", 1)[-1].strip()
    return text.strip()


def render_ticket(ticket: triage.Ticket) -> str:
    return f"Opened *{ticket.key}* ({ticket.label}): {ticket.summary}"
''',
        ["", ""],
        at_site(repo, "src/support_bot/handlers.py"),
    )
    slack = compose(
        "src/support_bot/slack_client.py",
        '''
"""Minimal Slack Web API client."""

import httpx

from support_bot.config import settings

SLACK_API = "https://slack.com/api"


class SlackError(RuntimeError):
    pass


class RateLimited(SlackError):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after}s")
        self.retry_after = retry_after
''',
        at_site(repo, "src/support_bot/slack_client.py"),
        """


async def add_reaction(channel: str, ts: str, name: str) -> None:
    async with httpx.AsyncClient(base_url=SLACK_API, timeout=10.0) as client:
        await client.post(
            "/reactions.add",
            json={"channel": channel, "timestamp": ts, "name": name},
            headers={"Authorization": f"Bearer {settings.slack_bot_token}"},
        )""",
    )
    s_h, s_s = site(repo, "src/support_bot/handlers.py"), site(repo, "src/support_bot/slack_client.py")
    return {
        "pyproject.toml": pyproject(
            repo, ("slack-bolt>=1.20", "httpx>=0.27", "pydantic-settings>=2.4", "openai>=1.40")
        ),
        "Dockerfile": (
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir uv && uv sync --frozen\n"
            'CMD ["uv", "run", "python", "-m", "support_bot.app"]\n'
        ),
        "src/support_bot/__init__.py": f'__version__ = "{repo.version}"\n',
        "src/support_bot/app.py": (
            '"""Socket-mode entry point."""\n\nfrom slack_bolt.async_app import AsyncApp\n\n'
            "from support_bot.config import settings\nfrom support_bot.handlers import handle_mention\n\n"
            'app = AsyncApp(token=settings.slack_bot_token)\napp.event("app_mention")(handle_mention)\n'
        ),
        "src/support_bot/config.py": (
            '"""Settings (env prefix BOT_)."""\n\nfrom pydantic_settings import BaseSettings, SettingsConfigDict\n\n\n'
            'class Settings(BaseSettings):\n    model_config = SettingsConfigDict(env_prefix="BOT_")\n\n'
            '    slack_bot_token: str = ""\n    triage_model: str = "gpt-4o-mini"\n\n\nsettings = Settings()\n'
        ),
        "src/support_bot/handlers.py": handlers,
        "src/support_bot/slack_client.py": slack,
        "src/support_bot/triage.py": (
            '"""Classify a support request into a ticket."""\n\nfrom dataclasses import dataclass\n\n'
            'LABELS = ("bug", "billing", "question", "outage")\n\n\n@dataclass(frozen=True)\nclass Ticket:\n'
            "    key: str\n    label: str\n    summary: str\n\n\nasync def classify_ticket(text: str) -> Ticket:\n"
            '    label = "outage" if "down" in text.lower() else "question"\n'
            '    return Ticket(key="SUP-0", label=label, summary=text[:80])\n'
        ),
        "tests/test_handlers.py": _pytest_file(
            "from support_bot.handlers import handle_mention, strip_mention",
            'def test_strip_mention():\n    assert strip_mention("<@U1> help") == "help"',
            'def make_args():\n    return {"event": {"text": "<@U1> down", "ts": "1.0"}, "say": FakeSay()}',
            s_h,
        ),
        "tests/test_slack_client.py": _pytest_file(
            "from support_bot.slack_client import SlackError, post_message",
            "def test_slack_error_is_runtime_error():\n    assert issubclass(SlackError, RuntimeError)",
            'def make_args():\n    return {"channel": "C1", "text": "hi"}',
            s_s,
        ),
        "tests/test_triage.py": (
            "import asyncio\n\nfrom support_bot.triage import classify_ticket\n\n\ndef test_outage_label():\n"
            '    assert asyncio.run(classify_ticket("site is down")).label == "outage"\n'
        ),
    }


# --------------------------------------------------------------------------------------------------------------
# TypeScript
# --------------------------------------------------------------------------------------------------------------


def package_json(repo: Repo, scripts: dict[str, str], deps: dict[str, str], dev: dict[str, str]) -> str:
    def obj(d: dict[str, str], indent: str = "    ") -> str:
        return ",\n".join(f'{indent}"{k}": "{v}"' for k, v in d.items())

    return (
        f'{{\n  "name": "{repo.package}",\n  "version": "{repo.version}",\n  "private": true,\n  "type": "module",\n'
        f'  "scripts": {{\n{obj(scripts)}\n  }},\n  "dependencies": {{\n{obj(deps)}\n  }},\n'
        f'  "devDependencies": {{\n{obj(dev)}\n  }}\n}}\n'
    )


def package_lock(repo: Repo, locked: Sequence[tuple[str, str]]) -> str:
    entries = [f'    "": {{\n      "name": "{repo.package}",\n      "version": "{repo.version}"\n    }}']
    for name, version in locked:
        entries.append(
            f'    "node_modules/{name}": {{\n      "version": "{version}",\n'
            f'      "resolved": "https://registry.npmjs.org/{name}/-/{name.rsplit("/", 1)[-1]}-{version}.tgz"\n    }}'
        )
    return (
        f'{{\n  "name": "{repo.package}",\n  "version": "{repo.version}",\n  "lockfileVersion": 3,\n'
        '  "requires": true,\n  "packages": {\n' + ",\n".join(entries) + "\n  }\n}\n"
    )


def _ts_test(s: Site, imports: str, first: str) -> str:
    """A vitest/jest file whose line 30 holds the block the ``ts_test_fail`` episode rewrites."""
    head = [*block(imports), "", f'describe("{s.symbol}", () => {{', *block(first)]
    head += [""] * (29 - len(head) - 1) + ['  it("keeps the happy path", () => expect(true).toBe(true));']
    return compose(s.test_path, head, vitest_block(s), ["  });", "});"])


def _web_dashboard(repo: Repo) -> dict[str, str]:
    client = compose(
        "src/api/client.ts",
        '// HTTP client for the billing API.\nimport type { InvoicePage } from "./types";',
        At(3, ESLINT_IMPORTS),
        """
import { API_BASE } from "../config";

export class ApiErrorBody {
  constructor(
    public readonly code: string,
    public readonly message: string,
  ) {}
}

function authHeaders(): HeadersInit {
  const token = localStorage.getItem("token");
  return token ? { Authorization: `Bearer ${token}` } : {};
}

export async function fetchAccount(accountId: string): Promise<unknown> {
  const res = await fetch(`${API_BASE}/accounts/${accountId}`, { headers: authHeaders() });
  if (!res.ok) throw new ApiError(res.status, await res.text());
  return res.json();
}

export async function retryOnce<T>(call: () => Promise<T>): Promise<T> {
  return call().catch(() => call());
}

// Invoices of an account, newest first.
// `cursor` continues a previous page.
""",
        at_site(repo, "src/api/client.ts"),
    )
    pagination = compose(
        "src/hooks/usePagination.ts",
        "// Client-side pagination for tables.\n// The page index is zero-based.",
        At(3, ESLINT_IMPORTS),
        "\nexport interface Page<T> {\n  page: number;\n  visible: T[];\n}",
        at_site(repo, "src/hooks/usePagination.ts"),
    )
    money = compose(
        "src/utils/formatMoney.ts",
        ESLINT_IMPORTS,
        at_site(repo, "src/utils/formatMoney.ts"),
    )
    types = compose(
        "src/api/types.ts",
        """
// Types of the billing API's JSON.

export type InvoiceStatus = "draft" | "open" | "paid" | "void";

export interface Invoice {
  id: string;
  accountId: string;
  number: string;
  status: InvoiceStatus;
  totalCents: number;
  currency: string;
  issuedAt: string;
}

export type Cursor = string;
""",
        ["", "// One page of invoices and the total count."],
        At(18, INVOICE_PAGE),
    )
    s_client, s_pag, s_money = (
        site(repo, p) for p in ("src/api/client.ts", "src/hooks/usePagination.ts", "src/utils/formatMoney.ts")
    )
    return {
        "package.json": package_json(
            repo,
            {"dev": "vite", "build": "tsc -b && vite build", "test": "vitest run", "lint": "eslint ."},
            {"react": "^18.3.1", "react-dom": "^18.3.1", "@tanstack/react-query": "^5.59.0", "zod": "^3.23.8"},
            {
                "typescript": "^5.6.3",
                "vite": "^5.4.10",
                "vitest": "^2.1.4",
                "eslint": "^9.14.0",
                "@testing-library/react": "^16.0.1",
            },
        ),
        "tsconfig.json": (
            '{\n  "compilerOptions": {\n    "target": "ES2022",\n    "module": "ESNext",\n    "jsx": "react-jsx",\n'
            '    "strict": true,\n    "moduleResolution": "bundler",\n    "noEmit": true\n  },\n'
            '  "include": ["src"]\n}\n'
        ),
        "vite.config.ts": (
            'import react from "@vitejs/plugin-react";\nimport { defineConfig } from "vite";\n\n'
            'export default defineConfig({\n  plugins: [react()],\n  test: { environment: "jsdom" },\n});\n'
        ),
        "eslint.config.js": (
            'import js from "@eslint/js";\nimport tseslint from "typescript-eslint";\n\n'
            "export default tseslint.config(js.configs.recommended, ...tseslint.configs.recommended, {\n"
            '  rules: { "no-console": "warn" },\n});\n'
        ),
        "src/main.tsx": (
            'import { StrictMode } from "react";\nimport { createRoot } from "react-dom/client";\n\n'
            'import { App } from "./App";\n\ncreateRoot(document.getElementById("root")!).render(\n'
            "  <StrictMode>\n    <App />\n  </StrictMode>,\n);\n"
        ),
        "src/App.tsx": (
            'import { InvoiceTable } from "./components/InvoiceTable";\nimport { Settings } from "./pages/Settings";\n'
            "\nexport function App() {\n  return (\n    <main>\n      <InvoiceTable />\n      <Settings />\n"
            "    </main>\n  );\n}\n"
        ),
        "src/api/client.ts": client,
        "src/api/types.ts": types,
        "src/api/__tests__/client.test.ts": _ts_test(
            s_client,
            'import { describe, expect, it, vi } from "vitest";\n\nimport { fetchInvoices } from "../client";\n\n'
            'const callFetchInvoices = () => fetchInvoices("acc_1");',
            '  it("sends the account id", async () => {\n    const fetch = vi.fn().mockResolvedValue(new Response("[]"));\n'
            '    vi.stubGlobal("fetch", fetch);\n    await fetchInvoices("acc_1");\n'
            '    expect(fetch.mock.calls[0][0]).toContain("account_id=acc_1");\n  });',
        ),
        "src/components/InvoiceTable.tsx": (
            'import { usePagination } from "../hooks/usePagination";\nimport { formatMoney } from "../utils/formatMoney";\n'
            "\nexport function InvoiceTable({ invoices = [] as { id: string; totalCents: number }[] }) {\n"
            "  const { visible } = usePagination(invoices);\n  return (\n    <table>\n      <tbody>\n"
            "        {visible.map((inv) => (\n          <tr key={inv.id}>\n            <td>{formatMoney(inv.totalCents)}</td>\n"
            "          </tr>\n        ))}\n      </tbody>\n    </table>\n  );\n}\n"
        ),
        "src/components/__tests__/InvoiceTable.test.tsx": (
            'import { render } from "@testing-library/react";\nimport { expect, it } from "vitest";\n\n'
            'import { InvoiceTable } from "../InvoiceTable";\n\nit("renders an empty table", () => {\n'
            '  expect(render(<InvoiceTable />).container.querySelector("table")).not.toBeNull();\n});\n'
        ),
        "src/hooks/usePagination.ts": pagination,
        "src/hooks/__tests__/usePagination.test.ts": _ts_test(
            s_pag,
            'import { renderHook } from "@testing-library/react";\nimport { describe, expect, it } from "vitest";\n\n'
            'import { usePagination } from "../usePagination";\n\n'
            "const callUsePagination = async () => ({ status: 200 });",
            '  it("splits items into pages", () => {\n'
            "    const { result } = renderHook(() => usePagination([1, 2, 3], 2));\n"
            "    expect(result.current.pageCount).toBe(2);\n  });",
        ),
        "src/pages/Settings.tsx": (
            "export function Settings() {\n  return (\n    <section>\n      <h2>Settings</h2>\n    </section>\n  );\n}\n"
        ),
        "src/utils/formatMoney.ts": money,
        "src/utils/__tests__/formatMoney.test.ts": _ts_test(
            s_money,
            'import { describe, expect, it } from "vitest";\n\nimport { formatMoney } from "../formatMoney";\n\n'
            "const callFormatMoney = async () => ({ status: 200 });",
            '  it("formats euros", () => {\n    expect(formatMoney(123456)).toBe("1.234,56\u00a0€");\n  });',
        ),
    }


def _notify_service(repo: Repo) -> dict[str, str]:
    subs = compose(
        "src/routes/subscriptions.ts",
        "// POST /subscriptions and friends.\n// Topics are validated against KNOWN_TOPICS.",
        At(3, ESLINT_IMPORTS),
        """
import type { Request, Response } from "express";

import { queue } from "../queue/worker";
import { subscriptions } from "../db/pool";

export const KNOWN_TOPICS = new Set(["invoice.paid", "invoice.overdue", "digest.weekly"]);

interface CreateSubscriptionBody {
  topic: string;
  channel: "email" | "push" | "ws";
}

/**
 * POST /subscriptions: subscribe the authenticated user to a topic on a channel.
 */
""",
        at_site(repo, "src/routes/subscriptions.ts"),
    )
    reconnect = compose(
        "src/ws/reconnect.ts",
        "// Reconnect a managed websocket with exponential backoff.\n// Delays are capped at MAX_DELAY_MS.",
        At(3, ESLINT_IMPORTS),
        """
import type { ManagedSocket } from "./socket";

export const BASE_DELAY_MS = 500;
export const MAX_DELAY_MS = 30_000;
export const JITTER_MS = 250;
export const options = { random: Math.random };
/** Schedule the next reconnect attempt of `socket`. */
""",
        at_site(repo, "src/ws/reconnect.ts"),
    )
    worker = compose(
        "src/queue/worker.ts",
        "// BullMQ worker that renders and sends notifications.\n// One job per recipient and channel.",
        At(3, ESLINT_IMPORTS),
        """
import { Queue, Worker, type Job } from "bullmq";
import pino from "pino";

import { preferences } from "../db/pool";
import { render, templates } from "../templates";
import { transports } from "../transports";

export const logger = pino({ name: "notify-worker" });
export const queue = new Queue("notifications", { connection: { host: "localhost", port: 6379 } });

export interface NotificationPayload {
  templateId: string;
  recipient: string;
  channel: "email" | "push" | "ws";
  variables: Record<string, string>;
}

export function startWorker(): Worker<NotificationPayload> {
  return new Worker("notifications", processJob, { connection: { host: "localhost", port: 6379 } });
}

export async function drain(): Promise<void> {
  await queue.drain();
}

export async function pending(): Promise<number> {
  return queue.count();
}

export const QUEUE_NAME = "notifications";

export async function close(): Promise<void> {
  await queue.close();
}

""",
        at_site(repo, "src/queue/worker.ts"),
    )
    s_subs, s_rec, s_work = (
        site(repo, p) for p in ("src/routes/subscriptions.ts", "src/ws/reconnect.ts", "src/queue/worker.ts")
    )
    return {
        "package.json": package_json(
            repo,
            {"build": "tsc", "start": "node dist/server.js", "test": "jest", "lint": "eslint ."},
            {"express": "^4.21.1", "bullmq": "^5.21.0", "pino": "^9.5.0", "pg": "^8.13.0", "ws": "^8.18.0"},
            {
                "typescript": "^5.6.3",
                "jest": "^29.7.0",
                "ts-jest": "^29.2.5",
                "eslint": "^9.14.0",
                "@types/express": "^5.0.0",
                "@types/node": "^22.9.0",
            },
        ),
        "tsconfig.json": (
            '{\n  "compilerOptions": {\n    "target": "ES2022",\n    "module": "NodeNext",\n    "strict": true,\n'
            '    "outDir": "dist"\n  },\n  "include": ["src"]\n}\n'
        ),
        "jest.config.ts": 'export default {\n  preset: "ts-jest",\n  testEnvironment: "node",\n  roots: ["<rootDir>/test"],\n};\n',
        "src/server.ts": (
            'import express from "express";\n\nimport { health } from "./routes/health";\n'
            'import { createSubscription } from "./routes/subscriptions";\n\nexport const app = express();\n'
            'app.use(express.json());\napp.get("/health", health);\napp.post("/subscriptions", createSubscription);\n'
            "app.listen(Number(process.env.PORT ?? 8080));\n"
        ),
        "src/routes/subscriptions.ts": subs,
        "src/routes/health.ts": (
            'import type { Request, Response } from "express";\n\nexport function health(_req: Request, res: Response): void {\n'
            '  res.json({ status: "ok" });\n}\n'
        ),
        "src/ws/reconnect.ts": reconnect,
        "src/ws/socket.ts": (
            'import { EventEmitter } from "node:events";\n\nexport class ManagedSocket extends EventEmitter {\n'
            "  constructor(public readonly url: string) {\n    super();\n  }\n\n  async connect(): Promise<void> {\n"
            '    this.emit("open");\n  }\n}\n'
        ),
        "src/queue/worker.ts": worker,
        "src/db/pool.ts": (
            'import pg from "pg";\n\nexport const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });\n'
            "\nexport const subscriptions = {\n  async insert(row: Record<string, unknown>) {\n"
            '    const { rows } = await pool.query("INSERT INTO subscriptions DEFAULT VALUES RETURNING id");\n'
            "    return { ...row, id: rows[0].id as string };\n  },\n};\n\nexport const preferences = {\n"
            "  async isMuted(_recipient: string, _channel: string): Promise<boolean> {\n    return false;\n  },\n};\n"
        ),
        "test/subscriptions.test.ts": _ts_test(
            s_subs,
            'import request from "supertest";\n\nimport { app } from "../src/server";\n\n'
            'const callCreateSubscription = () => request(app).post("/subscriptions").send({ topic: "digest.weekly" });',
            '  it("creates a subscription", async () => {\n    const res = await callCreateSubscription();\n'
            '    expect(res.body.topic).toBe("digest.weekly");\n  });',
        ),
        "test/ws.reconnect.test.ts": _ts_test(
            s_rec,
            'import { ManagedSocket } from "../src/ws/socket";\nimport { scheduleReconnect } from "../src/ws/reconnect";\n\n'
            "const callScheduleReconnect = async () => ({ status: 200 });",
            '  it("schedules a timer", () => {\n    jest.useFakeTimers();\n'
            '    const timer = scheduleReconnect(new ManagedSocket("ws://x"), 0);\n    expect(timer).toBeDefined();\n  });',
        ),
        "test/worker.test.ts": _ts_test(
            s_work,
            'import { processJob } from "../src/queue/worker";\n\n'
            "const callProcessJob = async () => ({ status: 200 });",
            '  it("is a function", () => {\n    expect(typeof processJob).toBe("function");\n  });',
        ),
    }


# --------------------------------------------------------------------------------------------------------------
# Rust
# --------------------------------------------------------------------------------------------------------------


def cargo_toml(repo: Repo, extra: Sequence[str] = ()) -> str:
    head = [
        "[package]",
        f'name = "{repo.name}"',
        f'version = "{repo.version}"',
        'edition = "2021"',
        'rust-version = "1.80"',
        "",
        "# Keep dependency versions in sync with Cargo.lock.",
        "",
    ]
    return compose("Cargo.toml", head, At(9, CARGO_DEPS), list(extra), ["", "[dev-dependencies]", 'tokio-test = "0.4"'])


def cargo_lock(repo: Repo, locked: Sequence[tuple[str, str]]) -> str:
    out = [
        "# This file is automatically @generated by Cargo.",
        "# It is not intended for manual editing.",
        "version = 4",
        "",
    ]
    for name, version in sorted([*locked, (repo.name, repo.version)]):
        out += ["[[package]]", f'name = "{name}"', f'version = "{version}"']
        if name != repo.name:
            out.append('source = "registry+https://github.com/rust-lang/crates.io-index"')
        out.append("")
    return "\n".join(out)


def _ingest_gateway(repo: Repo) -> dict[str, str]:
    s_ing, s_codec = site(repo, "src/routes/ingest.rs"), site(repo, "src/codec.rs")
    ingest = compose(
        "src/routes/ingest.rs",
        At(1, RUST_HEAD),
        """
use axum::Json;

use crate::error::ApiError;
use crate::event::Event;
use crate::state::AppState;

/// Events per request above which the gateway answers 413.
pub const MAX_BATCH_EVENTS: usize = 10_000;

/// Request body limit for /ingest, in bytes.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Liveness probe.
pub async fn healthz() -> StatusCode {
    StatusCode::OK
}

/// Readiness: the sink has a connection.
pub async fn readyz(State(state): State<AppState>) -> StatusCode {
    if state.sink.is_connected() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }
}

/// POST /ingest: write a batch of events to the sink.
""",
        at_site(repo, "src/routes/ingest.rs"),
        [
            "",
            "impl Remember for AppState {",
            "fn remember(&mut self, request: &Request, now: Instant) {",
            "    // Remember when a client last sent a batch,",
            "    // keyed by its API key.",
            "    // See tests/ingest.rs.",
        ],
        clippy_lines(s_ing),
        ["}", "}"],
    )
    codec = compose(
        "src/codec.rs",
        """
//! Length-prefixed frames: a 4-byte big-endian length, then the payload.

use tokio_util::codec::{Decoder, Encoder};
use bytes::{Bytes, BytesMut};

pub const HEADER_LEN: usize = 4;
pub const MAX_FRAME_LEN: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    payload: Bytes,
}

impl Frame {
    pub fn new(payload: Bytes) -> Self {
        Self { payload }
    }

    pub fn payload(&self) -> &Bytes {
        &self.payload
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("frame of {0} bytes exceeds the limit")]
    FrameTooLarge(usize),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub fn encode_frame(frame: &Frame, dst: &mut BytesMut) {
    dst.extend_from_slice(&(frame.payload.len() as u32).to_be_bytes());
    dst.extend_from_slice(&frame.payload);
}

pub struct FrameCodec;

impl FrameCodec {
    pub fn new() -> Self {
        Self
    }
}
""",
        at_site(repo, "src/codec.rs"),
        [
            "",
            "impl Remember for FrameCodec {",
            "fn remember(&mut self, request: &Request, now: Instant) {",
            "    // The index keeps the last frame per key",
            "    // so reconnecting clients can resume.",
            "    // See tests/codec.rs.",
        ],
        clippy_lines(s_codec),
        ["}", "}"],
    )
    return {
        "Cargo.toml": cargo_toml(repo, ('thiserror = "1"', 'metrics = "0.23"', 'rdkafka = "0.36"')),
        "src/main.rs": (
            "use ingest_gateway::{app, config::Config};\n\n#[tokio::main]\nasync fn main() -> anyhow::Result<()> {\n"
            "    let config = Config::from_env()?;\n    let listener = tokio::net::TcpListener::bind(&config.listen).await?;\n"
            "    axum::serve(listener, app(config).await?).await?;\n    Ok(())\n}\n"
        ),
        "src/lib.rs": "pub mod codec;\npub mod config;\npub mod routes;\npub mod sink;\n",
        "src/config.rs": (
            "#[derive(Debug, Clone)]\npub struct Config {\n    pub listen: String,\n    pub brokers: String,\n}\n\n"
            "impl Config {\n    pub fn from_env() -> anyhow::Result<Self> {\n"
            '        Ok(Self { listen: std::env::var("LISTEN").unwrap_or("0.0.0.0:8080".into()),\n'
            '                  brokers: std::env::var("KAFKA_BROKERS")? })\n    }\n}\n'
        ),
        "src/codec.rs": codec,
        "src/routes/mod.rs": "pub mod ingest;\n",
        "src/routes/ingest.rs": ingest,
        "src/sink/mod.rs": (
            "pub mod kafka;\n\n#[async_trait::async_trait]\npub trait Sink: Send + Sync {\n"
            "    async fn write_all(&self, events: &[crate::event::Event]) -> anyhow::Result<usize>;\n"
            "    fn is_connected(&self) -> bool;\n}\n"
        ),
        "src/sink/kafka.rs": (
            "use rdkafka::producer::FutureProducer;\n\npub struct KafkaSink {\n    producer: FutureProducer,\n"
            "    topic: String,\n}\n"
        ),
        "tests/ingest.rs": (
            "#[tokio::test]\nasync fn accepts_a_small_batch() {\n    let status = ingest_gateway::testing::post_batch(3).await;\n"
            "    assert_eq!(status, 202);\n}\n"
        ),
        "tests/codec.rs": (
            "use bytes::BytesMut;\nuse ingest_gateway::codec::decode_frame;\n\n#[test]\nfn waits_for_a_full_header() {\n"
            "    let mut buf = BytesMut::from(&[0u8, 0][..]);\n    assert!(decode_frame(&mut buf).unwrap().is_none());\n}\n"
        ),
    }


def _tilecache(repo: Repo) -> dict[str, str]:
    s_cache, s_render = site(repo, "src/cache.rs"), site(repo, "src/render.rs")
    cache = compose(
        "src/cache.rs",
        """
//! An in-memory tile cache with per-entry expiry.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;

use crate::stats::CacheStats;

/// Default time to live of a rendered tile.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

struct Entry {
    data: Bytes,
    expires_at: Instant,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
}

impl Inner {
    fn touch(&mut self, _key: &str) {}
}

pub struct TileCache {
    inner: Mutex<Inner>,
    ttl: Duration,
    stats: CacheStats,
}

impl TileCache {
    pub fn new(ttl: Duration) -> Self {
        Self { inner: Mutex::new(Inner::default()), ttl, stats: CacheStats::default() }
    }

    pub fn insert(&self, key: String, data: Bytes) {
        let expires_at = Instant::now() + self.ttl;
        self.inner.lock().entries.insert(key, Entry { data, expires_at });
    }

    pub fn len(&self) -> usize {
        self.inner.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn clear(&self) {
        self.inner.lock().entries.clear();
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The cached tile, unless it expired (expired entries are dropped).
""",
        at_site(repo, "src/cache.rs"),
        [
            "",
            "    pub fn remember(&mut self, request: &Request, now: Instant) {",
            "        // Index the request by key",
            "        // so that eviction can find the oldest entry",
            "        // (the LRU refresh lives in Inner::touch).",
            "        // See tests/cache.rs.",
        ],
        clippy_lines(s_cache),
        ["    }", "}"],
    )
    render = compose(
        "src/render.rs",
        At(1, RUST_HEAD),
        """
use crate::coord::TileCoord;
use crate::layer::{Canvas, Layer};

/// Edge length of a tile, in pixels.
pub const TILE_SIZE: u32 = 256;

/// A fully transparent 256x256 PNG.
pub static EMPTY_TILE_PNG: &[u8] = include_bytes!("../assets/empty.png");

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("encode: {0}")]
    Encode(#[from] png::EncodingError),
}
""",
        at_site(repo, "src/render.rs"),
        [
            "",
            "pub fn remember(index: &mut Index, request: &Request, now: Instant) {",
            "    // See tests/render.rs:",
            "    // one entry per key,",
            "    // the newest request wins",
            "    // (keys are tile coordinates).",
        ],
        clippy_lines(s_render),
        ["}"],
    )
    return {
        "Cargo.toml": cargo_toml(repo, ('parking_lot = "0.12"', 'png = "0.17"', 'thiserror = "1"')),
        "src/main.rs": (
            "#[tokio::main]\nasync fn main() -> anyhow::Result<()> {\n"
            '    let listener = tokio::net::TcpListener::bind("0.0.0.0:8081").await?;\n'
            "    axum::serve(listener, tilecache::app()).await?;\n    Ok(())\n}\n"
        ),
        "src/lib.rs": "pub mod cache;\npub mod coord;\npub mod render;\n",
        "src/cache.rs": cache,
        "src/render.rs": render,
        "src/coord.rs": (
            "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\npub struct TileCoord {\n    pub z: u8,\n"
            "    pub x: u32,\n    pub y: u32,\n}\n\nimpl TileCoord {\n    pub fn key(&self) -> String {\n"
            '        format!("{}/{}/{}", self.z, self.x, self.y)\n    }\n}\n'
        ),
        "tests/cache.rs": (
            "use std::time::Duration;\n\nuse bytes::Bytes;\nuse tilecache::cache::TileCache;\n\n#[test]\n"
            "fn returns_what_was_inserted() {\n    let cache = TileCache::new(Duration::from_secs(60));\n"
            '    cache.insert("1/0/0".into(), Bytes::from_static(b"png"));\n'
            '    assert_eq!(cache.get("1/0/0").unwrap(), Bytes::from_static(b"png"));\n}\n'
        ),
        "tests/render.rs": (
            "use tilecache::coord::TileCoord;\nuse tilecache::render::render_tile;\n\n#[test]\n"
            "fn renders_an_empty_tile() {\n    let png = render_tile(TileCoord { z: 0, x: 0, y: 0 }, &[]).unwrap();\n"
            "    assert!(!png.is_empty());\n}\n"
        ),
        "benches/render.rs": (
            "use criterion::{criterion_group, criterion_main, Criterion};\n\nfn bench(c: &mut Criterion) {\n"
            '    c.bench_function("render z0", |b| b.iter(|| tilecache::render::render_tile(Default::default(), &[])));\n'
            "}\n\ncriterion_group!(benches, bench);\ncriterion_main!(benches);\n"
        ),
    }


# --------------------------------------------------------------------------------------------------------------
# Go
# --------------------------------------------------------------------------------------------------------------


def go_sum(locked: Sequence[tuple[str, str]]) -> str:
    out = []
    for name, version in locked:
        out.append(f"{name} {version} h1:{_fake_hash(name + version)}=")
        out.append(f"{name} {version}/go.mod h1:{_fake_hash(name + version + 'mod')}=")
    return "\n".join(out) + "\n"


def _fake_hash(seed: str) -> str:
    import base64
    import hashlib

    return base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()[:43]


def _orders_svc(repo: Repo) -> dict[str, str]:
    orders = compose(
        "internal/handler/orders.go",
        """
// Package handler holds the HTTP handlers of the orders API.
package handler

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/orbit-hq/orders-svc/internal/store"
)

const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// Handler serves the orders API.
type Handler struct {
	store *store.Store
}

// New returns a Handler backed by s.
func New(s *store.Store) *Handler {
	return &Handler{store: s}
}

type listOrdersResponse struct {
	Orders     []store.Order `json:"orders"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func validCursor(cursor string) bool {
	return len(cursor) == 22
}

var errNotFound = errors.New("not found")

// GetOrder answers GET /orders/{id}.
func (h *Handler) GetOrder(w http.ResponseWriter, r *http.Request) {
	h.writeError(w, errNotFound)
}

// ListOrders answers GET /orders?cursor=...: one page of orders, oldest first,
// with the cursor of the next page. An empty cursor starts at the first order;
// the page size is defaultPageSize.
""",
        at_site(repo, "internal/handler/orders.go"),
    )
    jwt = compose(
        "internal/auth/jwt.go",
        """
// Package auth validates the JWTs of API requests.
package auth

import (
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the claims the API reads.
type Claims struct {
	jwt.RegisteredClaims
	Scope string `json:"scope"`
}

// KeySet resolves signing keys by key id.
type KeySet interface {
	Lookup(t *jwt.Token) (any, error)
}

// StaticKeys is a KeySet of fixed keys.
type StaticKeys map[string]any

// Lookup returns the key named by the token's kid header.
func (k StaticKeys) Lookup(t *jwt.Token) (any, error) {
	key, ok := k[fmt.Sprint(t.Header["kid"])]
	if !ok {
		return nil, fmt.Errorf("unknown key id %v", t.Header["kid"])
	}
	return key, nil
}
""",
        [""],
        at_site(repo, "internal/auth/jwt.go"),
    )
    postgres = compose(
        "internal/store/postgres.go",
        """
// Package store persists orders in Postgres.
package store

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Order is one customer order.
type Order struct {
	ID         int64  `json:"id"`
	CustomerID int64  `json:"customer_id"`
	Status     string `json:"status"`
	TotalCents int64  `json:"total_cents"`
}

// Store reads and writes orders.
type Store struct {
	pool  *pgxpool.Pool
	mu    sync.Mutex
	cache map[int64]Order
}

// New connects to dsn.
func New(ctx context.Context, dsn string) (*Store, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return &Store{pool: pool, cache: map[int64]Order{}}, nil
}

// Close releases the pool.
func (s *Store) Close() {
	s.pool.Close()
}

// ListOrders returns a page of orders after cursor.
func (s *Store) ListOrders(ctx context.Context, cursor string, limit int) ([]Order, string, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT id, customer_id, status, total_cents FROM orders WHERE id > $1 ORDER BY id LIMIT $2`,
		decodeCursor(cursor), limit,
	)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []Order
	for rows.Next() {
		var o Order
		if err := rows.Scan(&o.ID, &o.CustomerID, &o.Status, &o.TotalCents); err != nil {
			return nil, "", err
		}
		out = append(out, o)
	}
	return out, nextCursor(out, limit), rows.Err()
}

func decodeCursor(cursor string) int64 {
	var id int64
	for _, c := range cursor {
		id = id*10 + int64(c-'0')
	}
	return id
}

func nextCursor(orders []Order, limit int) string {
	if len(orders) < limit {
		return ""
	}
	return encodeCursor(orders[len(orders)-1].ID)
}

func encodeCursor(id int64) string {
	return fmtInt(id)
}

// Ping checks the connection.
func (s *Store) Ping(ctx context.Context) error {
	return s.pool.Ping(ctx)
}

// InsertOrder stores a new order and returns its id.
// The id comes from the orders_id_seq sequence;
// duplicate orders are reported as pgx errors.
""",
        at_site(repo, "internal/store/postgres.go"),
        """

// CountOrders returns how many orders a customer has.
func (s *Store) CountOrders(ctx context.Context, customerID int64) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM orders WHERE customer_id = $1`, customerID).Scan(&n)
	return n, err
}

// UpdateStatus sets an order's status.
func (s *Store) UpdateStatus(ctx context.Context, id int64, status string) error {
	_, err := s.pool.Exec(ctx, `UPDATE orders SET status = $2 WHERE id = $1`, id, status)
	return err
}

// DeleteOrder removes an order.
func (s *Store) DeleteOrder(ctx context.Context, id int64) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM orders WHERE id = $1`, id)
	return err
}

// OrdersByStatus returns the ids of the orders in status.
func (s *Store) OrdersByStatus(ctx context.Context, status string) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM orders WHERE status = $1`, status)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

func (s *Store) cachedOrder(id int64) (Order, bool) {
	o, ok := s.cache[id]
	return o, ok
}
""",
        At(130, ORDER_CACHE),
    )
    return {
        "go.mod": (
            f"module {repo.package}\n\ngo 1.23\n\nrequire (\n\tgithub.com/golang-jwt/jwt/v5 v5.2.1\n"
            "\tgithub.com/jackc/pgx/v5 v5.7.1\n)\n"
        ),
        "Makefile": ".PHONY: test lint run\n\ntest:\n\tgo test ./...\n\nlint:\n\tgo vet ./...\n\nrun:\n\tgo run ./cmd/orders\n",
        "cmd/orders/main.go": (
            'package main\n\nimport (\n\t"context"\n\t"log"\n\t"net/http"\n\t"os"\n\n'
            '\t"github.com/orbit-hq/orders-svc/internal/handler"\n\t"github.com/orbit-hq/orders-svc/internal/store"\n)\n\n'
            'func main() {\n\ts, err := store.New(context.Background(), os.Getenv("DATABASE_URL"))\n\tif err != nil {\n'
            '\t\tlog.Fatal(err)\n\t}\n\th := handler.New(s)\n\thttp.HandleFunc("GET /orders", h.ListOrders)\n'
            '\tlog.Fatal(http.ListenAndServe(":8080", nil))\n}\n'
        ),
        "internal/handler/orders.go": orders,
        "internal/handler/orders_test.go": (
            'package handler\n\nimport "testing"\n\nfunc TestValidCursor(t *testing.T) {\n'
            '\tif validCursor("short") {\n\t\tt.Fatal("a short cursor must be invalid")\n\t}\n}\n'
        ),
        "internal/handler/errors.go": (
            'package handler\n\nimport (\n\t"errors"\n\t"net/http"\n)\n\nfunc errBadRequest(err error) error {\n'
            '\treturn errors.Join(errors.New("bad request"), err)\n}\n\nfunc (h *Handler) writeError(w http.ResponseWriter, '
            "err error) {\n\thttp.Error(w, err.Error(), http.StatusInternalServerError)\n}\n"
        ),
        "internal/store/postgres.go": postgres,
        "internal/store/postgres_test.go": (
            'package store\n\nimport "testing"\n\nfunc TestDecodeCursor(t *testing.T) {\n'
            '\tif got := decodeCursor("42"); got != 42 {\n\t\tt.Fatalf("decodeCursor(42) = %d", got)\n\t}\n}\n'
        ),
        "internal/auth/jwt.go": jwt,
        "internal/auth/jwt_test.go": (
            'package auth\n\nimport "testing"\n\nfunc TestUnknownKey(t *testing.T) {\n'
            '\tif _, err := ParseToken("not-a-token", StaticKeys{}); err == nil {\n\t\tt.Fatal("expected an error")\n'
            "\t}\n}\n"
        ),
        "migrations/0007_orders_status_idx.sql": (
            "-- +migrate Up\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx\n"
            "    ON orders (status, created_at DESC);\n\n-- +migrate Down\nDROP INDEX IF EXISTS orders_status_idx;\n"
        ),
    }


_BUILDERS = {
    "billing-api": _billing,
    "etl-pipeline": _etl,
    "support-bot": _support_bot,
    "web-dashboard": _web_dashboard,
    "notify-service": _notify_service,
    "ingest-gateway": _ingest_gateway,
    "tilecache": _tilecache,
    "orders-svc": _orders_svc,
}

#: Locked third-party packages per repository: (name, version). History commits bump them one at a time.
LOCKED: dict[str, tuple[tuple[str, str], ...]] = {
    "billing-api": (
        ("alembic", "1.13.3"),
        ("fastapi", "0.115.2"),
        ("httpx", "0.27.2"),
        ("respx", "0.21.1"),
        ("sqlalchemy", "2.0.35"),
        ("stripe", "11.1.0"),
        ("weasyprint", "62.3"),
    ),
    "etl-pipeline": (
        ("boto3", "1.35.40"),
        ("httpx", "0.27.2"),
        ("psycopg2-binary", "2.9.9"),
        ("pydantic", "2.9.2"),
        ("respx", "0.21.1"),
        ("tenacity", "9.0.0"),
        ("typer", "0.12.5"),
    ),
    "support-bot": (
        ("httpx", "0.27.2"),
        ("openai", "1.51.2"),
        ("pydantic-settings", "2.5.2"),
        ("respx", "0.21.1"),
        ("slack-bolt", "1.21.2"),
    ),
    "web-dashboard": (
        ("@tanstack/react-query", "5.59.15"),
        ("react", "18.3.1"),
        ("react-dom", "18.3.1"),
        ("typescript", "5.6.3"),
        ("vite", "5.4.10"),
        ("vitest", "2.1.4"),
        ("zod", "3.23.8"),
    ),
    "notify-service": (
        ("bullmq", "5.21.0"),
        ("express", "4.21.1"),
        ("jest", "29.7.0"),
        ("pg", "8.13.0"),
        ("pino", "9.5.0"),
        ("typescript", "5.6.3"),
        ("ws", "8.18.0"),
    ),
    "ingest-gateway": (
        ("axum", "0.7.7"),
        ("bytes", "1.7.2"),
        ("metrics", "0.23.0"),
        ("rdkafka", "0.36.2"),
        ("thiserror", "1.0.64"),
        ("tokio", "1.40.0"),
        ("tracing", "0.1.40"),
    ),
    "tilecache": (
        ("axum", "0.7.7"),
        ("bytes", "1.7.2"),
        ("parking_lot", "0.12.3"),
        ("png", "0.17.14"),
        ("thiserror", "1.0.64"),
        ("tokio", "1.40.0"),
        ("tracing", "0.1.40"),
    ),
    "orders-svc": (
        ("github.com/golang-jwt/jwt/v5", "v5.2.1"),
        ("github.com/jackc/pgx/v5", "v5.7.1"),
        ("github.com/jackc/pgpassfile", "v1.0.0"),
        ("github.com/jackc/puddle/v2", "v2.2.2"),
        ("golang.org/x/crypto", "v0.27.0"),
        ("golang.org/x/text", "v0.18.0"),
    ),
}

LOCKFILE = {PY: "uv.lock", TS: "package-lock.json", RS: "Cargo.lock", GO: "go.sum"}


def lockfile(repo: Repo, locked: Sequence[tuple[str, str]]) -> str:
    if repo.lang == PY:
        return uv_lock(repo, locked)
    if repo.lang == TS:
        return package_lock(repo, locked)
    if repo.lang == RS:
        return cargo_lock(repo, locked)
    return go_sum(locked)


def base_files(repo: Repo) -> dict[str, str]:
    """Every file of ``repo`` at the root commit of its history (path -> text)."""
    files = _BUILDERS[repo.name](repo)
    files["AGENTS.md"] = agents_file(repo, post_fix=False)
    files["README.md"] = readme(repo)
    files["CHANGELOG.md"] = changelog(repo)
    files[LOCKFILE[repo.lang]] = lockfile(repo, LOCKED[repo.name])
    missing = sorted(set(repo.files) - set(files))
    extra = sorted(set(files) - set(repo.files) - {"CHANGELOG.md"})
    if missing or extra:
        raise ValueError(f"{repo.name}: files missing {missing}, unexpected {extra}")
    return dict(sorted(files.items()))
