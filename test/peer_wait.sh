# test/peer_wait.sh: sourced by the test/start_*.sh scripts (POSIX sh).
# peer_wait PID CMD...: returns 0 once CMD succeeds (tried every 0.1 s,
# 30 s at most), 1 when PID has exited first or the time is up.
peer_wait() {
	_pw_pid=$1
	shift
	_pw_i=0
	while [ "$_pw_i" -lt 300 ]; do
		"$@" 2> /dev/null && return 0
		kill -0 "$_pw_pid" 2> /dev/null || return 1
		sleep 0.1
		_pw_i=$((_pw_i + 1))
	done
	return 1
}
