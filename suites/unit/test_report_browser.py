"""The report in a real browser: headless Chromium over the page ``handle-compat report`` writes.

Skipped only outside CI when Chromium or chromedriver is missing; in CI (``CI``
set) a missing browser fails the test, since ``.ci/run`` installs it.

The screenshot goes to the test's temporary folder, never into the checkout; set
``HANDLE_COMPAT_SCREENSHOT_DIR`` to a folder to keep it there as ``compat.png``.
"""

from __future__ import annotations

import base64
import os
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from harness.execute.backends.jco import JcoBackend
from harness.model.files import write_atomic
from harness.model.paths import BUILTIN_GUESTS
from suites import browser
from suites.unit.support import run_cli

#: A folder to keep the screenshot in; unset, it lives only as long as the test's temporary folder.
SCREENSHOT_DIR_ENV = "HANDLE_COMPAT_SCREENSHOT_DIR"
SCREENSHOT = "compat.png"
#: Height of the screenshot: the header, the summary, the matrix and the first scenarios.
SCREENSHOT_HEIGHT = 2200
#: Why jco cannot run here (Node or its packages missing), or None; CI installs both.
JCO_MISSING = JcoBackend().unavailable()
#: The backends of the report: a column each in the matrix and in what each model protects;
#: jco's column, held to its known-deviation file, wherever jco runs.
BACKENDS = ("pseudo", "pseudo-reuse", "real") + (() if JCO_MISSING else ("jco",))


def _require_browser() -> None:
    reason = browser.missing()
    if reason is None:
        return
    if browser.in_ci():
        pytest.fail(f"the browser test must run in CI: {reason}", pytrace=False)
    pytest.skip(f"no browser on this machine: {reason}")


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report over every built-in scenario on three backends, made by the command line in a fresh process."""
    root = tmp_path_factory.mktemp("report")
    args = ("--guests", str(BUILTIN_GUESTS), "--reports", str(root), "--backends", ",".join(BACKENDS))
    done = run_cli("report", *args, cache=root / "cache")
    assert done.returncode == 0, done.stderr
    return root / "compat.html"


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    _require_browser()
    with browser.chromium(tmp_path_factory.mktemp("profile")) as session:
        yield session


@pytest.fixture
def loaded(driver: WebDriver, report_file: Path) -> WebDriver:
    """The page freshly loaded; the console log holds only what this load logged."""
    browser.console(driver)
    driver.get(report_file.as_uri())
    return driver


def _open(driver: WebDriver, name: str, expect: str) -> WebElement:
    """Clicks a scenario's summary and waits until its detail (``expect``, a CSS selector) is in it."""
    section = driver.find_element(By.ID, f"s-{name}")
    section.find_element(By.TAG_NAME, "summary").click()
    WebDriverWait(driver, 10).until(lambda _: section.find_elements(By.CSS_SELECTOR, expect))
    return section


def _visible_names(driver: WebDriver) -> list[str]:
    rows = driver.find_elements(By.CSS_SELECTOR, "#matrix-table tbody tr")
    return [str(row.get_attribute("data-name")) for row in rows if row.is_displayed()]


def test_page_loads_without_console_errors(loaded: WebDriver) -> None:
    severe = [entry for entry in browser.console(loaded) if entry["level"] == "SEVERE"]
    assert severe == []
    assert loaded.find_element(By.ID, "filters").is_displayed()


def test_category_filter_shows_only_that_category(loaded: WebDriver) -> None:
    everything = _visible_names(loaded)
    Select(loaded.find_element(By.ID, "filter-category")).select_by_value("ownership-transfer")
    shown = _visible_names(loaded)
    expected = [
        str(row.get_attribute("data-name"))
        for row in loaded.find_elements(By.CSS_SELECTOR, "#matrix-table tbody tr")
        if "ownership-transfer" in str(row.get_attribute("data-categories")).split()
    ]
    assert "own-transfer" in shown
    assert shown == expected
    assert len(shown) < len(everything)
    assert loaded.find_element(By.ID, "filter-count").text == f"{len(shown)} of {len(everything)} scenarios"


def test_filter_hides_the_scenario_sections_too(loaded: WebDriver) -> None:
    Select(loaded.find_element(By.ID, "filter-category")).select_by_value("same")
    assert not loaded.find_element(By.ID, "s-own-transfer").is_displayed()
    assert loaded.find_element(By.ID, "s-baseline-roundtrip").is_displayed()


def test_verdict_filter_and_name_search_combine(loaded: WebDriver) -> None:
    everything = _visible_names(loaded)
    Select(loaded.find_element(By.ID, "filter-verdict")).select_by_value("pass")
    loaded.find_element(By.ID, "filter-text").send_keys("Own-Transfer")
    expected = [
        str(row.get_attribute("data-name"))
        for row in loaded.find_elements(By.CSS_SELECTOR, "#matrix-table tbody tr")
        if row.get_attribute("data-verdict") == "pass" and "own-transfer" in str(row.get_attribute("data-search"))
    ]
    shown = _visible_names(loaded)
    assert "own-transfer" in shown
    assert shown == expected
    assert len(shown) < len(everything)


