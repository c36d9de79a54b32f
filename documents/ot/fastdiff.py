"""Text diff with the exact semantics of the ``fast-diff`` npm package.

quill-delta's ``Delta.diff`` is defined by the output of ``fast-diff`` (a
trimmed-down diff-match-patch: Myers' O(ND) bisection with common
prefix/suffix stripping, the half-match speed-up and the cleanup-merge
pass).  To produce the same deltas we reimplement the same algorithm and
tie-breaking rules here.

Inputs are *unit strings*: one Python character per UTF-16 code unit (see
``utf16.to_units``), so indexes and lengths are JavaScript ones.

* ``diff(a, b)`` matches fast-diff 1.2.0 (used by quill-delta 4.2.2, i.e.
  by ``rich-text``): no semantic cleanup.
* ``diff(a, b, cleanup=True)`` matches fast-diff 1.3.0 as called by
  quill-delta 5.x (``diff(a, b, cursor, true)``): adds ``cleanupSemantic``.

Where fast-diff never terminates (it overflows the JavaScript stack on some
texts with unpaired surrogates) ``DiffDoesNotTerminate`` is raised.

Only the lengths of the components matter to ``Delta.diff``, but the full
component texts are returned for testing.
"""

from __future__ import annotations

import math
import re
from typing import Dict, List, Optional, Tuple

__all__ = ["DELETE", "EQUAL", "INSERT", "Diff", "DiffDoesNotTerminate", "diff"]

DELETE = -1
INSERT = 1
EQUAL = 0

Diff = List[object]  # [op, text] (mutable pair, as in the JavaScript code)
Diffs = List[Diff]


def diff(text1: str, text2: str, cleanup: bool = False) -> List[Tuple[int, str]]:
    """Diff two unit strings; returns ``(op, text)`` pairs."""
    try:
        diffs = _diff_main(text1, text2, fix_unicode=True)
    except RecursionError as error:
        # Some texts with unpaired surrogates make fast-diff recurse forever
        # (diff_main -> bisect -> diff_main ...); JavaScript overflows its stack.
        raise DiffDoesNotTerminate("Maximum call stack size exceeded (fast-diff recursion)") from error
    if cleanup:
        _cleanup_semantic(diffs)
    return [(d[0], d[1]) for d in diffs]  # type: ignore[misc]


# --------------------------------------------------------------- main driver


def _diff_main(text1: str, text2: str, fix_unicode: bool = False) -> Diffs:
    if text1 == text2:
        return [[EQUAL, text1]] if text1 else []
    common = _common_prefix(text1, text2)
    prefix = text1[:common]
    text1 = text1[common:]
    text2 = text2[common:]
    common = _common_suffix(text1, text2)
    suffix = text1[len(text1) - common :]
    text1 = text1[: len(text1) - common]
    text2 = text2[: len(text2) - common]
    diffs = _compute(text1, text2)
    if prefix:
        diffs.insert(0, [EQUAL, prefix])
    if suffix:
        diffs.append([EQUAL, suffix])
    _cleanup_merge(diffs, fix_unicode)
    return diffs


def _compute(text1: str, text2: str) -> Diffs:
    if not text1:
        return [[INSERT, text2]]
    if not text2:
        return [[DELETE, text1]]
    if len(text1) > len(text2):
        longtext, shorttext = text1, text2
    else:
        longtext, shorttext = text2, text1
    i = longtext.find(shorttext)
    if i != -1:
        edit = DELETE if len(text1) > len(text2) else INSERT
        return [
            [edit, longtext[:i]],
            [EQUAL, shorttext],
            [edit, longtext[i + len(shorttext) :]],
        ]
    if len(shorttext) == 1:
        return [[DELETE, text1], [INSERT, text2]]
    hm = _half_match(text1, text2)
    if hm is not None:
        text1_a, text1_b, text2_a, text2_b, mid_common = hm
        diffs_a = _diff_main(text1_a, text2_a)
        diffs_b = _diff_main(text1_b, text2_b)
        return diffs_a + [[EQUAL, mid_common]] + diffs_b
    return _bisect(text1, text2)


