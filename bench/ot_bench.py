"""Benchmark documents.ot against quill-delta on Node, on the same inputs.

Run:  .venv/bin/python bench/ot_bench.py [--seconds 0.5] [--no-js]

Inputs (seeded, identical for both sides): a ~100 kB formatted document
(headers, bold/italic/link runs, some emoji), small edits of 1-50
characters (inserts, deletes, formatting) against it, pairs of concurrent
small edits and sequential small edits.  Timed: transform and compose of
small ops (the server's hot path), transform_cursor/presence, and apply of a
small op to the whole document (inherently O(document) in both).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from documents.ot import rich_text  # noqa: E402

Op = Dict[str, Any]
WORDS = (
    "the quick brown fox jumps over lazy dog collaborative editing operational transform "
    "document server client cursor presence delta insert retain delete format bold italic "
    "中文 字符 café naïve 😀 👍🏽 🎉"
).split()


def make_document(rng: random.Random, target: int = 100_000) -> List[Op]:
    doc = rich_text.create()
    ops: List[Op] = []
    size = 0
    while size < target:
        line_words = rng.randint(4, 30)
        for _ in range(line_words):
            word = rng.choice(WORDS) + " "
            roll = rng.random()
            attributes: Dict[str, Any] = {}
            if roll < 0.1:
                attributes = {"bold": True}
            elif roll < 0.15:
                attributes = {"italic": True}
            elif roll < 0.17:
                attributes = {"link": "https://example.com/" + word.strip()}
            ops.append({"insert": word, **({"attributes": attributes} if attributes else {})})
            size += len(word.encode("utf-16-le")) // 2
        roll = rng.random()
        if roll < 0.1:
            ops.append({"insert": "\n", "attributes": {"header": rng.randint(1, 3)}})
        elif roll < 0.2:
            ops.append({"insert": "\n", "attributes": {"list": "bullet"}})
        else:
            ops.append({"insert": "\n"})
        size += 1
    from documents.ot import Delta

    delta = Delta()
    for op in ops:
        delta.insert(op["insert"], op.get("attributes"))
    doc = delta.ops
    return doc


def small_op(rng: random.Random, doc_length: int) -> List[Op]:
    """A typical client edit: one insert/delete/format of 1-50 characters."""
    position = rng.randint(0, doc_length - 60)
    kind = rng.random()
    ops: List[Op] = [{"retain": position}] if position else []
    if kind < 0.55:
        text = "".join(rng.choice("abcdefghij klmnop") for _ in range(rng.randint(1, 50)))
        if rng.random() < 0.1:
            text += "😀"
        op: Op = {"insert": text}
        if rng.random() < 0.3:
            op["attributes"] = {"bold": True}
        ops.append(op)
    elif kind < 0.8:
        ops.append({"delete": rng.randint(1, 50)})
    else:
        ops.append(
            {"retain": rng.randint(1, 50), "attributes": {"italic": True if rng.random() < 0.7 else None}}
        )
    return ops


def make_inputs(seed: int = 1234, count: int = 2000) -> Dict[str, Any]:
    rng = random.Random(seed)
    doc = make_document(rng)
    size = rich_text.length(doc)
    doc_ops = [small_op(rng, size) for _ in range(count)]
    pairs = [(small_op(rng, size), small_op(rng, size)) for _ in range(count)]
    sequential = []
    for _ in range(count):
        first = small_op(rng, size)
        sequential.append((first, small_op(rng, size + rich_text.change_length(first) - 60)))
    cursors = [(rng.randint(0, size), small_op(rng, size)) for _ in range(count)]
    return {"doc": doc, "doc_ops": doc_ops, "pairs": pairs, "sequential": sequential, "cursors": cursors}


def bench(items: Sequence[Any], function: Callable[[Any], Any], min_seconds: float) -> float:
    """Operations per second: best of 3 rounds of at least ``min_seconds``."""
    for item in items[:2000]:
        function(item)
    best = float("inf")
    for _ in range(3):
        count = 0
        start = time.perf_counter()
        while True:
            for item in items:
                function(item)
            count += len(items)
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        best = min(best, elapsed / count)
    return 1 / best


def python_bench(inputs: Dict[str, Any], min_seconds: float) -> Dict[str, float]:
    doc = inputs["doc"]
    return {
        "transform": bench(inputs["pairs"], lambda p: rich_text.transform(p[0], p[1], "left"), min_seconds),
        "compose": bench(inputs["sequential"], lambda p: rich_text.compose(p[0], p[1]), min_seconds),
        "transform_cursor": bench(
            inputs["cursors"], lambda p: rich_text.transform_cursor(p[0], p[1], False), min_seconds
        ),
        "transform_presence": bench(
            inputs["cursors"],
            lambda p: rich_text.transform_presence({"index": p[0], "length": 3}, p[1], False),
            min_seconds,
        ),
        "apply": bench(inputs["doc_ops"][:200], lambda op: rich_text.apply(doc, op), min_seconds),
    }


def js_bench(inputs: Dict[str, Any], min_seconds: float) -> Dict[str, float]:
    js_inputs = dict(inputs)
    js_inputs["doc_ops"] = inputs["doc_ops"][:200]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump(js_inputs, handle, ensure_ascii=True)
        path = handle.name
    try:
        result = subprocess.run(
            ["node", "tools/ot-bench.js", path, str(min_seconds)],
            cwd=ROOT / "frontend",
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        Path(path).unlink()
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=0.5, help="minimum time per timing round")
    parser.add_argument("--no-js", action="store_true", help="skip the Node comparison")
    args = parser.parse_args(list(argv) or None)

    inputs = make_inputs()
    doc = inputs["doc"]
    print(
        f"document: {rich_text.length(doc)} UTF-16 units, {len(doc)} ops, "
        f"{len(json.dumps(doc, ensure_ascii=False).encode()) // 1024} kB JSON; "
        f"{len(inputs['pairs'])} small-op inputs per benchmark"
    )
    python = python_bench(inputs, args.seconds)
    js: Dict[str, float] = {}
    if not args.no_js:
        if shutil.which("node") is None:
            print("node not found: skipping the quill-delta comparison")
        else:
            js = js_bench(inputs, args.seconds)

    rows: List[Tuple[str, str, str, str]] = [("operation", "python ops/s", "quill-delta ops/s", "py/js time")]
    labels = {
        "transform": "transform (small vs small)",
        "compose": "compose (small + small)",
        "transform_cursor": "transform_cursor",
        "transform_presence": "transform_presence",
        "apply": "apply (small op to 100 kB doc)",
    }
    for key, label in labels.items():
        py_rate = python[key]
        js_rate = js.get(key)
        ratio = f"{js_rate / py_rate:.2f}x" if js_rate else "-"
        rows.append((label, f"{py_rate:,.0f}", f"{js_rate:,.0f}" if js_rate else "-", ratio))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for index, row in enumerate(rows):
        print(
            "  ".join(
                cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
            )
        )
        if index == 0:
            print("  ".join("-" * w for w in widths))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
