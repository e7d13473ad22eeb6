#!/usr/bin/env bash
# Tiny-step request rate of this build against another git revision (default: the previous issue's, main before
# the training features), both servers up at once on 127.0.0.1, wrk phases alternating A, B, A, B ... so both see
# the same machine (and which goes first alternating by round). Prints each round's steps/s and the B/A ratio, then
# the median and the spread.
#
# Usage (from the project root): bench/step-rate-ab.sh [baseline git ref, default 56f9722] [seconds per phase, 10]
#   [rounds, 5]
# BENCH_B_KEYED=1: B runs with an API key (adam.security.api-keys) and every request of B carries it, so that
# "bench/step-rate-ab.sh HEAD" measures what checking a key costs a step (A: the same build, open).
# Needs wrk (see bench/request-overhead.sh); builds both jars (the baseline in a temporary git worktree). A phase with
# any answer other than 200 stops the run.
set -euo pipefail
cd "$(dirname "$0")/.."
ref=${1:-56f9722}
seconds=${2:-10}
rounds=${3:-5}
connections=${BENCH_CONNECTIONS:-8}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 1; }

jar_new=$(ls target/adam-optimizer-service-*.jar 2>/dev/null | grep -v original | head -1 || true)
if [[ -z $jar_new ]]; then ./mvnw -B -q -o -DskipTests package; jar_new=$(ls target/adam-optimizer-service-*.jar | grep -v original | head -1); fi
base_dir=$(mktemp -d /tmp/step-rate-ab.XXXXXX)
git worktree add -q --detach "$base_dir/src" "$ref"
(cd "$base_dir/src" && ./mvnw -B -q -o -DskipTests package >/dev/null)
jar_old=$(ls "$base_dir"/src/target/adam-optimizer-service-*.jar | grep -v original | head -1)

java -jar "$jar_old" --server.port=18091 --adam.persistence.directory= >"$base_dir/a.log" 2>&1 &
a=$!
key_b=""
keys_b=()
if [[ ${BENCH_B_KEYED:-0} == 1 ]]; then
  key_b=bench-key-$RANDOM$RANDOM
  keys_b=("--adam.security.api-keys=bench:$(printf %s "$key_b" | sha256sum | cut -d' ' -f1)")
fi
auth_b=${key_b:+Bearer $key_b}
java -jar "$jar_new" --server.port=18092 --adam.persistence.directory= "${keys_b[@]}" >"$base_dir/b.log" 2>&1 &
b=$!
trap 'kill $a $b 2>/dev/null || true; git worktree remove --force "$base_dir/src" >/dev/null 2>&1 || true' EXIT
for port in 18091 18092; do
  for _ in $(seq 120); do curl -fs "http://127.0.0.1:$port/actuator/health" >/dev/null && break; sleep 0.5; done
done

export STEP_BODY=$(python3 - <<'PY'
import json, numpy as np
rng = np.random.default_rng(1)
shapes = {"W1": (3, 2), "b1": (3, 1), "W2": (2, 3), "b2": (2, 1)}
params = {k: rng.standard_normal(s).tolist() for k, s in shapes.items()}
grads = {"d" + k: (rng.standard_normal(s) * 1e-3).tolist() for k, s in shapes.items()}
print(json.dumps({"parameters": params, "gradients": grads}))
PY
)
sessions() { # two sessions on the server at $1, with Authorization $2 (none when empty)
  local ids=()
  for _ in 1 2; do
    ids+=("$(curl -fs -X POST "$1/v1/sessions" -H 'Content-Type: application/json' ${2:+-H "Authorization: $2"} -d '{}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')")
  done
  (IFS=,; echo "${ids[*]}")
}
ids_a=$(sessions http://127.0.0.1:18091 "")
ids_b=$(sessions http://127.0.0.1:18092 "$auth_b")
phase() { # $1: port, $2: session ids, $3: seconds; steps/s, after checking every answer was 200
  local auth="" out
  [[ $1 == 18092 ]] && auth=$auth_b
  out=$(SESSION_IDS=$2 AUTHORIZATION=$auth wrk -t2 -c"$connections" -d"${3}s" -s bench/step.lua "http://127.0.0.1:$1")
  grep -q '^non-200 answers: 0$' <<<"$out" || { echo "port $1: answers other than 200: $out" >&2; exit 1; }
  awk '/Requests\/sec/ {print $2}' <<<"$out"
}
echo "warming up (JIT) ..."
phase 18091 "$ids_a" 20 >/dev/null; phase 18092 "$ids_b" 20 >/dev/null
printf "%-6s %14s %14s %8s\n" round "A steps/s" "B steps/s" "B/A"
ratios=()
for r in $(seq "$rounds"); do
  # which goes first alternates too, so that neither side always follows the other
  if (( r % 2 )); then sa=$(phase 18091 "$ids_a" "$seconds"); sb=$(phase 18092 "$ids_b" "$seconds")
  else sb=$(phase 18092 "$ids_b" "$seconds"); sa=$(phase 18091 "$ids_a" "$seconds"); fi
  ratio=$(awk -v a="$sa" -v b="$sb" 'BEGIN {printf "%.3f", b / a}')
  ratios+=("$ratio")
  printf "%-6s %14s %14s %8s\n" "$r" "$sa" "$sb" "$ratio"
done
sorted=$(printf "%s\n" "${ratios[@]}" | sort -n)
echo "B/A median $(echo "$sorted" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'), range $(echo "$sorted" | head -1) .. $(echo "$sorted" | tail -1)"
echo "A = $ref, B = $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')${key_b:+ with an API key}; machine: $(nproc) cores, $(java -version 2>&1 | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
