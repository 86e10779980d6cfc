#!/usr/bin/env bash
# Load test of the public service (issue: 1,000,000 records): requests per second and latency
# of the validity check and of the verification page against /healthz on the same server, the
# check again from random client addresses (the rate limiter's table grows), resident memory,
# and the time and peak memory of reloading the file. Needs wrk (apt-get install wrk).
#   bash benches/public_load.sh [RECORDS]
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-1000000}
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --quiet
python3 - "$records" "$work/validity_check.json" <<'PY'
import json, sys, random
n, path = int(sys.argv[1]), sys.argv[2]
random.seed(1)
with open(path, "w") as f:
    f.write("[")
    for i in range(1, n + 1):
        f.write(("," if i > 1 else "") + "\n" + json.dumps({
            "ds_id": i, "type": "authorization", "siret": "52222222222222",
            "prenom": "*m** ******", "nom": "*h***", "date_de_naissance": "1990-01-01",
            "has_expired": False, "date_de_debut_apt": "2026-01-01",
            "date_de_fin_apt": "2099-12-31" if i % 2 else "2020-01-01"}, separators=(",", ":")))
    f.write("\n]\n")
PY
echo "file: $(du -h "$work/validity_check.json" | cut -f1), $records records"

WIF_MEDIA_ROOT=$work WIF_PUBLIC_BIND=127.0.0.1:18337 WIF_PUBLIC_RATE_LIMIT=1000000000 WIF_TRUST_PROXY=True \
    RUST_LOG=warn,wif::public::data=info target/release/wif serve-public > "$work/server.log" 2>&1 &
server=$!
until curl -sf http://127.0.0.1:18337/healthz > /dev/null; do sleep 0.2; done
grep -o "duration_ms=[0-9]*" "$work/server.log" | head -1 | sed "s/^/initial load: /" || cat "$work/server.log"
echo "resident memory after load: $(grep VmRSS /proc/$server/status | awk '{print $2/1024 " MiB"}')"

# Both loads build each request in a Lua function, so that wrk, on the same two cores, spends
# the same on each: the difference is the server's.
cat > "$work/random.lua" <<LUA
math.randomseed(42)
request = function()
  return wrk.format("GET", "/api/v1/apt_validity_check/" .. math.random(1, $records) .. "/1990-01-01")
end
LUA
cat > "$work/healthz.lua" <<LUA
math.randomseed(42)
request = function()
  return wrk.format("GET", "/healthz?" .. math.random(1, $records))
end
LUA
cat > "$work/page.lua" <<LUA
math.randomseed(42)
request = function()
  return wrk.format("GET", "/verifier?numero=" .. math.random(1, $records) .. "&date_de_naissance=1990-01-01")
end
LUA
cat > "$work/addresses.lua" <<LUA
math.randomseed(42)
request = function()
  local address = math.random(1, 223) .. "." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  return wrk.format("GET", "/api/v1/apt_validity_check/" .. math.random(1, $records) .. "/1990-01-01",
                    { ["X-Forwarded-For"] = address })
end
LUA
echo "== /healthz"
wrk -t1 -c32 -d10s --latency -s "$work/healthz.lua" http://127.0.0.1:18337/ | grep -E 'Requests/sec|50%|99%'
echo "== validity check (random ids)"
wrk -t1 -c32 -d10s --latency -s "$work/random.lua" http://127.0.0.1:18337/ | grep -E 'Requests/sec|50%|99%'
echo "== verification page (random ids)"
wrk -t1 -c32 -d10s --latency -s "$work/page.lua" http://127.0.0.1:18337/ | grep -E 'Requests/sec|50%|99%'
echo "== validity check (random ids, random client addresses)"
wrk -t1 -c32 -d10s --latency -s "$work/addresses.lua" http://127.0.0.1:18337/ | grep -E 'Requests/sec|50%|99%'
echo "resident memory after load test: $(grep VmRSS /proc/$server/status | awk '{print $2/1024 " MiB"}')"

cp "$work/validity_check.json" "$work/new.json" && mv "$work/new.json" "$work/validity_check.json"
until [ "$(grep -c 'fichier chargé' "$work/server.log")" -ge 2 ]; do sleep 0.2; done
grep 'validity_check' "$work/server.log" | grep -o 'duration_ms=[0-9]*' | tail -1 | sed 's/^/reload: /'
echo "peak resident memory (VmHWM): $(grep VmHWM /proc/$server/status | awk '{print $2/1024 " MiB"}')"
