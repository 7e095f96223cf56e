#!/usr/bin/env bash
# Every OCSF event glassbox can emit (the ocsf_emit corpus: every record
# type, activity, verdict, reason and kind, full, minimal and hostile
# fields) must pass tests/ocsf_validate.py against the official OCSF 1.8.0
# definitions and the generated JSON Schemas; the validator itself must
# reject broken events (so this test can fail); the shorthand must be
# exactly one clean line per event.
set -euo pipefail
: "${GB_HELPER_DIR:?}" "${GB_SOURCE_DIR:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
val="$GB_SOURCE_DIR/tests/ocsf_validate.py"
. "$(dirname "$0")/lib/ocsf_lib.sh"

"$GB_HELPER_DIR/ocsf_emit" > "$tmp/events.jsonl"
python3 "$val" "$tmp/events.jsonl"

# every class we map is in the corpus
classes=$(python3 -c 'import json,sys; print(" ".join(sorted({str(json.loads(l)["class_uid"]) for l in open(sys.argv[1])})))' "$tmp/events.jsonl")
[ "$classes" = "1007 1008 2004 4001 4002 5019 6002 6003" ] || { echo "classes in corpus: $classes"; exit 1; }

# with the full official export (lib/ocsf_lib.sh: required in CI or when
# ../shared exists): validate against it too, and check that the committed
# schemas and subset are what generate.py makes
ocsf_full_schema || exit 1
full=$OCSF_FULL
if [ -n "$full" ]; then
	python3 "$val" --official "$full" "$tmp/events.jsonl"
	python3 "$GB_SOURCE_DIR/schemas/ocsf/generate.py" --official "$full" --out "$tmp" > /dev/null
	for f in "$GB_SOURCE_DIR"/schemas/ocsf/*.json; do
		cmp -s "$f" "$tmp/$(basename "$f")" || { echo "stale: $f (run schemas/ocsf/generate.py)"; exit 1; }
	done
fi

# random records (valid enums, random and hostile strings, extreme
# numbers): every event valid, every shorthand one clean line
seed=${OCSF_SEED:-$(( $(date +%s) % 100000 ))}
echo "random corpus seed $seed (replay: OCSF_SEED=$seed)"
"$GB_HELPER_DIR/ocsf_emit" --random 3000 "$seed" > "$tmp/random.jsonl"
python3 "$val" "$tmp/random.jsonl"
"$GB_HELPER_DIR/ocsf_emit" --shorthand --random 3000 "$seed" > "$tmp/random.txt"

# the validator rejects each kind of mistake
python3 - "$tmp/events.jsonl" "$tmp" <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
net = next(e for e in evs if e["class_uid"] == 4001 and e.get("actor"))
mut = {
    "caption": lambda e: e.update(severity="High"),
    "unknown_attr": lambda e: e.update(not_ocsf=1),
    "nested_unknown": lambda e: e["actor"]["process"].update(colour="red"),
    "required": lambda e: e.pop("time"),
    "type_uid": lambda e: e.update(type_uid=400199),
    "enum": lambda e: e.update(disposition_id=77),
    "type": lambda e: e["dst_endpoint"].update(port="443"),
    "ip": lambda e: e["dst_endpoint"].update(ip="not-an-ip"),
    "profile": lambda e: e["metadata"].update(profiles=["host"]),
    "version": lambda e: e["metadata"].update(version="1.7.0"),
    "object_required": lambda e: e["device"].pop("type_id"),
    "time_seconds": lambda e: e.update(time=1787313600),
}
for k, f in mut.items():
    e = json.loads(json.dumps(net))
    f(e)
    open(f"{sys.argv[2]}/bad_{k}.jsonl", "w").write(json.dumps(e) + "\n")
PY
for f in "$tmp"/bad_*.jsonl; do
	if python3 "$val" -q "$f" > "$tmp/out" 2>&1; then
		echo "validator accepted $(basename "$f")"; exit 1
	fi
done

# shorthand: one line per event, no raw control bytes, ESC or invalid UTF-8
"$GB_HELPER_DIR/ocsf_emit" --shorthand > "$tmp/short.txt"
n_json=$(wc -l < "$tmp/events.jsonl")
n_short=$(wc -l < "$tmp/short.txt")
[ "$n_json" = "$n_short" ] || { echo "shorthand: $n_short lines for $n_json events"; exit 1; }
[ "$(wc -l < "$tmp/random.txt")" = 3000 ] || { echo "random shorthand: wrong line count"; exit 1; }
python3 - "$tmp/short.txt" "$tmp/random.txt" <<'PY'
import re, sys
for fn in sys.argv[1:]:
  text = open(fn, "rb").read().decode("utf-8")  # raises on invalid UTF-8
  for i, line in enumerate(text.split("\n")[:-1], 1):
    if re.search("[\x00-\x1f\x7f-\x9f\u2028\u2029]", line):
        sys.exit(f"{fn}: shorthand line {i} has a raw control character: {line!r}")
    if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z OCSF [A-Z]+:[A-Z_]+ \[(INFO|LOW|MED|HIGH|CRIT|FATAL)\]", line):
        sys.exit(f"{fn}: shorthand line {i} malformed: {line!r}")
PY
echo "ok: $n_json events valid, $(ls "$tmp"/bad_*.jsonl | wc -l) broken ones rejected"
