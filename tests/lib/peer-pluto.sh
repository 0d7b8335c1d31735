# shellcheck shell=bash
# pluto (this project, $PLUTO from the build) as one side. Sourced by
# tests/lib/scenario.sh. Per side, in $T/SIDE: run/ (rundir, Varlink socket
# run/org.freeswan.pluto), ipsec.secrets; log $T/SIDE-pluto.log
# (--stderrlog). As an interop side (pluto_conf/pluto_start) it runs with
# --debug-all and --kernel none (this kernel has no ESP), and the
# connection "lab" of the current case is added with ipsecctl; left is
# always the L side and right the R side, so pluto has to orient itself.
# The pluto <-> pluto scenarios start it with their own options
# (pluto_launch SIDE OPTIONS...) and add their own connections.

pluto_sock() { echo "$T/$1/run/org.freeswan.pluto"; }
pluto_ctl() { local s=$1; shift; "$IPSECCTL" --socket "$(pluto_sock "$s")" "$@"; }
pluto_whack() { local s=$1; shift; "$WHACK" --ctlbase "$(pluto_sock "$s")" "$@"; }

# pluto_options [SIDE]: the connection for the current case as key=value
# words; for a SIDE with IO_RA[SIDE] set, the remote-access one
# (pluto_ra_options)
pluto_options() {
	local s=${1:-}
	if [ -n "$s" ] && [ -n "${IO_RA[$s]:-}" ]; then pluto_ra_options "$s"; return; fi
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
	elif [ "${IO_RA[$s]:-}" = gateway ]; then
		echo "$(ip_of "$s") %any : PSK \"$PSK\"" >"$d/ipsec.secrets"
	else
		echo "$L_IP $R_IP : PSK \"$PSK\"" >"$d/ipsec.secrets"
	fi
	# remote access: the XAUTH entries (API.md section 1): a gateway knows
	# both users, a client its own password (IO_RA_CLIENT_PASSWORD when a
	# case wants it wrong)
	case ${IO_RA[$s]:-} in
	gateway) printf '@%s : XAUTH "%s"\n' "$IO_RA_USER" "$IO_RA_PASSWORD" \
			"$IO_RA_USER2" "$IO_RA_PASSWORD2" >>"$d/ipsec.secrets" ;;
	client) printf '@%s : XAUTH "%s"\n' "$IO_RA_USER" \
			"${IO_RA_CLIENT_PASSWORD:-$IO_RA_PASSWORD}" >>"$d/ipsec.secrets" ;;
	esac
	chmod 600 "$d/ipsec.secrets"
}

# pluto_start SIDE: start, Listen, and add conn "lab" when a case is set
pluto_start() {
	local s=$1 d=$T/$1
	[ -S "$(pluto_sock "$s")" ] || pluto_launch "$s" || return 1
	[ -n "${CASE:-}" ] || return 0
	mapfile -t opts < <(pluto_options "$s")
	pluto_ctl "$s" add lab "${opts[@]}" >"$d/add.out" 2>&1 ||
		{ sed 's/^/#   /' "$d/add.out"; return 1; }
}

