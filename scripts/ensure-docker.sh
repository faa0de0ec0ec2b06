#!/usr/bin/env bash
# Starts the Docker engine in the background when none answers (machines and CI
# without systemd), and waits until it does.
set -euo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
if ! command -v dockerd >/dev/null; then
  echo "ensure-docker: dockerd is not installed (run scripts/install-deps.sh)" >&2
  exit 1
fi
log=/var/log/sctrace-dockerd.log
echo "ensure-docker: starting dockerd (log: $log)"
setsid nohup dockerd >"$log" 2>&1 </dev/null &
for _ in $(seq 60); do
  if docker info >/dev/null 2>&1; then echo "ensure-docker: engine is up"; exit 0; fi
  sleep 1
done
echo "ensure-docker: dockerd did not come up in 60 s; last lines of $log:" >&2
tail -n 20 "$log" >&2 || true
exit 1
