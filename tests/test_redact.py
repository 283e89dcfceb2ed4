"""Tests for ccl_tui.text.redact: finding and redacting credentials in transcript text."""

from __future__ import annotations

import dataclasses
import itertools
import time

import pytest

from ccl_tui.text.redact import SecretMatch, contains_secret, find_secrets, redact, redact_obj


def j(*parts: str) -> str:
    """Join fake credentials at runtime so secret scanners (push protection) do not flag this file."""
    return "".join(parts)


# Fake credentials, all of the right shape.
OPENAI_LEGACY = j("sk-", "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6l")
OPENAI_PROJ = j("sk-", "proj-", "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z_Ab7cDe0fGh3-iJk6lMn9oPq2rSt5uVw8xYz1")
OPENAI_SVC = j("sk-", "svcacct-", "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa_zyx")
OPENAI_ADMIN = j("sk-", "admin-", "Qw3Er5Ty7Ui9Op1As3Df5Gh7Jk9Lz1Xc3Vb5Nm7")
ANTHROPIC = j("sk-", "ant-", "api03-", "Xy7Zq2Wv9Ut4Sr1Qp6On3Ml8Kj5Ih0Gf-Ed_Cb9Az2Yx7Wv4Ut1")
GH_PAT_CLASSIC = j("ghp", "_", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8")
GH_PAT_FINE = j(
    "github",
    "_pat_",
    "11ABCDEFG0",
    "abcdefghijKLMNOPQRST_",
    "uvwxyz0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
)
GITLAB = j("glpat", "-", "Ab1Cd2Ef3Gh4Ij5Kl6Mn")
AWS_ID = j("AKIA", "IOSFODNN7EXAMPLE")
AWS_SESSION_ID = j("ASIA", "Y34FZKBOKMUTVV7A")
AWS_SECRET = j("wJalrXUtnFEMI/K7MDENG/", "bPxRfiCYEXAMPLEKEY")
SLACK_BOT = j("xox", "b-", "123456789012-1234567890123-", "AbCdEfGhIjKlMnOpQrStUvWx")
SLACK_HOOK_PATH = j("T0", "1ABCDEF2/", "B0", "1GHIJKL3/", "aBcDeFgHiJkLmNoPqRsTuVwX")
GOOGLE = j("AI", "za", "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q")
STRIPE_LIVE = j("sk", "_live_", "51Hx", "Ab3Cd5Ef7Gh9Ij1Kl3Mn5Op7")
STRIPE_RESTRICTED = j("rk", "_live_", "51Hx", "Zy9Xw7Vu5Ts3Rq1Po9Nm7Lk5")
STRIPE_TEST = j("sk", "_test_", "4eC39HqLyjWDarjtT1zdp7dc")
HF = j("hf", "_", "AbCdEfGhIjKlMnOpQrStUvWxYz01234567")
NPM = j("npm", "_", "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Y")
PYPI = j("pypi-", "AgEIcHlwaS5vcmc", "CJDAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMAACKlsz")
JWT = j(
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
    ".",
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ",
    ".",
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
)
PEM_BODY = "\n".join(
    [
        "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
        "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
        "LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo",
        "9z+40RQzuVaE8AkAFmxZzow3x+VJYKdjykkJ0iT9wCS0DRTXu269V264Vf/3jvre",
    ]
)


def pem(label: str, body: str = PEM_BODY) -> str:
    return f"-----BEGIN {label}PRIVATE KEY-----\n{body}\n-----END {label}PRIVATE KEY-----"


# (input, exact expected output)
POSITIVES: list[tuple[str, str]] = [
    # OpenAI
    (f'export OPENAI_API_KEY="{OPENAI_PROJ}"', 'export OPENAI_API_KEY="[REDACTED:openai-key]"'),
    (f"using key {OPENAI_LEGACY} for the run", "using key [REDACTED:openai-key] for the run"),
    (f"OPENAI_API_KEY={OPENAI_SVC}", "OPENAI_API_KEY=[REDACTED:openai-key]"),
    (f"admin key: '{OPENAI_ADMIN}'", "admin key: '[REDACTED:openai-key]'"),
    # Anthropic
    (f"ANTHROPIC_API_KEY={ANTHROPIC}", "ANTHROPIC_API_KEY=[REDACTED:anthropic-key]"),
    # GitHub / GitLab
    (
        f"git clone https://{GH_PAT_CLASSIC}@github.com/o/r.git",
        "git clone https://[REDACTED:github-token]@github.com/o/r.git",
    ),
    (f"GH_TOKEN={GH_PAT_FINE}", "GH_TOKEN=[REDACTED:github-token]"),
    (f"token: {j('gho', '_', GH_PAT_CLASSIC[4:])}", "token: [REDACTED:github-token]"),
    (f"ghu {j('ghu', '_', GH_PAT_CLASSIC[4:])} ghs", "ghu [REDACTED:github-token] ghs"),
    (f"({j('ghs', '_', GH_PAT_CLASSIC[4:])})", "([REDACTED:github-token])"),
    (f"[{j('ghr', '_', GH_PAT_CLASSIC[4:])}]", "[[REDACTED:github-token]]"),
    (f"gitlab: {GITLAB}", "gitlab: [REDACTED:gitlab-token]"),
    # AWS
    (f"aws_access_key_id = {AWS_ID}", "aws_access_key_id = [REDACTED:aws-access-key-id]"),
    (f'"AccessKeyId": "{AWS_SESSION_ID}",', '"AccessKeyId": "[REDACTED:aws-access-key-id]",'),
    (f"aws_secret_access_key = {AWS_SECRET}", "aws_secret_access_key = [REDACTED:aws-secret-key]"),
    (f"export AWS_SECRET_ACCESS_KEY={AWS_SECRET}", "export AWS_SECRET_ACCESS_KEY=[REDACTED:aws-secret-key]"),
    (f'"SecretAccessKey": "{AWS_SECRET}"', '"SecretAccessKey": "[REDACTED:aws-secret-key]"'),
    # Slack
    (f"SLACK_BOT={SLACK_BOT}", "SLACK_BOT=[REDACTED:slack-token]"),
    (
        f"curl -X POST https://hooks.slack.com/services/{SLACK_HOOK_PATH} -d '{{}}'",
        "curl -X POST https://hooks.slack.com/services/[REDACTED:slack-webhook] -d '{}'",
    ),
    # Google / Stripe / Hugging Face / npm / PyPI
    (f"GET /maps?key={GOOGLE}&q=x", "GET /maps?key=[REDACTED:google-api-key]&q=x"),
    (f"stripe {STRIPE_LIVE} {STRIPE_RESTRICTED}", "stripe [REDACTED:stripe-key] [REDACTED:stripe-key]"),
    (f"Stripe.api_key = '{STRIPE_TEST}'", "Stripe.api_key = '[REDACTED:stripe-key]'"),
    (f"huggingface-cli login --token {HF}", "huggingface-cli login --token [REDACTED:huggingface-token]"),
    (f"//registry.npmjs.org/:_authToken={NPM}", "//registry.npmjs.org/:_authToken=[REDACTED:npm-token]"),
    (
        f"twine upload -u __token__ -p {PYPI} dist/*",
        "twine upload -u __token__ -p [REDACTED:pypi-token] dist/*",
    ),
    # JWT
    (f"session cookie {JWT} expired", "session cookie [REDACTED:jwt] expired"),
    # Authorization headers and bearer tokens
    (
        'curl -H "Authorization: Bearer abc123def456" https://api.example.com',
        'curl -H "Authorization: Bearer [REDACTED:bearer-token]" https://api.example.com',
    ),
    ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic [REDACTED:basic-auth]"),
    (
        f'headers = {{"Authorization": "token {GH_PAT_CLASSIC}"}}',
        'headers = {"Authorization": "token [REDACTED:github-token]"}',
    ),
    ("authorization: bearer Zm9vYmFyYmF6cXV4", "authorization: bearer [REDACTED:bearer-token]"),
    (
        "-H 'X-Upstream: Bearer a1b2c3d4e5f6g7h8i9j0k1l2'",
        "-H 'X-Upstream: Bearer [REDACTED:bearer-token]'",
    ),
    # Passwords in URLs (keep scheme://user: and @host)
    (
        "postgres://app:hunter2@db.internal:5432/prod",
        "postgres://app:[REDACTED:url-password]@db.internal:5432/prod",
    ),
    (
        "DATABASE_URL=postgresql://user:p@ss@localhost/db",
        "DATABASE_URL=postgresql://user:[REDACTED:url-password]@localhost/db",
    ),
    ("redis://:s3cretpw@cache:6379/0", "redis://:[REDACTED:url-password]@cache:6379/0"),
    # .env / shell / JSON / YAML / TOML / CLI assignments
    (
        "API_TOKEN=abc\nSECRET=xyz123\nDB_PASSWORD='p4ss w0rd'\nDEBUG=true",
        "API_TOKEN=[REDACTED:env-secret]\nSECRET=[REDACTED:env-secret]\n"
        "DB_PASSWORD='[REDACTED:password-assignment]'\nDEBUG=true",
    ),
    ('export FOO_TOKEN="tok_8f3a9c2e"', 'export FOO_TOKEN="[REDACTED:env-secret]"'),
    ("SECRET_KEY=django-insecure-4k2j9x", "SECRET_KEY=[REDACTED:env-secret]"),
    (
        '{"api_key": "abc123def456", "password": "hunter2", "token_count": 12}',
        '{"api_key": "[REDACTED:env-secret]", "password": "[REDACTED:password-assignment]", "token_count": 12}',
    ),
    ("password: correct horse battery staple", "password: [REDACTED:password-assignment]"),
    (
        "db:\n  user: app\n  password: hunter2  # prod",
        "db:\n  user: app\n  password: [REDACTED:password-assignment]  # prod",
    ),
    ('mysql_root_password = "Tr0ub4dor&3"', 'mysql_root_password = "[REDACTED:password-assignment]"'),
    ("psql --password hunter2 -h db", "psql --password [REDACTED:password-assignment] -h db"),
    ("tool --token=abc123def --verbose", "tool --token=[REDACTED:env-secret] --verbose"),
    ('cli --api-key "xyz987abc"', 'cli --api-key "[REDACTED:env-secret]"'),
    ("spring.datasource.password=s3cr3t", "spring.datasource.password=[REDACTED:password-assignment]"),
    ('client = OpenAI(api_key="abc123xyz")', 'client = OpenAI(api_key="[REDACTED:env-secret]")'),
    ('    api_key: str = "abc123xyz"', '    api_key: str = "[REDACTED:env-secret]"'),
    ('os.environ["API_KEY"] = "s3cretvalue"', 'os.environ["API_KEY"] = "[REDACTED:env-secret]"'),
    ('$env:API_KEY = "abc123xyz"', '$env:API_KEY = "[REDACTED:env-secret]"'),
    (
        'curl -H "X-Api-Key: abcdef0123456789" https://x',
        'curl -H "X-Api-Key: [REDACTED:env-secret]" https://x',
    ),
    ("X-Api-Key: abcdef0123456789", "X-Api-Key: [REDACTED:env-secret]"),
    (
        "https://api.example.com/v1/items?access_token=abc123XYZ&page=2",
        "https://api.example.com/v1/items?access_token=[REDACTED:env-secret]&page=2",
    ),
    (
        "DB_PASS=abc9 SMTP_PWD=def9",
        "DB_PASS=[REDACTED:password-assignment] SMTP_PWD=[REDACTED:password-assignment]",
    ),
    (
        "- password: hunter2\n+ password: ${PASSWORD}",
        "- password: [REDACTED:password-assignment]\n+ password: ${PASSWORD}",
    ),
    (
        '{\\"api_key\\": \\"abc123def456\\"}',  # JSON escaped inside JSON
        '{\\"api_key\\": \\"[REDACTED:env-secret]\\"}',
    ),
    # command-line passwords
    ("curl -u admin:s3cr3t https://x", "curl -u admin:[REDACTED:basic-auth] https://x"),
    ("sshpass -p 'pa ss' ssh host", "sshpass -p '[REDACTED:password-assignment]' ssh host"),
    ("mysql -u root -pS3cretPass db", "mysql -u root -p[REDACTED:password-assignment] db"),
    (
        "machine example.com login bob password s3cret!",
        "machine example.com login bob password [REDACTED:password-assignment]",
    ),
    # private keys: the whole body goes, armour lines stay
    (pem("RSA "), "-----BEGIN RSA PRIVATE KEY-----\n[REDACTED:private-key]\n-----END RSA PRIVATE KEY-----"),
    (pem(""), "-----BEGIN PRIVATE KEY-----\n[REDACTED:private-key]\n-----END PRIVATE KEY-----"),
    (pem("EC "), "-----BEGIN EC PRIVATE KEY-----\n[REDACTED:private-key]\n-----END EC PRIVATE KEY-----"),
    (
        "$ cat ~/.ssh/id_ed25519\n" + pem("OPENSSH ") + "\n$ ls",
        "$ cat ~/.ssh/id_ed25519\n-----BEGIN OPENSSH PRIVATE KEY-----\n[REDACTED:private-key]\n"
        "-----END OPENSSH PRIVATE KEY-----\n$ ls",
    ),
]

# Service keys with a distinctive prefix, connection strings, Basic values without a header, prose, cut values.
SENDGRID = j("SG", ".", "ngeVfQFYQlKU0ufo8x5d1A", ".", "TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr")
TWILIO = j("SK", "2b3c4d5e6f708192a3b4c5d6e7f80912")
MAILGUN = j("key", "-", "3ax6xnjp29jd6fds4gc373sgvjxteol0")
DIGITALOCEAN = j("dop", "_v1_", "9f" * 32)
SHOPIFY = j("shp", "at_", "0a1b2c3d4e5f60718293a4b5c6d7e8f9")
VAULT = j("hvs", ".", "CAESIJ" + "x7Vb2Nm4Lk9Jh3Gf6Ds1Aa0Pp5Oo8Ii7Uu6Yy5Tt4Rr" * 2)
DISCORD = j("MTA4NTk4NDI3NTk3NTAyMjc5Mg", ".", "GkZ3bA", ".", "qP8x7Vb2Nm4Lk9Jh3Gf6Ds1Aa0Pp5Oo8Ii7Uu")
TELEGRAM = j("123456789", ":AA", "Fx7Vb2Nm4Lk9Jh3Gf6Ds1Aa0Pp5Oo8Ii7")
AZURE_KEY = j("Zq8x7Vb2Nm4Lk9Jh3Gf6Ds1Aa0Pp5Oo8Ii7Uu6Yy5Tt4Rr", "3Ee2Ww1Qq0Zz9Xx8Cc7Vv6Bb5Nn4Mm3Ll2Kk1Jj0Hh9Gg8Ff==")
BEARER_44 = "Zq8x7Vb2Nm4Lk9Jh3Gf6Ds1Aa0Pp5Oo8Ii7Uu6Yy5Tt4R"

POSITIVES += [
    (f"sg = SendGridAPIClient('{SENDGRID}')", "sg = SendGridAPIClient('[REDACTED:sendgrid-key]')"),
    (f"twilio {TWILIO} mailgun {MAILGUN}", "twilio [REDACTED:twilio-key] mailgun [REDACTED:mailgun-key]"),
    (f"doctl auth init -t {DIGITALOCEAN}", "doctl auth init -t [REDACTED:digitalocean-token]"),
    (
        f"shopify {SHOPIFY}; vault login {VAULT}",
        "shopify [REDACTED:shopify-token]; vault login [REDACTED:vault-token]",
    ),
    (f"client.run('{DISCORD}')", "client.run('[REDACTED:discord-token]')"),
    (
        f"https://api.telegram.org/bot{TELEGRAM}/getMe",
        "https://api.telegram.org/bot[REDACTED:telegram-bot-token]/getMe",
    ),
    (
        f"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={AZURE_KEY};EndpointSuffix=core.windows.net",
        "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=[REDACTED:env-secret];EndpointSuffix=core.windows.net",
    ),
    (
        "https://acme.blob.core.windows.net/c/x?sv=2022-11-02&sp=r&sig=k8Zq3%2BxV7b2Nm4Lk9Jh3Gf6Ds1%3D",
        "https://acme.blob.core.windows.net/c/x?sv=2022-11-02&sp=r&sig=[REDACTED:url-signature]",
    ),
    (
        'conn = psycopg2.connect("host=db user=app password=Hunt3rPass99 dbname=app")',
        'conn = psycopg2.connect("host=db user=app password=[REDACTED:password-assignment] dbname=app")',
    ),
    (
        "Server=tcp:db,1433;Uid=app;Pwd=eGovzj4JOsvERZSt;Encrypt=yes",
        "Server=tcp:db,1433;Uid=app;Pwd=[REDACTED:password-assignment];Encrypt=yes",
    ),
    ('AUTH = "Basic dXNlcjpodW50ZXIyUGFzcw=="', 'AUTH = "Basic [REDACTED:basic-auth]"'),
    ("my password is hunter2 by the way", "my password is [REDACTED:password-assignment] by the way"),
    (
        "the staging db password was changed to S3cure!pass.",
        "the staging db password was changed to [REDACTED:password-assignment].",
    ),
    ("the api key is 9f8e7d6c5b4a3928", "the api key is [REDACTED:env-secret]"),
    # Cut before it got here: the visible part of a secret still goes.
    (f"Authorization: Bearer {BEARER_44[:40]}…", "Authorization: Bearer [REDACTED:bearer-token]…"),
    (f"curl -H 'X: Bearer {BEARER_44[:30]}...'", "curl -H 'X: Bearer [REDACTED:bearer-token]...'"),
    (f"`export GH={GH_PAT_CLASSIC[:18]}…` exited 1", "`export GH=[REDACTED:github-token]…` exited 1"),
    ("DATABASE_URL=postgres://app:qe7OyL9OQLKJ…", "DATABASE_URL=postgres://app:[REDACTED:url-password]…"),
    (
        "printf '%s' '-----BEGIN RSA PRIVATE KEY----- " + PEM_BODY.replace("\n", " ")[:150] + "…",
        "printf '%s' '-----BEGIN RSA PRIVATE KEY----- [REDACTED:private-key]…",
    ),
]

KINDS = {
    "openai-key",
    "anthropic-key",
    "github-token",
    "gitlab-token",
    "aws-access-key-id",
    "aws-secret-key",
    "slack-token",
    "slack-webhook",
    "google-api-key",
    "stripe-key",
    "huggingface-token",
    "npm-token",
    "pypi-token",
    "jwt",
    "bearer-token",
    "basic-auth",
    "url-password",
    "env-secret",
    "password-assignment",
    "private-key",
    "sendgrid-key",
    "twilio-key",
    "mailgun-key",
    "digitalocean-token",
    "shopify-token",
    "vault-token",
    "discord-token",
    "telegram-bot-token",
    "url-signature",
}


@pytest.mark.parametrize(("text", "expected"), POSITIVES)
def test_redacts_exactly(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_every_kind_is_covered() -> None:
    seen = {m.kind for text, _ in POSITIVES for m in find_secrets(text)}
    assert seen == KINDS


@pytest.mark.parametrize(("text", "expected"), POSITIVES)
def test_idempotent(text: str, expected: str) -> None:
    once = redact(text)
    assert redact(once) == once
    assert find_secrets(once) == []
    assert not contains_secret(once)


NEGATIVES: list[str] = [
    # hashes and ids
    "commit 3f786850e387550fdab836ed7e6dc881de23001b",
    "HEAD is now at a1b2c3d fix token refresh",
    "id=123e4567-e89b-12d3-a456-426614174000",
    "image@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "git rev-parse HEAD\n9fceb02d0ae598e95dc970b74767f19372d61af8\n",
    # Fernet-looking reasoning blobs and other base64
    "encrypted_content: gAAAAABnX2Vx1eW3cPqK0m5fN8a7T0dXy9bZ1cH2uQ4rS6tV8wY0zA2bC4dE6fG8hI0jK2lM4nO6pQ8rS0tU2vW4xY6z==",
    '"encrypted_content":"gAAAAABoAbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfGhIjKlMnOpQrStUvWxYz"',
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
    # paths
    "/home/user/.ssh/id_rsa ~/.config/gh/hosts.yml secrets/api_key.txt C:\\Users\\me\\token.json",
    # sk- inside ordinary words
    "task-list-of-things-that-are-long-enough and disk-usage-report-for-the-machine-today",
    "risk-assessment-for-production-deploy-2024 whisk-Ab3dEf6hIj9kLm2nOp5qRs8",
    # empty values and placeholders
    "password: ",
    "password:",
    "password: <your-password>",
    "password: ***",
    "password: changeme",
    "PASSWORD=${DB_PASSWORD}",
    "PASSWORD=$DB_PASSWORD",
    'API_KEY="$(cat ~/.key)"',
    "API_KEY=xxx",
    "API_KEY=xxxxxxxxxxxxxxxx",
    "API_KEY=",
    'OPENAI_API_KEY="sk-...abcd"',
    "OPENAI_API_KEY=your-api-key-here",
    "OPENAI_API_KEY=YOUR_API_KEY",
    "token: {{ secrets.GITHUB_TOKEN }}",
    "api_key: %API_KEY%",
    "password = None",
    '"password": "",',
    "https://user:${DB_PASSWORD}@host/db",
    "https://user:***@host/db",
    "Authorization: Bearer $TOKEN",
    "Authorization: Bearer <token>",
    "Authorization: Bearer ${OPENAI_API_KEY}",
    'headers = {"Authorization": f"Bearer {token}"}',
    # non-secret key names and small integers
    "TOKEN_COUNT=3",
    "KEY_ID=",
    "max_tokens=4096 MAX_TOKENS=100 num_tokens: 7",
    "TOKEN_LIMIT=4096",
    '"token_count": 12',
    '{"type":"token_count","info":{"total_token_usage":{"input_tokens":1200,"output_tokens":300}}}',
    "PASSWORD_MIN_LENGTH=12",
    "SECRET_KEY_FILE=/run/secrets/django",
    "password_hash = bcrypt.hashpw(pw, salt)",
    "PUBLIC_KEY=ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
    "sort(key=len)\nkey: value\nkeys = {}",
    "PWD=/home/user/project",
    'eos_token="</s>" pad_token = "<pad>" next_page_token: "CAUQAA"',
    'CACHE_KEY = "user_profile"',
    # prose and code
    "the token count was high",
    "Invalid token: expected a string",
    "Token usage: total=1234 input=1000 output=234",
    "the Bearer authentication scheme",
    "The API key is stored in the keychain; set it with --api-key.",
    "use the --username and --password options",
    'api_key = os.environ["OPENAI_API_KEY"]',
    "token = tokens[0]",
    "token = tok",
    "password = getpass.getpass()",
    "client = OpenAI(api_key=api_key)",
    "self.token = token",
    "def f(api_key: str | None = None, password: Optional[str] = None): ...",
    "const apiKey = process.env.API_KEY;",
    'if [ "$TOKEN" = "" ]; then echo missing; fi',
    "echo $GITHUB_TOKEN | gh auth login --with-token",
    "tests/test_auth.py::test_token_refresh PASSED [ 50%]",
    "docker run -u 1000:1000 img",
    "git push -u origin main",
    "echo $PASSWORD | docker login --password-stdin -u bob",
    # other URLs
    "http://localhost:8080/path@foo and https://host:443?e=a@b.com and git@github.com:org/repo.git",
    "ssh://git@github.com:22/org/repo",
    # public material
    "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----",
    "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ\n-----END CERTIFICATE-----",
    '_SK_START = b"-----BEGIN OPENSSH PRIVATE KEY-----"\n_SK_END = b"-----END OPENSSH PRIVATE KEY-----"',
    # near misses of token formats
    "ghp_short gho_ AKIA1234 AIzaShort hf_model_name npm_config_cache xoxb-",
    "ASIATIC AIDAN AKIAxyz sk_live_ rk_test",
    "SKIPPED 3 tests; key-value store; dapi docs; monkey-3f786850e387550fdab836ed7e6dc881",
    "SG.registry.example.com and sk.eyJ are prefixes only",
    # prose that is not a password
    "the password is incorrect",
    "your password is too short, the token was expired and the secret is stored in vault",
    "if password is None: raise",
    "assert token is not None",
    "password = getpass.getpass()\nlogin, account, password = auth_from_netrc",
    "the passcode is 8841",
    # Basic without a header that does not decode to user:pass
    "Basic authentication is used; basic abcdefghijkl; Basic SGVsbG8gd29ybGQ=",
    # the shell's PWD, query strings
    "PWD=/home/me/x; cd $PWD; ls",
    "https://example.com/search?q=sig&page=2 and ?sig=abc",
    # cut placeholders and ellipses in prose
    "sk-proj-... and ghp_... are placeholders; see the docs... etc...",
    "Bearer abc… and what is this? and that?",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_leaves_non_secrets_alone(text: str) -> None:
    assert find_secrets(text) == []
    assert redact(text) == text
    assert not contains_secret(text)


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ('API_KEY="abc123xyz"', "abc123xyz", "env-secret"),
        ("export GITHUB_TOKEN=" + GH_PAT_CLASSIC, GH_PAT_CLASSIC, "github-token"),
        ("postgres://app:hunter2@db/x", "hunter2", "url-password"),
        ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz", "basic-auth"),
        ("password: hunter2", "hunter2", "password-assignment"),
        ("--token=abc123def", "abc123def", "env-secret"),
        (pem("RSA "), PEM_BODY, "private-key"),
        (f"hooks.slack.com/services/{SLACK_HOOK_PATH}", SLACK_HOOK_PATH, "slack-webhook"),
    ],
)
def test_span_covers_the_value_only(text: str, value: str, kind: str) -> None:
    matches = find_secrets(text)
    assert matches == [SecretMatch(kind, text.index(value), text.index(value) + len(value))]
    assert text[matches[0].start : matches[0].end] == value


def test_jwt_inside_authorization_header_is_one_redaction() -> None:
    text = f'curl -H "Authorization: Bearer {JWT}" https://api.example.com/me'
    start = text.index(JWT)
    assert find_secrets(text) == [SecretMatch("jwt", start, start + len(JWT))]
    assert redact(text) == 'curl -H "Authorization: Bearer [REDACTED:jwt]" https://api.example.com/me'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"OPENAI_API_KEY={OPENAI_PROJ}", "OPENAI_API_KEY=[REDACTED:openai-key]"),  # format + assignment
        (
            f"https://x-access-token:{j('ghs', '_', GH_PAT_CLASSIC[4:])}@github.com/o/r.git",  # format + URL password
            "https://x-access-token:[REDACTED:github-token]@github.com/o/r.git",
        ),
        (f"Authorization: Bearer {OPENAI_LEGACY}", "Authorization: Bearer [REDACTED:openai-key]"),  # 3 rules
        (f"token: {JWT}", "token: [REDACTED:jwt]"),
    ],
)
def test_overlapping_rules_give_one_redaction(text: str, expected: str) -> None:
    assert len(find_secrets(text)) == 1
    assert redact(text) == expected


