"""``--step-timeout`` and ``--memory-limit``, parsed the same way by the command line and the pytest plugin.

A deadline of ``inf`` or ``1e300`` would overflow the watchdog's wait and leave a
runaway guest running forever; ``nan`` compares false with every deadline. Each
value must be a finite number inside the range ``harness.execute.limits`` allows,
or the option is refused with one line naming it.
"""

from __future__ import annotations

import argparse
import math

from harness.execute.limits import MAX_MEMORY_BYTES, MAX_STEP_TIMEOUT_S


def step_timeout(text: str) -> float:
    """Seconds: a finite number above 0 and at most ``MAX_STEP_TIMEOUT_S``."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_STEP_TIMEOUT_S):
        raise argparse.ArgumentTypeError(f"must be above 0 and at most {MAX_STEP_TIMEOUT_S:g} seconds, not {text}")
    return seconds


def memory_limit(text: str) -> int:
    """MiB: a whole number from 1 to what a 32-bit linear memory can hold."""
    try:
        mib = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of MiB") from None
    if not 0 < mib <= MAX_MEMORY_BYTES >> 20:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_MEMORY_BYTES >> 20} MiB, not {text}")
    return mib
