"""The statistics pages in a real browser, over a synthetic year made through the real
services: staff sign in and filter; the public page in English and in Arabic (right to
left), with its charts, tables and CSV downloads, and no agency named."""

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from intake.services import staff_user_create
from routing.demo import demo_data_generate
from routing.figures import figures_refresh
from routing.models import Agency
from tests.browser.conftest import accessibility_violations, admin_log_in, screenshot
from tests.conftest import ensure_staff_roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_years(reference_data: None) -> None:
    demo_data_generate(reports=80, year=2020, seed=3)
    demo_data_generate(reports=160, year=2021, seed=4)
    figures_refresh()


def test_staff_see_every_figure_and_filter_by_country(
    live_server: Any, two_years: None, page: Any
) -> None:
    ensure_staff_roles()
    credentials = staff_user_create(username="ana", role="analyst")
    page.goto(f"{live_server.url}/stats/")
    admin_log_in(page, "ana", credentials.password)
    expect(page.get_by_role("heading", name="Statistics")).to_be_visible()
    for title in (
        "Reports by year and source",
        "Reports by the country they resolve to",
        "Referrals by agency",
        "Handling times",
        "Snapshot: the European Union",
    ):
        expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.locator("svg.chart")).not_to_have_count(0)
    snapshot = page.locator("#region-snapshot tbody tr")
    expect(snapshot).to_have_count(6)
    expect(snapshot.nth(0)).to_contain_text("increase")
    screenshot(page, "stats-staff")

    page.locator("#id_country").select_option("IN")
    page.get_by_role("button", name="Show the figures").click()
    page.wait_for_url(lambda url: "country=IN" in url)
    countries = page.locator("#reports-by-country tbody tr")
    expect(countries).to_have_count(1)
    expect(countries.first).to_contain_text("India")

    with page.expect_download() as download:
        page.locator("#reports-by-country a[download]").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0][:3] == ["Country", "Code", "Reports"]
    assert [row[1] for row in rows[1:]] == ["IN"]


@pytest.mark.parametrize(
    ("language", "heading"), [("en", "What the tipline receives"), ("ar", None)]
)
def test_the_public_figures_show_aggregates_only(
    live_server: Any, two_years: None, browser: Any, language: str, heading: str | None
) -> None:
    context = browser.new_context(locale=language, extra_http_headers={"Accept-Language": language})
    page = context.new_page()
    page.goto(f"{live_server.url}/stats/public/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    if heading:
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.locator("svg.chart")).not_to_have_count(0)
    text = page.locator("main").inner_text()
    for name in Agency.objects.values_list("name", flat=True):
        assert name not in text
    assert page.locator("#referrals-by-agency").count() == 0
    assert accessibility_violations(page) == []
    screenshot(page, f"stats-public-{language}")
    context.close()
