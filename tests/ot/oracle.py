"""Client for the Node differential oracle (frontend/tools/ot-oracle.js)."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
ORACLE_JS = FRONTEND / "tools" / "ot-oracle.js"

Case = Dict[str, Any]


def node_available() -> Optional[str]:
    """Why the oracle cannot run, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    for package in ("rich-text", "quill-delta", "fast-diff"):
        if not (FRONTEND / "node_modules" / package).is_dir():
            return f"frontend/node_modules/{package} is missing (run npm ci in frontend/)"
    return None


class OracleError(AssertionError):
    pass


class Oracle:
    """A long-lived ``node ot-oracle.js`` answering batches of cases."""

    CHUNK = 400  # cases per request line

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            ["node", str(ORACLE_JS)],
            cwd=str(FRONTEND),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self._next_id = 0
        self.cases_run = 0

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def run(self, cases: List[Case]) -> List[Dict[str, Any]]:
        """Raw results (``{"ok": value}`` or ``{"error": message}``) per case.

        Requests are pipelined: all chunks are written before reading.
        """
        chunks = [cases[i : i + self.CHUNK] for i in range(0, len(cases), self.CHUNK)]
        assert self.proc.stdin is not None and self.proc.stdout is not None
        ids = []
        payload = []
        for chunk in chunks:
            self._next_id += 1
            ids.append(self._next_id)
            payload.append(json.dumps({"id": self._next_id, "batch": chunk}, ensure_ascii=True))
        # Write and read interleaved per chunk so neither pipe buffer fills up.
        results: List[Dict[str, Any]] = []
        for request_id, line in zip(ids, payload):
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
            answer = self.proc.stdout.readline()
            if not answer:
                raise OracleError(f"oracle died: {self.proc.stderr.read() if self.proc.stderr else ''}")
            response = json.loads(answer)
            if response.get("id") != request_id:
                raise OracleError(f"oracle protocol error: {response}")
            results.extend(response["results"])
        self.cases_run += len(cases)
        return results

    def values(self, cases: List[Case]) -> List[Any]:
        """Results as values; a JavaScript exception raises ``OracleError``."""
        values = []
        for case, result in zip(cases, self.run(cases)):
            if "error" in result:
                raise OracleError(f"JS threw {result['error']!r} for {dump(case)}")
            values.append(result["ok"])
        return values

    def value(self, case: Case) -> Any:
        return self.values([case])[0]


def canon(value: Any) -> Any:
    """JSON value in a form where ``==`` is JavaScript deep equality.

    Booleans are tagged (so True != 1) and integral floats become ints
    (JavaScript has a single number type).
    """
    if value is True or value is False:
        return ("bool", value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        return value
    if isinstance(value, dict):
        return {k: canon(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canon(v) for v in value]
    return value


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True)


def assert_same(python: Any, js: Any, case: Any) -> None:
    if canon(python) != canon(js):
        raise AssertionError(
            "Python and quill-delta disagree\n"
            f"  case:   {dump(case)}\n"
            f"  python: {dump(python)}\n"
            f"  js:     {dump(js)}"
        )
