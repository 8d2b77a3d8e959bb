"""Settings, declared once with defaults and help text (env prefix ``TOWNHALL_``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the server can be told. Each field doubles as documentation:
    ``docs/configuration.md`` is checked against this class by a test."""

    model_config = SettingsConfigDict(env_prefix="TOWNHALL_", extra="ignore")

    db_url: str = Field(
        "sqlite+aiosqlite:///townhall.db",
        description="Database URL: a SQLite file (default) or postgresql+asyncpg://…",
    )
    hub_url: str = Field(
        "memory://",
        description="Fan-out hub: memory:// for one process, redis://host:port for several. "
        "(With memory://, serve and its theming process speak over a Unix socket of their own.)",
    )
    host: str = Field("127.0.0.1", description="Interface to listen on.")
    port: int = Field(8000, description="Port to listen on.")
    public_url: str = Field(
        "",
        description="Base URL phones and screens use (printed, in QR codes). "
        "Empty: http://HOST:PORT.",
    )
    event_file: Path | None = Field(
        None, description="Event TOML to load on start if the database has no event yet."
    )
    embedder: str = Field(
        "minilm",
        description="Embedding model for theming: 'minilm' (all-MiniLM-L6-v2) or 'hashing' "
        "(a fast deterministic stand-in, for tests about something else).",
    )
    # theming.embed.Precision, spelled out: importing it would load numpy on every
    # CLI start (+80 ms); tests/test_settings.py checks the two agree.
    embed_precision: Literal["auto", "float32", "bfloat16"] = Field(
        "auto",
        description="Arithmetic of the embedding model: 'bfloat16' multiplies in bfloat16 "
        "(1.8x faster on CPUs with AVX-512 BF16 or AMX, vectors within 3e-5 cosine of "
        "float32's), 'float32' does not, 'auto' uses bfloat16 where the CPU has it natively.",
    )
    theming: bool = Field(True, description="Run the theming worker in this process.")
    theming_process: bool = Field(
        True,
        description="With theming on, `townhall serve` runs the theming worker (model, "
        "embeddings, clustering) in a process of its own, started, restarted after a crash "
        "and stopped with the server, so it never holds the web process's loop or memory. "
        "False (`serve --theming-in-process`): in the web process, as tests do.",
    )
    theming_threads: int = Field(
        0,
        ge=0,
        description="Threads the embedding model may use. 0: one less than the CPUs this "
        "process may run on (at least 1), leaving a core to the web process.",
    )
    theming_cpus: str = Field(
        "",
        description="CPUs the theming worker runs on, as taskset writes them (e.g. `1` or "
        "`2-3`; Linux). Empty: any.",
    )
    curation_timeout: float = Field(
        30.0,
        gt=0,
        description="With the theming worker in another process (serve --workers N), seconds "
        "a web process waits for it to apply a theme-team op before telling the member the "
        "change was not made.",
    )
    max_frame_bytes: int = Field(
        65536, description="Largest websocket frame accepted; bigger frames close with 1009."
    )
    ws_ping_interval: float = Field(
        20.0,
        gt=0,
        description="Seconds between the websocket pings the server sends to every client.",
    )
    ws_ping_timeout: float = Field(
        20.0,
        gt=0,
        description="Seconds a client has to answer a ping before its socket closes with 1011 "
        "(keepalive ping timeout). Clients answer by themselves while they keep reading.",
    )
    check_protocol: bool = Field(
        False,
        description="Check every message the server sends against the protocol's models "
        "(docs/asyncapi.json) and close the connection with 1011 on a mismatch; for tests "
        "and development, it costs time on every send.",
    )
    tune_gc: bool = Field(
        False,
        description="Tune Python's garbage collector for a server holding thousands of "
        "sockets once started: start-up objects frozen out of it, full collections spaced "
        "out and made when the room is quiet (server/web/collector.py); `townhall serve` "
        "turns it on, a test process running many apps keeps the defaults.",
    )
    header_timeout: float = Field(
        10.0,
        gt=0,
        description="Seconds a connection may take to send a request's headers (from connecting, "
        "or from a kept-alive request's first byte); slower or silent sockets are closed.",
    )
    handshake_timeout: float = Field(
        10.0,
        gt=0,
        description="Seconds from a websocket upgrade request to the accepted websocket.",
    )
    max_connections: int = Field(
        0,
        ge=0,
        description="Open connections one process holds; more are answered 503 and closed. "
        "0 (default): the open-files limit (raised to the hard limit at start) minus a reserve.",
    )
    max_connections_per_address: int = Field(
        0,
        ge=0,
        description="Open connections from one client address; 0 (default): half the total, "
        "so one address cannot take everything yet a venue's NAT (hundreds of phones behind "
        "one address) still fits.",
    )
    subscriber_queue: int = Field(
        256, description="Messages buffered per connected screen before it is resynced."
    )
    tally_interval: float = Field(
        0.2, description="Seconds between tally broadcasts while votes arrive."
    )
    breakdown_interval: float = Field(
        2.0,
        description="Seconds between census-weighted results and demographic breakdowns "
        "(heavier than a tally) while votes arrive.",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Extra Origins allowed to open websockets (the server's own is always).",
    )
    small_cell: int = Field(
        10, description="Demographic groups smaller than this are suppressed everywhere."
    )
    demo_pace: float = Field(
        1.0,
        gt=0,
        description="Speed of the simulated meeting in serve --demo: 1.0 opens a poll about "
        "every minute; smaller is faster (tests use 0.1).",
    )
    screen_language_seconds: float = Field(
        0.0,
        ge=0,
        description="When the event has several languages, big screens switch language this "
        "often (seconds); 0 (default) keeps the first. A screen link's own ?lang=es fixes "
        "its language and ?alternate=20 sets its own pace.",
    )
    log_level: str = Field("info", description="Log level: debug, info, warning, error.")
    rate_limits: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description="Websocket frames allowed per connection, by role, as [per second, burst] "
        "(JSON, e.g. {\"table\": [10, 30]}); roles not given keep their defaults: "
        "participant [5, 10], table [20, 200], team [20, 60], producer [20, 60], display [2, 10].",
    )
    join_rate: tuple[float, float] = Field(
        (200.0, 1000.0),
        description="Joins (POST /api/join) allowed per client address, as [per second, burst]; "
        "generous because a venue's NAT puts hundreds of phones behind one address (a hall "
        "of 5,000 joining in 30 s is ~170 a second); [0, 0] turns the limit off. Shared "
        "between processes through Redis when the hub is Redis.",
    )
    rate_token_factor: float = Field(
        3.0,
        description="All connections of one token together may send this many times one "
        "connection's rate and burst (a shared team token, a table with two laptops).",
    )
    rate_flood_close: int = Field(
        100,
        description="Close a connection with 4003 after this many rate_limited replies without "
        "a 10-second pause; 0 never closes.",
    )

    def as_env(self) -> dict[str, str]:
        """These settings as TOWNHALL_* variables, for processes started with them
        (serve --workers N): lists and mappings as JSON, as pydantic reads them."""
        return {
            f"TOWNHALL_{k.upper()}": str(v) if isinstance(v, str | int | float) else json.dumps(v)
            for k, v in self.model_dump(mode="json").items()
            if v is not None
        }

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"