def test_matches_are_sorted_and_disjoint() -> None:
    text = "\n".join(t for t, _ in POSITIVES)
    matches = find_secrets(text)
    assert len(matches) >= len(POSITIVES)
    for a, b in itertools.pairwise(matches):
        assert a.end <= b.start
    assert all(m.start < m.end for m in matches)


def test_multiline_private_key_variants() -> None:
    encrypted = (
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\n"
        f"{PEM_BODY}\n-----END RSA PRIVATE KEY-----"
    )
    assert redact(encrypted) == "-----BEGIN RSA PRIVATE KEY-----\n[REDACTED:private-key]\n-----END RSA PRIVATE KEY-----"
    pgp = f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{PEM_BODY}\n=Xa9z\n-----END PGP PRIVATE KEY BLOCK-----"
    assert redact(pgp) == (
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n[REDACTED:private-key]\n-----END PGP PRIVATE KEY BLOCK-----"
    )
    crlf = pem("RSA ", PEM_BODY.replace("\n", "\r\n")).replace("\n", "\r\n")
    assert redact(crlf) == "-----BEGIN RSA PRIVATE KEY-----\r\n[REDACTED:private-key]\r\n-----END RSA PRIVATE KEY-----"
    escaped = pem("", PEM_BODY.replace("\n", "\\n")).replace("\n", "\\n")  # inside a JSON string
    assert redact(f'"output": "{escaped}\\n"') == (
        '"output": "-----BEGIN PRIVATE KEY-----\\n[REDACTED:private-key]\\n-----END PRIVATE KEY-----\\n"'
    )
    # Tool output cut before the END line: the body that is there still goes.
    truncated = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + PEM_BODY[:150] + "\n[... 2 lines truncated ...]"
    assert redact(truncated) == (
        "-----BEGIN OPENSSH PRIVATE KEY-----\n[REDACTED:private-key]\n[... 2 lines truncated ...]"
    )
    two = pem("RSA ") + "\nand\n" + pem("EC ")
    assert [m.kind for m in find_secrets(two)] == ["private-key", "private-key"]
    assert PEM_BODY[:20] not in redact(two)