def test_clicking_a_header_sorts_the_matrix(loaded: WebDriver) -> None:
    header = loaded.find_element(By.CSS_SELECTOR, 'th[data-sort="name"]')
    header.click()
    header.click()
    names = _visible_names(loaded)
    assert names == sorted(names, reverse=True)
    assert header.get_attribute("aria-sort") == "descending"


def test_a_scenario_opens_on_click(loaded: WebDriver) -> None:
    assert loaded.find_element(By.ID, "s-own-transfer").get_attribute("open") is None
    section = _open(loaded, "own-transfer", "tr.first-divergence")
    assert section.get_attribute("open") is not None
    assert section.find_element(By.CSS_SELECTOR, "tr.first-divergence").is_displayed()


def test_an_opened_scenario_shows_where_the_divergent_index_came_from(loaded: WebDriver) -> None:
    # handle-as-u32: in step 2, a pokes its stream's index to b as a u32 and b reads through it.
    section = _open(loaded, "handle-as-u32", "dl.provenance")
    shown = [e.text for e in section.find_elements(By.CSS_SELECTOR, "dl.provenance dd") if e.is_displayed()]
    assert shown == [
        "b used 3, which it never held: a sent 3 (its index of a#1) to b as a u32 through poke in step 2;"
        " on pseudo: value 1",
        "b used 1, which it never held: a sent 1 (its index of a#1) to b as a u32 through poke in step 2;"
        " on real: trap unknown-handle (unknown handle index 1)",
    ]


def test_opening_every_section_logs_no_error(loaded: WebDriver) -> None:
    loaded.find_element(By.ID, "open-all").click()
    WebDriverWait(loaded, 10).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "noscript.lazy"))
    assert [e for e in browser.console(loaded) if e["level"] in ("SEVERE", "WARNING")] == []


def test_scenario_detail_enters_the_dom_only_when_opened(loaded: WebDriver) -> None:
    section = loaded.find_element(By.ID, "s-own-transfer")
    assert section.find_elements(By.CSS_SELECTOR, "table") == []
    _open(loaded, "own-transfer", "table.steps")
    assert section.find_elements(By.CSS_SELECTOR, "noscript") == []


def test_guest_markup_runs_nothing_and_adds_no_element(loaded: WebDriver) -> None:
    _open(loaded, "report-escaping", ".emits code")
    with pytest.raises(NoAlertPresentException):
        _ = loaded.switch_to.alert.text
    injected = loaded.execute_script(
        "return document.querySelectorAll('img, svg[onload], [onerror], [onload], #injected').length"
        " + document.scripts.length - 1"
    )
    assert injected == 0


def test_guest_markup_is_shown_as_text(loaded: WebDriver) -> None:
    section = _open(loaded, "report-escaping", ".emits code")
    tags = [code.text for code in section.find_elements(By.CSS_SELECTOR, ".emits code")]
    assert "<script>alert(1)</script>" in tags
    assert '</td></tr></table><b id="injected">injected</b>' in tags
    assert "&lt;already-escaped&gt;" in tags


