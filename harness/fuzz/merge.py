"""Merges the shard files of one campaign: figures summed, per kind of failure the smallest program kept.

The result does not depend on how the campaign was split or in which order shards finished:
every shard file of the same campaign (seed, programs, backends) in the folder counts, and of two
findings of one kind the shorter program (then the smaller text) wins. Each kept finding is
written as a scenario folder ``findings/fuzz-<check>-<kind>`` (``keep``).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.execute.backends import get_backend
from harness.execute.run import RunContext
from harness.fuzz.campaign import Finding, Fuzzer, _smaller, program_from
from harness.fuzz.checks import Check, Failure
from harness.fuzz.keep import keep
from harness.model.errors import InputError
from harness.model.paths import BUILTIN_GUESTS

FINDINGS = "findings"


def _finding(data: dict[str, Any]) -> Finding:
    first, second = data["backends"]
    failure = Failure(Check(data["check"]), (first, second), data["step"], data["detail"], data["failure_key"])
    return Finding(failure, program_from(data["program"]))


def folder_name(finding: Finding) -> str:
    """``fuzz-<check>-<backends>-<kind>``, in lowercase letters, digits and dashes."""
    words = f"fuzz-{finding.failure.check}-{'-'.join(finding.failure.backends)}-{finding.failure.key}"
    return re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-")


def merge(out: Path, backends: Sequence[str]) -> dict[str, Any]:
    """Reads every shard file in ``out`` of the campaign run last there, writes its findings, returns the summary."""
    shards = []
    for path in sorted(out.glob("shard-*-of-*.json")):
        try:
            shards.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as err:
            raise InputError(path, f"unreadable shard file: {err}") from err
    if not shards:
        raise InputError(out, "no shard files to merge")
    campaign = {(s["seed"], s["programs"], tuple(s["backends"])) for s in shards}
    latest = (shards[-1]["seed"], shards[-1]["programs"], tuple(shards[-1]["backends"]))
    mine = [s for s in shards if (s["seed"], s["programs"], tuple(s["backends"])) == latest]
    divergences: Counter[str] = Counter()
    findings: dict[str, Finding] = {}
    for shard in mine:
        divergences.update(shard["stats"]["divergences"])
        for data in shard["findings"]:
            finding = _finding(data)
            findings[finding.key] = _smaller(findings.get(finding.key), finding)
    kept = []
    folder = out / FINDINGS
    if folder.is_dir():
        for old in folder.glob("fuzz-*"):
            if (old / "scenario.toml").is_file():
                shutil.rmtree(old)
    if findings:
        with RunContext(BUILTIN_GUESTS / "wit", cache_dir=None) as ctx, tempfile.TemporaryDirectory() as work:
            fuzzer = Fuzzer(ctx, {name: get_backend(name) for name in backends}, Path(work))
            for key in sorted(findings):
                finding = findings[key]
                name = folder_name(finding)
                keep(fuzzer, finding.program, finding.failure, folder / name)
                kept.append(
                    {"folder": name, "key": key, "line": finding.failure.line(), "steps": len(finding.program.steps)}
                )
    return {
        "campaign": {"seed": latest[0], "programs": latest[1], "backends": list(latest[2])},
        "other_campaigns_in_folder": len(campaign) - 1,
        "shards": sorted(f"{s['shard'][0]}/{s['shard'][1]}" for s in mine),
        "programs_run": sum(s["stats"]["programs"] for s in mine),
        "divergences": dict(sorted(divergences.items())),
        "findings": kept,
    }