def test_redact_obj_nested() -> None:
    original = {
        "type": "function_call",
        "arguments": {
            "cmd": ["bash", "-lc", f"export GH_TOKEN={GH_PAT_CLASSIC} && gh pr list"],
            "timeout": 30,
        },
        "env": {"OPENAI_API_KEY": "abc123", "password": "hunter2", "HOME": "/root", "api_key": "<your-key>"},
        "history": (f"Bearer {JWT}", 42, None, ["postgres://u:pw123@h/db"]),
        "token_count": 12,
    }
    snapshot = repr(original)
    result = redact_obj(original)
    assert result == {
        "type": "function_call",
        "arguments": {
            "cmd": ["bash", "-lc", "export GH_TOKEN=[REDACTED:github-token] && gh pr list"],
            "timeout": 30,
        },
        "env": {
            "OPENAI_API_KEY": "[REDACTED:env-secret]",
            "password": "[REDACTED:password-assignment]",
            "HOME": "/root",
            "api_key": "<your-key>",
        },
        "history": ("Bearer [REDACTED:jwt]", 42, None, ["postgres://u:[REDACTED:url-password]@h/db"]),
        "token_count": 12,
    }
    assert repr(original) == snapshot  # input untouched
    assert result is not original
    assert result["arguments"] is not original["arguments"]
    assert result["arguments"]["cmd"] is not original["arguments"]["cmd"]
    assert isinstance(result["history"], tuple)
    assert redact_obj(result) == result


