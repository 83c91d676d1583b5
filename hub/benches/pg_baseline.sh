#!/usr/bin/env bash
# The national search benchmark with its PostgreSQL pg_trgm baseline, in one run: installs
# Debian's PostgreSQL if it is missing (needs root), starts a throwaway cluster in a temporary
# directory on a private port (Unix socket only, no TCP), runs
# `cargo bench -p civreg-hub --bench search_bench -- --pg ...` with the arguments given here
# (`--full`, `--records N`, `--write`, `--dir DIR`), then stops the cluster and deletes it.
#
#   hub/benches/pg_baseline.sh                 # 200,000 records
#   hub/benches/pg_baseline.sh --full --write  # 3,100,000 records, update BENCHMARKS.md
#
# PG_PORT (default 55432) and PG_TMP (default: a new directory under $TMPDIR or /tmp) override
# where the cluster lives. The normal tests never need any of this.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${PG_PORT:-55432}"

pg_bin() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && { echo "$d"; return 0; }
    done
    return 1
}

if ! bin="$(pg_bin)"; then
    echo "pg_baseline: installing PostgreSQL (apt-get install postgresql postgresql-contrib)" >&2
    if [ "$(id -u)" -ne 0 ]; then
        echo "pg_baseline: PostgreSQL is not installed and this is not root: run 'apt-get install -y postgresql' first" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql postgresql-contrib >&2 ||
        { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql postgresql-contrib >&2; }
    bin="$(pg_bin)"
fi

# As root, the cluster belongs to the 'postgres' user (PostgreSQL refuses to run as root).
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

tmp="${PG_TMP:-$(mktemp -d "${TMPDIR:-/tmp}/civreg-pg.XXXXXX")}"
mkdir -p "$tmp"
[ "$(id -u)" -eq 0 ] && chown postgres: "$tmp"
cleanup() {
    as_pg "$bin/pg_ctl" -D "$tmp/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

as_pg "$bin/initdb" -D "$tmp/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
# A throwaway cluster: durability off (it only affects loading, not query latency), memory sized
# for one benchmark on a shared machine.
as_pg "$bin/pg_ctl" -D "$tmp/data" -l "$tmp/log" -w start -o "-p $port -k $tmp -c listen_addresses='' \
 -c shared_buffers=1GB -c work_mem=64MB -c maintenance_work_mem=1GB -c fsync=off \
 -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=4GB \
 -c jit=off" >/dev/null
echo "pg_baseline: $("$bin/postgres" --version) on $tmp, port $port" >&2

cd "$here/.."
nice -n 5 cargo bench -p civreg-hub --bench search_bench -- --pg "host=$tmp port=$port user=postgres dbname=postgres" "$@"
