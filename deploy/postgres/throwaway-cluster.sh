#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks, run as an
# unprivileged user on a free loopback port.
#   throwaway-cluster.sh start DIR [--durable]  prints the connection URI
#   throwaway-cluster.sh stop DIR               stops it and removes DIR
# Without --durable the cluster skips fsync: fast, and only for tests.
set -euo pipefail
cmd="${1:?start or stop}"
dir="${2:?data directory}"

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$bindir/pg_ctl" ] || { echo "throwaway-cluster: PostgreSQL server not installed" >&2; exit 1; }

# PostgreSQL refuses to run as root: use nobody then.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown nobody "$dir"
    chmod 700 "$dir"
    as_owner "$bindir/initdb" -D "$dir/data" -U safeshare -A trust --no-sync -E UTF8 \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    fsync=off
    [ "${3:-}" = "--durable" ] && fsync=on
    for attempt in $(seq 1 20); do
      port=$((20000 + RANDOM % 40000))
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue  # taken
      if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
          -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=$fsync \
              -c max_connections=200 -c shared_buffers=128MB" start >/dev/null; then
        echo "$port" >"$dir/port"
        echo "postgresql://safeshare@127.0.0.1:$port/postgres"
        exit 0
      fi
    done
    echo "throwaway-cluster: could not start PostgreSQL; see $dir/postgres.log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: throwaway-cluster.sh start|stop DIR" >&2
    exit 2
    ;;
esac
