"""Pure helpers of zpanel.models."""

from __future__ import annotations

from zpanel.models import Application, preview_app, preview_parent


def test_preview_parent_reads_back_what_preview_app_made() -> None:
    app = Application(id="app_9", name="shop", repo="https://git.example.com/acme/shop.git", server="local")
    assert preview_parent(preview_app(app, 12).id) == ("app_9", 12)
    assert preview_parent("app_9") is None
    assert preview_parent("-pr-3") is None
    assert preview_parent("app-pr-x") is None
