#!/usr/bin/env bash
# Serving benchmark for the results page (issue 9): nginx with the shipped systemd/nginx-results.conf
# serves a ballot file to `wrk -t2 -c200 -d30s` (gzip accepted, as browsers do) while
# `./logtail bench --rate 20000 --duration 60` ingests 20,000 lines/s on the same machine, and the real
# publisher (`./logtail publish`, every 5 s) rewrites the files from the bench's database as the ballots
# change, so nginx serves files that are being replaced. Prints wrk's figures and the bench's, with
# uptime before and after. docs/benchmarks.md ("Serving the results").
#
#   bench/results-serving.sh                       # files published live from the bench's database
#   PUBLISHER=0 bench/results-serving.sh           # the fixed files of web/test-fixtures/ instead
#
# Settings (environment): RATE (20000), DURATION (60, s), WRK_THREADS (2), WRK_CONNS (200),
# WRK_DURATION (30s), FILE (results/ballot/city-0.json), PORT (18190), WORK (target/results-serving),
# NGINX_WORKERS (auto), PUBLISHER (1), DB_PORT (54339, the bench's embedded PostgreSQL). Needs nginx and wrk (apt-get install nginx wrk); the tests do not need wrk.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

rate=${RATE:-20000}
duration=${DURATION:-60}
threads=${WRK_THREADS:-2}
conns=${WRK_CONNS:-200}
wrk_duration=${WRK_DURATION:-30s}
file=${FILE:-results/ballot/city-0.json}
port=${PORT:-18190}
work=${WORK:-$here/target/results-serving}
workers=${NGINX_WORKERS:-auto}
publisher=${PUBLISHER:-1}
db_port=${DB_PORT:-54339}

nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "results-serving: nginx is not installed (apt-get install nginx)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "results-serving: wrk is not installed (apt-get install wrk)" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work/site" "$work/nginx/tmp"
work=$(cd "$work" && pwd)
cp web/index.html web/app.js web/style.css "$work/site/"
if [ "$publisher" = 0 ]; then
  cp -r web/test-fixtures/results web/test-fixtures/canvass "$work/site/"
  find "$work/site/results" "$work/site/canvass" -type f -name '*.json' -exec gzip -kn9 {} \;
  find "$work/site/canvass" -type f -name '*.geojson' -exec gzip -kn9 {} \;
  [ -f "$work/site/$file" ] && [ -f "$work/site/$file.gz" ] || { echo "results-serving: no $file (and .gz) to serve" >&2; exit 1; }
fi

# The shipped snippet with its port and root changed, nothing else (as io.logtail.demo.NginxServer does).
snippet=systemd/nginx-results.conf
for line in '    listen 80;' '    listen [::]:80;' '    root /var/www/logtail;'; do
  [ "$(grep -cxF -- "$line" "$snippet")" = 1 ] || { echo "results-serving: $snippet must contain '$line' once" >&2; exit 1; }
done
sed -e "s|^    listen 80;\$|    listen 127.0.0.1:$port;|" -e '/^    listen \[::\]:80;$/d' \
    -e "s|^    root /var/www/logtail;\$|    root $work/site;|" "$snippet" > "$work/nginx/results.conf"
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root root;"
cat > "$work/nginx/nginx.conf" <<EOF
# written by bench/results-serving.sh; the results server is the shipped snippet
daemon off;
master_process on;
worker_processes $workers;
$user_line
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  include $work/nginx/results.conf;
}
EOF

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

"$nginx" -p "$work/nginx/" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
pids+=($!)
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/index.html" && break
  sleep 0.1
done
curl -sf -o /dev/null "http://127.0.0.1:$port/index.html" || { echo "results-serving: nginx did not start; $(cat "$work/nginx/error.log")" >&2; exit 1; }
echo "results-serving: nginx $("$nginx" -v 2>&1 | sed 's/.*\///') on 127.0.0.1:$port serving $work/site (systemd/nginx-results.conf)"

./logtail --version >/dev/null   # builds first if needed, so that the build is not in the measured time
echo "results-serving: ./logtail bench --rate $rate --duration $duration --work-dir $work/bench"
./logtail bench --rate "$rate" --duration "$duration" --work-dir "$work/bench" > "$work/bench.out" 2> "$work/bench.err" &
bench=$!
pids+=($bench)
# wrk starts when the bench's paced appender starts (after its cold start), so that both overlap
for _ in $(seq 1200); do
  grep -q '^bench: appending' "$work/bench.err" 2>/dev/null && break
  kill -0 "$bench" 2>/dev/null || break
  sleep 0.1
done
grep -q '^bench: appending' "$work/bench.err" || { echo "results-serving: the bench did not start appending:" >&2; cat "$work/bench.err" >&2; exit 1; }
if [ "$publisher" != 0 ]; then
  db_url="jdbc:postgresql://127.0.0.1:$db_port/bench_rate?user=logtail"
  echo "results-serving: ./logtail publish --publish-dir $work/site --db-url $db_url --publish-interval 5s"
  ./logtail publish --publish-dir "$work/site" --db-url "$db_url" --publish-interval 5s > "$work/publish.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 600); do
    [ -f "$work/site/$file.gz" ] && break
    sleep 0.1
  done
  [ -f "$work/site/$file.gz" ] || { echo "results-serving: the publisher wrote no $file:" >&2; cat "$work/publish.log" >&2; exit 1; }
fi
sleep 3   # let the appender and the worker reach their steady state
curl -s -o /dev/null -D - -H 'Accept-Encoding: gzip' "http://127.0.0.1:$port/$file" | tr -d '\r' \
  | grep -iE '^(HTTP|content-type|content-encoding|content-length|cache-control|etag)' | sed 's/^/  /'
echo "results-serving: $(date -u +%FT%TZ) uptime:$(uptime | sed 's/.*load average/ load average/')"
echo "results-serving: wrk -t$threads -c$conns -d$wrk_duration --latency -H 'Accept-Encoding: gzip' http://127.0.0.1:$port/$file"
wrk -t"$threads" -c"$conns" -d"$wrk_duration" --latency -H 'Accept-Encoding: gzip' "http://127.0.0.1:$port/$file" | tee "$work/wrk.out"
echo "results-serving: $(date -u +%FT%TZ) uptime:$(uptime | sed 's/.*load average/ load average/')"
if [ "$publisher" != 0 ]; then
  echo "results-serving: published seq $(grep -o '"seq":[0-9]*' "$work/site/results/index.json" | head -1), $(ls "$work/site/results/ballot" | grep -c '\.json$') ballot files; publisher log:"
  grep -v '^\s*$' "$work/publish.log" | tail -5 | sed 's/^/  /'
fi
bench_status=0
wait "$bench" || bench_status=$?
echo "results-serving: ./logtail bench (exit $bench_status):"
sed 's/^/  /' "$work/bench.out"
[ "$bench_status" = 0 ] || { echo "results-serving: bench failed:"; tail -20 "$work/bench.err"; }

rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.out")
errors=$(awk '/Non-2xx or 3xx responses:/ {print $5} /Socket errors:/ {print "socket errors: " $0}' "$work/wrk.out")
echo "SUMMARY wrk ${rps:-?} requests/s on $file (gzip) with ${errors:-no} non-2xx/socket errors; ingest: $(grep -E '^rate ' "$work/bench.out" || echo '?')"
exit "$bench_status"
