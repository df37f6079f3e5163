"""A hanging test fails by timeout instead of hanging the suite (pytest-timeout)."""

import subprocess
import sys
from pathlib import Path

from django.conf import settings


def test_the_suite_has_a_per_test_timeout(pytestconfig):
    assert 60 <= float(pytestconfig.getini("timeout")) <= 1800


def test_a_hanging_test_fails_by_timeout(tmp_path):
    hanging = tmp_path / "test_hangs.py"
    hanging.write_text("import time\n\ndef test_hangs():\n    time.sleep(600)\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(Path(settings.BASE_DIR) / "pyproject.toml"),
            "-p",
            "no:django",
            "-o",
            "timeout=2",
            str(hanging),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Timeout" in result.stdout
