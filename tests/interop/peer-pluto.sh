# shellcheck shell=bash
# pluto (this project, $PLUTO from the build) as one side. Sourced by lib.sh.
# Per side, in $T/SIDE: run/ (rundir, Varlink socket run/org.freeswan.pluto),
# ipsec.secrets; log $T/SIDE-pluto.log (--stderrlog --debug-all). The
# connection "lab" is added with ipsecctl; left is always the L side and
# right the R side, so pluto has to orient itself.
# --kernel none: this kernel has no ESP, and pluto installs nothing yet.

pluto_sock() { echo "$T/$1/run/org.freeswan.pluto"; }
pluto_ctl() { local s=$1; shift; "$IPSECCTL" --socket "$(pluto_sock "$s")" "$@"; }
pluto_whack() { local s=$1; shift; "$WHACK" --ctlbase "$(pluto_sock "$s")" "$@"; }

# pluto_options: the connection for the current case as key=value words
pluto_options() {
	local o=(left="$L_IP" right="$R_IP" leftsubnet="$L_NET" rightsubnet="$R_NET"
		 leftid="$L_IP" rightid="$R_IP" ike="${IKE_ENC}-${IKE_HASH}-${IKE_GROUP}"
		 phase2="$PHASE2" compress="$COMPRESS" keyingtries="${IO_PLUTO_KEYINGTRIES:-1}")
	# IO_PLUTO_CONN: more key=value words (not the ones set here);
	# IO_PLUTO_KEYINGTRIES: keyingtries (default 1: fail fast)
	# shellcheck disable=SC2206 # a list of words
	o+=(${IO_PLUTO_CONN:-})
	if [ "$PHASE2" = ah ]; then o+=(ah="$P2_INTEG"); else o+=(esp="$(io_p2_enc pluto)"); fi
	if [ -n "$PFSGROUP" ]; then o+=(pfs=yes pfsgroup="$PFSGROUP"); else o+=(pfs=no); fi
	if [ "$AUTH" = rsa ]; then
		o+=(authby=rsasig leftrsasigkey="%file:$T/keys/L.pub" rightrsasigkey="%file:$T/keys/R.pub")
	else
		o+=(authby=secret)
	fi
	printf '%s\n' "${o[@]}"
}

pluto_conf() {
	local s=$1 d=$T/$1
	mkdir -p "$d/run"
	if [ "$AUTH" = rsa ]; then
		echo ": RSA $T/keys/$s.key" >"$d/ipsec.secrets"
	else
		echo "$L_IP $R_IP : PSK \"$PSK\"" >"$d/ipsec.secrets"
	fi
	chmod 600 "$d/ipsec.secrets"
}

# pluto_start SIDE: start, Listen, and add conn "lab" when a case is set
pluto_start() {
	local s=$1 d=$T/$1
	[ -S "$(pluto_sock "$s")" ] || pluto_launch "$s" || return 1
	[ -n "${CASE:-}" ] || return 0
	mapfile -t opts < <(pluto_options)
	pluto_ctl "$s" add lab "${opts[@]}" >"$d/add.out" 2>&1 ||
		{ sed 's/^/#   /' "$d/add.out"; return 1; }
}

pluto_launch() {
	local s=$1 d=$T/$1
	mkdir -p "$d/run"
	[ -f "$d/ipsec.secrets" ] || { : >"$d/ipsec.secrets"; chmod 600 "$d/ipsec.secrets"; }
	# IO_PLUTO_KERNEL / IO_PLUTO_EXTRA / IO_PLUTO_START_WAIT: the VM test
	# (tests/vm/e2e.sh) runs the same pluto with the xfrm backend
	# shellcheck disable=SC2086 # IO_PLUTO_EXTRA is a list of words
	ip netns exec "$(ns_of "$s")" "$PLUTO" --kernel "${IO_PLUTO_KERNEL:-none}" --nofork --stderrlog --nodbus \
		--debug-all --rundir "$d/run" --ctlbase "$(pluto_sock "$s")" ${IO_PLUTO_EXTRA:-} \
		--secretsfile "$d/ipsec.secrets" --ikeport 500 >>"$T/$s-pluto.log" 2>&1 </dev/null &
	echo $! >"$d/pluto.pid"
	wait_for "${IO_PLUTO_START_WAIT:-10}" test -S "$(pluto_sock "$s")" ||
		{ echo "# pluto did not come up on $s" >&2; return 1; }
	pluto_ctl "$s" listen >"$d/listen.out" 2>&1 || { sed 's/^/#   /' "$d/listen.out"; return 1; }
}

pluto_initiate() {
	timeout "$IO_NEGOTIATE_TIMEOUT" "$IPSECCTL" --socket "$(pluto_sock "$1")" up "${2:-lab}"
}

# pluto_established SIDE [CONN]: an established ISAKMP SA in Main Mode's
# final state and an established IPsec SA in Quick Mode's, for CONN
pluto_established() {
	# a pluto that does not answer has nothing established (jq -e on no
	# input would succeed)
	local out
	out=$(pluto_ctl "$1" status --json 2>/dev/null) && [ -n "$out" ] || return 1
	jq -e --arg c "${2:-lab}" <<<"$out" '
		[.states[] | select(.connection == $c and .established)] as $s |
		($s | any(.kind == "isakmp" and (.name | test("^STATE_MAIN_(I4|R3)$")))) and
		($s | any(.kind == "ipsec" and (.name | test("^STATE_QUICK_(I2|R2)$"))))' >/dev/null
}

pluto_status() { pluto_ctl "$1" status; }
# the established states' algorithms ("ESP aes_gcm128 tunnel"), one a line
pluto_algs() { pluto_ctl "$1" status --json | jq -r '.states[] | select(.established) | .algorithms'; }

# pluto_stop SIDE: SIGTERM, and the exit status must be 0 (a sanitizer
# report makes it 98/99): recorded as an assertion when the test ends
pluto_stop() {
	local s=$1 d=$T/$1 pid rc i
	[ -f "$d/pluto.pid" ] || return 0
	pid=$(cat "$d/pluto.pid")
	rm -f "$d/pluto.pid"
	io_pid_ours "$pid" || return 0
	kill -TERM "$pid"
	for ((i = 0; i < 100; i++)); do io_pid_ours "$pid" || break; sleep 0.1; done
	if io_pid_ours "$pid"; then
		kill -KILL "$pid"
		[ -n "${IO_QUIET:-}" ] || fail "pluto on $s exits on SIGTERM within 10 s"
		return
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	# after done_testing/skip_all (the EXIT trap) no assertion may follow
	if [ -n "${IO_QUIET:-}" ]; then
		[ "$rc" -eq 0 ] || echo "# pluto on $s exited with status $rc" >&2
	else
		check_eq "pluto on $s exits cleanly (no sanitizer report)" 0 "$rc"
	fi
}

pluto_log() { echo "$T/$1-pluto.log"; }
