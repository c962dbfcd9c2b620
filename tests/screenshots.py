"""Regenerate the README screenshots: `python -m tests.screenshots [--out docs/screenshots]`.

Starts the app on a fresh SQLite store (so the first start loads the demo data, as for a new
user) with one administrator account, opens each page in headless Chromium in Chinese and
English — signed in as that administrator, so the write controls show, except the shots marked
read-only — and saves PNG files.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from tests.browser import ROOT, add_account, browser_page, running_app, sign_in, wait_until_idle

SHOTS = (
    # (file stem, URL path, language)
    ("overview-zh", "", "zh"),
    ("overview-en", "", "en"),
    ("registry-zh", "registry", "zh"),
    ("registry-en", "registry", "en"),
    ("utilisation-zh", "utilisation", "zh"),
    ("utilisation-en", "utilisation", "en"),
    ("layout-zh", "layout", "zh"),
    ("layout-en", "layout", "en"),
    ("evaluation-zh", "evaluation", "zh"),
    ("evaluation-en", "evaluation", "en"),
    ("incentives-zh", "incentives", "zh"),
    ("incentives-en", "incentives", "en"),
    ("purchases-zh", "purchases", "zh"),
    ("purchases-en", "purchases", "en"),
    ("quality-zh", "quality", "zh"),
    ("quality-en", "quality", "en"),
    ("report-zh", "report", "zh"),
    ("report-en", "report", "en"),
    ("data-zh", "data", "zh"),
    ("data-en", "data", "en"),
    ("audit-zh", "audit", "zh"),
    ("audit-en", "audit", "en"),
    ("readonly-zh", "purchases", "zh"),  # a visitor who has not signed in
    ("finder-zh", "finder?q=土壤重金属检测", "zh"),  # the public face: a visitor with a query link
    ("finder-en", "finder?q=液相色谱", "en"),
)
READ_ONLY = {"readonly-zh", "finder-zh", "finder-en"}


def take(out: Path, db_url: str | None = None, only: str | None = None) -> list[Path]:
    """Shoot every page of SHOTS (or only those whose stem contains `only`) into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    shots = [shot for shot in SHOTS if only is None or only in shot[0]]
    saved = []
    with tempfile.TemporaryDirectory() as tmp:
        url = db_url or f"sqlite:///{Path(tmp) / 'screens.sqlite'}"
        if db_url is None:
            add_account(url, "admin", "screenshot-admin")
        with running_app(url, startup_timeout=300) as app, browser_page(width=1440, height=1500) as page:
            for stem, path, lang in shots:
                page.goto(f"{app}/")
                # The year picker appears once the store has data (after the first-start demo load).
                page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').wait_for(timeout=300_000)
                wait_until_idle(page, timeout_ms=180_000)
                if stem not in READ_ONLY and db_url is None:
                    sign_in(page, "admin", "screenshot-admin")  # a reload signs out: sign in, then navigate
                page.goto(f"{app}/{path}") if stem in READ_ONLY else \
                    page.locator('[data-testid="stSidebarNav"] a[href$="/' + path + '"]').first.click()
                wait_until_idle(page, timeout_ms=180_000)
                if stem.startswith("finder"):  # its first search also works out the year's evaluation
                    page.locator('[data-testid="stMetric"]').first.wait_for(timeout=180_000)
                if lang == "en":
                    page.locator('[data-testid="stSidebar"]').get_by_text("English").click()
                    wait_until_idle(page)
                page.wait_for_timeout(1500)  # let charts finish drawing
                wait_until_idle(page, timeout_ms=180_000)  # a spinner that started late (the report)
                target = out / f"{stem}.png"
                page.screenshot(path=str(target), full_page=True)
                saved.append(target)
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--database-url", default=None, help="store to show (default: fresh demo store)")
    parser.add_argument("--only", default=None, help="shoot only pages whose file stem contains this text")
    args = parser.parse_args()
    for path in take(Path(args.out), args.database_url, args.only):
        print(path)


if __name__ == "__main__":
    main()
