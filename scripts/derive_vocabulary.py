"""Derive the vocabulary fallback's weights (aib_doctor/core/catalog/vocabulary/weights.yaml).

Inputs: the seed terms of categories.yaml, the golden corpus (fixtures/corpus, category by folder) and
the tuning part of the real-world corpus (fixtures/realworld; the check part is never read here).
For every seed term, and every one- or two-word term that occurs in texts of at least MIN_SOURCES
different sources of one category, the weight is the smoothed log-odds of the term in that
category's texts against all other failure texts; terms that do not favour a category are dropped.
A seed term the corpus never shows keeps SEED_PRIOR: the documentation says it belongs there.

    .venv/bin/python scripts/derive_vocabulary.py      # rewrites weights.yaml; review the diff
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import math
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from evaluate_corpus import load_cases  # noqa: E402

from aib_doctor.core.vocabulary import normalize  # noqa: E402

FOLDER = ROOT / "aib_doctor" / "core" / "catalog" / "vocabulary"
MIN_SOURCES = 2
MIN_WEIGHT = 0.7
SEED_PRIOR = 2.0
MAX_MINED = 60
MAX_WEIGHT = 2.5
SMOOTHING = 1.0
SHRINK = 2.0
_TOKEN = re.compile(r"[a-z0-9][a-z0-9/.:#@']*[a-z0-9]|[a-z0-9]")
# Numbers, times, addresses, ids and durations are facts of one text, not vocabulary (hex codes such as
# 0x80240016 stay); so are the commonest English words.
_NOISE = re.compile(
    r"^(?!0x[0-9a-f]{8}$).*\d.*$|^[0-9a-f-]{16,}$|"
    r"^(?:the|a|an|and|or|of|to|in|on|for|is|it|at|by|be|was|with|this|that|from|as|are|not|no|if|you|your|we|i|has|have|been|will|can|please)$"
)


def documents() -> list[tuple[str, str, str]]:
    """(category, source, text) of every failure text the weights may learn from."""
    docs = []
    for path in sorted((ROOT / "fixtures" / "corpus").glob("*/*")):
        if path.suffix in (".txt", ".log", ".json") and not path.name.endswith(".expected.json"):
            docs.append((path.parent.name, f"corpus:{path}", path.read_text(encoding="utf-8", errors="replace")))
    for case in load_cases():
        if case.part == "tune" and case.failure:
            docs.append((case.category, case.source, case.path.read_text(encoding="utf-8", errors="replace")))
    return [d for d in docs if d[0] != "benign"]


# Words every failure text has (log structure, generic failure words): never vocabulary on their own.
GENERIC = set(
    "packer out err ui build builds errored error errors failed failure fail azure arm info debug message code status "
    "details detail request response time run running line lines log the exit with exited command script value "
    "output operation resource resources template image vm any get find does over force become go see more data "
    "cannot could not unable found true false null name type id new set use using used".split()
)


def terms_of(text: str) -> set[str]:
    tokens = [t for t in _TOKEN.findall(normalize(text)) if len(t) <= 30]
    grams = {t for t in tokens if not _NOISE.match(t) and len(t) > 2 and t not in GENERIC}
    grams |= {f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False) if not (_NOISE.match(a) or _NOISE.match(b)) and not (a in GENERIC and b in GENERIC)}
    return grams


def derive(docs: list[tuple[str, str, str]], seeds: dict[str, set[str]]) -> dict[str, dict[str, float]]:
    """category -> {term: weight} from (category, source, text) documents."""
    per_category = collections.Counter(c for c, _, _ in docs)
    df: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    sources: dict[tuple[str, str], set] = collections.defaultdict(set)
    for category, source, text in docs:
        for term in terms_of(text):
            df[term][category] += 1
            sources[(term, category)].add(source)
    total = len(docs)
    weights: dict[str, dict[str, float]] = {}
    for category in seeds:
        n_in, n_out = per_category[category], total - per_category[category]

        def log_odds(term: str, category=category, n_in=n_in, n_out=n_out) -> float:
            seen_in = df[term][category]
            inside = (seen_in + SMOOTHING) / (n_in + 2 * SMOOTHING)
            outside = (sum(df[term].values()) - seen_in + SMOOTHING) / (n_out + 2 * SMOOTHING)
            # shrunk towards 0 while the term has been seen in few texts of the category
            return math.log(inside / outside) * seen_in / (seen_in + SHRINK)

        chosen: dict[str, float] = {}
        for term in seeds[category]:
            seen = sum(df[term].values())
            weight = max(log_odds(term), SEED_PRIOR / 2) if seen else SEED_PRIOR
            if df[term][category] or not seen or weight >= MIN_WEIGHT:
                chosen[term] = round(min(weight, MAX_WEIGHT), 2)
        mined = [
            (log_odds(term), term) for term in df if term not in chosen and len(sources[(term, category)]) >= MIN_SOURCES and df[term][category] >= MIN_SOURCES
        ]
        for weight, term in sorted(mined, reverse=True)[:MAX_MINED]:
            if weight >= MIN_WEIGHT + 0.5:  # a mined term must favour the category more clearly than a seed
                chosen[term] = round(min(weight, MAX_WEIGHT), 2)
        weights[category] = dict(sorted(chosen.items(), key=lambda kv: (-kv[1], kv[0])))
    return weights


def cross_validate(categories: list[dict], seeds: dict[str, set[str]], folds: int) -> None:
    """Vocabulary guesses on the tuning part, each fold's weights derived without that fold's sources.

    Scores only the texts no rule or code explains, which is what the vocabulary is for."""
    from aib_doctor.core.catalog import load_catalog
    from aib_doctor.core.inputs import read_input
    from aib_doctor.core.scan import pattern_table
    from aib_doctor.core.vocabulary import build_vocabulary, guess_category

    catalog = load_catalog()
    table = pattern_table(catalog)
    docs = documents()
    fold_of = {source: hashlib.sha256(source.encode()).digest()[1] % folds for _, source, _ in docs}
    right = tried = 0
    for fold in range(folds):
        vocabulary = build_vocabulary(categories, derive([d for d in docs if fold_of[d[1]] != fold], seeds))
        for case in load_cases():
            if case.part != "tune" or not case.failure or fold_of.get(case.source) != fold:
                continue
            intake = read_input(str(case.path), table)
            guess = guess_category(vocabulary, [s.text_for_vocabulary() for s in intake.scans])
            tried += 1
            right += guess is not None and guess.rule.category == case.category
    print(f"vocabulary alone, {folds}-fold over the tuning part: {right}/{tried} right ({100 * right / max(tried, 1):.0f}%)")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=0, help="cross-validate instead of writing weights.yaml")
    args = parser.parse_args()
    categories = yaml.safe_load((FOLDER / "categories.yaml").read_text(encoding="utf-8"))
    seeds = {entry["category"]: {normalize(str(t)) for t in entry["seed"]} for entry in categories}
    if args.folds:
        cross_validate(categories, seeds, args.folds)
        return 0
    docs = documents()
    weights = derive(docs, seeds)
    header = "# Generated by scripts/derive_vocabulary.py from categories.yaml's seeds and the corpus; do not edit by hand.\n"
    (FOLDER / "weights.yaml").write_text(header + yaml.safe_dump(weights, sort_keys=False, allow_unicode=True, width=200), encoding="utf-8")
    print(f"{len(docs)} texts, {sum(len(w) for w in weights.values())} terms over {len(weights)} categories")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
