# The local KDS/PCS stand-in for CLI tests (sourced after tests/cli/lib.sh): 127.0.0.1 only,
# bounded in requests and time, stopped when the test exits.
#   server_start [ARGS...]  start tests/net/kds_pcs_server.py with ARGS (--serve, --status);
#                           sets BASE=http://127.0.0.1:PORT; returns 1 when it cannot start
#   server_stop             stop it
#   requests                the requests since the last call ("GET path" lines) into $T/requests
export NO_PROXY=127.0.0.1 no_proxy=127.0.0.1
SERVER_PID=
LOG_SEEN=0

server_stop() {
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
		SERVER_PID=
	fi
}

server_start() {
	server_stop
	command -v python3 >/dev/null 2>&1 || return 1
	: >"$T/requests.log"
	: >"$T/port"
	LOG_SEEN=0
	python3 tests/net/kds_pcs_server.py --vectors "$SHARED/vectors" --log "$T/requests.log" \
		--max-requests 200 --max-seconds 120 "$@" >"$T/port" 2>"$T/server.err" &
	SERVER_PID=$!
	i=0
	while [ $i -lt 100 ] && ! grep -q '^PORT ' "$T/port"; do
		sleep 0.1
		i=$((i + 1))
	done
	PORT=$(sed -n 's/^PORT //p' "$T/port")
	if [ -z "$PORT" ]; then
		server_stop
		return 1
	fi
	BASE=http://127.0.0.1:$PORT
}

requests() {
	tail -n +$((LOG_SEEN + 1)) "$T/requests.log" >"$T/requests"
	LOG_SEEN=$(wc -l <"$T/requests.log")
}

trap 'server_stop; rm -rf "$T"' EXIT
