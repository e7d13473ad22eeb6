#!/usr/bin/env bash
# Request overhead: JSON steps of a tiny model (the article's 4 tensors W1 3x2, b1 3x1, W2 2x3, b2 2x1: 17
# parameters, sent with their gradients) per second, against GET /actuator/health on the same server, in the same
# run, alternating phases so both see the same machine. Target: steps/s >= 0.7 x health/s.
#
# Usage (from the project root): bench/request-overhead.sh [seconds per phase, default 10] [rounds, default 3]
# Needs wrk (installs it from Debian's packages when run as root); builds the jar when it is missing. Load stays on
# 127.0.0.1 and every phase ends by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
rounds=${2:-3}
port=${BENCH_PORT:-18081}
connections=${BENCH_CONNECTIONS:-8}
if ! command -v wrk >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing wrk from Debian's packages ..."
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    echo "wrk is needed: sudo apt-get install wrk"; exit 1
  fi
fi
jar=$(ls target/adam-optimizer-service-*.jar 2>/dev/null | grep -v original | head -1 || true)
if [[ -z $jar ]]; then ./mvnw -B -q -DskipTests package; jar=$(ls target/adam-optimizer-service-*.jar | head -1); fi

# memory only, as measured in the README (bench/persistence.py measures what durable sessions add)
java -jar "$jar" --server.port="$port" --adam.persistence.directory= >/tmp/request-overhead-server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 120); do curl -fs "$base/actuator/health" >/dev/null && break; sleep 0.5; done

export STEP_BODY=$(python3 - <<'PY'
import json, numpy as np
rng = np.random.default_rng(1)
shapes = {"W1": (3, 2), "b1": (3, 1), "W2": (2, 3), "b2": (2, 1)}
params = {k: rng.standard_normal(s).tolist() for k, s in shapes.items()}
grads = {"d" + k: (rng.standard_normal(s) * 1e-3).tolist() for k, s in shapes.items()}
print(json.dumps({"parameters": params, "gradients": grads}))
PY
)
ids=()
for _ in 1 2; do
  ids+=("$(curl -fs -X POST "$base/v1/sessions" -H 'Content-Type: application/json' -d '{}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')")
done
export SESSION_IDS=$(IFS=,; echo "${ids[*]}")

rate() { awk '/Requests\/sec/ {print $2}'; }
run() { # $1: seconds, $2..: wrk target args
  local d=$1; shift
  wrk -t2 -c"$connections" -d"${d}s" "$@"
}
echo "warming up (JIT) ..."
run 30 "$base/actuator/health" >/dev/null
run 30 -s bench/step.lua "$base" >/dev/null

printf "%-6s %14s %14s %8s\n" round "health req/s" "step req/s" ratio
ratios=()
for r in $(seq "$rounds"); do
  health=$(run "$seconds" "$base/actuator/health" | rate)
  out=$(run "$seconds" -s bench/step.lua "$base")
  step=$(echo "$out" | rate)
  failures=$(echo "$out" | awk '/non-200 answers/ {print $3}')
  [[ $failures == 0 ]] || { echo "$failures steps failed"; exit 1; }
  ratio=$(awk -v s="$step" -v h="$health" 'BEGIN {printf "%.2f", s / h}')
  ratios+=("$ratio")
  printf "%-6s %14s %14s %8s\n" "$r" "$health" "$step" "$ratio"
done
median=$(printf "%s\n" "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "median steps/health ratio: $median (target >= 0.70); machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(java -version 2>&1 | head -1)"