def test_a_script_the_page_did_not_ship_is_refused(driver: WebDriver, report_file: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "tampered.html"
    page = report_file.read_text(encoding="utf-8")
    tampered.write_text(page.replace("</body>", "<script>window.tampered = 1;</script></body>"), encoding="utf-8")
    driver.get(tampered.as_uri())
    assert driver.execute_script("return window.tampered === undefined")
    assert any("Content Security Policy" in entry["message"] for entry in browser.console(driver))


def test_page_reads_without_javascript(report_file: Path, tmp_path: Path) -> None:
    _require_browser()
    with browser.chromium(tmp_path / "profile", javascript=False) as session:
        session.get(report_file.as_uri())
        header = session.find_element(By.CSS_SELECTOR, 'th[data-sort="name"]')
        assert "sortable" not in str(header.get_attribute("class"))
        rows = session.find_elements(By.CSS_SELECTOR, "#matrix-table tbody tr")
        assert all(row.is_displayed() for row in rows)
        assert not session.find_element(By.ID, "filters").is_displayed()
        section = session.find_element(By.ID, "s-own-transfer")
        section.find_element(By.TAG_NAME, "summary").click()
        assert section.find_element(By.CSS_SELECTOR, "tr.first-divergence").is_displayed()


def _screenshot_path(tmp_path: Path) -> Path:
    kept = os.environ.get(SCREENSHOT_DIR_ENV)
    return (Path(kept) if kept else tmp_path) / SCREENSHOT


def test_screenshot_is_a_png_of_the_top_of_the_page(loaded: WebDriver, tmp_path: Path) -> None:
    height = min(SCREENSHOT_HEIGHT, int(loaded.execute_script("return document.documentElement.scrollHeight")))
    clip = {"x": 0, "y": 0, "width": browser.WINDOW[0], "height": height, "scale": 1}
    shot = loaded.execute_cdp_cmd("Page.captureScreenshot", {"captureBeyondViewport": True, "clip": clip})
    path = _screenshot_path(tmp_path)
    write_atomic(path, base64.b64decode(shot["data"]))
    png = path.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (browser.WINDOW[0], height)


def test_the_matrix_has_a_column_per_backend_that_sorts(loaded: WebDriver) -> None:
    headers = loaded.find_elements(By.CSS_SELECTOR, "#matrix-table th[data-sort^='run-']")
    assert [h.get_attribute("data-sort") for h in headers] == [f"run-{b}" for b in BACKENDS]
    headers[1].click()
    rows = loaded.find_elements(By.CSS_SELECTOR, "#matrix-table tbody tr")
    keys = [(str(r.get_attribute("data-run-pseudo-reuse")), str(r.get_attribute("data-name"))) for r in rows]
    assert keys == sorted(keys, key=lambda k: (k[0].lower(), k[1].lower()))
    assert headers[1].get_attribute("aria-sort") == "ascending"
    assert [e for e in browser.console(loaded) if e["level"] == "SEVERE"] == []


def test_the_protects_table_has_a_row_per_category_and_a_column_per_backend(loaded: WebDriver) -> None:
    table = loaded.find_element(By.ID, "protects-table")
    columns = [
        str(th.get_attribute("textContent")).split()[0] for th in table.find_elements(By.CSS_SELECTOR, "thead th")
    ]
    rows = [str(r.get_attribute("data-name")) for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert columns == ["Category", "Scenarios", *BACKENDS]
    assert rows == [
        "isolation",
        "forgery",
        "use-after-free",
        "ownership-transfer",
        "borrow-rules",
        "numbering",
        "destructor-timing",
        "leak",
        "trap-kind",
    ]
    assert table.is_displayed()


def test_sorting_the_protects_table_by_a_backend_orders_its_rows(loaded: WebDriver) -> None:
    header = loaded.find_element(By.CSS_SELECTOR, "#protects-table th[data-sort='b-pseudo-reuse']")
    header.click()
    rows = loaded.find_elements(By.CSS_SELECTOR, "#protects-table tbody tr")
    shares = [str(r.get_attribute("data-b-pseudo-reuse")) for r in rows]
    numbers = [float(s) for s in shares if s != "na"]
    assert numbers == sorted(numbers)
    assert [e for e in browser.console(loaded) if e["level"] == "SEVERE"] == []


def test_a_category_of_the_protects_table_filters_the_matrix(loaded: WebDriver) -> None:
    loaded.find_element(By.CSS_SELECTOR, "#protects-table a[data-filter-category='use-after-free']").click()
    shown = _visible_names(loaded)
    assert "use-after-drop" in shown
    assert all(
        "use-after-free" in str(row.get_attribute("data-categories")).split()
        for row in loaded.find_elements(By.CSS_SELECTOR, "#matrix-table tbody tr")
        if row.is_displayed()
    )
    assert Select(loaded.find_element(By.ID, "filter-category")).first_selected_option.get_attribute("value") == (
        "use-after-free"
    )


def _jco_cell(driver: WebDriver, scenario: str) -> WebElement:
    """jco's cell of a scenario's row in the matrix."""
    if JCO_MISSING is not None:
        if browser.in_ci():
            pytest.fail(f"the jco column must be covered in CI: {JCO_MISSING}", pytrace=False)
        pytest.skip(f"jco cannot run here: {JCO_MISSING}")
    row = driver.find_element(By.CSS_SELECTOR, f"#matrix-table tbody tr[data-name='{scenario}']")
    return row.find_elements(By.CSS_SELECTOR, "td.run")[BACKENDS.index("jco")]


def test_jco_column_shows_a_listed_deviation_as_known_with_its_reason_on_hover(loaded: WebDriver) -> None:
    cell = _jco_cell(loaded, "own-transfer")
    pill = cell.find_element(By.CLASS_NAME, "pill")
    assert "known" in str(cell.get_attribute("class")).split()
    assert (pill.text, pill.value_of_css_property("border-top-style")) == ("known deviation", "dashed")
    assert "known deviation (unchecked-method-handle)" in str(pill.get_attribute("title"))
    assert "jco-1.35.0.toml" in str(pill.get_attribute("title"))


def test_jco_column_shows_a_scenario_without_deviation_as_ok(loaded: WebDriver) -> None:
    cell = _jco_cell(loaded, "baseline-roundtrip")
    assert (str(cell.get_attribute("class")).split()[-1], cell.find_element(By.CLASS_NAME, "pill").text) == ("ok", "ok")


def test_an_opened_scenario_explains_each_known_step_of_jco(loaded: WebDriver) -> None:
    _jco_cell(loaded, "give-back-then-lend")
    section = _open(loaded, "give-back-then-lend", "table.steps")
    known = section.find_elements(By.CSS_SELECTOR, "td.outcome.known .known-why")
    assert len(known) == 3
    assert all("borrow-rep-by-history" in element.text for element in known)