def _bisect(text1: str, text2: str) -> Diffs:
    """Myers' middle-snake search, mirrored from diff-match-patch."""
    len1 = len(text1)
    len2 = len(text2)
    max_d = (len1 + len2 + 1) // 2
    v_offset = max_d
    v_length = 2 * max_d
    v1 = [-1] * v_length
    v2 = [-1] * v_length
    v1[v_offset + 1] = 0
    v2[v_offset + 1] = 0
    delta = len1 - len2
    front = delta % 2 != 0
    k1start = k1end = k2start = k2end = 0
    for d in range(max_d):
        # The loop bounds move while looping (k1end/k2end change inside), so
        # these are while loops re-reading them, exactly like the JS for-loops.
        k1 = -d + k1start
        while k1 <= d - k1end:
            k1_offset = v_offset + k1
            if k1 == -d or (k1 != d and v1[k1_offset - 1] < v1[k1_offset + 1]):
                x1 = v1[k1_offset + 1]
            else:
                x1 = v1[k1_offset - 1] + 1
            y1 = x1 - k1
            while x1 < len1 and y1 < len2 and text1[x1] == text2[y1]:
                x1 += 1
                y1 += 1
            v1[k1_offset] = x1
            if x1 > len1:
                k1end += 2
            elif y1 > len2:
                k1start += 2
            elif front:
                k2_offset = v_offset + delta - k1
                if 0 <= k2_offset < v_length and v2[k2_offset] != -1:
                    x2 = len1 - v2[k2_offset]
                    if x1 >= x2:
                        return _bisect_split(text1, text2, x1, y1)
            k1 += 2
        k2 = -d + k2start
        while k2 <= d - k2end:
            k2_offset = v_offset + k2
            if k2 == -d or (k2 != d and v2[k2_offset - 1] < v2[k2_offset + 1]):
                x2 = v2[k2_offset + 1]
            else:
                x2 = v2[k2_offset - 1] + 1
            y2 = x2 - k2
            while x2 < len1 and y2 < len2 and text1[len1 - x2 - 1] == text2[len2 - y2 - 1]:
                x2 += 1
                y2 += 1
            v2[k2_offset] = x2
            if x2 > len1:
                k2end += 2
            elif y2 > len2:
                k2start += 2
            elif not front:
                k1_offset = v_offset + delta - k2
                if 0 <= k1_offset < v_length and v1[k1_offset] != -1:
                    x1 = v1[k1_offset]
                    y1 = v_offset + x1 - k1_offset
                    x2 = len1 - x2
                    if x1 >= x2:
                        return _bisect_split(text1, text2, x1, y1)
            k2 += 2
    return [[DELETE, text1], [INSERT, text2]]


def _bisect_split(text1: str, text2: str, x: int, y: int) -> Diffs:
    diffs = _diff_main(text1[:x], text2[:y])
    return diffs + _diff_main(text1[x:], text2[y:])


# ------------------------------------------------------ prefixes and suffixes


def _is_high(ch: str) -> bool:
    return "\ud800" <= ch <= "\udbff"


def _is_low(ch: str) -> bool:
    return "\udc00" <= ch <= "\udfff"


def _common_prefix(text1: str, text2: str) -> int:
    """Length of the common prefix, never ending inside a surrogate pair."""
    if not text1 or not text2 or text1[0] != text2[0]:
        return 0
    lo = 0
    hi = min(len(text1), len(text2))
    mid = hi
    start = 0
    while lo < mid:
        if text1[start:mid] == text2[start:mid]:
            lo = mid
            start = lo
        else:
            hi = mid
        mid = (hi - lo) // 2 + lo
    if mid > 0 and _is_high(text1[mid - 1]):
        mid -= 1
    return mid


def _common_suffix(text1: str, text2: str) -> int:
    """Length of the common suffix, never starting inside a surrogate pair."""
    if not text1 or not text2 or text1[-1] != text2[-1]:
        return 0
    lo = 0
    hi = min(len(text1), len(text2))
    mid = hi
    end = 0
    n1 = len(text1)
    n2 = len(text2)
    while lo < mid:
        if text1[n1 - mid : n1 - end] == text2[n2 - mid : n2 - end]:
            lo = mid
            end = lo
        else:
            hi = mid
        mid = (hi - lo) // 2 + lo
    if mid > 0 and _is_low(text1[n1 - mid]):
        mid -= 1
    return mid


_HalfMatch = Tuple[str, str, str, str, str]


