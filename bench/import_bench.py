"""Import parsing on adversarial input: time must grow linearly with size.

Parses hostile Markdown and HTML (backtick runs, nested brackets and emphasis, unclosed tags,
quotes and comments, deep nesting), and Word files of 1,250 to 20,000 formatted paragraphs, at three sizes, 1/16, 1/4 and all of each format's import limit
(convert.MAX_IMPORT_CHARACTERS), and prints each time with its ratio to the smallest size of
the same input, measured in the same run. Linear parsing gives ratios close to the size ratios
(1, 4, 16); a quadratic parser gives their squares (1, 16, 256).

    .venv/bin/python bench/import_bench.py
"""

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from documents import convert  # noqa: E402 (after the path is set)

STEPS = [16, 4, 1]  # fractions of the limit


def repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


INPUTS = {
    "md: backtick runs": ("x.md", lambda n: repeat("`` ` ``` a ", n)),
    "md: one long backtick run": ("x.md", lambda n: repeat("`", n // 2) + " a " + repeat("``", n // 4)),
    "md: nested brackets": ("x.md", lambda n: repeat("[", n // 2) + "a" + repeat("](", n // 2 - 1)),
    "md: unclosed links": ("x.md", lambda n: repeat("[a](<b ", n)),
    "md: emphasis": ("x.md", lambda n: repeat("*a **b _c __", n)),
    "md: nested quotes and lists": ("x.md", lambda n: repeat("> - > 1. ", n)),
    "html: unclosed tags": ("x.html", lambda n: repeat("<a ", n)),
    "html: unclosed end tags": ("x.html", lambda n: repeat("</a ", n)),
    "html: unclosed comments": ("x.html", lambda n: repeat("<!--", n)),
    "html: unclosed quotes": ("x.html", lambda n: '<a x="' + repeat("<b y='", n - 6)),
    "html: deep nesting": (
        "x.html",
        lambda n: repeat("<b><i><div>", n // 2) + repeat("</i></b></div>", n // 2),
    ),
    "html: many formats": ("x.html", lambda n: repeat("<b>x</b><i>y</i>", n)),
}


def word_file(paragraphs: int) -> bytes:
    """A Word file of formatted paragraphs, links and a table row per ten paragraphs."""
    from documents import word

    ops: list[dict[str, object]] = []
    for index in range(paragraphs):
        ops += [
            {"insert": "plain "},
            {"insert": "bold", "attributes": {"bold": True}},
            {"insert": " and "},
            {"insert": "link", "attributes": {"link": "https://example.com/"}},
            {"insert": "\n", "attributes": {"list": "bullet"} if index % 3 else {}},
        ]
    return word.to_docx(ops, title="bench", images=lambda path: None)


def measure_word(data: bytes) -> float:
    start = time.perf_counter()
    convert.import_upload("x.docx", data)
    return time.perf_counter() - start


def measure(name: str, source: str) -> float:
    best = float("inf")
    for _ in range(2 if len(source) < 1_000_000 else 1):
        start = time.perf_counter()
        convert.import_file(name, source)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    print(f"{'input':<30}{'sizes (kB)':<24}{'times (ms)':<32}time ratios (size ratios 1 4 16)")
    worst = 0.0
    for label, (filename, make) in INPUTS.items():
        limit = convert.MAX_IMPORT_CHARACTERS[filename.rsplit(".", 1)[1]]
        sizes = [limit // step for step in STEPS]
        times = [measure(filename, make(size)) for size in sizes]
        ratios = [t / times[0] for t in times]
        worst = max(worst, ratios[-1] / STEPS[0])
        print(
            f"{label:<30}{' '.join(str(s // 1024) for s in sizes):<24}"
            f"{' '.join(f'{t * 1000:.0f}' for t in times):<32}{' '.join(f'{r:.1f}' for r in ratios)}"
        )
    paragraphs = [20_000 // step for step in STEPS]
    files = [word_file(count) for count in paragraphs]
    times = [measure_word(data) for data in files]
    ratios = [t / times[0] for t in times]
    worst = max(worst, ratios[-1] / STEPS[0])
    print(
        f"{'docx: formatted paragraphs':<30}{' '.join(str(len(d) // 1024) for d in files):<24}"
        f"{' '.join(f'{t * 1000:.0f}' for t in times):<32}{' '.join(f'{r:.1f}' for r in ratios)}"
    )
    print(f"worst growth at the limit relative to linear: {worst:.2f}x (1.0 = linear, 16 = quadratic)")


if __name__ == "__main__":
    main()
