# Helpers shared by the CI scripts that run Python tools against a live demo server.

# ci_venv NAME REQUIREMENT… : a virtual environment under target/ci-venv/NAME with the requirements
# installed from PyPI (reused when present); prints its path. Prefers a recent Python (the
# hypothesis release schemathesis needs trips over Python 3.11's ast module).
ci_venv() {
    local name="$1"; shift
    local dir="$PWD/target/ci-venv/$name"
    if [ ! -x "$dir/bin/python" ]; then
        local py=""
        for candidate in python3.13 python3.12 "$HOME/.pyenv/versions/3.12.1/bin/python3" python3; do
            if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import venv' >/dev/null 2>&1; then
                py="$candidate"; break
            fi
        done
        [ -n "$py" ] || { echo "no python3 with venv found" >&2; return 1; }
        "$py" -m venv "$dir" >&2
        "$dir/bin/pip" install -q --disable-pip-version-check "$@" >&2
    fi
    echo "$dir"
}

# free_port: a TCP port nothing listens on now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_demo BIN DIR PORT HOUSEHOLDS: the demo on a fresh SQLite database in DIR (key files there
# too), its output in DIR/demo.out and DIR/demo.err; sets server_pid; waits for /api/v1/health.
start_demo() {
    local bin="$1" dir="$2" port="$3" households="$4"
    (cd "$dir" && SANAD_AUTH_FAILURES_PER_MINUTE="${SANAD_AUTH_FAILURES_PER_MINUTE:-1000000}" \
        exec "$bin" --database-url "sqlite://$dir/demo.db" demo --households "$households" --port "$port" \
        >"$dir/demo.out" 2>"$dir/demo.err") &
    server_pid=$!
    for _ in $(seq 1 240); do
        if curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null 2>&1; then return 0; fi
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "the demo server stopped:" >&2; cat "$dir/demo.err" >&2; return 1
        fi
        sleep 0.5
    done
    echo "the demo server did not answer on port $port" >&2
    return 1
}

# demo_password DIR USERNAME: the password the demo printed for an account.
demo_password() {
    local pw
    pw="$(awk -v u="$2" '$2 == u { print $3 }' "$1/demo.out")"
    [ -n "$pw" ] || { echo "no password printed for $2" >&2; return 1; }
    echo "$pw"
}
