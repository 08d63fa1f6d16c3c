"""Language-identification benchmark: Bokvar's ``messages.language.detect`` against plain detectors.

Run from the repository root::

    .venv/bin/python bench/langid.py                 # Bokvar + langdetect + lingua low/high
    .venv/bin/python bench/langid.py --detectors bokvar,langdetect
    .venv/bin/python bench/langid.py --data /path/to/langid

Data: ``../shared/langid/`` beside the repository (see its ``SOURCES.md``): single words, word
pairs and sentences from lingua's test set, Tatoeba sentences of 1-10 words, Tigrinya from HornMT.
It is a measure, not training data: nothing in ``messages/`` is derived from it.

What is scored, and why:

* Rows whose language ``detect`` can return: the catalogue (sv en ar so fa ti bs tr pl uk fi),
  Bosnian/Croatian/Serbian scored as one group ("bs" = any of the three), and Russian (a distinct
  Cyrillic outcome, so Ukrainian vs Russian is measured both ways). Rows in other languages
  (de, es, nb, nn, da, ku) are skipped: every detector here is, or is compared as, restricted to
  our languages, so it could only get them wrong.
* Macro accuracy: the mean over languages of each language's accuracy, so no language weighs
  more because the source has more of its lines.
* "With prior": each row gets a tenant's known language that is the true one 80 % of the time and
  another catalogue language (uniformly) otherwise, from a seeded generator keyed by bucket and row,
  so every detector sees the same priors.
* Speed and memory: each detector runs in its own fresh Python process (started by this script),
  so its peak RSS (``ru_maxrss``) is its own. Detections/s is over the no-prior pass of all scored
  rows, after the detector is built, with a cold cache.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "langid"

CATALOGUE: tuple[str, ...] = ("sv", "en", "ar", "so", "fa", "ti", "bs", "tr", "pl", "uk", "fi")
GROUP = {"hr": "bs", "sr": "bs"}  # the Bosnian/Croatian/Serbian group, scored as "bs"
SCORED = frozenset((*CATALOGUE, "ru"))
PRIOR_ACCURACY = 0.8
DETECTORS = ("bokvar", "langdetect", "lingua-low", "lingua-high")
# Plain detectors get the prior the way Bokvar does (a likelihood factor), so the comparison is
# about the detector; langdetect gets it through its own ``prior_map``.
BASELINE_PRIOR_WEIGHT = 12.0

Detect = Callable[[str, str | None], str | None]


@dataclass(frozen=True)
class Bucket:
    """One line of the report: a file (or a slice of it by word count)."""

    name: str
    path: str
    min_words: int = 0
    max_words: int = 10_000


BUCKETS: tuple[Bucket, ...] = (
    Bucket("single words", "lingua/words.tsv"),
    Bucket("word pairs", "lingua/pairs.tsv"),
    Bucket("sentences", "lingua/sentences.tsv"),
    Bucket("Tatoeba 1-3 words", "tatoeba/short.tsv", 1, 3),
    Bucket("Tatoeba 4-6 words", "tatoeba/short.tsv", 4, 6),
    Bucket("Tatoeba 7-10 words", "tatoeba/short.tsv", 7, 10),
    Bucket("Tigrinya words", "hornmt/words.tsv"),
    Bucket("Tigrinya pairs", "hornmt/pairs.tsv"),
    Bucket("Tigrinya sentences", "hornmt/sentences.tsv"),
)


def load(data: Path, bucket: Bucket) -> tuple[list[tuple[str, str]], int]:
    """(language, text) rows of a bucket that we score, and how many rows were skipped."""
    rows: list[tuple[str, str]] = []
    skipped = 0
    with (data / bucket.path).open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            language, text = line.rstrip("\n").split("\t", 1)
            if not bucket.min_words <= len(text.split()) <= bucket.max_words:
                continue
            language = GROUP.get(language, language)
            if language in SCORED:
                rows.append((language, text))
            else:
                skipped += 1
    return rows, skipped


def simulated_prior(seed: int, bucket: str, index: int, truth: str) -> str:
    """The tenant's known language: right 80 % of the time, else another catalogue language."""
    rng = random.Random(f"{seed}:{bucket}:{index}")
    if rng.random() < PRIOR_ACCURACY:
        return truth
    return rng.choice([code for code in CATALOGUE if code != truth])


def macro_accuracy(rows: Sequence[tuple[str, str]], predictions: Sequence[str | None]) -> float:
    """Mean over languages of the share of that language's rows predicted right."""
    right: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for (truth, _), predicted in zip(rows, predictions, strict=True):
        total[truth] += 1
        right[truth] += GROUP.get(predicted or "", predicted) == truth
    return sum(right[lang] / total[lang] for lang in total) / len(total)


