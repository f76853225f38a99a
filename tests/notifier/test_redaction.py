from __future__ import annotations

import logging

import apprise
import pytest

from zpanel_notifier.redaction import redact_url, redact_urls


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#deploys", "slack://***/…"),
        ("tgram://123456789:ABCdefGHIjklMNOpqrSTUvwxYZ/12345", "tgram://***/…"),
        ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", "discord://***/…"),
        ("mailto://user:pass@example.com?smtp=127.0.0.1&port=2525", "mailto://***@example.com/…"),
        ("ntfys://ntfy.example.com:8443/secret-topic", "ntfys://ntfy.example.com:8443/…"),
        ("https://hooks.example.com", "https://hooks.example.com"),
        ("https://hooks.example.com/", "https://hooks.example.com"),
        ("http://127.0.0.1:8123/hook?token=x", "http://127.0.0.1:8123/…"),
        ("http://[::1]:80/x", "http://[::1]:80/…"),
        ("http://localhost/x", "http://localhost/…"),
        ("no-scheme-token", "***"),
    ],
)
def test_redact_url(url: str, label: str) -> None:
    assert redact_url(url) == label


def test_redact_urls_in_free_text() -> None:
    text = "POST 'https://u:p@api.example.com/v1/T0K' failed; retry slack://A/B/C later"
    assert redact_urls(text) == "POST 'https://***@api.example.com/…' failed; retry slack://***/… later"


def test_apprise_log_lines_lose_their_tokens(caplog: pytest.LogCaptureFixture) -> None:
    # Apprise logs an unparseable URL whole, at ERROR level.
    with caplog.at_level(logging.DEBUG, logger="apprise"):
        assert apprise.Apprise.instantiate("msteams://TEAM@SEKRIT1/SEKRIT2/SEKRIT3") is None
    logged = [r.getMessage() for r in caplog.records if r.name == "apprise"]
    assert "Unparseable URL msteams://***@***/…" in logged
    assert not any("SEKRIT" in line for line in logged)
