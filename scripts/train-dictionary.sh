#!/usr/bin/env bash
# Trains the zstd dictionary that stored records are compressed with
# (engine/dictionaries/cloudtrail-vN.zstd-dict; see engine/src/store/packed.rs).
#
# The dictionary is part of the database format: a shipped one is never replaced. To ship a
# better one, train it under a new file name and dictionary ID, and add it beside the old one
# in packed.rs so that databases written with the old one stay readable.
#
# Usage: scripts/train-dictionary.sh OUT.zstd-dict DICTIONARY_ID [DATA_DIR]
# Needs python3 and the zstd command-line tool (Debian package zstd).
set -euo pipefail
out=${1:?output file}
id=${2:?dictionary ID (decimal)}
data=${3:-../shared/data/cloudtrail/invictus_ir_aws_dataset}
samples=$(mktemp -d)
trap 'rm -rf "$samples"' EXIT
# One sample per record, as compact JSON (how CloudTrail delivers records).
python3 - "$data" "$samples" <<'PY'
import gzip, json, os, sys
data, samples = sys.argv[1], sys.argv[2]
n = 0
for root, _, files in sorted(os.walk(data)):
    for name in sorted(files):
        if not (name.endswith(".json") or name.endswith(".json.gz")) or name.startswith("_"):
            continue
        raw = open(os.path.join(root, name), "rb").read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        doc = json.loads(raw)
        records = doc.get("Records", []) if isinstance(doc, dict) else doc
        for record in records:
            with open(os.path.join(samples, f"{n}.json"), "w") as f:
                json.dump(record, f, separators=(",", ":"))
            n += 1
print(f"{n} records from {data}")
PY
zstd -q -f --train "$samples"/* -o "$out" --maxdict=16384 --dictID="$id"
echo "wrote $out"
