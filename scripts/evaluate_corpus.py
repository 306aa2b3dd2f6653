"""Score the diagnosis on the real-world corpus (fixtures/realworld): the primary category against the
label each text's thread resolved, split by a hash of the source URL into a tuning part and a check part.

    .venv/bin/python scripts/evaluate_corpus.py            # both parts' numbers
    .venv/bin/python scripts/evaluate_corpus.py --misses   # and the tuning part's misses, one a line
    .venv/bin/python scripts/evaluate_corpus.py --corpus DIR --by-set   # new collections, on arrival
    .venv/bin/python scripts/evaluate_corpus.py --out-of-fold 5  # the tuning part with the vocabulary
                                                                   # learnt without each text's fold

The check part's misses are never listed: rules are not tuned against it.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aib_doctor.core.catalog import load_catalog  # noqa: E402
from aib_doctor.core.diagnose import diagnose  # noqa: E402
from aib_doctor.core.inputs import read_input  # noqa: E402
from aib_doctor.core.scan import pattern_table  # noqa: E402
from aib_doctor.errors import AibDoctorError  # noqa: E402

CORPUS = ROOT / "fixtures" / "realworld"


@dataclass(frozen=True)
class Case:
    path: Path
    source: str
    category: str
    failure: bool

    @property
    def part(self) -> str:
        """One in three sources goes to the check part, by URL, so texts of one thread stay together."""
        return "check" if hashlib.sha256(self.source.encode()).digest()[0] % 3 == 0 else "tune"


def load_cases(sets: list[str] | None = None, corpus: Path = CORPUS) -> list[Case]:
    cases, seen = [], set()
    for manifest in sorted(corpus.glob("*/manifest.yaml")):
        if sets and manifest.parent.name not in sets:
            continue
        for entry in yaml.safe_load(manifest.read_text(encoding="utf-8")) or []:
            path = manifest.parent / entry["file"]
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest in seen:  # the same text found by two collectors
                continue
            seen.add(digest)
            cases.append(Case(path, entry["source"], entry["category"], bool(entry.get("failure", True))))
    return cases


def verdict(case: Case, catalog, table, vocabulary=None) -> tuple[str, str]:
    """(what the tool said: a category, "unknown" or "none", and how); `vocabulary` in place of the packaged one."""
    try:
        intake = read_input(str(case.path), table)
    except AibDoctorError as exc:
        return "error", str(exc)
    report = diagnose(intake.scans, catalog, table, intake.status, intake.subject, intake.template, vocabulary=vocabulary)
    if report.primary is None:
        return ("unknown" if report.status == "failed" else "none"), report.status
    return report.primary.category, f"{report.primary.rule} {getattr(report.primary, 'basis', '')}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--misses", action="store_true", help="list the tuning part's misses")
    parser.add_argument("--set", action="append", dest="sets", metavar="FOLDER", help="only this collection (repeatable)")
    parser.add_argument("--by-set", action="store_true", help="also print each collection's numbers")
    parser.add_argument(
        "--corpus", type=Path, default=CORPUS, help="a folder of collections to score instead, such as new ones before they join fixtures/realworld"
    )
    parser.add_argument("--by-basis", action="store_true", help="also print each part's failures by the basis of its answer")
    parser.add_argument(
        "--out-of-fold",
        type=int,
        default=0,
        metavar="K",
        help="score each tuning text with a vocabulary learnt without its fold (K folds by source URL): the rules "
        "still know the tuning part, the vocabulary does not know the text",
    )
    args = parser.parse_args()
    catalog = load_catalog()
    table = pattern_table(catalog)
    fold_vocabulary = _fold_vocabularies(args.out_of_fold) if args.out_of_fold else None
    scores: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    misses = []
    for case in load_cases(args.sets, args.corpus):
        said, how = verdict(case, catalog, table, fold_vocabulary(case) if fold_vocabulary and case.part == "tune" else None)
        parts = [case.part] + ([f"{case.part} {case.path.relative_to(args.corpus).parts[0]}"] if args.by_set else [])
        if args.by_basis and case.failure:
            parts.append(f"{case.part} basis={how.split()[-1]}")
        for part in parts:
            _count(scores[part], case, said)
        right = said == case.category if case.failure else said in ("none", "benign")
        if not right and case.part == "tune":
            misses.append(f"{case.category:20} said {said:20} {how:28} {case.path.relative_to(args.corpus)}")
    for part in sorted(scores, key=lambda p: (p.split()[0] != "tune", p)):
        s = scores[part]
        print(
            f"{part:5}: right {s['right']}/{s['failures']} ({100 * s['right'] / max(s['failures'], 1):.0f}%), "
            f"unknown {s['unknown']} ({100 * s['unknown'] / max(s['failures'], 1):.0f}%), "
            f"false failures {s['false_failures']}/{s['non_failures']}"
        )
    if args.misses:
        print("\n".join(sorted(misses)))
    return 0


def _fold_vocabularies(folds: int):
    """case -> the vocabulary learnt from everything but the tuning texts of the case's fold (folds as
    scripts/derive_vocabulary.py --folds draws them)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import derive_vocabulary as derive

    categories = yaml.safe_load((derive.FOLDER / "categories.yaml").read_text(encoding="utf-8"))
    fixed = derive.seed_documents(categories) + derive.rule_case_documents()
    corpus = derive.corpus_documents()
    built = {}

    def vocabulary(case: Case):
        held_out = derive.fold(case.source, folds)
        if held_out not in built:
            built[held_out] = derive.learnt_without(categories, fixed, corpus, folds, held_out)
        return built[held_out]

    return vocabulary


def _count(score: collections.Counter, case: Case, said: str) -> None:
    if case.failure:
        score["failures"] += 1
        score["right"] += said == case.category
        score["unknown"] += said in ("unknown", "none", "error")
    else:
        score["non_failures"] += 1
        score["false_failures"] += said not in ("none", "benign")


if __name__ == "__main__":
    raise SystemExit(main())