# --- detectors (each built inside its worker process) ----------------------------------------


def build_bokvar() -> Detect:
    """``messages.language.detect``: the function the bot calls."""
    sys.path.insert(0, str(REPO))
    from messages.language import detect, warm_up

    warm_up()
    return lambda text, prior: detect(text, prior).language


def build_langdetect() -> Detect:
    """Plain langdetect, all 55 profiles, seeded; the prior through langdetect's ``prior_map``."""
    from langdetect import DetectorFactory
    from langdetect.detector_factory import init_factory
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    init_factory()
    from langdetect import detector_factory

    factory = detector_factory._factory
    assert factory is not None
    codes = factory.get_lang_list()

    def detect(text: str, prior: str | None) -> str | None:
        detector = factory.create()
        if prior is not None:
            lookup = GROUP.get(prior, prior)
            lookup = "hr" if lookup == "bs" else lookup
            if lookup in codes:
                rest = (1 - PRIOR_ACCURACY) / (len(codes) - 1)
                detector.set_prior_map({c: PRIOR_ACCURACY if c == lookup else rest for c in codes})
        detector.append(text)
        try:
            return detector.detect()
        except LangDetectException:
            return None

    return detect


def build_lingua(low: bool) -> Detect:
    """lingua restricted to our languages (+ hr, sr, ru), preloaded, low or high accuracy."""
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = ("sv", "en", "ar", "so", "fa", "bs", "hr", "sr", "tr", "pl", "uk", "ru", "fi")
    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*(getattr(IsoCode639_1, c.upper()) for c in codes))
    if low:
        builder = builder.with_low_accuracy_mode()
    detector = builder.with_preloaded_language_models().build()

    def detect(text: str, prior: str | None) -> str | None:
        values = detector.compute_language_confidence_values(text)
        best, best_score = None, 0.0
        for value in values:
            code = GROUP.get(value.language.iso_code_639_1.name.lower(), value.language.iso_code_639_1.name.lower())
            score = value.value * (BASELINE_PRIOR_WEIGHT if code == prior else 1.0)
            if score > best_score:
                best, best_score = code, score
        return best

    return detect


BUILDERS: dict[str, Callable[[], Detect]] = {
    "bokvar": build_bokvar,
    "langdetect": build_langdetect,
    "lingua-low": lambda: build_lingua(low=True),
    "lingua-high": lambda: build_lingua(low=False),
}


