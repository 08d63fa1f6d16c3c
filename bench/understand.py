"""How fast ``bokvar understand`` reads replies, against plain langdetect on the same lines.

Run from the repository root::

    .venv/bin/python bench/understand.py               # speed, 1,000 lines, in-process
    .venv/bin/python bench/understand.py --lines 5000
    .venv/bin/python bench/understand.py --cli         # also time the real command (a process)
    .venv/bin/python bench/understand.py --accuracy    # accuracy per language and intent

The lines are the evaluation set (``tests/data/replies.jsonl``) repeated to the requested count,
as JSON lines exactly as ``bokvar understand`` reads them. Timing starts after start-up: the
models are warmed on one line first (``messages.language`` builds them once, ~0.3 s), the caches
are then cleared, so repeated lines are not free. The baseline is plain ``langdetect.detect`` on
the same texts (language only, no intent), seeded for determinism. The architecture's target:
1,000 lines in under a second of processing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
EVALUATION_SET = REPO / "tests" / "data" / "replies.jsonl"


def lines(count: int) -> list[str]:
    rows = [line for line in EVALUATION_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = []
    while len(out) < count:
        for row in rows:
            record = json.loads(row)
            out.append(json.dumps({k: record[k] for k in ("text", "awaiting", "language")}, ensure_ascii=False))
            if len(out) == count:
                break
    return out


def clear_caches() -> None:
    from bot.dialogue.normalise import fold
    from messages import language

    fold.cache_clear()
    language._evidence.cache_clear()


def time_understand(batch: list[str]) -> float:
    from bot.commands.understand import answers

    list(answers(batch[:1]))  # start-up: build the models
    clear_caches()
    sink = io.StringIO()
    start = time.perf_counter()
    for answer in answers(batch):
        sink.write(json.dumps(answer, ensure_ascii=False) + "\n")
    return time.perf_counter() - start


def time_langdetect(batch: list[str]) -> float:
    from langdetect import DetectorFactory, LangDetectException, detect

    DetectorFactory.seed = 0
    texts = [json.loads(line)["text"] for line in batch]
    with contextlib.suppress(LangDetectException):
        detect("warm up")
    start = time.perf_counter()
    for text in texts:
        with contextlib.suppress(LangDetectException):
            detect(text)
    return time.perf_counter() - start


def time_cli(batch: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "understand"],
        input="\n".join(batch) + "\n",
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--cli", action="store_true", help="also time `bokvar understand` as a process")
    parser.add_argument("--accuracy", action="store_true", help="print accuracy per language and intent")
    args = parser.parse_args()
    batch = lines(args.lines)

    ours = time_understand(batch)
    baseline = time_langdetect(batch)
    print(f"bokvar understand : {len(batch)} lines in {ours:.3f} s = {len(batch) / ours:,.0f} replies/s")
    print(f"langdetect.detect : {len(batch)} lines in {baseline:.3f} s = {len(batch) / baseline:,.0f} replies/s")
    print(f"ratio             : understand is {baseline / ours:.1f}x langdetect's speed")
    if args.cli:
        total = time_cli(batch)
        print(f"bokvar understand process, start-up included: {total:.2f} s")
    if args.accuracy:
        sys.path.insert(0, str(REPO / "tests" / "dialogue"))
        from evaluation import load, score, table

        s = score(load())
        print()
        print(table(s))
        for miss in s.misses:
            print("miss:", miss)


if __name__ == "__main__":
    main()
