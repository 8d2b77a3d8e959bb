"""Settings are declared once; the docs must mention every one of them."""

from __future__ import annotations

from typing import get_args

from server.settings import Settings
from tests.support.example import ROOT
from theming.embed import PRECISIONS


def test_every_setting_is_documented() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [n for n in Settings.model_fields if f"TOWNHALL_{n.upper()}" not in doc]
    assert missing == []


def test_settings_read_the_townhall_prefix(monkeypatch: object) -> None:
    import pytest

    mp: pytest.MonkeyPatch = monkeypatch  # type: ignore[assignment]
    mp.setenv("TOWNHALL_HUB_URL", "redis://127.0.0.1:6379")
    mp.setenv("TOWNHALL_PORT", "9123")
    s = Settings()
    assert s.hub_url == "redis://127.0.0.1:6379" and s.port == 9123
    assert s.base_url == "http://127.0.0.1:9123"


def test_embed_precision_takes_what_the_embedder_takes() -> None:
    annotation = Settings.model_fields["embed_precision"].annotation
    assert get_args(annotation) == PRECISIONS
