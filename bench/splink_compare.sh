#!/usr/bin/env bash
# Side by side: Splink 5 (DuckDB) and Sanad's deduplication engine on the same persons CSV.
#
#   bench/splink_compare.sh [HOUSEHOLDS]        # default 25000 households ≈ 100 k persons
#   HOUSEHOLDS=250000 bench/splink_compare.sh   # ≈ 1 M persons (Splink needs minutes and ~3 GiB)
#
# Generates a population with duplicates (`sanad gen --duplicate-rate 0.1`), joins each person's
# commune from households.csv into one CSV, then runs both engines on it with comparable blocking
# rules and comparisons, training included, each under /usr/bin/time -v. Prints pair and cluster F1,
# wall time, candidate pairs per second and peak memory for both, and the ratios.
# Needs python3 (venv, pip) and /usr/bin/time; installs splink 5.x and duckdb from PyPI into
# $WORK/venv. Nothing of Splink is stored in the repository. SANAD_BIN=path/to/sanad skips building
# the CLI (only `sanad gen` is used).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
HOUSEHOLDS="${1:-${HOUSEHOLDS:-25000}}"
SEED="${SEED:-1}"
WORK="${WORK:-$ROOT/target/splink-compare}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
mkdir -p "$WORK"

step() { printf '\n==> %s\n' "$*" >&2; }

if [ ! -x "$WORK/venv/bin/python" ]; then
    step "Python venv with splink 5 and duckdb"
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/pip" install -q --upgrade pip
    "$WORK/venv/bin/pip" install -q "splink>=5,<6" duckdb
fi
"$WORK/venv/bin/python" -c "import splink, duckdb; print('splink', splink.__version__, 'duckdb', duckdb.__version__)" >&2

step "build (release): the dedup bench and, unless SANAD_BIN names one, sanad"
cargo build --release -q -p sanad-dedup --example dedup_bench
if [ -z "${SANAD_BIN:-}" ]; then
    cargo build --release -q -p sanad
fi
SANAD="${SANAD_BIN:-$CARGO_TARGET_DIR/release/sanad}"
BENCH="$CARGO_TARGET_DIR/release/examples/dedup_bench"

DATA="$WORK/data-$HOUSEHOLDS-$SEED"
if [ ! -f "$DATA/persons_communes.csv" ]; then
    step "generate $HOUSEHOLDS households (seed $SEED, 10 % duplicates)"
    "$SANAD" gen --households "$HOUSEHOLDS" --seed "$SEED" --duplicate-rate 0.1 --out "$DATA" >&2
    "$WORK/venv/bin/python" - "$DATA" <<'PY'
import sys, duckdb
d = sys.argv[1]
duckdb.sql(f"""
    COPY (
        SELECT p.person_id, p.household_id, p.first_name, p.last_name, p.first_name_ar, p.last_name_ar,
               p.sex, p.birth_date, p.national_id, h.commune_code
        FROM read_csv('{d}/persons.csv', all_varchar = true) p
        JOIN read_csv('{d}/households.csv', all_varchar = true) h USING (household_id)
        ORDER BY p.person_id
    ) TO '{d}/persons_communes.csv' (HEADER, DELIMITER ',')
""")
PY
fi
CSV="$DATA/persons_communes.csv"
TRUTH="$DATA/truth.csv"
echo "persons: $(( $(wc -l < "$CSV") - 1 ))" >&2

cat > "$WORK/splink_run.py" <<'PY'
# Splink 5 on DuckDB: deduplicate a persons CSV, training included, then evaluate against truth.csv.
import json, sys, time

t0 = time.perf_counter()
import duckdb
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.backends.duckdb import DuckDBAPI

csv_path, truth_path, out_json = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
con.execute(f"""
    CREATE TABLE persons AS
    SELECT person_id AS unique_id, * EXCLUDE (person_id),
           substr(birth_date, 1, 4) AS birth_year, substr(birth_date, 6, 5) AS birth_md
    FROM read_csv('{csv_path}', all_varchar = true)
""")
db_api = DuckDBAPI(con)
sdf = db_api.register("persons")
phases = {"read": time.perf_counter() - t0}

# Blocking comparable to Sanad's rules (Splink joins on raw values: no phonetic keys).
prediction_rules = [
    block_on("national_id"),
    block_on("first_name_ar", "last_name_ar", "birth_year"),
    block_on("first_name", "last_name", "birth_year"),
    block_on("first_name_ar", "last_name_ar", "birth_md"),
    block_on("first_name", "last_name", "birth_md"),
    block_on("first_name", "birth_date"),
    block_on("last_name", "birth_date"),
    block_on("first_name", "last_name", "commune_code"),
]
settings = SettingsCreator(
    link_type="dedupe_only",
    blocking_rules_to_generate_predictions=prediction_rules,
    comparisons=[
        cl.JaroWinklerAtThresholds("first_name", [0.92, 0.8]).configure(term_frequency_adjustments=True),
        cl.JaroWinklerAtThresholds("last_name", [0.92, 0.8]).configure(term_frequency_adjustments=True),
        cl.LevenshteinAtThresholds("birth_date", [1, 2]),
        cl.LevenshteinAtThresholds("national_id", [1]),
        cl.ExactMatch("sex"),
        cl.ExactMatch("commune_code"),
        cl.ExactMatch("household_id"),
    ],
    retain_matching_columns=False,
    retain_intermediate_calculation_columns=False,
)
linker = Linker(sdf, settings)

t = time.perf_counter()
linker.training.estimate_probability_two_random_records_match(
    [block_on("first_name", "last_name", "birth_date")], recall=0.8
)
linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
# Two EM sessions with disjoint blocking, as Splink recommends (as Sanad does), on 10 % of the records.
linker.training.estimate_parameters_using_expectation_maximisation(
    block_on("first_name", "last_name", "birth_year"), record_sample_proportion=0.1
)
linker.training.estimate_parameters_using_expectation_maximisation(
    block_on("birth_date", "sex"), record_sample_proportion=0.1
)
phases["train"] = time.perf_counter() - t

