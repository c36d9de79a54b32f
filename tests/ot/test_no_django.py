"""documents.ot must not import Django (it is a pure-Python library)."""

from __future__ import annotations

import subprocess
import sys

from .oracle import ROOT


def test_importing_ot_does_not_import_django() -> None:
    code = (
        "import sys\n"
        "import documents.ot, documents.ot.rich_text, documents.ot.validate, documents.ot.fastdiff\n"
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "assert not bad, bad\n"
        "assert 'documents.models' not in sys.modules\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
