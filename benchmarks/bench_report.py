"""How the compatibility report scales: 1,000 scenarios rendered, then used in headless Chromium.

The scenarios are the built-in ones, run once on pseudo and real, then copied
under new names until there are ``--scenarios`` of them: the mix of same and
diverging scenarios, traps, emits and long event logs stays the real one.
Prints the figures and writes them to benchmarks/REPORT_RESULTS.md.

Run from the project root: ``python -m benchmarks.bench_report``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypeVar

from selenium.webdriver.chrome.webdriver import WebDriver

from harness.compare.gate import evaluate
from harness.execute.backends import get_backend
from harness.execute.run import RunContext, run_scenario
from harness.model.files import write_atomic
from harness.model.paths import BUILTIN_GUESTS, PROJECT_ROOT
from harness.model.scenario import Scenario, load_all
from harness.model.trace import Trace, TraceSet, merge
from harness.present import report
from suites import browser

RESULTS = PROJECT_ROOT / "benchmarks" / "REPORT_RESULTS.md"
ROUNDS = 5
#: Each interaction is repeated this often in the browser; the median is reported.
BROWSER_ROUNDS = 7
T = TypeVar("T")

#: Changes one filter control and returns the milliseconds until the browser has
#: restyled and laid out the page (sync) and until the next frame was painted.
FILTER_JS = """
const [id, value, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const control = document.getElementById(id);
const start = performance.now();
control.value = value;
control.dispatchEvent(new Event(control.tagName === "INPUT" ? "input" : "change"));
document.body.offsetHeight;
const laidOut = performance.now() - start;
requestAnimationFrame(() => requestAnimationFrame(() => done([laidOut, performance.now() - start])));
"""
SORT_JS = """
const done = arguments[arguments.length - 1];
const header = document.querySelector('th[data-sort="' + arguments[0] + '"]');
const start = performance.now();
header.click();
document.body.offsetHeight;
const laidOut = performance.now() - start;
requestAnimationFrame(() => requestAnimationFrame(() => done([laidOut, performance.now() - start])));
"""


@dataclasses.dataclass(frozen=True)
class Figures:
    scenarios: int
    build_ms: float
    render_ms: float
    json_ms: float
    html_bytes: int
    json_bytes: int
    load_ms: float
    dom_nodes: int
    #: Interaction -> median (laid out ms, painted ms, style + layout CPU ms).
    interactions: dict[str, tuple[float, float, float]]
    load_average: float


def _timed(func: Callable[[], T]) -> tuple[T, float]:
    """The result of the last of ROUNDS calls, and the median time of one call in ms."""
    times, result = [], None
    for _ in range(ROUNDS):
        start = time.perf_counter()
        result = func()
        times.append((time.perf_counter() - start) * 1000)
    assert result is not None
    return result, statistics.median(times)


def synthesize(count: int) -> tuple[list[Scenario], TraceSet, TraceSet]:
    """``count`` scenarios: the built-in ones, run for real, copied under numbered names."""
    builtin, errors = load_all(BUILTIN_GUESTS)
    if errors:
        raise SystemExit(f"built-in scenarios do not load: {errors[0]}")
    ctx = RunContext(BUILTIN_GUESTS / "wit")
    runs = {b: [run_scenario(ctx, get_backend(b), s) for s in builtin] for b in ("pseudo", "real")}
    scenarios: list[Scenario] = []
    traces: dict[str, list[Trace]] = {"pseudo": [], "real": []}
    for index in range(count):
        source = index % len(builtin)
        name = f"{builtin[source].name}-{index:04d}"
        scenarios.append(dataclasses.replace(builtin[source], name=name))
        for backend, backend_runs in runs.items():
            traces[backend].append(dataclasses.replace(backend_runs[source], scenario=name))
    return (
        scenarios,
        merge("pseudo", version("wasmtime"), traces["pseudo"]),
        merge("real", version("wasmtime"), traces["real"]),
    )


def _render_cpu_ms(driver: WebDriver) -> float:
    """Style recalculation plus layout time the renderer spent so far, in CPU ms (thread ticks)."""
    metrics = {m["name"]: m["value"] for m in driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}
    return float(metrics["RecalcStyleDuration"] + metrics["LayoutDuration"]) * 1000


def _browse(page: Path, profile: Path) -> tuple[float, int, dict[str, tuple[float, float, float]]]:
    """Load time, DOM size, and per filter change or sort: laid out, painted, style+layout CPU (ms)."""
    steps: list[tuple[str, str, str]] = [
        ("filter", "filter-category", "isolation"),
        ("filter", "filter-category", "same"),
        ("filter", "filter-category", ""),
        ("filter", "filter-verdict", "fail"),
        ("filter", "filter-verdict", ""),
        ("filter", "filter-text", "own-transfer"),
        ("filter", "filter-text", ""),
        ("sort", "name", ""),
        ("sort", "right", ""),
    ]
    with browser.chromium(profile) as driver:
        driver.set_script_timeout(60)
        driver.execute_cdp_cmd("Performance.enable", {"timeDomain": "threadTicks"})
        driver.get(page.as_uri())
        load = float(driver.execute_script("return performance.getEntriesByType('navigation')[0].loadEventEnd"))
        nodes = int(driver.execute_script("return document.getElementsByTagName('*').length"))
        severe = [e for e in browser.console(driver) if e["level"] == "SEVERE"]
        if severe:
            raise SystemExit(f"console errors on the page: {severe}")
        samples: dict[str, list[tuple[float, float, float]]] = {}
        for _ in range(BROWSER_ROUNDS):
            for kind, target, value in steps:
                label = f"{target} = {value!r}" if kind == "filter" else f"sort by {target}"
                cpu = _render_cpu_ms(driver)
                if kind == "filter":
                    result: Any = driver.execute_async_script(FILTER_JS, target, value)
                else:
                    result = driver.execute_async_script(SORT_JS, target)
                sample = (float(result[0]), float(result[1]), _render_cpu_ms(driver) - cpu)
                samples.setdefault(label, []).append(sample)
    measured = {
        label: (
            statistics.median(s[0] for s in runs),
            statistics.median(s[1] for s in runs),
            statistics.median(s[2] for s in runs),
        )
        for label, runs in samples.items()
    }
    return load, nodes, measured


def measure(count: int) -> Figures:
    scenarios, left_set, right_set = synthesize(count)
    left, right = get_backend("pseudo"), get_backend("real")
    paths = (Path("pseudo.json"), Path("real.json"))

    def build() -> report.Report:
        result = evaluate(scenarios, left, right, left_set, right_set, paths)
        return report.build(scenarios, result, left_set, right_set, (left.expectations_from, right.expectations_from))

    model, build_ms = _timed(build)
    html, render_ms = _timed(lambda: report.render_html(model, datetime.now(tz=UTC), paths[0].parent))
    data, json_ms = _timed(lambda: report.to_json(model))
    load_average = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "compat.html"
        write_atomic(page, html)
        load, nodes, interactions = _browse(page, Path(tmp) / "profile")
    return Figures(
        scenarios=count,
        build_ms=build_ms,
        render_ms=render_ms,
        json_ms=json_ms,
        html_bytes=len(html.encode("utf-8")),
        json_bytes=len(data.encode("utf-8")),
        load_ms=load,
        dom_nodes=nodes,
        interactions=interactions,
        load_average=load_average,
    )


def markdown(figures: Figures) -> str:
    rows = "\n".join(
        f"| {label} | {laid_out:.0f} | {painted:.0f} | {cpu:.0f} |"
        for label, (laid_out, painted, cpu) in figures.interactions.items()
    )
    worst = max(painted for _, painted, _ in figures.interactions.values())
    worst_cpu = max(cpu for _, _, cpu in figures.interactions.values())
    return f"""# Report at scale

`python -m benchmarks.bench_report --scenarios {figures.scenarios}`: the built-in scenarios,
run once on pseudo and real, copied under numbered names up to {figures.scenarios:,}
scenarios (the real mix of same and diverging scenarios, traps and long event logs).
Python times are medians of {ROUNDS} rounds; browser figures are medians of
{BROWSER_ROUNDS} rounds in headless Chromium ({platform.machine()}, {os.cpu_count()} cores,
Python {platform.python_version()}, Jinja2 {version("Jinja2")}, selenium {version("selenium")};
1-minute load average {figures.load_average:.1f} when the run started: wall-clock times
grow with the machine's load, the style + layout CPU time much less).

| what | figure |
|------|--------|
| scenarios | {figures.scenarios:,} |
| gate + report model (`evaluate` + `report.build`) | {figures.build_ms:.0f} ms |
| render `compat.html` (`report.render_html`) | {figures.render_ms:.0f} ms |
| serialize `compat.json` (`report.to_json`) | {figures.json_ms:.0f} ms |
| `compat.html` size | {figures.html_bytes / 1e6:.1f} MB |
| `compat.json` size | {figures.json_bytes / 1e6:.1f} MB |
| page load in Chromium (`loadEventEnd`) | {figures.load_ms:.0f} ms |
| DOM elements | {figures.dom_nodes:,} |
| slowest filter or sort, to the next painted frame | {worst:.0f} ms |
| slowest filter or sort, style + layout CPU | {worst_cpu:.0f} ms |

Each interaction in ms: from the change to the page laid out, to the next painted
frame, and the renderer's style + layout CPU time for it. Scenario detail is parsed
only when a section first opens, so the DOM holds the matrix and one summary line
per scenario.

| interaction | laid out | painted | style + layout CPU |
|-------------|---------:|--------:|-------------------:|
{rows}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--scenarios", type=int, default=1000)
    parser.add_argument("--no-write", action="store_true", help=f"print only; leave {RESULTS.name} as it is")
    args = parser.parse_args()
    reason = browser.missing()
    if reason:
        raise SystemExit(f"needs a browser: {reason}")
    text = markdown(measure(args.scenarios))
    print(text)
    if not args.no_write:
        write_atomic(RESULTS, text)


if __name__ == "__main__":
    main()