@pytest.mark.parametrize("value", [None, 3, 2.5, True, b"sk-bytes-are-not-scanned-0123456789"])
def test_redact_obj_leaves_other_types(value: object) -> None:
    assert redact_obj(value) == value


def test_redact_obj_plain_string() -> None:
    assert redact_obj(f"key {GOOGLE}") == "key [REDACTED:google-api-key]"


def test_unicode_text_keeps_offsets() -> None:
    text = f"✓ Überprüft — 🔑 token {GH_PAT_CLASSIC} ok ✓\nИмя: пароль\npassword: geheim123 ✓ 🔑"
    matches = find_secrets(text)
    assert [text[m.start : m.end] for m in matches] == [GH_PAT_CLASSIC, "geheim123 ✓ 🔑"]
    assert redact(text) == (
        "✓ Überprüft — 🔑 token [REDACTED:github-token] ok ✓\nИмя: пароль\npassword: [REDACTED:password-assignment]"
    )
    assert redact("İİİ api_key=abc123xyz İ") == "İİİ api_key=[REDACTED:env-secret] İ"
    lone_surrogate = "\ud83d api_key=abc123xyz"
    assert redact(lone_surrogate) == "\ud83d api_key=[REDACTED:env-secret]"


def test_very_long_input() -> None:
    line = "INFO 2025-01-01 build step ok — commit 3f786850e387550fdab836ed7e6dc881de23001b took 12ms ✓\n"
    filler = line * (1_000_000 // len(line) + 1)
    text = f"API_KEY=abc123xyz\n{filler}{GH_PAT_CLASSIC}\n{filler}postgres://u:pw123@h/db"
    assert len(text) > 2_000_000
    out = redact(text)
    assert [m.kind for m in find_secrets(text)] == ["env-secret", "github-token", "url-password"]
    assert (
        out
        == f"API_KEY=[REDACTED:env-secret]\n{filler}[REDACTED:github-token]\n{filler}postgres://u:[REDACTED:url-password]@h/db"
    )
    assert redact(filler) is filler  # nothing found: the very same string comes back


@pytest.mark.parametrize(
    "text",
    [
        "API_KEY=" * 50_000,
        "sk-" * 100_000,
        "://a:" * 60_000,
        "-----BEGIN RSA PRIVATE KEY-----\n" * 10_000,
        "-----BEGIN RSA PRIVATE KEY-----" + "-" * 300_000,
        "\ntoken: x1" * 30_000,
        "--password " * 30_000,
        'token="' * 40_000,
        "eyJ" * 100_000,
        "a" * 300_000 + "_key=abc123",
        "Uid=a;Pwd=x1;" * 40_000,
        "my password is x1 and " * 20_000,
        "ab12CD34ef56GH…" * 30_000,
        "sig=abcdef123456&" * 30_000,
        "Basic dXNlcjpwYXNz " * 30_000,
        "-----BEGIN RSA PRIVATE KEY----- " + "MIIEowIBAAKCAQEA " * 30_000,
        "SG.x" * 100_000,
        "://u:p4ssw0rd…" * 30_000,
        "x" + "." * 300_000,
        ("sk-proj-Ab3dEf" + "." * 5) * 30_000,
    ],
    ids=[
        "assignments",
        "sk",
        "urls",
        "pem-begins",
        "pem-dashes",
        "yaml",
        "flags",
        "quotes",
        "eyj",
        "long-name",
        "conn-strings",
        "prose",
        "cut-tokens",
        "signatures",
        "basic",
        "pem-flat",
        "sendgrid",
        "cut-urls",
        "dots",
        "cut-runs",
    ],
)
def test_adversarial_input_stays_fast(text: str) -> None:
    started = time.perf_counter()
    redact(text)
    assert time.perf_counter() - started < 10  # quadratic behaviour would take minutes


def test_contains_secret() -> None:
    assert contains_secret(f"x {AWS_ID} y")
    assert not contains_secret("nothing to see here")
    assert not contains_secret("")
    assert find_secrets("") == []
    assert redact("") == ""


def test_secret_match_is_frozen() -> None:
    match = SecretMatch("jwt", 1, 5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        match.start = 2  # type: ignore[misc]
