"""Splink 5 (DuckDB) on a flat persons CSV (id or person_id, first_name, last_name, birth_date, national_id,
optional sex), with the settings a Splink user would choose for those fields, training included; prints pair
precision, recall and F1 against truth.csv (person_id, entity_id) and the time.

    python3 -m venv target/splink-venv && target/splink-venv/bin/pip install splink duckdb
    target/splink-venv/bin/python bench/splink_dedup.py target/febrl/febrl4/persons.csv target/febrl/febrl4/truth.csv

For comparing with `sanad dedup --csv … --truth …` on the same file (FEBRL from bench/febrl.sh, the second
synthetic profile from `sanad bench dedup`). Nothing of Splink is stored in the repository.
"""
import sys, time

t0 = time.perf_counter()
import duckdb
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.backends.duckdb import DuckDBAPI

csv_path, truth_path = sys.argv[1], sys.argv[2]
con = duckdb.connect()
cols = [c[0] for c in con.execute(f"DESCRIBE SELECT * FROM read_csv('{csv_path}', all_varchar = true)").fetchall()]
idcol = "id" if "id" in cols else "person_id"
sex = "sex" in cols
con.execute(f"""
    CREATE TABLE persons AS
    SELECT {idcol} AS unique_id, lower(first_name) AS first_name, lower(last_name) AS last_name,
           national_id, {"sex," if sex else ""}
           CASE WHEN length(replace(birth_date, '-', '')) = 8 THEN replace(birth_date, '-', '') END AS dob,
           substr(replace(birth_date, '-', ''), 1, 4) AS birth_year,
           substr(replace(birth_date, '-', ''), 5, 4) AS birth_md
    FROM read_csv('{csv_path}', all_varchar = true)
""")
db_api = DuckDBAPI(con)
sdf = db_api.register("persons")

rules = [
    block_on("national_id"),
    block_on("first_name", "last_name", "birth_year"),
    block_on("first_name", "last_name", "birth_md"),
    block_on("first_name", "dob"),
    block_on("last_name", "dob"),
    block_on("first_name", "last_name"),
]
comparisons = [
    cl.JaroWinklerAtThresholds("first_name", [0.92, 0.8]).configure(term_frequency_adjustments=True),
    cl.JaroWinklerAtThresholds("last_name", [0.92, 0.8]).configure(term_frequency_adjustments=True),
    cl.LevenshteinAtThresholds("dob", [1, 2]),
    cl.LevenshteinAtThresholds("national_id", [1, 2]),
]
if sex:
    comparisons.append(cl.ExactMatch("sex"))
settings = SettingsCreator(link_type="dedupe_only", blocking_rules_to_generate_predictions=rules,
                           comparisons=comparisons, retain_matching_columns=False,
                           retain_intermediate_calculation_columns=False)
linker = Linker(sdf, settings)
linker.training.estimate_probability_two_random_records_match([block_on("first_name", "last_name", "dob")], recall=0.7)
linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "last_name"))
linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
pred = linker.inference.predict(threshold_match_probability=0.5)
seconds = time.perf_counter() - t0

con.execute(f"CREATE TABLE truth AS SELECT * FROM read_csv('{truth_path}', all_varchar = true)")
q = lambda sql: con.execute(sql).fetchone()
true_pairs = q("SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM truth GROUP BY entity_id)")[0]
predicted, correct = q(f"""
    SELECT count(*), count(*) FILTER (WHERE tl.entity_id = tr.entity_id)
    FROM {pred.physical_name} p
    JOIN truth tl ON tl.person_id = p.unique_id_l JOIN truth tr ON tr.person_id = p.unique_id_r""")
p = correct / predicted if predicted else 1.0
r = correct / true_pairs if true_pairs else 1.0
f1 = 2 * p * r / (p + r) if p + r else 0.0
print(f"splink {csv_path}: pairs precision {p:.4f} recall {r:.4f} F1 {f1:.4f} ({seconds:.1f} s)")
