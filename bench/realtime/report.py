"""The printed table, the headline ratios against issue 9's targets, and the JSON / Markdown files."""

import json
from collections import Counter
from pathlib import Path
from typing import Any

COLUMNS = [
    ("workload", "workload", "{}"),
    ("system", "system", "{}"),
    ("clients", "clients", "{}"),
    ("ops_per_s", "ops/s", "{:.0f}"),
    ("ack_p50", "ack p50 ms", "{:.1f}"),
    ("ack_p99", "ack p99 ms", "{:.1f}"),
    ("bcast_p50", "bcast p50 ms", "{:.1f}"),
    ("bcast_p99", "bcast p99 ms", "{:.1f}"),
    ("cpu_us_per_op", "CPU µs/op", "{:.0f}"),
    ("server_cpu_pct", "server CPU %", "{:.0f}"),
    ("rss_kb_per_idle", "RSS kB/idle conn", "{:.1f}"),
    ("errors", "errors", "{}"),
    ("converged", "converged", "{}"),
    ("loadgen_cpu_pct", "loadgen CPU %", "{:.0f}"),
]


def targets(w4_sizes: list[int]) -> list[tuple[str, str, str, str, str, float]]:
    """Issue 9, point 2: (label, workload, metric, ShareDB system, comparison, bound)."""
    rows = [
        ("W1 ops/s ≥ 3× ShareDB+PG", "W1", "ops_per_s", "sharedb-pg", ">=", 3.0),
        ("W1 ack p99 ≤ 0.5× ShareDB+PG", "W1", "ack_p99", "sharedb-pg", "<=", 0.5),
        ("W1 ops/s vs ShareDB in memory (aim)", "W1", "ops_per_s", "sharedb-mem", ">=", 1.0),
        ("W3 ops/s ≥ 2× ShareDB+PG", "W3", "ops_per_s", "sharedb-pg", ">=", 2.0),
        ("W2 ack p99 ≤ 2× ShareDB in memory", "W2", "ack_p99", "sharedb-mem", "<=", 2.0),
        ("W2 bcast p99 ≤ 2× ShareDB in memory", "W2", "bcast_p99", "sharedb-mem", "<=", 2.0),
    ]
    for n in w4_sizes:
        rows.append((f"W4-{n} fan-out p99 ≤ ShareDB+PG", f"W4-{n}", "bcast_p99", "sharedb-pg", "<=", 1.0))
        rows.append(
            (f"W4-{n} RSS/idle conn ≤ 1.5× ShareDB+PG", f"W4-{n}", "rss_kb_per_idle", "sharedb-pg", "<=", 1.5)
        )
    rows.append(("W5 authors ≥ 2× ShareDB+PG", "W5", "authors", "sharedb-pg", ">=", 2.0))
    rows.append(("W5 authors ≥ 0.75× ShareDB in memory", "W5", "authors", "sharedb-mem", ">=", 0.75))
    return rows


COLLAB_SYSTEMS = ["collab-1p", "collab-2p", "collab-2p-doc"]


def cell(row: dict[str, Any], key: str, fmt: str) -> str:
    if row.get("fatal") and key not in ("workload", "system", "clients", "errors", "converged"):
        return "FAILED" if key == "ops_per_s" else "-"
    value = row.get(key)
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return fmt.format(value)


def table(rows: list[dict[str, Any]]) -> list[list[str]]:
    return [[cell(r, key, fmt) for key, _, fmt in COLUMNS] for r in rows]


def text_table(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in body]
    return "\n".join(lines)


def markdown_table(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)