t = time.perf_counter()
pred = linker.inference.predict(threshold_match_probability=0.5)
phases["predict"] = time.perf_counter() - t
t = time.perf_counter()
clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, threshold_match_probability=0.5)
phases["cluster"] = time.perf_counter() - t
t = time.perf_counter()
con.execute(f"COPY (SELECT unique_id_l, unique_id_r, match_probability, match_weight FROM {pred.physical_name}) TO '{out_json}.pairs.csv' (HEADER)")
con.execute(f"COPY (SELECT unique_id, cluster_id FROM {clusters.physical_name}) TO '{out_json}.clusters.csv' (HEADER)")
phases["write"] = time.perf_counter() - t
total = time.perf_counter() - t0

# Not timed: how many candidate pairs the prediction rules produce, and the quality figures.
import splink.blocking_analysis as ba
counts = ba.count_comparisons_from_blocking_rules(
    sdf, blocking_rules=prediction_rules, link_type="dedupe_only", record_sample_proportion=1.0
)
candidate_pairs = int(sum(c["marginal_comparison_count"] for c in counts))
con.execute(f"CREATE TABLE truth AS SELECT * FROM read_csv('{truth_path}', all_varchar = true)")
q = lambda sql: con.execute(sql).fetchone()
true_pairs = q("SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM truth GROUP BY entity_id)")[0]
predicted, correct = q(f"""
    SELECT count(*), count(*) FILTER (WHERE tl.entity_id = tr.entity_id)
    FROM {pred.physical_name} p
    JOIN truth tl ON tl.person_id = p.unique_id_l JOIN truth tr ON tr.person_id = p.unique_id_r""")
cluster_pairs, cluster_correct = q(f"""
    WITH c AS (SELECT c.cluster_id, t.entity_id FROM {clusters.physical_name} c JOIN truth t ON t.person_id = c.unique_id)
    SELECT (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM c GROUP BY cluster_id)),
           (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM c GROUP BY cluster_id, entity_id))""")
def f1(tp, pred, true):
    p = tp / pred if pred else 1.0
    r = tp / true if true else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)
pp, pr, pf = f1(correct, predicted, true_pairs)
cp, cr, cf = f1(cluster_correct, cluster_pairs, true_pairs)
json.dump({
    "seconds": total, "phases": phases, "candidate_pairs": candidate_pairs,
    "pair_precision": pp, "pair_recall": pr, "pair_f1": pf,
    "cluster_precision": cp, "cluster_recall": cr, "cluster_f1": cf,
    "true_pairs": int(true_pairs), "predicted_pairs": int(predicted),
}, open(out_json, "w"), indent=1)
PY

step "Splink"
/usr/bin/time -v "$WORK/venv/bin/python" "$WORK/splink_run.py" "$CSV" "$TRUTH" "$WORK/splink.json" \
    > "$WORK/splink.log" 2> "$WORK/splink.time" || { tail -30 "$WORK/splink.time"; exit 1; }

step "Sanad"
/usr/bin/time -v "$BENCH" --csv "$CSV" --truth "$TRUTH" --out "$WORK/sanad-out" --json \
    > "$WORK/sanad.json" 2> "$WORK/sanad.time" || { tail -30 "$WORK/sanad.time"; exit 1; }

"$WORK/venv/bin/python" - "$WORK" <<'PY'
import json, re, sys
w = sys.argv[1]
def rss(path):
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(path).read())
    return int(m.group(1)) / 1024 if m else float("nan")
def wall(path):
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", open(path).read())
    parts = [float(x) for x in m.group(1).split(":")]
    s = 0.0
    for p in parts:
        s = s * 60 + p
    return s
sp = json.load(open(f"{w}/splink.json"))
sa = json.load(open(f"{w}/sanad.json"))
ev = sa["evaluation"]
rows = {
    "pair precision": (sp["pair_precision"], ev["pair_precision"]),
    "pair recall": (sp["pair_recall"], ev["pair_recall"]),
    "pair F1": (sp["pair_f1"], ev["pair_f1"]),
    "cluster F1 (pairwise)": (sp["cluster_f1"], ev["cluster_f1"]),
    "wall time, process (s)": (wall(f"{w}/splink.time"), wall(f"{w}/sanad.time")),
    "end to end in-process (s)": (sp["seconds"], sa["end_to_end_seconds"]),
    "candidate pairs": (sp["candidate_pairs"], sa["report"]["pairs_scored"]),
    "pairs/s end to end": (sp["candidate_pairs"] / sp["seconds"], sa["report"]["pairs_scored"] / sa["end_to_end_seconds"]),
    "peak memory (MiB)": (rss(f"{w}/splink.time"), rss(f"{w}/sanad.time")),
}
print(f"\n{'':28} {'Splink 5':>14} {'Sanad':>14} {'Sanad/Splink':>13}")
for k, (a, b) in rows.items():
    ratio = b / a if a else float("nan")
    fmt = (lambda x: f"{x:14.4f}") if isinstance(a, float) and a < 10 else (lambda x: f"{x:14,.1f}")
    print(f"{k:28} {fmt(a)} {fmt(b)} {ratio:13.2f}")
print(f"\nSanad scoring phase: {sa['report']['pairs_per_second_per_core'] / 1e6:.2f} M pairs/s per core; "
      f"blocking recall {ev['blocking_recall']:.4f}")
print(f"Splink phases (s): " + ", ".join(f"{k} {v:.1f}" for k, v in sp["phases"].items()))
PY
