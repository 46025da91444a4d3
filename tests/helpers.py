"""Running Python in a child process the way a second DSL's kentsafe would run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["TZ"] = "Europe/London"
    return env


def spawn(code: str, *args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *args], env=child_env(), cwd=REPO, **kwargs)


def run(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], env=child_env(), cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)
