#!/usr/bin/env bash
# Load test of the admin's lists (issue: 1,000,000 dossiers): median and 99th percentile of the
# dossiers list (default, filtered, searched, sorted, deep page by number and by "page suivante"),
# of Suivi Préfecture, of the home page and of the Alertes page, over HTTP, four connections; then
# the same lists for an agent limited to one département. Needs wrk and curl (apt-get install wrk
# curl) and a database filled beforehand, with the alerts evaluated, at the instant of the other
# benchmarks' data set (the database of `cargo bench --bench exports` will do):
#   WIF_DATABASE_URL=postgres://…/wif_bench cargo run --release -- dev generate --dossiers 1000000 \
#     --now 2026-11-15T09:00:00Z
#   WIF_DATABASE_URL=postgres://…/wif_bench cargo run --release -- alerts evaluate --now 2026-11-15T09:00:00Z
#   WIF_DATABASE_URL=postgres://…/wif_bench bash benches/admin_load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${WIF_DATABASE_URL:?set WIF_DATABASE_URL to the database to measure}"
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --quiet
target/release/wif migrate > /dev/null
WIF_SUPERUSER_PASSWORD='correct cheval agrafe batterie' target/release/wif createsuperuser \
    --username charge --email charge@example.org --no-input > /dev/null 2>&1 || true
WIF_DEBUG=True WIF_MEDIA_ROOT=$work WIF_BIND=127.0.0.1:18100 RUST_LOG=warn \
    target/release/wif serve > "$work/server.log" 2>&1 &
server=$!
until curl -sf http://127.0.0.1:18100/healthz > /dev/null; do sleep 0.2; done

# Signs `$1` in (password `$2`); prints its session cookie.
sign_in() {
    local jar="$work/jar-$1" csrf cookie
    csrf=$(curl -s -c "$jar" http://127.0.0.1:18100/admin/login | grep -o 'name="csrf" value="[0-9a-f]*"' | cut -d'"' -f4)
    curl -s -b "$jar" -c "$jar" -o /dev/null \
        --data-urlencode "csrf=$csrf" --data-urlencode "next=/admin/" \
        --data-urlencode "username=$1" --data-urlencode "password=$2" \
        http://127.0.0.1:18100/admin/login
    cookie="wif_session=$(awk '$6 == "wif_session" {print $7}' "$jar")"
    if [ "$cookie" = "wif_session=" ]; then
        echo "sign-in of $1 failed: see $work/server.log" >&2
        exit 1
    fi
    echo "$cookie"
}

# Measures each page given, as the user of cookie `$1`.
measure() {
    local cookie=$1 path first out median p99 rps non2xx
    shift
    for path in "$@"; do
        # The first request fills the minute-long cache of counts: timed apart, not in the load.
        first=$(curl -s -o /dev/null -w '%{time_total}' -H "Cookie: $cookie" "http://127.0.0.1:18100$path")
        out=$(wrk -t1 -c4 -d10s --latency -H "Cookie: $cookie" "http://127.0.0.1:18100$path")
        median=$(echo "$out" | awk '$1 == "50%" {print $2}')
        p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
        rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
        non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
        printf "%-55s %8.0fms %10s %10s %10s %s\n" "$path" "$(awk -v s="$first" 'BEGIN { print s * 1000 }')" "$median" "$p99" "$rps" "${non2xx:+($non2xx non-2xx!)}"
    done
}

cookie=$(sign_in charge 'correct cheval agrafe batterie')
# A department and a name prefix that exist in the data.
department=$(curl -s -H "Cookie: $cookie" "http://127.0.0.1:18100/admin/dossiers/" | grep -o 'departement=[^"&]*' | sed -n 1p | cut -d= -f2 || true)
# "Page suivante" from the deep page: found next to its last dossier rather than by offset.
next=$(curl -s -H "Cookie: $cookie" "http://127.0.0.1:18100/admin/dossiers/?p=5000" \
    | grep -o 'href="[^"]*"[^>]*>Page suivante<' | sed 's/^href="//; s/".*//; s/&amp;/\&/g')
printf "%-55s %10s %10s %10s %10s\n" "page (administrateur)" "first" "median" "p99" "req/s"
measure "$cookie" \
    "/admin/dossiers/" \
    "/admin/dossiers/?departement=$department&statut=closed" \
    "/admin/dossiers/?q=nguy" \
    "/admin/dossiers/?o=fin_apt" \
    "/admin/dossiers/?p=5000" \
    "/admin/dossiers/$next" \
    "/admin/prefecture/" \
    "/admin/" \
    "/admin/alertes/" \
    "/admin/alertes/?regle=apt_too_long" \
    "/admin/alertes/?departement=$department" \
    "/admin/alertes/?p=100" \
    "/admin/alertes/?etat=resolues"

# An agent limited to that département (SPEC 11): the same pages, its dossiers only.
WIF_SUPERUSER_PASSWORD='correct cheval agrafe batterie' target/release/wif createuser \
    --username agent.ud --email agent.ud@example.org --no-input \
    --departement "$(printf '%b' "${department//%/\\x}" | tr + ' ')" > /dev/null 2>&1 || true
agent=$(sign_in agent.ud 'correct cheval agrafe batterie')
printf "%-55s %10s %10s %10s %10s\n" "page (agent limité à un département)" "first" "median" "p99" "req/s"
measure "$agent" \
    "/admin/dossiers/" \
    "/admin/dossiers/?statut=closed" \
    "/admin/dossiers/?q=nguy" \
    "/admin/dossiers/?o=fin_apt" \
    "/admin/dossiers/?p=20" \
    "/admin/prefecture/" \
    "/admin/" \
    "/admin/alertes/"