def worker(name: str, data: Path, seed: int) -> dict[str, object]:
    """Everything measured for one detector, in this (fresh) process."""
    started = time.perf_counter()
    detect = BUILDERS[name]()
    build_seconds = time.perf_counter() - started
    buckets = [(bucket, load(data, bucket)[0]) for bucket in BUCKETS]

    results: dict[str, dict[str, float]] = {}
    detections, seconds = 0, 0.0
    for bucket, rows in buckets:
        started = time.perf_counter()
        plain = [detect(text, None) for _, text in rows]
        seconds += time.perf_counter() - started
        detections += len(rows)
        priors = [simulated_prior(seed, bucket.name, i, truth) for i, (truth, _) in enumerate(rows)]
        with_prior = [detect(text, prior) for (_, text), prior in zip(rows, priors, strict=True)]
        results[bucket.name] = {
            "no_prior": macro_accuracy(rows, plain),
            "with_prior": macro_accuracy(rows, with_prior),
            "rows": len(rows),
        }
    return {
        "detector": name,
        "buckets": results,
        "per_second": detections / seconds if seconds else math.inf,
        "build_seconds": build_seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# --- report ------------------------------------------------------------------------------------


def run_worker(name: str, data: Path, seed: int) -> dict[str, object]:
    """Run one detector's measurement in a fresh interpreter and read its JSON result."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--data", str(data)]
    command += ["--seed", str(seed)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def pct(value: float) -> str:
    return f"{100 * value:5.1f} %"


def report(results: list[dict[str, object]], data: Path, seed: int) -> None:
    """Print the per-bucket table and the targets table."""
    names = [str(r["detector"]) for r in results]
    by_name = {str(r["detector"]): r for r in results}
    skipped = {bucket.name: load(data, bucket)[1] for bucket in BUCKETS}
    print(f"data: {data}   prior seed: {seed}   prior right {PRIOR_ACCURACY:.0%} of the time")
    print(
        "scored: catalogue languages + ru; bs/hr/sr as one group (bs). Skipped (not ours): "
        + ", ".join(f"{name} {n}" for name, n in skipped.items() if n)
    )
    print()
    width = max(len(n) for n in names) + 2
    header = f"| {'bucket':<20} | {'prior':<5} | {'rows':>5} | " + " | ".join(f"{n:>{width}}" for n in names) + " |"
    print(header)
    print("|" + "---|" * (3 + len(names)))
    for bucket in BUCKETS:
        for key, label in (("no_prior", "no"), ("with_prior", "yes")):
            row = by_name[names[0]]["buckets"][bucket.name]  # type: ignore[index]
            cells = [pct(by_name[n]["buckets"][bucket.name][key]).rjust(width) for n in names]  # type: ignore[index]
            print(f"| {bucket.name:<20} | {label:<5} | {row['rows']:>5} | " + " | ".join(cells) + " |")
    print(
        "| detections/s         |       |       | "
        + " | ".join(f"{by_name[n]['per_second']:>{width},.0f}" for n in names)
        + " |"
    )
    print(
        "| peak RSS (MB)        |       |       | "
        + " | ".join(f"{by_name[n]['peak_rss_mb']:>{width}.0f}" for n in names)
        + " |"
    )
    print(
        "| build (s)            |       |       | "
        + " | ".join(f"{by_name[n]['build_seconds']:>{width}.2f}" for n in names)
        + " |"
    )
    print()
    if "bokvar" in by_name and "langdetect" in by_name:
        targets_table(by_name)


def targets_table(by_name: dict[str, dict[str, object]]) -> None:
    """The issue's targets, with Bokvar's and langdetect's figures from this run."""
    bokvar, baseline = by_name["bokvar"], by_name["langdetect"]

    def acc(result: dict[str, object], bucket: str, key: str) -> float:
        return result["buckets"][bucket][key]  # type: ignore[index, return-value]

    def tigrinya(result: dict[str, object]) -> float:
        return min(
            acc(result, b, k)
            for b in ("Tigrinya words", "Tigrinya pairs", "Tigrinya sentences")
            for k in ("no_prior", "with_prior")
        )

    lines = [
        (
            "single words, no prior",
            acc(baseline, "single words", "no_prior"),
            acc(bokvar, "single words", "no_prior"),
            0.85,
        ),
        (
            "single words, with prior",
            acc(baseline, "single words", "with_prior"),
            acc(bokvar, "single words", "with_prior"),
            0.96,
        ),
        (
            "Tatoeba 1-3 words, no prior",
            acc(baseline, "Tatoeba 1-3 words", "no_prior"),
            acc(bokvar, "Tatoeba 1-3 words", "no_prior"),
            0.92,
        ),
        ("Tigrinya (worst bucket)", tigrinya(baseline), tigrinya(bokvar), 0.99),
    ]
    print("| target | plain langdetect (this run) | Bokvar (this run) | target | met |")
    print("|---|---|---|---|---|")
    for label, base, ours, target in lines:
        met = "yes" if ours >= target else "NO"
        print(f"| {label} | {pct(base)} | {pct(ours)} | >= {100 * target:.0f} % | {met} |")
    speed, rss = float(bokvar["per_second"]), float(bokvar["peak_rss_mb"])  # type: ignore[arg-type]
    print(
        f"| speed | {float(baseline['per_second']):,.0f}/s ({float(baseline['peak_rss_mb']):.0f} MB RSS) "  # type: ignore[arg-type]
        f"| {speed:,.0f}/s ({rss:.0f} MB RSS) | >= 5,000/s at <= 150 MB RSS "
        f"| {'yes' if speed >= 5000 and rss <= 150 else 'NO'} |"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with SOURCES.md and the .tsv files")
    parser.add_argument("--seed", type=int, default=2024, help="seed of the simulated prior")
    parser.add_argument("--detectors", default=",".join(DETECTORS), help="comma-separated, of " + ", ".join(DETECTORS))
    parser.add_argument("--worker", choices=DETECTORS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    data = args.data.resolve()
    if args.worker:
        print(json.dumps(worker(args.worker, data, args.seed)))
        return
    names = [n.strip() for n in args.detectors.split(",") if n.strip()]
    unknown = set(names) - set(DETECTORS)
    if unknown:
        parser.error(f"unknown detectors: {', '.join(sorted(unknown))}")
    results = [run_worker(name, data, args.seed) for name in names]
    report(results, data, args.seed)


if __name__ == "__main__":
    main()
