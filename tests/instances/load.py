#!/usr/bin/env python3
"""Load client of tests/instances/run: signed-in agents through the proxy (dossier list, search,
« Prendre en compte »), and public validity checks, until a stop file appears. Then prints the
counts and latencies, overall and during the restarts, and exits 1 on any failed request.

Standard library only: the machine that runs it needs nothing but python3.
"""

import argparse
import http.client
import json
import os
import re
import sys
import threading
import time
import urllib.parse

CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')
ACK = re.compile(r'action="/admin/alertes/(\d+)/prise-en-compte"')
SEARCHES = ["mar", "dup", "ber", "le", "a", "mo", "sa", "ni"]
# One sign-in at a time: several at once for one account from one address are throttled, as
# password guessing would be.
SIGN_IN = threading.Lock()


class Failure(Exception):
    pass


class Client:
    """One persistent connection to the proxy, with its cookies; every request recorded."""

    def __init__(self, base, results, kind_prefix):
        url = urllib.parse.urlsplit(base)
        self.host, self.port = url.hostname, url.port
        self.cookies = {}
        self.results = results
        self.prefix = kind_prefix
        self.connection = None

    def request(self, kind, method, path, form=None):
        headers = {}
        body = None
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        record = {"kind": self.prefix + kind, "at": time.time(), "status": 0, "error": None}
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            record["status"] = response.status
            record["upstream"] = response.getheader("X-Upstream", "")
            for value in response.headers.get_all("Set-Cookie") or []:
                pair = value.split(";", 1)[0]
                name, _, cookie = pair.partition("=")
                if cookie:
                    self.cookies[name] = cookie
                else:
                    self.cookies.pop(name, None)
            return response.status, response.getheader("Location", ""), text, record
        except (OSError, http.client.HTTPException) as error:
            record["error"] = f"{type(error).__name__}: {error}"
            self.connection = None
            return 0, "", "", record
        finally:
            record["latency"] = time.monotonic() - started
            self.results.append(record)

    def expect(self, record, ok, what):
        if not ok:
            record["failed"] = what
            raise Failure(what)


def agent(index, workers, args, stop, results, counters):
    client = Client(args.admin, results, "admin ")
    posted = set()
    with SIGN_IN:
        status, _, text, record = client.request("login form", "GET", "/admin/login")
        client.expect(record, status == 200 and CSRF.search(text), "login form")
        form = {
            "csrf": CSRF.search(text).group(1),
            "next": "/admin/",
            "username": args.username,
            "password": args.password,
        }
        status, location, _, record = client.request("sign-in", "POST", "/admin/login", form)
        client.expect(record, status == 303 and location == "/admin/", f"sign-in {status}")
    n = 0
    while not stop.is_set():
        n += 1
        try:
            status, location, text, record = client.request(
                "list", "GET", f"/admin/dossiers/?page={1 + n % 5}"
            )
            client.expect(record, status == 200, f"list {status} {location}")
            status, location, _, record = client.request(
                "search", "GET", "/admin/dossiers/?q=" + SEARCHES[n % len(SEARCHES)]
            )
            client.expect(record, status == 200, f"search {status} {location}")
            status, location, text, page = client.request("alerts", "GET", "/admin/alertes/")
            client.expect(page, status == 200, f"alerts {status} {location}")
            ids = [int(i) for i in ACK.findall(text)]
            mine = [i for i in ids if i % workers == index and i not in posted]
            if mine:
                alert = mine[0]
                posted.add(alert)
                form = {"csrf": CSRF.search(text).group(1), "retour": "/admin/alertes/"}
                status, location, _, record = client.request(
                    "acknowledge", "POST", f"/admin/alertes/{alert}/prise-en-compte", form
                )
                client.expect(
                    record,
                    status == 303 and "pris=1" in location,
                    f"acknowledge {status} {location}",
                )
                with counters["lock"]:
                    counters["acknowledged"] += 1
                    if record.get("upstream") and record["upstream"] != page.get("upstream"):
                        counters["csrf_across"] += 1
        except Failure:
            if "login" in location:
                with counters["lock"]:
                    counters["sessions_lost"] += 1
            time.sleep(0.2)