# pluto_launch SIDE [OPTION...]: pluto in SIDE's namespace (its own run
# directory, socket pluto_sock SIDE, secrets $T/SIDE/ipsec.secrets, log
# pluto_log SIDE, appended to), told to Listen. The OPTIONs replace the
# interop defaults: --kernel none --nodbus --debug-all --ikeport 500 and
# IO_PLUTO_EXTRA. A D-Bus-enabled pluto finds the bus through the
# DBUS_SYSTEM_BUS_ADDRESS of the caller (start_bus in common.sh).
pluto_launch() {
	local s=$1 d=$T/$1 opts
	shift
	opts=("$@")
	if [ $# -eq 0 ]; then
		# IO_PLUTO_KERNEL / IO_PLUTO_EXTRA / IO_PLUTO_START_WAIT: the VM test
		# (tests/vm/e2e.sh) runs the same pluto with the xfrm backend
		# shellcheck disable=SC2206 # IO_PLUTO_EXTRA is a list of words
		opts=(--kernel "${IO_PLUTO_KERNEL:-none}" --nodbus --debug-all ${IO_PLUTO_EXTRA:-} --ikeport 500)
	fi
	# a fresh run directory: the lock file of a killed pluto stops the next
	rm -rf "$d/run"
	mkdir -p "$d/run"
	[ -f "$d/ipsec.secrets" ] || { : >"$d/ipsec.secrets"; chmod 600 "$d/ipsec.secrets"; }
	ip netns exec "$(ns_of "$s")" "$PLUTO" --nofork --stderrlog --rundir "$d/run" \
		--ctlbase "$(pluto_sock "$s")" --secretsfile "$d/ipsec.secrets" "${opts[@]}" \
		>>"$T/$s-pluto.log" 2>&1 </dev/null &
	echo $! >"$d/pluto.pid"
	wait_for "${IO_PLUTO_START_WAIT:-10}" test -S "$(pluto_sock "$s")" ||
		{ echo "# pluto did not come up on $s" >&2; return 1; }
	pluto_ctl "$s" listen >"$d/listen.out" 2>&1 || { sed 's/^/#   /' "$d/listen.out"; return 1; }
}

pluto_initiate() {
	timeout "$IO_NEGOTIATE_TIMEOUT" "$IPSECCTL" --socket "$(pluto_sock "$1")" up "${2:-lab}"
}

# pluto_established SIDE [CONN]: an established ISAKMP SA in Main Mode's
# final state and an established IPsec SA in Quick Mode's, for CONN or an
# instance of it (CONN+N: a remote-access gateway's %any template)
pluto_established() {
	# a pluto that does not answer has nothing established (jq -e on no
	# input would succeed)
	local out
	out=$(pluto_ctl "$1" status --json 2>/dev/null) && [ -n "$out" ] || return 1
	jq -e --arg c "${2:-lab}" <<<"$out" '
		[.states[] | select((.connection == $c or (.connection | startswith($c + "+"))) and .established)] as $s |
		($s | any(.kind == "isakmp" and (.name | test("^STATE_(MAIN_(I4|R3)|XAUTH_(I2|R2)|MODE_CFG_(R1|R3|I2|I3))$")))) and
		($s | any(.kind == "ipsec" and (.name | test("^STATE_QUICK_(I2|R2)$"))))' >/dev/null
}

pluto_status() { pluto_ctl "$1" status; }
# the established states' algorithms ("ESP aes_gcm128 tunnel"), one a line
pluto_algs() { pluto_ctl "$1" status --json | jq -r '.states[] | select(.established) | .algorithms'; }

# pluto_states SIDE: "NAME:established" of every state, sorted (empty when
# pluto does not answer)
pluto_states() {
	pluto_ctl "$1" status --json 2>/dev/null |
		jq -r '[.states[] | "\(.name):\(.established)"] | sort | join(" ")'
}
# pluto_states_are SIDE WANT: for wait_for (the states are read at every try)
pluto_states_are() { [ "$(pluto_states "$1")" == "$2" ]; }

# pluto_sa_table SIDE: one line per state, by serial: "serial kind name
# established initiator expiresAt rekeyAt inbound-SPI(hex, - if none)
# algorithms" (the algorithms last: they contain blanks)
pluto_sa_table() {
	pluto_ctl "$1" status --json | jq -r '(.states // []) | sort_by(.serial)[] |
		[.serial, .kind, .name, .established, .initiator, .expiresAt, .rekeyAt,
		 (if (.inboundSpis // []) | length > 0 then .inboundSpis[0] else "-" end),
		 (.algorithms // "")] | map(tostring) | join(" ")' |
		awk '$8 != "-" { $8 = sprintf("%x", $8) } { print }'
}

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
	# shellcheck disable=SC2034 # for the scripts: the last exit status
	IO_STOPPED_STATUS=$rc
	# after done_testing/skip_all (the EXIT trap) no assertion may follow
	if [ -n "${IO_QUIET:-}" ]; then
		[ "$rc" -eq 0 ] || echo "# pluto on $s exited with status $rc" >&2
	else
		check_eq "pluto on $s exits cleanly (no sanitizer report)" 0 "$rc"
	fi
}

pluto_log() { echo "$T/$1-pluto.log"; }

# --- remote access (IO_RA[SIDE], variables in tests/lib/scenario.sh) ---
# pluto_ra_options SIDE: conn "lab" as an XAUTH + Mode Config gateway or
# client in the keywords of API.md section 1. left is L and right R as
# always; the gateway end ("g", left or right) protects its subnet, takes
# any peer (%any, its id %any with a PSK), asks for XAUTH (xauthby=file:
# the XAUTH entries of ipsec.secrets) and lends from its addresspool; the
# client end ("c") has no subnet: Mode Config gives it its address.
pluto_ra_options() {
	local s=$1 gw cl g c o
	if [ "${IO_RA[$s]}" = gateway ]; then gw=$s cl=$(other "$s"); else cl=$s gw=$(other "$s"); fi
	if [ "$gw" = L ]; then g=left c=right; else g=right c=left; fi
	o=("$g=$(ip_of "$gw")" "${g}id=$(ip_of "$gw")" "${g}subnet=$(net_of "$gw")"
	   "${g}xauthserver=yes" "${g}modecfgserver=yes"
	   "${c}xauthclient=yes" "${c}modecfgclient=yes"
	   "modecfgpull=$([ -n "${IO_RA_PUSH:-}" ] && echo no || echo yes)"
	   ike="${IKE_ENC}-${IKE_HASH}-${IKE_GROUP}" phase2=esp esp="$(io_p2_enc pluto)"
	   compress=no keyingtries="${IO_PLUTO_KEYINGTRIES:-1}")
	if [ "$s" = "$gw" ]; then
		# the gateway does not know the client's address; with RSA it
		# knows its key, hence its id
		o+=("$c=%any" "${c}id=$([ "$AUTH" = rsa ] && ip_of "$cl" || echo %any)"
		    "${c}addresspool=$IO_RA_POOL" xauthby=file
		    "modecfgdns=$IO_RA_DNS" "modecfgdomains=$IO_RA_DOMAIN" "modecfgbanner=$IO_RA_BANNER")
	else
		o+=("$c=$(ip_of "$cl")" "${c}id=$(ip_of "$cl")" "${c}username=$IO_RA_USER")
	fi
	if [ -n "$PFSGROUP" ]; then o+=(pfs=yes pfsgroup="$PFSGROUP"); else o+=(pfs=no); fi
	if [ "$AUTH" = rsa ]; then
		o+=(authby=rsasig leftrsasigkey="%file:$T/keys/L.pub" rightrsasigkey="%file:$T/keys/R.pub")
	else
		o+=(authby=secret)
	fi
	# shellcheck disable=SC2206 # a list of words
	o+=(${IO_PLUTO_CONN:-})
	printf '%s\n' "${o[@]}"
}

# pluto_ra_isakmp SIDE [CONN]: the JSON of CONN's established ISAKMP state
# (the State fields of API.md section 2: xauthUser, virtualAddress, dns,
# domains, banner); empty if none
pluto_ra_isakmp() {
	pluto_ctl "$1" status --json 2>/dev/null | jq -c --arg c "${2:-lab}" \
		'[.states[] | select(.kind == "isakmp" and .established and
		  (.connection == $c or (.connection | startswith($c + "+"))))] | last // empty'
}
# pluto_ra_vip SIDE [CONN]: the virtual address (a client's own, or the one
# a gateway lent), as the State shows it ("A/32"); a gateway whose State
# leaves it empty: the last lease its log names ("Mode Config: lent A to")
pluto_ra_vip() {
	local v
	v=$(pluto_ra_isakmp "$1" "${2:-}" | jq -r '.virtualAddress // empty')
	if [ -z "$v" ] && [ "${IO_RA[$1]:-}" = gateway ]; then
		v=$(grep -oE 'Mode Config: lent [0-9.]+' "$T/$1-pluto.log" 2>/dev/null | tail -1 | awk '{ print $4 }')
	fi
	echo "$v"
}
# pluto_ra_user SIDE [CONN]: the XAUTH user (State xauthUser)
pluto_ra_user() { pluto_ra_isakmp "$1" "${2:-}" | jq -r '.xauthUser // empty'; }
# pluto_ra_dns SIDE: a client's DNS servers, one a line, sorted
pluto_ra_dns() { pluto_ra_isakmp "$1" | jq -r '(.dns // [])[]' | sort; }
# pluto_ra_domains SIDE, pluto_ra_banner SIDE: the same for the domains and banner
pluto_ra_domains() { pluto_ra_isakmp "$1" | jq -r '(.domains // [])[]'; }
pluto_ra_banner() { pluto_ra_isakmp "$1" | jq -r '.banner // empty'; }
