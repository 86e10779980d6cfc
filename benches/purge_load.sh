#!/usr/bin/env bash
# Benchmark of `wif purge` (SPEC 14) over a large database, and of the admin's dossier list while
# it runs. Fills the database named by WIF_DATABASE_URL, which must be a dedicated one: it is
# emptied first (SQLite: the file is removed; PostgreSQL: its public schema is dropped, with psql),
# then gets WIF_BENCH_DOSSIERS synthetic dossiers (default 1,000,000), decided over the two years
# before a fixed instant (2026-11-15T09:00:00Z, as the other benchmarks' data set), so that every
# run purges the same dossiers.
# Prints the dry run's and the purge's times and counts, then the list's median and 99th
# percentile over HTTP (four connections), window by window, while the purge runs.
# WIF_BENCH_NOW (RFC 3339) is the instant the purge runs as of, by default the data's (about a
# fifth of the dossiers are then due); one year later (2027-11-15T09:00:00Z), about half.
# WIF_BENCH_REUSE=1 keeps the database as it is (a second measurement without generating again:
# what the first run erased stays erased).
# Needs wrk, curl and /usr/bin/time (apt-get install wrk curl time), and psql for PostgreSQL.
#   WIF_DATABASE_URL=postgres://postgres@127.0.0.1/wif_purge_bench \
#     WIF_BENCH_NOW=2027-11-15T09:00:00Z bash benches/purge_load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${WIF_DATABASE_URL:?set WIF_DATABASE_URL to a dedicated database: it is emptied}"
dossiers=${WIF_BENCH_DOSSIERS:-1000000}
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --quiet
generated_at=2026-11-15T09:00:00Z
as_of=(--now "${WIF_BENCH_NOW:-$generated_at}")
if [ "${WIF_BENCH_REUSE:-0}" != 1 ]; then
case "$WIF_DATABASE_URL" in
    sqlite:*)
        file=${WIF_DATABASE_URL#sqlite:}; file=${file#//}; file=${file%%\?*}
        rm -f "$file" "$file-wal" "$file-shm" ;;
    *)
        psql -q "$WIF_DATABASE_URL" -c 'DROP SCHEMA public CASCADE; CREATE SCHEMA public' ;;
esac
target/release/wif migrate > /dev/null
echo "generating $dossiers dossiers…"
/usr/bin/time -f "generation: %e s" target/release/wif dev generate --dossiers "$dossiers" --now "$generated_at" > /dev/null
fi
WIF_SUPERUSER_PASSWORD='correct cheval agrafe batterie' target/release/wif createsuperuser \
    --username charge --email charge@example.org --no-input > /dev/null 2>&1 || true
WIF_DEBUG=True WIF_MEDIA_ROOT=$work WIF_BIND=127.0.0.1:18101 WIF_PURGE_SCHEDULE=off \
    RUST_LOG=warn target/release/wif serve --no-scheduler > "$work/server.log" 2>&1 &
server=$!
until curl -sf http://127.0.0.1:18101/healthz > /dev/null; do sleep 0.2; done
jar="$work/jar"
csrf=$(curl -s -c "$jar" http://127.0.0.1:18101/admin/login | grep -o 'name="csrf" value="[0-9a-f]*"' | cut -d'"' -f4)
curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "csrf=$csrf" --data-urlencode "next=/admin/" \
    --data-urlencode "username=charge" --data-urlencode "password=correct cheval agrafe batterie" \
    http://127.0.0.1:18101/admin/login
cookie="wif_session=$(awk '$6 == "wif_session" {print $7}' "$jar")"
list=http://127.0.0.1:18101/admin/dossiers/
curl -s -o /dev/null -H "Cookie: $cookie" "$list"

window() {
    local out
    out=$(wrk -t1 -c4 -d5s --latency -H "Cookie: $cookie" "$list")
    printf "%-22s median %8s  p99 %8s  %8s req/s %s\n" "$1" \
        "$(echo "$out" | awk '$1 == "50%" {print $2}')" "$(echo "$out" | awk '$1 == "99%" {print $2}')" \
        "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" "$(echo "$out" | awk '/Non-2xx/ {print "(" $5 " non-2xx!)"}')"
}
window "list, before"
/usr/bin/time -f "dry run: %e s" target/release/wif purge --dry-run "${as_of[@]}"
/usr/bin/time -f "purge: %e s, %M KB" -o "$work/purge.time" target/release/wif purge "${as_of[@]}" \
    > "$work/purge.out" 2>&1 &
purge=$!
while kill -0 "$purge" 2>/dev/null; do window "list, during the purge"; done
wait "$purge"
grep -v '^…' "$work/purge.out"
cat "$work/purge.time"
window "list, after"