def public(index, args, stop, results, records):
    client = Client(args.public, results, "public ")
    n = index
    while not stop.is_set():
        n += 1
        record = records[n % len(records)]
        path = f"/api/v1/apt_validity_check/{record['ds_id']}/{record['date_de_naissance']}"
        status, _, _, result = client.request("validity check", "GET", path)
        try:
            client.expect(result, status == 200, f"validity check {status}")
        except Failure:
            time.sleep(0.2)
        time.sleep(0.02)


def percentile(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def summary(results, windows, counters):
    def line(label, rows):
        latencies = [r["latency"] * 1000 for r in rows]
        failed = sum(1 for r in rows if r.get("failed") or r["error"] or r["status"] >= 500)
        return (
            f"{label:<28} {len(rows):>7} requêtes, {failed:>3} en échec ; "
            f"p50 {percentile(latencies, 50):6.1f} ms, p95 {percentile(latencies, 95):6.1f} ms, "
            f"p99 {percentile(latencies, 99):6.1f} ms, max {max(latencies, default=0):7.1f} ms"
        )

    kinds = sorted({r["kind"] for r in results})
    print(line("toutes", results))
    for kind in kinds:
        print(line(kind, [r for r in results if r["kind"] == kind]))
    during = [r for r in results if any(start <= r["at"] <= end for start, end in windows)]
    print(line("pendant les redémarrages", during))
    # After a retry nginx names both instances it tried: "a, b".
    upstreams = sorted(
        {u.strip() for r in results for u in r.get("upstream", "").split(",") if u.strip()}
    )
    print(f"instances qui ont répondu : {', '.join(upstreams)}")
    print(
        f"prises en compte : {counters['acknowledged']}, dont {counters['csrf_across']} avec le "
        f"jeton CSRF d'une page servie par l'autre instance ; sessions perdues : "
        f"{counters['sessions_lost']}"
    )
    failures = [r for r in results if r.get("failed") or r["error"] or r["status"] >= 500]
    for r in failures[:20]:
        print(f"ÉCHEC {r['kind']} : statut {r['status']}, {r['error'] or r.get('failed')}")
    return failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--admin", required=True)
    parser.add_argument("--public", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password-env", required=True)
    parser.add_argument("--validity", required=True, help="validity_check.json")
    parser.add_argument("--agents", type=int, default=6)
    parser.add_argument("--checkers", type=int, default=2)
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--windows", required=True, help="restart windows, « start end » per line")
    args = parser.parse_args()
    args.password = os.environ[args.password_env]
    with open(args.validity, encoding="utf-8") as f:
        data = json.load(f)
    records = [r for r in data if r.get("date_de_naissance")][:200]
    if not records:
        sys.exit("validity_check.json holds no record with a birth date")

    stop = threading.Event()
    results = []
    counters = {"lock": threading.Lock(), "acknowledged": 0, "csrf_across": 0, "sessions_lost": 0}
    threads = [
        threading.Thread(target=agent, args=(i, args.agents, args, stop, results, counters))
        for i in range(args.agents)
    ] + [
        threading.Thread(target=public, args=(i, args, stop, results, records))
        for i in range(args.checkers)
    ]
    for t in threads:
        t.start()
    while not os.path.exists(args.stop_file):
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join()
    windows = []
    with open(args.windows, encoding="utf-8") as f:
        for row in f:
            start, end = row.split()
            windows.append((float(start), float(end)))
    failures = summary(results, windows, counters)
    lost = counters["sessions_lost"]
    if failures or lost or counters["acknowledged"] == 0:
        print("ÉCHEC : des requêtes ont échoué, une session a été perdue ou rien n'a été pris en compte")
        sys.exit(1)
    print("OK : aucune requête perdue")


if __name__ == "__main__":
    main()
