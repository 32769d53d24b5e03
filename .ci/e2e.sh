#!/usr/bin/env bash
# make e2e: build simrun, write the HTML report of a failing run and of a
# sweep, and check them in headless Chromium (reports/browser_test.go:
# no script error, no console error, nothing fetched, no broken image, the
# headings present, every figure drawn; and what each page must tell: the
# snapshot and throttle marks, the events as sentences, the sequence
# diagram's arrows and decoded frames, the planted bug named), after
# proving that check catches planted script errors, broken images, a
# diagram without arrows, raw JSON events and missing marks. Screenshots land in
# reports-e2e/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  echo "e2e: installing Debian's chromium"
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  CHROMIUM=/usr/bin/chromium
fi
export CHROMIUM

make build
out=reports-e2e
rm -rf "$out"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Lites keep getting partitioned and the budget to converge is short, so
# some seeds fail (the convergence property).
cat > "$tmp/fragile.json" <<'JSON'
{"name": "fragile", "lites": 3, "write_for": "3s", "budget": "1s",
 "faults": [{"kind": "partition", "rate": 1, "target": "lites", "arg": "1s"},
            {"kind": "drop", "rate": 0.02, "target": "all"}]}
JSON

# A sweep with failures (exit 1 expected), then the first failing seed
# alone, reported from its saved result with simrun plot.
set +e
bin/simrun sweep -scenario "$tmp/fragile.json" -seeds 40 -progress none -report "$out/sweep" > "$out/sweep.txt"
status=$?
set -e
if [ "$status" != 1 ]; then
  cat "$out/sweep.txt"; echo "e2e: want a sweep with failures (exit 1), got exit $status"; exit 1
fi
seed=$(sed -n 's/.*simrun run -scenario .* -seed \([0-9]*\).*/\1/p' "$out/sweep.txt" | head -1)
if [ -z "$seed" ]; then echo "e2e: no failing seed in the sweep"; exit 1; fi
set +e
bin/simrun run -scenario "$tmp/fragile.json" -seed "$seed" -json "$out/run.json" > "$out/run.txt"
status=$?
set -e
if [ "$status" != 1 ]; then cat "$out/run.txt"; echo "e2e: seed $seed should fail (exit 1), got $status"; exit 1; fi
bin/simrun plot "$out/run.json" -o "$out/run"

# A passing run with the throttle loop, straight from run -report; the
# same seed with Origin ignoring Throttle (fails throttle-rate, exit 1);
# and 50 seeds of that bug, every one failing.
bin/simrun run -scenario slow-consumer -seed 1 -report "$out/throttle" > "$out/throttle.txt"
set +e
bin/simrun run -scenario slow-consumer -seed 1 -bug ignore-throttle -report "$out/throttle-bug" > "$out/throttle-bug.txt"
status=$?
bin/simrun sweep -scenario slow-consumer -seeds 50 -bug ignore-throttle -progress none -report "$out/bug-sweep" > "$out/bug-sweep.txt"
status2=$?
set -e
if [ "$status" != 1 ] || [ "$status2" != 1 ]; then echo "e2e: -bug ignore-throttle should fail (exit 1), got $status and $status2"; exit 1; fi
grep -q 'lite1 → origin Throttle{on, queue 768, rate 40} arrives (conn 1)' "$out/throttle-bug.txt" || { echo "e2e: the failure output does not tell the Throttle frame"; exit 1; }

# Live: reference Lites through simrun proxy to an Origin that ignores
# Throttle, on loopback; the proxy's result is drawn with simrun plot.
cat > "$tmp/throttle-live.json" <<'JSON'
{"name": "throttle-live", "lites": 1, "collections": 1, "lite_rate": 5, "origin_rate": 600,
 "write_for": "2s", "budget": "10s", "lite_drain_rate": 200, "lite_queue": 200}
JSON
bin/simrun origin -listen 127.0.0.1:0 -scenario "$tmp/throttle-live.json" -bug ignore-throttle -duration 20s -quiet -status 0 > "$tmp/origin.txt" &
origin_pid=$!
until grep -q 'listening on' "$tmp/origin.txt" 2>/dev/null; do sleep 0.05; done
origin=$(sed -n 's/.*listening on ws:\/\/\([^ ]*\).*/\1/p' "$tmp/origin.txt")
bin/simrun proxy -listen 127.0.0.1:0 -upstream "ws://$origin" -scenario "$tmp/throttle-live.json" -json "$out/live-proxy.json" \
  -quiet -status 0 > "$out/live-proxy.txt" &
proxy_pid=$!
until grep -q '^proxy ws://' "$out/live-proxy.txt" 2>/dev/null; do sleep 0.05; done
proxy=$(sed -n 's/^proxy ws:\/\/\([^ ]*\).*/\1/p' "$out/live-proxy.txt")
bin/simrun lites -connect "ws://$proxy" -scenario "$tmp/throttle-live.json" -duration 4s -quiet -status 0 > "$out/live-lites.txt" || true
kill -INT "$proxy_pid"
set +e
wait "$proxy_pid"
status=$?
set -e
kill -INT "$origin_pid"; wait "$origin_pid" || true
if [ "$status" != 1 ]; then cat "$out/live-proxy.txt"; echo "e2e: the proxy should fail throttle-rate against -bug ignore-throttle (exit 1), got $status"; exit 1; fi
bin/simrun plot "$out/live-proxy.json" -o "$out/live-proxy" > /dev/null

for page in "$out/run/index.html" "$out/sweep/index.html" "$out/throttle/index.html" "$out/throttle-bug/index.html" "$out/bug-sweep/index.html" "$out/live-proxy/index.html"; do
  grep -q '<h2 id="plots">Plots</h2>' "$page" || { echo "e2e: $page has no plots"; exit 1; }
done
grep -q '<h2 id="failure">Failure</h2>' "$out/run/index.html" || { echo "e2e: the failing run's page shows no failure"; exit 1; }

abs=$(pwd)/$out
SYNCSIM_E2E_PAGES="$abs/run/index.html $abs/sweep/index.html $abs/throttle/index.html $abs/throttle-bug/index.html $abs/bug-sweep/index.html $abs/live-proxy/index.html" \
SYNCSIM_E2E_OUT="$abs" \
  go test -tags e2e -count=1 -run '^TestBrowser$' -v ./reports | grep -E '^(=== RUN|--- |ok|FAIL|PASS)|browser_test' 
echo "e2e: reports and screenshots in $out/"
