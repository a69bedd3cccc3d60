"""The Dagster UI and the BI dashboard as a user meets them, in Debian's headless Chromium.

On the session's tiny materialised world: a webserver on a Dagster instance holding the world's
latest materialisations, and the BI dashboard on its BI copy. The test opens the lineage, the
automation page and three asset pages, and the dashboard, and checks that the graph, the running
schedules and the plots are there. Screenshots go to $ROI_SCREENSHOT_DIR (the README's come from
`ROI_SCREENSHOT_DIR=docs/images make test`), else to the test's temporary folder.

Chromium comes from Debian (`make test` installs the `chromium` package, as it does Tesseract) and
Playwright drives it through `executable_path`: no browser is downloaded.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

# Pages load slowly on a busy 2-core machine: the first GraphQL answers take tens of seconds.
PAGE_TIMEOUT_MS = 90_000
# Assets every tiny run materialises (gates may block the marts), and a plot each shows.
ASSET_PLOTS = {
    "churn_evaluation": "30d_evaluation",
    "send_time_model": "learning_curve",
    "monitoring/feature_drift": "drift_per_feature",
}
LOCATION = "roi_assets.definitions"
SCHEDULES = ("ingest_daily_schedule", "daily_retrain", "weekly_search")


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    from roi_assets.foreground import stop_group

    stop_group(process, grace=5.0)


def _wait(check, timeout: float = 420.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(1.0)
    raise TimeoutError("the server did not come up")


@pytest.fixture(scope="module")
def ui_home(materialized_world, lived_instance, tmp_path_factory) -> Path:
    """A Dagster home whose instance holds the world's latest materialisations (the session's
    instance is in memory: the webserver cannot read it)."""
    import dagster as dg

    from roi_assets.definitions import defs

    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(Path(__file__).parents[1] / "dagster.yaml", home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for key in defs.resolve_asset_graph().get_all_asset_keys():
            event = lived_instance.get_latest_materialization_event(key)
            if event is not None and event.asset_materialization is not None:
                metadata = event.asset_materialization.metadata
                instance.report_runless_asset_event(dg.AssetMaterialization(key, metadata=metadata))
    return home


@pytest.fixture(scope="module")
def webserver(ui_home) -> Iterator[str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    webserver_binary = str(Path(sys.executable).parent / "dagster-webserver")
    address = ["-h", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(
        [webserver_binary, "-w", "workspace.yaml", *address],
        cwd=Path(__file__).parents[1],
        env={**os.environ, "DAGSTER_HOME": str(ui_home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    query = "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }"

    def loaded() -> bool:
        answer = httpx.post(f"{url}/graphql", json={"query": query}, timeout=10).json()
        entries = answer["data"]["workspaceOrError"]["locationEntries"]
        return bool(entries) and all(e["loadStatus"] == "LOADED" for e in entries)

    try:
        _wait(loaded)
        yield url
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def dashboard(materialized_world) -> Iterator[str]:
    import duckdb

    from roi_assets import settings
    from roi_assets.resources.bi_publication import publish_bi_copy

    with duckdb.connect(str(settings.warehouse_path())) as con:
        publish_bi_copy(con, settings.bi_warehouse_path())
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "roi_assets.bi", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: httpx.get(f"{url}/_stcore/health", timeout=5).status_code == 200)
        yield url
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    yield page
    page.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = os.environ.get("ROI_SCREENSHOT_DIR")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_the_lineage_shows_the_graph_without_the_community_dialog(page, webserver, screenshots):
    # the global lineage draws one box per group; a group's lineage draws its assets
    page.goto(f"{webserver}/locations/{LOCATION}/asset-groups/churn/lineage")
    for asset in ("churn_model", "churn_evaluation", "churn_risk"):
        page.get_by_text(asset, exact=True).first.wait_for()
    assert page.get_by_text("Join the Dagster community").count() == 0
    page.screenshot(path=str(screenshots / "ui-lineage.png"))


def test_the_automation_page_lists_the_running_schedules(page, webserver):
    page.goto(f"{webserver}/automation")
    for schedule in SCHEDULES:
        page.get_by_text(schedule, exact=True).first.wait_for()
    # each automation's toggle is a checkbox, checked once its state has loaded
    running = page.locator("input[type=checkbox]:checked")
    running.nth(len(SCHEDULES) - 1).wait_for(state="attached")
    assert running.count() >= len(SCHEDULES)


@pytest.mark.parametrize(("asset", "plot"), ASSET_PLOTS.items())
def test_asset_pages_show_their_plots(page, webserver, asset, plot):
    page.goto(f"{webserver}/assets/{asset}?view=events")
    row = page.locator("tr", has=page.get_by_text(plot, exact=True)).first
    row.wait_for()
    folded = row.get_by_text("[Show Markdown]")  # the UI folds long markdown behind a link
    if folded.count():
        folded.first.click()
    image = page.locator("img[src^='data:image/png']").first
    image.wait_for()
    assert image.evaluate("element => element.naturalWidth") > 100


def test_the_bi_dashboard_shows_marts_and_monitoring(page, dashboard, screenshots):
    page.goto(dashboard)
    for section in ("Engagement scores", "Churn risk tiers", "Churn watch list", "Feature drift"):
        page.get_by_text(section).first.wait_for()
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for()
    assert page.locator("[data-testid='stVegaLiteChart']").count() >= 3
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(screenshots / "bi-dashboard.png"), full_page=True)


def test_the_dashboard_reads_the_bi_copy_read_only(dashboard):
    from roi_assets import settings
    from roi_assets.bi.queries import connect

    with connect(settings.bi_warehouse_path()) as con, pytest.raises(Exception, match="read-only"):
        con.execute("create table marts.scribble as select 1")
