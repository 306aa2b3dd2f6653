"""Derive the vocabulary fallback's model (aib_doctor/core/catalog/vocabulary/counts.json).

The model is a naive Bayes over terms (core/vocabulary.py): for each category, how many of its texts
had each word or two-word phrase. The texts it learns from, each labelled with a category:
- the seed terms of categories.yaml, one text per category (each family's own documentation);
- the texts the rules' test cases say fire them (tests/cases/AIBxxx.yaml `fires`), in the rule's category:
  they are written in the words of the tool that reports each class of failure;
- the golden corpus (fixtures/corpus, category by folder);
- the tuning part of the real-world corpus (fixtures/realworld; the check part is never read here).

    make vocabulary                                          # rewrites counts.json; review the diff
    .venv/bin/python scripts/derive_vocabulary.py --check    # exit 1 when counts.json is stale (a test runs it)
    .venv/bin/python scripts/derive_vocabulary.py --folds 5  # cross-validates on the tuning part instead
    .venv/bin/python scripts/derive_vocabulary.py --without new-set   # a model that has not seen a new collection,
    .venv/bin/python scripts/evaluate_corpus.py --set new-set         # to score it once on arrival; then `make vocabulary`
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from evaluate_corpus import CORPUS, load_cases  # noqa: E402

from aib_doctor.core.catalog import load_catalog  # noqa: E402
from aib_doctor.core.vocabulary import Vocabulary, build_vocabulary, terms_of  # noqa: E402

FOLDER = ROOT / "aib_doctor" / "core" / "catalog" / "vocabulary"
Document = tuple[str, str, str]
"""(category, source, text)."""


def seed_documents(categories: list[dict]) -> list[Document]:
    return [(entry["category"], f"seed:{entry['category']}", "\n".join(str(t) for t in entry["seed"])) for entry in categories]


def rule_case_documents() -> list[Document]:
    category_of = {rule.id: rule.category for rule in load_catalog()}
    docs = []
    for path in sorted((ROOT / "tests" / "cases").glob("AIB*.yaml")):
        category = category_of.get(path.stem)
        for case in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("fires") or []:
            docs.append((category, f"case:{path.stem}", case["text"]))
    return docs


def corpus_documents(without: frozenset[str] = frozenset()) -> list[Document]:
    """The golden corpus and the real-world corpus's tuning part, except the collections in `without`."""
    docs = []
    for path in sorted((ROOT / "fixtures" / "corpus").glob("*/*")):
        if path.suffix in (".txt", ".log", ".json") and not path.name.endswith(".expected.json"):
            docs.append((path.parent.name, f"corpus:{path}", path.read_text(encoding="utf-8", errors="replace")))
    for case in load_cases():
        if case.part == "tune" and case.failure and case.path.relative_to(CORPUS).parts[0] not in without:
            docs.append((case.category, case.source, case.path.read_text(encoding="utf-8", errors="replace")))
    return docs


def count(docs: list[Document], categories: list[dict]) -> dict[str, dict[str, int]]:
    """category -> {term: how many of its texts had it}; texts of categories the vocabulary has no entry for (benign) teach nothing."""
    known = {entry["category"] for entry in categories}
    counts: dict[str, collections.Counter] = {category: collections.Counter() for category in sorted(known)}
    for category, _, text in docs:
        if category in known:
            counts[category].update(terms_of(text))
    return {category: dict(sorted(terms.items())) for category, terms in counts.items()}


def fold(source: str, folds: int) -> int:
    """The cross-validation fold of a text, by its source URL (a thread's texts stay together)."""
    return hashlib.sha256(source.encode()).digest()[1] % folds


def learnt_without(categories: list[dict], fixed: list[Document], corpus: list[Document], folds: int, held_out: int) -> Vocabulary:
    """The vocabulary learnt from the fixed documents and the corpus texts outside fold `held_out`."""
    return build_vocabulary(categories, count(fixed + [d for d in corpus if fold(d[1], folds) != held_out], categories))


def cross_validate(categories: list[dict], fixed: list[Document], corpus: list[Document], folds: int) -> None:
    """The vocabulary's guess on each tuning text, learnt without the texts of that text's fold (by source).

    Scores every tuning failure, not only those no rule explains: what the model knows, not what the rules hide."""
    from aib_doctor.core.inputs import read_input
    from aib_doctor.core.scan import pattern_table
    from aib_doctor.core.vocabulary import guess_category

    table = pattern_table(load_catalog())
    right = tried = 0
    for held_out in range(folds):
        vocabulary = learnt_without(categories, fixed, corpus, folds, held_out)
        for case in load_cases():
            if case.part != "tune" or not case.failure or fold(case.source, folds) != held_out:
                continue
            intake = read_input(str(case.path), table)
            guess = guess_category(vocabulary, [s.text_for_vocabulary() for s in intake.scans])
            tried += 1
            right += guess is not None and guess.rule.category == case.category
    print(f"vocabulary alone, {folds}-fold over the tuning part: {right}/{tried} right ({100 * right / max(tried, 1):.0f}%)")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=0, help="cross-validate instead of writing counts.json")
    parser.add_argument("--check", action="store_true", help="exit 1 when counts.json differs from what the sources give")
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        metavar="FOLDER",
        help="leave out a real-world collection (to score a new one on arrival; then run it again without)",
    )
    args = parser.parse_args()
    categories = yaml.safe_load((FOLDER / "categories.yaml").read_text(encoding="utf-8"))
    fixed = seed_documents(categories) + rule_case_documents()
    corpus = corpus_documents(frozenset(args.without))
    if args.folds:
        cross_validate(categories, fixed, corpus, args.folds)
        return 0
    counts = count(fixed + corpus, categories)
    model = {"generated_by": "scripts/derive_vocabulary.py (make vocabulary); do not edit by hand", "categories": counts}
    text = json.dumps(model, indent=0, ensure_ascii=False) + "\n"
    target = FOLDER / "counts.json"
    if args.check:
        if target.read_text(encoding="utf-8") != text:
            print(f"{target.relative_to(ROOT)} is stale: the rules' cases, the corpus or the seeds changed; run `make vocabulary`", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"{len(fixed) + len(corpus)} texts, {len({t for terms in counts.values() for t in terms})} terms over {len(counts)} categories")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