def _half_match_at(longtext: str, shorttext: str, i: int) -> Optional[_HalfMatch]:
    seed = longtext[i : i + len(longtext) // 4]
    j = -1
    best_common = ""
    best = ("", "", "", "")
    while True:
        j = shorttext.find(seed, j + 1)
        if j == -1:
            break
        prefix_length = _common_prefix(longtext[i:], shorttext[j:])
        suffix_length = _common_suffix(longtext[:i], shorttext[:j])
        if len(best_common) < suffix_length + prefix_length:
            best_common = shorttext[j - suffix_length : j] + shorttext[j : j + prefix_length]
            best = (
                longtext[: i - suffix_length],
                longtext[i + prefix_length :],
                shorttext[: j - suffix_length],
                shorttext[j + prefix_length :],
            )
    if len(best_common) * 2 >= len(longtext):
        return (*best, best_common)
    return None


def _half_match(text1: str, text2: str) -> Optional[_HalfMatch]:
    if len(text1) > len(text2):
        longtext, shorttext = text1, text2
    else:
        longtext, shorttext = text2, text1
    if len(longtext) < 4 or len(shorttext) * 2 < len(longtext):
        return None
    hm1 = _half_match_at(longtext, shorttext, math.ceil(len(longtext) / 4))
    hm2 = _half_match_at(longtext, shorttext, math.ceil(len(longtext) / 2))
    if hm1 is None and hm2 is None:
        return None
    if hm2 is None:
        hm = hm1
    elif hm1 is None:
        hm = hm2
    else:
        hm = hm1 if len(hm1[4]) > len(hm2[4]) else hm2
    assert hm is not None
    if len(text1) > len(text2):
        return hm
    return (hm[2], hm[3], hm[0], hm[1], hm[4])


# ------------------------------------------------------------ cleanup merge


class DiffDoesNotTerminate(ValueError):
    """fast-diff recurses forever on this input (JavaScript: RangeError).

    Happens with unpaired surrogates: the JS ``diff_cleanupMerge`` keeps
    shifting an edit back and forth until the call stack overflows.
    """


#: Passes after which JavaScript would certainly have overflowed its stack.
MAX_MERGE_PASSES = 10_000


def _cleanup_merge(diffs: Diffs, fix_unicode: bool) -> None:
    """Merge like edits, factor common affixes out, shift single edits.

    JavaScript recurses once per pass; a pass sequence that revisits a
    state (or runs absurdly long) would recurse forever there, so it raises.
    """
    seen = set()
    for _ in range(MAX_MERGE_PASSES):
        _merge_pass(diffs, fix_unicode)
        if not _shift_pass(diffs):
            return
        state = tuple((op, text) for op, text in diffs)
        if state in seen:
            break
        seen.add(state)
    raise DiffDoesNotTerminate("Maximum call stack size exceeded (fast-diff cannot diff these texts)")


def _merge_pass(diffs: Diffs, fix_unicode: bool) -> None:  # noqa: C901 - mirrors JS
    diffs.append([EQUAL, ""])
    pointer = 0
    count_delete = 0
    count_insert = 0
    text_delete = ""
    text_insert = ""
    while pointer < len(diffs):
        if pointer < len(diffs) - 1 and not diffs[pointer][1]:
            del diffs[pointer]
            continue
        op = diffs[pointer][0]
        if op == INSERT:
            count_insert += 1
            text_insert += diffs[pointer][1]  # type: ignore[operator]
            pointer += 1
            continue
        if op == DELETE:
            count_delete += 1
            text_delete += diffs[pointer][1]  # type: ignore[operator]
            pointer += 1
            continue
        previous_equality = pointer - count_insert - count_delete - 1
        if fix_unicode:
            prev_text: str = diffs[previous_equality][1] if previous_equality >= 0 else ""  # type: ignore[assignment]
            if previous_equality >= 0 and prev_text and _is_high(prev_text[-1]):
                stray = prev_text[-1]
                diffs[previous_equality][1] = prev_text[:-1]
                text_delete = stray + text_delete
                text_insert = stray + text_insert
                if not diffs[previous_equality][1]:
                    del diffs[previous_equality]
                    pointer -= 1
                    k = previous_equality - 1
                    if k >= 0 and diffs[k][0] == INSERT:
                        count_insert += 1
                        text_insert = diffs[k][1] + text_insert  # type: ignore[operator]
                        k -= 1
                    if k >= 0 and diffs[k][0] == DELETE:
                        count_delete += 1
                        text_delete = diffs[k][1] + text_delete  # type: ignore[operator]
                        k -= 1
                    previous_equality = k
            cur_text: str = diffs[pointer][1]  # type: ignore[assignment]
            if cur_text and _is_low(cur_text[0]):
                stray = cur_text[0]
                diffs[pointer][1] = cur_text[1:]
                text_delete += stray
                text_insert += stray
        if pointer < len(diffs) - 1 and not diffs[pointer][1]:
            del diffs[pointer]
            continue
        if text_delete or text_insert:
            if text_delete and text_insert:
                common = _common_prefix(text_insert, text_delete)
                if common:
                    if previous_equality >= 0:
                        diffs[previous_equality][1] += text_insert[:common]  # type: ignore[operator]
                    else:
                        diffs.insert(0, [EQUAL, text_insert[:common]])
                        pointer += 1
                    text_insert = text_insert[common:]
                    text_delete = text_delete[common:]
                common = _common_suffix(text_insert, text_delete)
                if common:
                    diffs[pointer][1] = text_insert[len(text_insert) - common :] + diffs[pointer][1]  # type: ignore[operator]
                    text_insert = text_insert[: len(text_insert) - common]
                    text_delete = text_delete[: len(text_delete) - common]
            n = count_insert + count_delete
            if not text_delete and not text_insert:
                del diffs[pointer - n : pointer]
                pointer -= n
            elif not text_delete:
                diffs[pointer - n : pointer] = [[INSERT, text_insert]]
                pointer = pointer - n + 1
            elif not text_insert:
                diffs[pointer - n : pointer] = [[DELETE, text_delete]]
                pointer = pointer - n + 1
            else:
                diffs[pointer - n : pointer] = [[DELETE, text_delete], [INSERT, text_insert]]
                pointer = pointer - n + 2
        if pointer != 0 and diffs[pointer - 1][0] == EQUAL:
            diffs[pointer - 1][1] += diffs[pointer][1]  # type: ignore[operator]
            del diffs[pointer]
        else:
            pointer += 1
        count_insert = 0
        count_delete = 0
        text_delete = ""
        text_insert = ""
    if diffs and diffs[-1][1] == "":
        diffs.pop()


def _shift_pass(diffs: Diffs) -> bool:
    """Shift single edits over neighbouring equalities (A<ins>BA</ins>C)."""
    changes = False
    pointer = 1
    while pointer < len(diffs) - 1:
        if diffs[pointer - 1][0] == EQUAL and diffs[pointer + 1][0] == EQUAL:
            prev: str = diffs[pointer - 1][1]  # type: ignore[assignment]
            cur: str = diffs[pointer][1]  # type: ignore[assignment]
            nxt: str = diffs[pointer + 1][1]  # type: ignore[assignment]
            if cur[max(0, len(cur) - len(prev)) :] == prev:
                diffs[pointer][1] = prev + cur[: max(0, len(cur) - len(prev))]
                diffs[pointer + 1][1] = prev + nxt
                del diffs[pointer - 1]
                changes = True
            elif cur[: len(nxt)] == nxt:
                diffs[pointer - 1][1] = prev + nxt
                diffs[pointer][1] = cur[len(nxt) :] + nxt
                del diffs[pointer + 1]
                changes = True
        pointer += 1
    return changes


# ----------------------------------------- semantic cleanup (fast-diff 1.3)


def _common_overlap(text1: str, text2: str) -> int:
    len1 = len(text1)
    len2 = len(text2)
    if len1 == 0 or len2 == 0:
        return 0
    if len1 > len2:
        text1 = text1[len1 - len2 :]
    elif len1 < len2:
        text2 = text2[:len1]
    text_length = min(len1, len2)
    if text1 == text2:
        return text_length
    best = 0
    length = 1
    while True:
        pattern = text1[text_length - length :]
        found = text2.find(pattern)
        if found == -1:
            return best
        length += found
        if found == 0 or text1[text_length - length :] == text2[:length]:
            best = length
            length += 1


def _cleanup_semantic(diffs: Diffs) -> None:  # noqa: C901 - mirrors JS
    changes = False
    # JavaScript array indexed by a counter that may dip to -1: a dict
    # reproduces reads/writes of the "-1" slot faithfully.
    equalities: Dict[int, int] = {}
    eq_len = 0
    lastequality: Optional[str] = None
    pointer = 0
    ins1 = del1 = ins2 = del2 = 0
    while pointer < len(diffs):
        op, text = diffs[pointer]
        if op == EQUAL:
            equalities[eq_len] = pointer
            eq_len += 1
            ins1, del1 = ins2, del2
            ins2 = del2 = 0
            lastequality = text  # type: ignore[assignment]
        else:
            if op == INSERT:
                ins2 += len(text)  # type: ignore[arg-type]
            else:
                del2 += len(text)  # type: ignore[arg-type]
            if lastequality and len(lastequality) <= max(ins1, del1) and len(lastequality) <= max(ins2, del2):
                where = equalities[eq_len - 1]
                diffs.insert(where, [DELETE, lastequality])
                diffs[where + 1][0] = INSERT
                eq_len -= 2
                pointer = equalities[eq_len - 1] if eq_len > 0 else -1
                ins1 = del1 = ins2 = del2 = 0
                lastequality = None
                changes = True
        pointer += 1
    if changes:
        _cleanup_merge(diffs, False)
    _cleanup_semantic_lossless(diffs)
    _extract_overlaps(diffs)


def _extract_overlaps(diffs: Diffs) -> None:
    pointer = 1
    while pointer < len(diffs):
        if diffs[pointer - 1][0] == DELETE and diffs[pointer][0] == INSERT:
            deletion: str = diffs[pointer - 1][1]  # type: ignore[assignment]
            insertion: str = diffs[pointer][1]  # type: ignore[assignment]
            overlap1 = _common_overlap(deletion, insertion)
            overlap2 = _common_overlap(insertion, deletion)
            if overlap1 >= overlap2:
                if overlap1 >= len(deletion) / 2 or overlap1 >= len(insertion) / 2:
                    diffs.insert(pointer, [EQUAL, insertion[:overlap1]])
                    diffs[pointer - 1][1] = deletion[: len(deletion) - overlap1]
                    diffs[pointer + 1][1] = insertion[overlap1:]
                    pointer += 1
            elif overlap2 >= len(deletion) / 2 or overlap2 >= len(insertion) / 2:
                diffs.insert(pointer, [EQUAL, deletion[:overlap2]])
                diffs[pointer - 1][0] = INSERT
                diffs[pointer - 1][1] = insertion[: len(insertion) - overlap2]
                diffs[pointer + 1][0] = DELETE
                diffs[pointer + 1][1] = deletion[overlap2:]
                pointer += 1
            pointer += 1
        pointer += 1


_NON_ALNUM = re.compile(r"[^a-zA-Z0-9]")
# JavaScript's \s (differs from Python's: no \x1c-\x1f/\x85, adds \ufeff)
_JS_SPACE = re.compile("[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]")
_LINE_BREAK = re.compile(r"[\r\n]")
_BLANK_END = re.compile(r"\n\r?\n\Z")
_BLANK_START = re.compile(r"\r?\n\r?\n")


def _semantic_score(one: str, two: str) -> int:
    if not one or not two:
        return 6
    char1 = one[-1]
    char2 = two[0]
    non_alnum1 = _NON_ALNUM.match(char1) is not None
    non_alnum2 = _NON_ALNUM.match(char2) is not None
    space1 = non_alnum1 and _JS_SPACE.match(char1) is not None
    space2 = non_alnum2 and _JS_SPACE.match(char2) is not None
    break1 = space1 and _LINE_BREAK.match(char1) is not None
    break2 = space2 and _LINE_BREAK.match(char2) is not None
    blank1 = break1 and _BLANK_END.search(one) is not None
    blank2 = break2 and _BLANK_START.match(two) is not None
    if blank1 or blank2:
        return 5
    if break1 or break2:
        return 4
    if non_alnum1 and not space1 and space2:
        return 3
    if space1 or space2:
        return 2
    if non_alnum1 or non_alnum2:
        return 1
    return 0


def _cleanup_semantic_lossless(diffs: Diffs) -> None:
    pointer = 1
    while pointer < len(diffs) - 1:
        if diffs[pointer - 1][0] == EQUAL and diffs[pointer + 1][0] == EQUAL:
            equality1: str = diffs[pointer - 1][1]  # type: ignore[assignment]
            edit: str = diffs[pointer][1]  # type: ignore[assignment]
            equality2: str = diffs[pointer + 1][1]  # type: ignore[assignment]
            common = _common_suffix(equality1, edit)
            if common:
                common_string = edit[len(edit) - common :]
                equality1 = equality1[: len(equality1) - common]
                edit = common_string + edit[: len(edit) - common]
                equality2 = common_string + equality2
            best1, best_edit, best2 = equality1, edit, equality2
            best_score = _semantic_score(equality1, edit) + _semantic_score(edit, equality2)
            while edit[:1] == equality2[:1]:
                equality1 += edit[:1]
                edit = edit[1:] + equality2[:1]
                equality2 = equality2[1:]
                score = _semantic_score(equality1, edit) + _semantic_score(edit, equality2)
                if score >= best_score:
                    best_score = score
                    best1, best_edit, best2 = equality1, edit, equality2
            if diffs[pointer - 1][1] != best1:
                if best1:
                    diffs[pointer - 1][1] = best1
                else:
                    del diffs[pointer - 1]
                    pointer -= 1
                diffs[pointer][1] = best_edit
                if best2:
                    diffs[pointer + 1][1] = best2
                else:
                    del diffs[pointer + 1]
                    pointer -= 1
        pointer += 1