def w5_crossings(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per system: the first author count whose ack p95 exceeded the limit (None: never, up to the max)."""
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        if not r["workload"].startswith("W5-"):
            continue
        entry = out.setdefault(
            r["system"], {"authors": None, "last_below": None, "max_tried": 0, "loadgen_bound": False}
        )
        entry["max_tried"] = max(entry["max_tried"], r["clients"])
        if r.get("fatal") or (r.get("ack_p95") or 0) > 100.0:
            entry["authors"] = entry["authors"] or r["clients"]
        else:
            entry["last_below"] = r["clients"]
        entry["loadgen_bound"] |= (r.get("loadgen_cpu_pct") or 0) >= 90
    return out


def ratios(rows: list[dict[str, Any]], w4_sizes: list[int]) -> list[dict[str, Any]]:
    by = {(r["workload"], r["system"]): r for r in rows}
    crossings = w5_crossings(rows)
    out = []
    for collab in [c for c in COLLAB_SYSTEMS if any(r["system"] == c for r in rows)]:
        for label, workload, metric, ref, op, bound in targets(w4_sizes):
            # W5: a system that never crossed counts at the largest N tried, so the ratio is a bound.
            kind = ""
            if workload == "W5":
                mine_entry, theirs_entry = crossings.get(collab, {}), crossings.get(ref, {})
                mine = mine_entry.get("authors") or mine_entry.get("max_tried")
                theirs = theirs_entry.get("authors") or theirs_entry.get("max_tried")
                # Never crossed: the real N is above the largest tried. Crossed at the first step:
                # it is at or below it. Either way the ratio is only a bound.
                mine_up = not mine_entry.get("authors")
                mine_down = bool(mine_entry.get("authors")) and mine_entry.get("last_below") is None
                theirs_up = not theirs_entry.get("authors")
                theirs_down = bool(theirs_entry.get("authors")) and theirs_entry.get("last_below") is None
                lower = mine_up or theirs_down  # the ratio is at least this
                upper = mine_down or theirs_up  # the ratio is at most this
                kind = "?" if lower and upper else "≥" if lower else "≤" if upper else ""
                # Each true crossing lies between a system's last step below and its first above:
                # the ratio is at least collab's last below over ShareDB's first above, and a
                # ">=" target is met only if that least ratio meets it.
                mine_least = mine_entry.get("last_below") if mine_entry.get("authors") else mine
                theirs_most = theirs_entry.get("authors")
                least = mine_least / theirs_most if mine_least and theirs_most else None
                theirs_least = theirs_entry.get("last_below")
                most = mine / theirs_least if mine_entry.get("authors") and theirs_least else None
                span = (least, most)
            else:
                span = None
                a, b = by.get((workload, collab)), by.get((workload, ref))
                mine = a.get(metric) if a and not a.get("fatal") else None
                theirs = b.get(metric) if b and not b.get("fatal") else None
            if not mine or not theirs:
                out.append({"collab": collab, "target": label, "ratio": None, "met": False})
                continue
            ratio = mine / theirs
            met = ratio >= bound if op == ">=" else ratio <= bound
            if span is not None:  # (no least ratio when only a bound is known: "≤" or "?")
                met = span[0] is not None and span[0] >= bound
            out.append(
                {
                    "collab": collab,
                    "target": label,
                    "ratio": ratio,
                    "span": span,
                    "bound": kind,
                    "met": met,
                    "collab_value": mine,
                    "sharedb_value": theirs,
                }
            )
        runs = [r for r in rows if r["system"] == collab]
        converged = sum(1 for r in runs if r.get("converged"))
        out.append(
            {
                "collab": collab,
                "target": "every run converged within 1 s",
                "ratio": None,
                "met": bool(runs) and converged == len(runs),
                "detail": f"{converged}/{len(runs)} runs",
            }
        )
    return out


def ratio_lines(items: list[dict[str, Any]]) -> list[list[str]]:
    body = []
    for item in items:
        value = (
            f"{item.get('bound', '')}{item['ratio']:.2f}×"
            if item["ratio"] is not None
            else item.get("detail", "n/a")
        )
        span = item.get("span")
        if item["ratio"] is not None and span and span[0] is not None:
            value += f" (at least {span[0]:.2f}×" + (f", at most {span[1]:.2f}×)" if span[1] else ")")
        body.append([item["collab"], item["target"], value, "met" if item["met"] else "NOT MET"])
    return body


def _frame(text: str) -> str:
    """ "submit (documents/services/submit.py:168)" -> "submit (services/submit.py)"."""
    name, _, where = text.rpartition(" (")
    if not name:
        return text
    path = where.rstrip(")").rsplit(":", 1)[0]
    return f"{name} ({'/'.join(path.split('/')[-2:])})"


def profile_summary(path: Path, seconds: float, rate: int = 100, top: int = 15) -> str:
    """Where the busy time goes, from py-spy's collapsed stacks (idle samples are not recorded):
    how busy each thread was, the functions with the most self time, and collab's own functions by
    inclusive time."""
    if not path.exists():
        return "(no profile)"
    threads: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        thread, *frames = stack.split(";")
        name = thread.partition(": ")[2] or thread
        threads["database worker threads (pool)" if name.startswith("asyncio_") else name] += n
        frames = [_frame(f) for f in frames]
        total += n
        if frames:
            own[frames[-1]] += n
        for frame in set(frames):
            if frame.split(" (")[-1].startswith(("services/", "consumers/", "documents/", "ot/", "collab/")):
                inclusive[frame] += n
    if not total:
        return "(empty profile)"
    window = seconds * rate
    lines = [f"busy samples per thread over the {seconds:.0f} s window (100% = one core):"]
    lines += [f"  {n / window * 100:5.1f}%  {name}" for name, n in threads.most_common()]
    lines += [f"self time, share of all busy samples ({total}):"]
    lines += [f"  {n / total * 100:5.1f}%  {name}" for name, n in own.most_common(top)]
    lines += ["collab's functions, inclusive time, share of all busy samples:"]
    lines += [f"  {n / total * 100:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(lines)


def write(
    out_dir: Path,
    label: str,
    meta: dict[str, Any],
    rows: list[dict[str, Any]],
    items: list[dict[str, Any]],
    profile: str | None,
) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"realtime-{label}.json"
    md_path = out_dir / f"realtime-{label}.md"
    json_path.write_text(json.dumps({"meta": meta, "rows": rows, "targets": items}, indent=1))
    header = [title for _, title, _ in COLUMNS]
    parts = [
        f"# Real-time benchmark: {label}",
        "",
        f"`{meta['command']}` — {meta['date']}, {meta['machine']}",
        "",
        markdown_table(header, table(rows)),
        "",
        "## Targets (issue 9, point 2): collab / ShareDB, same run",
        "",
        markdown_table(["collab", "target", "ratio", ""], ratio_lines(items)),
    ]
    if profile:
        parts += ["", "## Profile of collab-1p under W1", "", "```", profile, "```"]
    md_path.write_text("\n".join(parts) + "\n")
    return json_path, md_path
