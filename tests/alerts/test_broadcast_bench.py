"""The broadcast benchmark, small: every destination exactly once against platforms that
enforce their limits (the full-size run and its figures are in benchmarks/)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_small_broadcast_reaches_every_destination_once_within_the_limits() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "broadcast_bench.py"),
         "--destinations", "150", "--reports", "5"],
        capture_output=True, text=True, timeout=240, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["duplicates"] == 0 and result["lost"] == 0
    assert sum(g["sent"] for g in result["per_group"].values()) == 150
    assert result["per_platform"] == {"slack:TA": 60, "slack:TB": 60, "teams:tenant1": 30}
    assert result["incident_latency"]["during_broadcast"]["reports"] == 5
