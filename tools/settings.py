"""Every knob of arbot, read from the environment or a `.env` file.

Third-party credentials keep their usual names (SLACK_BOT_TOKEN, OPENAI_API_KEY, ...); the
bot's own settings start with ARBOT_. Secrets are `SecretStr` so that printing the settings
object never shows them; the two URLs that may carry a password (ARBOT_DATABASE_URL,
ARBOT_SMTP_URL) stay strings, for the libraries that take them, and are masked when shown.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tools.money import MoneyError, is_currency, parse_major
from tools.redact import mask_url
from tools.slack_ids import slack_user_id_problem

CommaList = Annotated[list[str], NoDecode]
DecimalList = Annotated[list[Decimal], NoDecode]
IntList = Annotated[list[int], NoDecode]
SegmentTargets = Annotated[dict[str, Decimal], NoDecode]


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


def _paired(pairs: list[str], statement_account: str | None) -> str | None:
    """What STATEMENT_ACCOUNT=VALUE pairs give a bank statement account, if they name it."""
    for pair in pairs:
        account, _, value = pair.rpartition("=")
        if statement_account is not None and account.strip() == statement_account:
            return value.strip()
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ARBOT_",
        env_file=".env",
        env_ignore_empty=True,
        extra="ignore",
        populate_by_name=True,
    )

    # Ledger
    database_url: str = "sqlite:///arbot.db"
    timezone: str = "UTC"
    reporting_currency: str = "USD"
    company_name: str = "Our company"
    period_days: int = Field(90, gt=0, le=3650)
    reserve_rates_pct: DecimalList = Field(
        default_factory=lambda: [Decimal(x) for x in ("1", "5", "10", "25", "50")],
        description="reserve rate per aging bucket, in %: current,1-30,31-60,61-90,90+",
    )
    target_dso_days: Decimal = Decimal(45)
    target_current_pct: Decimal = Decimal(80)
    target_cei_pct: Decimal = Decimal(90)
    target_bad_debt_pct: Decimal = Decimal(1)
    target_add_days: Decimal = Decimal(10)
    target_dispute_hours: int = 48
    # At-risk accounts whose open balance (converted) is under this amount of
    # risk_min_balance_currency (converted to the reporting currency at the report's rate) are
    # counted in one line of the digest, not listed: a controller chases money first.
    risk_min_balance: Decimal = Field(Decimal(500), ge=0)
    risk_min_balance_currency: str = "USD"
    target_dso_days_by_segment: SegmentTargets = Field(
        default_factory=dict,
        description="DSO target per segment, e.g. enterprise=60,self-serve=30; others: the "
        "company's target",
    )
    target_current_pct_by_segment: SegmentTargets = Field(
        default_factory=dict, description="share-current target per segment, e.g. enterprise=70"
    )

    # Slack
    slack_bot_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_SIGNING_SECRET")
    )
    slack_app_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_APP_TOKEN"))
    slack_api_url: str = "https://slack.com/api/"
    finance_users: CommaList = Field(default_factory=list)
    allowed_channels: CommaList = Field(default_factory=list)
    approvers: CommaList = Field(default_factory=list)
    # "alice=U0123,bob=U0456": who an OS user proposing from the command line is in Slack, so
    # they cannot approve their own proposal there either.
    cli_slack_users: CommaList = Field(default_factory=list)
    approvals_channel: str | None = None
    digest_channel: str | None = None
    alerts_channel: str | None = None

    # LLM
    openai_api_key: SecretStr | None = Field(None, validation_alias=_env("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(None, validation_alias=_env("OPENAI_BASE_URL"))
    llm_model: str = "gpt-4o-mini"
    llm_max_rounds: int = Field(6, gt=0)
    llm_max_tokens: int = Field(20000, gt=0)
    llm_timeout_seconds: float = Field(30, gt=0)
    llm_max_retries: int = Field(2, ge=0, le=10, description="retries on timeout, 429 and 5xx")
    llm_history_tokens: int = Field(2000, ge=0, description="thread memory sent per question")
    llm_max_answer_chars: int = Field(
        3000, ge=500, le=35000, description="longest agent answer posted (whole results only)"
    )
    llm_max_reply_tokens: int = Field(
        1024, ge=0, description="cap on one model reply (0: none); a rambling model stops there"
    )
    llm_tool_choice: Literal["required", "auto"] = Field(
        "required",
        description="tool_choice of a question's first model call; 'auto' for servers that "
        "refuse 'required' (arbot also switches to 'auto' by itself when one does)",
    )

    # Stripe
    stripe_api_key: SecretStr | None = Field(None, validation_alias=_env("STRIPE_API_KEY"))
    stripe_webhook_secret: SecretStr | None = Field(
        None, validation_alias=_env("STRIPE_WEBHOOK_SECRET")
    )
    stripe_api_base: str = "https://api.stripe.com"

    # Accounting systems. The refresh token given here only seeds the first connection: the
    # providers rotate it on every use, and the newest one is kept encrypted in the database.
    ledger_of_record: Literal["csv", "stripe", "quickbooks", "xero"] | None = Field(
        None,
        description="the source AR figures count when several hold the same invoices; "
        "by default the accounting system when one holds invoices, else stripe, else csv",
    )
    token_key: SecretStr | None = Field(
        None, description="Fernet key encrypting stored OAuth tokens (tools.token_box)"
    )
    quickbooks_client_id: str | None = None
    quickbooks_client_secret: SecretStr | None = None
    quickbooks_realm_id: str | None = None
    quickbooks_refresh_token: SecretStr | None = None
    quickbooks_redirect_uri: str | None = Field(
        None, description="the redirect URI registered for the app; `arbot quickbooks connect`"
    )
    quickbooks_api_base: str = "https://quickbooks.api.intuit.com/v3"
    quickbooks_discovery_url: str = "https://developer.intuit.com/.well-known/openid_configuration/"
    quickbooks_minor_version: int = Field(75, ge=75)
    quickbooks_bad_debt_item_id: str | None = Field(
        None, description="the product/service item bad-debt credit memos are written on"
    )
    quickbooks_deposit_account_id: str | None = Field(
        None,
        description="the QuickBooks account (its Id; a Bank or Other Current Asset account) "
        "applied bank receipts are deposited to; empty: Undeposited Funds, QuickBooks' default",
    )
    quickbooks_deposit_accounts: CommaList = Field(
        default_factory=list,
        description="STATEMENT_ACCOUNT=QUICKBOOKS_ACCOUNT_ID pairs: the QuickBooks account of "
        "each bank statement account; ARBOT_QUICKBOOKS_DEPOSIT_ACCOUNT_ID for the others",
    )
    xero_client_id: str | None = None
    xero_client_secret: SecretStr | None = None
    xero_tenant_id: str | None = None
    xero_refresh_token: SecretStr | None = None
    xero_api_base: str = "https://api.xero.com/api.xro/2.0"
    xero_identity_url: str = "https://identity.xero.com/connect/token"
    xero_authorize_url: str = "https://login.xero.com/identity/connect/authorize"
    xero_connections_base: str = "https://api.xero.com"
    xero_redirect_uri: str | None = Field(
        None, description="the redirect URI registered for the app; `arbot xero connect`"
    )
    xero_scopes: str = "offline_access accounting.transactions accounting.contacts"
    xero_bad_debt_account_code: str | None = Field(
        None, description="the account (bad debts expense) write-off credit notes are coded to"
    )
    xero_bank_account_code: str | None = Field(
        None, description="the bank account applied bank receipts are recorded into in Xero"
    )
    xero_bank_accounts: CommaList = Field(
        default_factory=list,
        description="STATEMENT_ACCOUNT=XERO_CODE pairs: the Xero bank account of each bank "
        "statement account; ARBOT_XERO_BANK_ACCOUNT_CODE for the others",
    )

    # Approvals and email
    smtp_url: str | None = None
    smtp_from: str = "ar@example.com"
    dual_approval_minor: int = Field(500_000, ge=0)
    action_expiry_hours: int = Field(72, gt=0)
    promise_max_days: int = Field(90, ge=1, le=3650, description="latest promise date, from today")
    dunning_stages_days: IntList = Field(default_factory=lambda: [-3, 1, 7, 15, 30])

    # Cash application
    cash_fee_tolerance: Decimal = Field(
        Decimal(50),
        ge=0,
        description="largest shortfall read as bank fees, in major units of the receipt's "
        "currency; the shortfall stays open on the invoice",
    )
    cash_auto_apply_confidence: float | None = Field(
        None,
        gt=0,
        le=1,
        description="apply suggestions at or above this confidence without a click; empty: off",
    )

    # Scheduled jobs (cron strings in the company time zone; "off" switches a job off)
    digest_cron: str = "0 8 * * mon"
    at_risk_cron: str = "0 7 * * *"
    dispute_watch_cron: str = "*/15 * * * *"
    dunning_cron: str = "0 9 * * mon-fri"
    stripe_sync_cron: str = "*/10 * * * *"
    quickbooks_sync_cron: str = "*/30 * * * *"
    xero_sync_cron: str = "*/30 * * * *"
    reconcile_cron: str = "30 8 * * mon"
    outbox_cron: str = "* * * * *"
    cash_cards_cron: str = "*/10 * * * *"
    retention_cron: str = "30 3 * * *"
    # Threads answering Slack at once; the database pool is sized from it (tools.deps). More
    # questions than this queue for a thread, never for a connection.
    workers: int = Field(32, ge=1, le=256)
    # Days the bot's own bookkeeping is kept (seen event ids, finished job claims, thread
    # memory, LLM usage). At least two weeks: longer than any job's misfire grace (7 days),
    # Stripe's redelivery window (3 days) and a dispute's "new" window.
    retention_days: int = Field(90, ge=14, le=36500)

    @field_validator("finance_users", "allowed_channels", "approvers", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("cli_slack_users", mode="before")
    @classmethod
    def _os_user_pairs(cls, value: object) -> object:
        pairs = cls._split_commas(value)
        for pair in pairs if isinstance(pairs, list) else []:
            name, _, slack_id = str(pair).partition("=")
            if not name.strip() or not slack_id.strip():
                raise ValueError(f"{pair!r}: use OSUSER=SLACK_USER_ID, e.g. alice=U0123ABCD")
            problem = slack_user_id_problem(slack_id.strip())
            if problem:
                raise ValueError(f"{pair!r}: {problem}")
        return pairs

    @field_validator("xero_bank_accounts", "quickbooks_deposit_accounts", mode="before")
    @classmethod
    def _bank_account_pairs(cls, value: object, info: ValidationInfo) -> object:
        pairs = cls._split_commas(value)
        shape = (
            "STATEMENT_ACCOUNT=XERO_CODE, e.g. ACC-1=090"
            if info.field_name == "xero_bank_accounts"
            else "STATEMENT_ACCOUNT=QUICKBOOKS_ACCOUNT_ID, e.g. ACC-1=35"
        )
        for pair in pairs if isinstance(pairs, list) else []:
            account, _, code = str(pair).rpartition("=")
            if not account.strip() or not code.strip():
                raise ValueError(f"{pair!r}: use {shape}")
        return pairs

    def xero_bank_account_for(self, statement_account: str | None) -> str | None:
        """The Xero bank account code receipts from this statement account go into."""
        return _paired(self.xero_bank_accounts, statement_account) or self.xero_bank_account_code

    def quickbooks_deposit_account_for(self, statement_account: str | None) -> str | None:
        """The QuickBooks account Id receipts from this statement account are deposited to;
        None: QuickBooks' default, Undeposited Funds."""
        return (
            _paired(self.quickbooks_deposit_accounts, statement_account)
            or self.quickbooks_deposit_account_id
        )

    def cli_slack_user(self, os_user: str) -> str | None:
        """The Slack user id of an OS user who proposes from the command line, if known."""
        for pair in self.cli_slack_users:
            name, _, slack_id = pair.partition("=")
            if name.strip() == os_user:
                return slack_id.strip()
        return None

    @field_validator("target_dso_days_by_segment", "target_current_pct_by_segment", mode="before")
    @classmethod
    def _segment_pairs(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs: dict[str, str] = {}
        for pair in (p.strip() for p in value.split(",") if p.strip()):
            segment, _, target = pair.rpartition("=")
            if not segment.strip() or not target.strip():
                raise ValueError(f"{pair!r}: use SEGMENT=NUMBER, e.g. enterprise=60")
            pairs[segment.strip().lower()] = target.strip()
        return pairs

    @field_validator("reserve_rates_pct", "dunning_stages_days", mode="before")
    @classmethod
    def _split_numbers(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("reserve_rates_pct")
    @classmethod
    def _five_rates(cls, value: list[Decimal]) -> list[Decimal]:
        if len(value) != 5 or any(not (0 <= rate <= 100) for rate in value):
            raise ValueError("give five percentages between 0 and 100, e.g. 1,5,10,25,50")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
        return value

    @field_validator("reporting_currency", "risk_min_balance_currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if not is_currency(value):
            raise ValueError(f"unknown currency code {value!r}")
        return value

    @model_validator(mode="after")
    def _min_balance_in_its_currency(self) -> Settings:
        """Checked at start-up, not when the digest first converts it."""
        try:
            parse_major(format(self.risk_min_balance, "f"), self.risk_min_balance_currency)
        except MoneyError as e:
            raise ValueError(f"ARBOT_RISK_MIN_BALANCE: {e}") from None
        return self

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def __repr_args__(self) -> Any:
        # These URLs carry passwords; the SecretStr fields hide themselves.
        for name, value in super().__repr_args__():
            if name in SECRET_URLS and isinstance(value, str):
                value = mask_url(value)
            yield name, value


# Plain-string settings that hold a password: masked wherever settings are shown.
SECRET_URLS = ("database_url", "smtp_url")


def env_name(field: str) -> str:
    """The environment variable a person sets for `field`."""
    info = Settings.model_fields[field]
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"ARBOT_{field.upper()}"


class SettingsError(Exception):
    """Start-up refused: a setting is missing or malformed. The message names it."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            name = env_name(field) if field in Settings.model_fields else field
            lines.append(f"setting {name}: {err['msg']}")
        raise SettingsError("\n".join(lines)) from None
