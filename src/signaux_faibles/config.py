"""One place for settings: a TOML file and ``SF_*`` environment variables.

Precedence, highest first: explicit keyword arguments, ``SF_*`` environment variables, the TOML file named by
``SF_CONFIG`` (default ``./signaux-faibles.toml`` when it exists), then the defaults below.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

_DUCKDB_SIZE = re.compile(r"(?i)^[0-9]+(\.[0-9]+)?\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)$")


def _toml_path() -> Path:
    return Path(os.environ.get("SF_CONFIG", "signaux-faibles.toml"))


class Settings(BaseSettings):
    """Settings of the whole system.

    Attributes
    ----------
    data_dir : Path
        Root of every table the pipeline writes (staging, quarantine, clean, panel, models, lists).
    engine : {"duckdb", "spark"}
        Analytics engine used by the panel pipeline.
    spark_master : str
        Spark master URL when ``engine == "spark"``.
    spark_driver_memory : str
        Heap of the Spark driver JVM (``spark.driver.memory``; with a ``local[…]`` master the driver runs the
        tasks too): Spark's 1 GB default makes the panel's joins spill without end at national size.
    duckdb_memory_limit : str
        Memory DuckDB may use for analytics (its ``memory_limit``, e.g. ``"3GB"``); beyond it, joins, sorts and
        windows spill to a temporary folder under the data directory. Empty: DuckDB's default (80 % of RAM).
    duckdb_threads : int or None
        DuckDB worker threads; None: one per core.
    panel_bucket_companies : int
        The panel's final join (every feature table on SIREN × month) is made by buckets of about this many
        companies (a hash of the SIREN), one query and one Parquet part each, so that each join fits in memory
        whatever the number of companies (0: one join over all of them).
    score_chunk_companies : int
        The monthly list is scored by chunks of this many companies (probabilities, flags, adjustments,
        explanations; each chunk reads only its companies' history from the panel), so that scoring's memory
        stays bounded whatever the number of companies; on Spark, the rows of a chunk (``mapInPandas`` batch).
    database_url : str or None
        SQLAlchemy URL of the platform database (e.g. ``postgresql+psycopg://user@host:5432/sf``); None: the
        SQLite file ``data_dir/platform.db``.
    secret_key : str or None
        Key signing the platform's CSRF tokens and SSO state; None: a random key kept in ``data_dir/.secret_key``
        (created on first use, mode 600). Never in the repository.
    production : bool
        Production deployment: session cookies are ``Secure`` (HTTPS only) and the API docs stay published.
    oidc_issuer, oidc_client_id, oidc_client_secret, oidc_label : str or None
        OpenID Connect single sign-on (Keycloak, ProConnect): the issuer URL (its
        ``/.well-known/openid-configuration`` is read), the client credentials and the button's label.
    adjustments : list of str
        Expert adjustments in force for the monthly list (``urssaf_2021``, ``tailoring_2022``; none by default).
    retrain_months : int
        The monthly run retrains the model when the one in service is this many months old or older.
    quarantine_warning_share : float
        The monthly run warns (exit code 1) when a file's quarantined share of lines exceeds this.
    open_regions : str or None
        Régions where the platform is open, applied at each monthly publication (``FR``, ``R27,R44``); None:
        leave the platform's current setting (``signaux-faibles regions``) as it is.
    perimeter_filter : bool
        Keep only the perimeter's companies at ingestion (the real system's filter; ``False``: keep every row).
    trusted_proxies : list of str
        Addresses or networks (``10.0.0.5``, ``10.0.0.0/24``) of the reverse proxies in front of the platform: only
        a request coming from one of them has its ``X-Forwarded-For`` read (the client is the right-most address
        that is not a trusted proxy). Empty (the default): the header is ignored, the peer's address is the
        client's.
    train_max_rows : int
        ``signaux-faibles train`` reads the whole panel (perimeter rows up to the batch) when it holds at most this
        many rows; above, it trains on a sample of the survivors: every company that fails, all its rows, and a
        seeded random share of the others (whole companies) bringing the sample to about this many rows, weighted
        back to the population for calibration and thresholds, the matrix in float32 (docs/model.md, "National
        size"). The default (2 000 000) leaves the twins of the tests and the demo (up to 20 000 companies × 72
        months) unsampled.
    stock_shrink_limit : float
        Ingestion refuses a stock file (SIRENE, effectifs, …: a delivery that replaces the previous one) that holds
        no record or fewer than the stock in force by more than this share (default 0.2); the stock stays.
    """

    model_config = SettingsConfigDict(env_prefix="SF_", extra="ignore")

    data_dir: Path = Path("./data")
    engine: Literal["duckdb", "spark"] = "duckdb"
    spark_master: str = "local[2]"
    spark_driver_memory: str = "3g"
    duckdb_memory_limit: str = "3500MB"
    duckdb_threads: int | None = None
    panel_bucket_companies: int = Field(50_000, ge=0)
    score_chunk_companies: int = Field(50_000, ge=1)
    train_max_rows: int = Field(2_000_000, ge=1_000)
    database_url: str | None = None
    secret_key: str | None = None
    production: bool = False
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_label: str = "ProConnect"
    # the monthly run (``signaux-faibles monthly``): what the operator decides once
    adjustments: list[str] = []
    retrain_months: int = 12
    quarantine_warning_share: float = 0.01
    open_regions: str | None = None
    perimeter_filter: bool = True
    stock_shrink_limit: float = 0.2
    trusted_proxies: list[str] = []

    @field_validator("duckdb_memory_limit")
    @classmethod
    def _duckdb_size(cls, value: str) -> str:
        if value and not _DUCKDB_SIZE.match(value):
            raise ValueError("expected a size DuckDB reads, such as 3500MB, 8GB or 3.5GiB (empty: DuckDB's default)")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _toml_path()
        if path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


def get_settings(**overrides: object) -> Settings:
    """Read the settings now (environment and TOML file are read at each call)."""
    return Settings(**overrides)  # type: ignore[arg-type]
