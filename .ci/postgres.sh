# shellcheck shell=bash
#
# Starts a throwaway PostgreSQL 15 cluster for the storage test suite and
# exports STRONGROOM_TEST_POSTGRES_URL. Meant to be *sourced* by .ci/run:
#
#     source .ci/postgres.sh
#     cargo test -p kms-core --test store_suite
#
# It also works as a plain script for a developer (`bash .ci/postgres.sh`):
# then it prints the URL to export and leaves the cluster running.
#
# What it does:
#   * installs Debian's postgresql-15 if its binaries are missing;
#   * creates a cluster in a fresh temp dir owned by the `postgres` user
#     (we run as root; PostgreSQL refuses to run as root);
#   * starts it on a free port on 127.0.0.1 only, unix socket in the temp dir,
#     fsync ON (the suite and the benchmarks measure durable commits);
#   * creates the role `strongroom` (password auth, scram-sha-256) owning the
#     database `strongroom_test`; the suite creates one schema per test in it;
#   * defines `strongroom_postgres_stop` and runs it on shell exit (after
#     the caller's own EXIT trap, if it has one).
#
# Environment knobs: STRONGROOM_PG_BIN (default /usr/lib/postgresql/15/bin),
# STRONGROOM_PG_PORT (default: first free port from 54329 up).

strongroom_postgres_start() {
    local bin="${STRONGROOM_PG_BIN:-/usr/lib/postgresql/15/bin}"
    if [ ! -x "$bin/initdb" ]; then
        echo "postgres.sh: $bin/initdb missing; installing postgresql-15" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends postgresql-15 >&2 || {
            echo "postgres.sh: could not install postgresql-15" >&2
            return 1
        }
    fi
    if ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres || return 1
    fi

    local port="${STRONGROOM_PG_PORT:-}"
    if [ -z "$port" ]; then
        port=54329
        # A port is taken if something accepts a connection on it.
        while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
            port=$((port + 1))
        done
    fi

    local dir
    dir="$(mktemp -d /tmp/strongroom-pg.XXXXXX)" || return 1
    chown postgres: "$dir"
    chmod 0700 "$dir"

    local password
    password="sr-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"

    # Local (unix socket) connections: trust, for the postgres superuser that
    # sets things up. TCP: scram passwords, as in production.
    if ! su postgres -s /bin/sh -c "'$bin/initdb' -D '$dir/data' -U postgres \
            --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-instructions" \
            >"$dir/initdb.log" 2>&1; then
        echo "postgres.sh: initdb failed:" >&2
        cat "$dir/initdb.log" >&2
        return 1
    fi

    if ! su postgres -s /bin/sh -c "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -t 60 \
            -o \"-k '$dir' -p $port -c listen_addresses=127.0.0.1 -c fsync=on \
                -c synchronous_commit=on -c max_connections=300 -c shared_buffers=128MB\" start" \
            >"$dir/pg_ctl.log" 2>&1; then
        echo "postgres.sh: PostgreSQL did not start:" >&2
        cat "$dir/pg_ctl.log" "$dir/server.log" >&2
        return 1
    fi

    if ! "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres >/dev/null <<SQL
CREATE ROLE strongroom LOGIN PASSWORD '$password';
CREATE DATABASE strongroom_test OWNER strongroom;
SQL
    then
        echo "postgres.sh: could not create the test role and database" >&2
        return 1
    fi

    export STRONGROOM_PG_DIR="$dir"
    export STRONGROOM_PG_PORT="$port"
    export STRONGROOM_TEST_POSTGRES_URL="postgres://strongroom:${password}@127.0.0.1:${port}/strongroom_test"
    echo "postgres.sh: PostgreSQL 15 on 127.0.0.1:$port (data in $dir)" >&2
}

strongroom_postgres_stop() {
    local bin="${STRONGROOM_PG_BIN:-/usr/lib/postgresql/15/bin}"
    if [ -n "${STRONGROOM_PG_DIR:-}" ] && [ -d "$STRONGROOM_PG_DIR/data" ]; then
        su postgres -s /bin/sh -c "'$bin/pg_ctl' -D '$STRONGROOM_PG_DIR/data' -m fast -w stop" >/dev/null 2>&1
        rm -rf "$STRONGROOM_PG_DIR"
        unset STRONGROOM_PG_DIR
    fi
}

if (return 0 2>/dev/null); then
    # Sourced.
    if strongroom_postgres_start; then
        strongroom_postgres_trap() {
            local existing
            existing="$(trap -p EXIT)"
            if [ -z "$existing" ]; then
                trap strongroom_postgres_stop EXIT
            else
                # `trap -p` prints `trap -- 'COMMAND' EXIT`, quoted for eval.
                eval "set -- $existing"
                trap "$3
strongroom_postgres_stop" EXIT
            fi
        }
        strongroom_postgres_trap
    else
        echo "postgres.sh: PostgreSQL is not available; the PostgreSQL storage tests will fail under CI=true" >&2
    fi
else
    # Executed: start and print what to export; the cluster keeps running.
    strongroom_postgres_start || exit 1
    echo "export STRONGROOM_TEST_POSTGRES_URL='$STRONGROOM_TEST_POSTGRES_URL'"
    echo "# stop with: su postgres -s /bin/sh -c \"${STRONGROOM_PG_BIN:-/usr/lib/postgresql/15/bin}/pg_ctl -D $STRONGROOM_PG_DIR/data stop\" && rm -rf $STRONGROOM_PG_DIR"
fi
