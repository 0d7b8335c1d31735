#!/bin/bash
# tests/vm/e2e.sh - the kernel end-to-end scenarios, run INSIDE the VM by
# tests/vm/vm.sh (one boot for all of them). Here the kernel has ESP, AH
# and IPComp, so SAs really protect packets.
#
# Every case gets fresh network namespaces from the interop harness
# (tests/lib/scenario.sh: 192.0.2.1 | 192.0.2.2 on a veth, protected
# 198.51.100.0/24 <-> 203.0.113.0/24, client addresses on lo) and its own
# directory. Differences from the interop suite, which runs on a kernel
# without ESP:
#   * pluto runs with --kernel xfrm (and its default updown, in-process:
#     routes and the lent address over rtnetlink)
#   * strongSwan runs kernel-netlink and libreswan runs without the
#     LD_PRELOAD xfrm stub: both install real SAs
# Scenarios:
#   1. the harness itself: a manually keyed ESP tunnel (ip xfrm state) and
#      strongSwan <-> libreswan; the ping must pass through ESP
#   2. pluto <-> strongSwan, 3. pluto <-> libreswan, 4. pluto <-> pluto,
#      each for ESP AES128-SHA1, ESP 3DES-MD5 and AH SHA1 (PSK, tunnel)
#   5. IPComp over ESP with libreswan and pluto, tunnel and transport mode:
#      big compressible and small uncompressed pings (e2e_comp_traffic)
#   6. pluto <-> pluto TRAP: ipsecctl route, the first packet's ACQUIRE
#      negotiates, the later pings pass through ESP (e2e_trap_case)
#   7. pluto -> libreswan rekeying: the ping moves to the replacement SA,
#      the superseded one carries nothing and leaves at its expiry
#      (e2e_rekey_case)
#   8. pluto <-> pluto with NAT-T forced: ESP in UDP 4500 (e2e_natt_case)
#   9. remote access, written and not called yet (pluto's XAUTH/Mode Config
#      engine is missing): pluto gets its virtual address from a
#      strongSwan gateway's pool, pings the host behind it through ESP,
#      and after "down" the address and routes are gone (e2e_ra_case)
# and for pluto (on every pluto side): the SAs named by ipsecctl status
# --json are in the kernel with the negotiated SPIs, pluto's policies and
# route are there, the ping between the client addresses passes, the SA
# packet counters grew, tcpdump saw ESP/AH with those SPIs on the veth and
# no echo request in clear, and pluto's exit leaves no SA or policy behind.
#
# Prints TAP lines (ok / not ok / "# SKIP") and a plan; vm.sh counts them.
# Logs of every case are copied to $E2E_OUT/<case>/ (shared with the host).
#
# E2E_ONLY="pattern ..." runs only the cases whose name matches a pattern.
set -u
# E2E_TRACE=1: trace every command with a timestamp (on stderr)
[ -z "${E2E_TRACE:-}" ] || { PS4='+ $EPOCHREALTIME '; set -x; }
[ "${PLUTO_VM_GUEST:-0}" = 1 ] || { echo "e2e.sh runs inside the VM: use tests/vm/vm.sh" >&2; exit 2; }
: "${E2E_OUT:?}"
# shellcheck source=tests/lib/scenario.sh
. "$SRCDIR/tests/lib/scenario.sh"

E2E_T0=$(cut -d' ' -f1 /proc/uptime)
elapsed() { awk -v a="$E2E_T0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.1f", b - a }'; }
TBASE=$T
client_of() { [ "$1" = L ] && echo "$L_CLIENT" || echo "$R_CLIENT"; }
IO_NEGOTIATE_TIMEOUT=${IO_NEGOTIATE_TIMEOUT:-40}    # TCG is slow

# --- the real kernel: no xfrm stub for strongSwan and libreswan ---
io_stub() { echo ""; }     # LD_PRELOAD="" preloads nothing

# --- pluto with the XFRM backend (peer-pluto.sh's pluto_launch) ---
IO_PLUTO_KERNEL=xfrm
IO_PLUTO_START_WAIT=20     # process starts are slow under TCG
# the connection names no updown: pluto's in-process default sets the
# routes and the lent address (what data/updown/pluto-updown would do)
eval "interop_$(declare -f pluto_options)"
# E2E_MODE=transport: host to host (no client subnets), type=transport
E2E_MODE=tunnel
pluto_options() {
	if [ "$E2E_MODE" = transport ]; then
		interop_pluto_options "$@" | grep -v '^\(left\|right\)subnet='
		echo "type=transport"
	else
		interop_pluto_options "$@"
	fi
}
eval "interop_$(declare -f libreswan_conf)"
libreswan_conf() {
	interop_libreswan_conf "$@" || return
	[ "$E2E_MODE" = transport ] || return 0
	sed -i -e '/^    \(left\|right\)subnet=/d' -e 's/^conn lab$/conn lab\n    type=transport/' "$T/$1/ipsec.conf"
}

# --- kernel views ---
# xfrm_sas NS: one line per SA: "PROTO SPI SRC DST PACKETS"
xfrm_sas() {
	ip -n "$1" -s xfrm state 2>/dev/null | awk '
		/^src / { src = $2; dst = $4 }
		$1 == "proto" && $3 == "spi" { proto = $2; spi = $4; sub(/\(.*/, "", spi) }
		/lifetime current:/ { getline; p = $2; sub(/\(packets\)/, "", p); print proto, spi, src, dst, p }'
}
# kernel_dump NS: states (keys masked) and policies, as TAP comments
kernel_dump() {
	echo "#   --- ip -s xfrm state in $1"
	ip -n "$1" -s xfrm state 2>&1 | sed -E 's/0x[0-9a-f]{16,}/<key>/g; s/^/#     /' | head -60
	echo "#   --- ip xfrm policy in $1"
	ip -n "$1" xfrm policy 2>&1 | sed 's/^/#     /' | head -40
	echo "#   --- ip route in $1"
	ip -n "$1" route 2>&1 | sed 's/^/#     /'
}
# pluto_spis SIDE in|out: the established IPsec SA's SPIs as 0x%08x
pluto_spis() {
	local key=inboundSpis
	[ "$2" = out ] && key=outboundSpis
	pluto_ctl "$1" status --json 2>/dev/null |
		jq -r --arg k "$key" '.states[] | select(.kind == "ipsec" and .established) | .[$k][]' |
		while read -r n; do printf '0x%08x\n' "$n"; done
}

# --- tcpdump on side L's veth, started before the ping. On L, where the
# echo requests leave, a request in clear would be a leak; the replies show
# up twice, as ESP/AH and once more decapsulated (the kernel passes the
# inner packet through the receiving device again), which is normal. ---
sniff_start() {
	: >"$T/sniff.txt"
	ip netns exec "$NS_L" tcpdump -n -l -i "${NS_L}0" 'ip proto 50 or ip proto 51 or icmp' \
		>"$T/sniff.txt" 2>"$T/sniff.err" </dev/null &
	SNIFF_PID=$!
	wait_for 20 grep -q "listening on" "$T/sniff.err" || echo "# tcpdump did not start: $(cat "$T/sniff.err")"
}
sniff_stop() {
	sleep 0.3      # the last reply
	kill -INT "$SNIFF_PID" 2>/dev/null
	wait "$SNIFF_PID" 2>/dev/null
}
# sniffed SRC PROTO SPI: packets from SRC with that SPI in the capture
sniffed() {
	local tag=ESP
	[ "$2" = ah ] && tag=AH
	grep -c "IP $1 > [0-9.]*: $tag(spi=$3," "$T/sniff.txt"
}

# --- one case -------------------------------------------------------------
# e2e_case NAME IMPL_L IMPL_R CASE INITIATOR: fresh namespaces, start both
# sides, negotiate, check every pluto side, ping, counters, capture
# e2e_begin NAME IMPL_L IMPL_R CASE WHAT: the start every case shares (a
# fresh directory and namespaces, the case's values, who runs where);
# false when the case is not selected or its namespaces did not come up
# (then already counted as a failure and ended)
e2e_begin() {
	local name=$1
	selected "$name" || return 1
	E2E_CASES=$((E2E_CASES + 1))
	echo "# ===== $name: $2 (L) <-> $3 (R), $5 (+$(elapsed) s)"
	T=$TBASE/$name
	mkdir -p "$T"
	io_case "$4" || return 1
	IMPL=()
	io_side L "$2"
	io_side R "$3"
	if ! io_netns_up; then fail "$name: namespaces and veth up"; e2e_end "$name"; return 1; fi
}
E2E_CASES=0
selected() {   # selected NAME: E2E_ONLY is unset or one of its patterns matches
	local pat pats
	[ -n "${E2E_ONLY:-}" ] || return 0
	read -r -a pats <<<"$E2E_ONLY"     # split, but no file name expansion
	for pat in "${pats[@]}"; do
		# shellcheck disable=SC2053 # a glob on purpose
		[[ $1 == $pat ]] && return 0
	done
	return 1
}
e2e_case() {
	local name=$1 il=$2 ir=$3 c=$4 init=$5 s
	e2e_begin "$name" "$il" "$ir" "$c" "case $c, $init initiates" || return 0
	# libreswan (leftupdown=%disabled) and a manual tunnel install no
	# route between the client subnets; charon does (table 220); a pluto
	# side must install its own (updown), which is checked below
	for s in L R; do
		[ "${IMPL[$s]}" = pluto ] || [ "$E2E_MODE" = transport ] && continue
		ip -n "$(ns_of "$s")" route add "$(net_of "$(other "$s")")" via "$(ip_of "$(other "$s")")" \
			src "$(client_of "$s")"
	done
	if ! io_start L R; then e2e_end "$name"; return; fi
	if io_initiate "$init"; then
		ok "$name: ${IMPL[$init]} on $init initiates and succeeds"
	else
		fail "$name: ${IMPL[$init]} on $init initiates and succeeds"
		sed 's/^/#   /' "$T/initiate.out" | tail -20
		e2e_end "$name"
		return
	fi
	io_check_established L "$name"
	io_check_established R "$name"
	io_check_shown L "$name"
	io_check_shown R "$name"
	[ -n "$P2_XFRM" ] && e2e_aead "$name"
	# transport mode has no client subnets: e2e_comp_traffic checks it
	[ "$E2E_MODE" = tunnel ] && e2e_traffic "$name"
	[ "$COMPRESS" = yes ] && e2e_comp_traffic "$name"
	e2e_end "$name"
}

# sa_packets FILE PROTO SPI: the packet counter of that SA in an xfrm_sas dump
sa_packets() { awk -v p="$2" -v x="$3" '$1 == p && $2 == x { print $5 }' "$1"; }

# e2e_aead NAME: an AEAD case (P2_XFRM): each ESP SA pluto installed is
# one "aead" algorithm in the kernel, the case's name with key || salt and
# the ICV length, and has no separate cipher or integrity algorithm
e2e_aead() {
	local name=$1 s ns spi got xname xkey xicv
	read -r xname xkey xicv <<<"$P2_XFRM"
	for s in L R; do
		[ "${IMPL[$s]}" = pluto ] || continue
		ns=$(ns_of "$s")
		for spi in $(pluto_spis "$s" in) $(pluto_spis "$s" out); do
			got=$(ip -n "$ns" xfrm state 2>/dev/null | awk -v x="$spi" '
				/^src / { on = 0 }
				$1 == "proto" && $3 == "spi" { s = $4; sub(/\(.*/, "", s); on = (s == x) }
				on && $1 == "aead" { printf "aead %s %d %s;", $2, (length($3) - 2) / 2, $4 }
				on && ($1 == "enc" || $1 == "auth-trunc" || $1 == "auth") { printf "%s;", $1 }')
			check_eq "$name: pluto on $s: ESP SA $spi in the kernel is aead $xname, $xkey key bytes, ICV $xicv bits" \
				"aead $xname $xkey $xicv;" "$got"
		done
	done
}

# e2e_comp_traffic NAME: IPComp (compress=yes) on top of ESP. pluto's CPIs
# (ipsecctl status --json lists them after the SPI) are comp SAs in the
# kernel in the case's mode; a big compressible ping (1200 zero bytes)
# passes and goes through both comp SAs (the inbound one only sees packets
# that really arrived compressed); a small ping, below the kernel's
# compression threshold and therefore sent without an IPComp header (RFC
# 3173 2.2), passes too (the policy's comp template is optional; in tunnel
# mode the kernel decapsulates it with the IPIP state it attached itself).
e2e_comp_traffic() {
	local name=$1 src=$L_CLIENT dst=$R_CLIENT s ns me peer spi cpi ospi ocpi mode b a
	[ "$E2E_MODE" = transport ] && src=$L_IP dst=$R_IP
	local -A cin=() cout=() sout=()
	for s in L R; do
		[ "${IMPL[$s]}" = pluto ] || continue
		ns=$(ns_of "$s") me=$(ip_of "$s") peer=$(ip_of "$(other "$s")")
		read -r spi cpi _ <<<"$(pluto_spis "$s" in | tr '\n' ' ')"
		read -r ospi ocpi _ <<<"$(pluto_spis "$s" out | tr '\n' ' ')"
		cin[$s]=${cpi:-none} cout[$s]=${ocpi:-none} sout[$s]=${ospi:-none}
		xfrm_sas "$ns" >"$T/$s-sas.comp-before"
		if [ -n "$cpi" ] && [ -n "$ocpi" ] &&
			grep -q "^comp $cpi $peer $me " "$T/$s-sas.comp-before" &&
			grep -q "^comp $ocpi $me $peer " "$T/$s-sas.comp-before" &&
			grep -q "^$PHASE2 $spi $peer $me " "$T/$s-sas.comp-before" &&
			grep -q "^$PHASE2 $ospi $me $peer " "$T/$s-sas.comp-before"; then
			ok "$name: pluto on $s: comp SAs (CPI in $cpi, out $ocpi) and $PHASE2 SAs (in $spi, out $ospi) in the kernel"
		else
			fail "$name: pluto on $s: comp SAs (CPI in ${cpi:-none}, out ${ocpi:-none}) and $PHASE2 SAs in the kernel"
			kernel_dump "$ns"
		fi
		# the comp SA carries the mode; ESP runs inside it (transport)
		mode=$(ip -n "$ns" xfrm state 2>/dev/null | awk -v x="$ocpi" '
			$1 == "proto" && $2 == "comp" && $4 == x { for (i = 5; i < NF; i++) if ($i == "mode") print $(i + 1) }')
		check_eq "$name: pluto on $s: outbound comp SA $ocpi is in $E2E_MODE mode" "$E2E_MODE" "$mode"
		if [ "$E2E_MODE" = tunnel ]; then
			# the kernel's own IPIP state (proto 4) for uncompressed packets
			check "$name: pluto on $s: the kernel attached an IPIP state for uncompressed tunnel packets" \
				grep -q "^4 [^ ]* $peer $me " "$T/$s-sas.comp-before"
		fi
	done
	if ip netns exec "$NS_L" ping -c 3 -i 0.3 -W 5 -s 1200 -p 00 -I "$src" "$dst" >"$T/ping-big.out" 2>&1; then
		ok "$name: ping -s 1200 -p 00 $src -> $dst (compressed) passes"
	else
		fail "$name: ping -s 1200 -p 00 $src -> $dst (compressed) passes"
		sed 's/^/#   /' "$T/ping-big.out" | tail -4
	fi
	for s in L R; do
		[ "${IMPL[$s]}" = pluto ] || continue
		ns=$(ns_of "$s")
		xfrm_sas "$ns" >"$T/$s-sas.comp-after"
		b=$(sa_packets "$T/$s-sas.comp-before" comp "${cout[$s]}") a=$(sa_packets "$T/$s-sas.comp-after" comp "${cout[$s]}")
		check "$name: pluto on $s: outbound comp SA ${cout[$s]} counted the big ping (${b:-?} -> ${a:-?})" \
			test "${a:-0}" -ge $((${b:-0} + 3))
		b=$(sa_packets "$T/$s-sas.comp-before" comp "${cin[$s]}") a=$(sa_packets "$T/$s-sas.comp-after" comp "${cin[$s]}")
		check "$name: pluto on $s: inbound comp SA ${cin[$s]} decompressed >= 3 packets (${b:-?} -> ${a:-?})" \
			test "${a:-0}" -ge $((${b:-0} + 3))
		b=$(sa_packets "$T/$s-sas.comp-before" "$PHASE2" "${sout[$s]}") a=$(sa_packets "$T/$s-sas.comp-after" "$PHASE2" "${sout[$s]}")
		check "$name: pluto on $s: outbound $PHASE2 SA ${sout[$s]} carried them (${b:-?} -> ${a:-?})" \
			test "${a:-0}" -ge $((${b:-0} + 3))
		[ "$s" = L ] && ! grep -q ' 0% packet loss' "$T/ping-big.out" && kernel_dump "$ns"
	done
	check "$name: ping -s 16 $src -> $dst (below the compression threshold, sent uncompressed) passes" \
		ip netns exec "$NS_L" ping -c 3 -i 0.3 -W 5 -s 16 -I "$src" "$dst"
}

# e2e_trap_case NAME: pluto <-> pluto, no initiate: "ipsecctl route" puts a
# TRAP eroute (out policy, no SA) on L; the first ping from L's client
# makes the kernel send an ACQUIRE, pluto negotiates, and the pings after
# that pass through ESP (the triggering packet may be lost: TRAP)
e2e_trap_case() {
	local name=$1 n
	e2e_begin "$name" pluto pluto psk-aes "route + ACQUIRE, no initiate" || return 0
	if ! io_start L R; then e2e_end "$name"; return; fi
	if pluto_ctl L route lab >"$T/route.out" 2>&1; then
		ok "$name: ipsecctl route lab on L"
	else
		fail "$name: ipsecctl route lab on L"
		sed 's/^/#   /' "$T/route.out"
	fi
	n=$(ip -n "$NS_L" xfrm policy 2>/dev/null | grep -c "^src $L_NET dst $R_NET")
	check_eq "$name: L has the TRAP eroute (out policy $L_NET -> $R_NET)" 1 "$n"
	check_eq "$name: L has no SA before the first packet" 0 "$(ip -n "$NS_L" xfrm state | grep -c '^src')"
	# the trigger: this packet may be dropped while the SA is larval
	ip netns exec "$NS_L" ping -c 1 -W 1 -I "$L_CLIENT" "$R_CLIENT" >"$T/trigger.out" 2>&1
	if wait_for "$IO_NEGOTIATE_TIMEOUT" pluto_established L && wait_for 10 pluto_established R; then
		ok "$name: the first packet's ACQUIRE made pluto negotiate (both sides established)"
	else
		fail "$name: the first packet's ACQUIRE made pluto negotiate (both sides established)"
		grep -i 'acquire' "$T/L-pluto.log" | tail -5 | sed 's/^/#   /'
	fi
	check "$name: pluto on L logged the acquire for $L_CLIENT -> $R_CLIENT" \
		grep -q "acquire for $L_CLIENT -> $R_CLIENT: initiating" "$T/L-pluto.log"
	io_check_established L "$name"
	io_check_established R "$name"
	e2e_traffic "$name"
	e2e_end "$name"
}

# e2e_traffic NAME: the kernel checks around one ping L client -> R client
e2e_traffic() {
	local name=$1 s ns p me peer spi n before after want ok_ping=0
	local -A in_spis=() out_spis=()
	for s in L R; do
		[ "${IMPL[$s]}" = pluto ] || continue
		ns=$(ns_of "$s") me=$(ip_of "$s") peer=$(ip_of "$(other "$s")")
		in_spis[$s]=$(pluto_spis "$s" in | tr '\n' ' ')
		out_spis[$s]=$(pluto_spis "$s" out | tr '\n' ' ')
		xfrm_sas "$ns" >"$T/$s-sas.before"
		local missing=() proto
		# the lists are the ESP/AH SPI, then the IPComp CPI when compressing
		proto=$PHASE2
		for spi in ${in_spis[$s]}; do
			grep -q "^$proto $spi $peer $me " "$T/$s-sas.before" || missing+=("in $proto $spi")
			proto=comp
		done
		proto=$PHASE2
		for spi in ${out_spis[$s]}; do
			grep -q "^$proto $spi $me $peer " "$T/$s-sas.before" || missing+=("out $proto $spi")
			proto=comp
		done
		if [ -n "${in_spis[$s]}" ] && [ -n "${out_spis[$s]}" ] && [ ${#missing[@]} -eq 0 ]; then
			ok "$name: pluto on $s: its $PHASE2 SAs (in ${in_spis[$s]}out ${out_spis[$s]}) are in the kernel"
		else
			fail "$name: pluto on $s: its $PHASE2 SAs (in ${in_spis[$s]:-none} out ${out_spis[$s]:-none}) are in the kernel"
			echo "#   missing: ${missing[*]:-no SPIs in ipsecctl status --json}"
			kernel_dump "$ns"
		fi
		# out, in and fwd policies for the client subnets, with a template
		p=$(ip -n "$ns" xfrm policy 2>/dev/null | awk -v proto="$PHASE2" '
			/^src / { sel = $2 " " $4 }
			/^\tdir / { dir = $2 }
			/tmpl src/ { t = 1 }
			$1 == "proto" && $2 == proto && t { print sel, dir; t = 0 }' | sort -u | tr '\n' ';')
		want="$(net_of "$s") $(net_of "$(other "$s")") out;"
		want+="$(net_of "$(other "$s")") $(net_of "$s") fwd;$(net_of "$(other "$s")") $(net_of "$s") in;"
		local w okp=1
		while IFS= read -r -d ';' w; do [[ ";$p" == *";$w;"* ]] || okp=0; done <<<"$want"
		if [ $okp = 1 ]; then
			ok "$name: pluto on $s: out, in and fwd $PHASE2 policies for the client subnets"
		else
			fail "$name: pluto on $s: out, in and fwd $PHASE2 policies for the client subnets"
			echo "#   want: $want"
			echo "#   have: $p"
			ip -n "$ns" xfrm policy 2>&1 | sed 's/^/#     /' | head -30
		fi
		if [ -n "$(ip -n "$ns" route show "$(net_of "$(other "$s")")")" ]; then
			ok "$name: pluto on $s: route to $(net_of "$(other "$s")") (updown)"
		else
			fail "$name: pluto on $s: route to $(net_of "$(other "$s")") (updown)"
			echo "#   adding one by hand so that the traffic checks can still run"
			ip -n "$ns" route add "$(net_of "$(other "$s")")" via "$peer"
		fi
	done

	sniff_start
	if ip netns exec "$NS_L" ping -c 3 -i 0.3 -W 5 -I "$L_CLIENT" "$R_CLIENT" >"$T/ping.out" 2>&1; then
		ok_ping=1
		ok "$name: ping $L_CLIENT -> $R_CLIENT through the tunnel"
	else
		fail "$name: ping $L_CLIENT -> $R_CLIENT through the tunnel"
		sed 's/^/#   /' "$T/ping.out" | tail -5
	fi
	sniff_stop
	# (anchored: an AH line shows the inner header after its own)
	n=$(grep -cE "^[0-9:.]+ IP $L_CLIENT > $R_CLIENT: ICMP" "$T/sniff.txt")
	check_eq "$name: no echo request $L_CLIENT -> $R_CLIENT in clear on the veth" 0 "$n"

	for s in L R; do
		[ "${IMPL[$s]}" = pluto ] || continue
		ns=$(ns_of "$s") me=$(ip_of "$s") peer=$(ip_of "$(other "$s")")
		xfrm_sas "$ns" >"$T/$s-sas.after"
		# only the ESP/AH SAs: a small ping is not compressed, so the
		# IPComp SAs are e2e_comp_traffic's job
		for spi in ${out_spis[$s]%% *}; do
			before=$(awk -v x="$spi" '$2 == x { print $5 }' "$T/$s-sas.before")
			after=$(awk -v x="$spi" '$2 == x { print $5 }' "$T/$s-sas.after")
			if [ "${after:-0}" -ge $((${before:-0} + 3)) ]; then
				ok "$name: pluto on $s: outbound SA $spi counted the ping ($before -> $after packets)"
			else
				fail "$name: pluto on $s: outbound SA $spi counted the ping (${before:-?} -> ${after:-?} packets)"
				kernel_dump "$ns"
			fi
			n=$(sniffed "$me" "$PHASE2" "$spi")
			if [ "$n" -ge 3 ]; then
				ok "$name: pluto on $s: tcpdump saw $n ${PHASE2^^} packets $me -> $peer with SPI $spi"
			else
				fail "$name: pluto on $s: tcpdump saw $n ${PHASE2^^} packets $me -> $peer with SPI $spi"
				sed 's/^/#   /' "$T/sniff.txt" | head -10
			fi
		done
		for spi in ${in_spis[$s]%% *}; do
			before=$(awk -v x="$spi" '$2 == x { print $5 }' "$T/$s-sas.before")
			after=$(awk -v x="$spi" '$2 == x { print $5 }' "$T/$s-sas.after")
			if [ "${after:-0}" -ge $((${before:-0} + 3)) ]; then
				ok "$name: pluto on $s: inbound SA $spi counted the replies ($before -> $after packets)"
			else
				fail "$name: pluto on $s: inbound SA $spi counted the replies (${before:-?} -> ${after:-?} packets)"
			fi
		done
	done
	[ $ok_ping = 1 ] || { kernel_dump "$NS_L"; kernel_dump "$NS_R"; }
}

# e2e_end NAME: stop both sides, keep the logs, drop the namespaces
e2e_end() {
	local f s
	IO_QUIET=        # pluto's exit status is an assertion (peer-pluto.sh)
	io_stop L R
	# a pluto that exits takes its SAs and policies out of the kernel
	for s in L R; do
		[ "${IMPL[$s]:-}" = pluto ] || continue
		check_eq "$1: pluto on $s left no SA and no policy behind (states policies)" "0 0" \
			"$(ip -n "$(ns_of "$s")" xfrm state | grep -c '^src') $(ip -n "$(ns_of "$s")" xfrm policy | grep -c '^src')"
	done
	mkdir -p "$E2E_OUT/$1"
	for f in "$T"/*.log "$T"/*.out "$T"/sniff.txt "$T"/*-sas.*; do
		[ -f "$f" ] && cp "$f" "$E2E_OUT/$1/"
	done
	io_netns_down
	IMPL=()
	T=$TBASE
}

# --- scenario 1a: manual keys, no IKE at all ------------------------------
manual_esp() {
	local name=manual-esp-aes ns a b spi_o=0x00001001 spi_i=0x00002002
	selected "$name" || return 0
	E2E_CASES=$((E2E_CASES + 1))
	echo "# ===== $name: ip xfrm state + policy by hand (+$(elapsed) s)"
	T=$TBASE/$name
	mkdir -p "$T"
	io_netns_up || { fail "$name: namespaces and veth up"; e2e_end "$name"; return; }
	for ns in "$NS_L" "$NS_R"; do
		if [ "$ns" = "$NS_L" ]; then a=$L_NET b=$R_NET; else a=$R_NET b=$L_NET; fi
		local lo re
		if [ "$ns" = "$NS_L" ]; then lo=$L_IP re=$R_IP; else lo=$R_IP re=$L_IP; fi
		ip -n "$ns" -batch - <<EOF || { fail "$name: install SAs and policies in $ns"; e2e_end "$name"; return; }
xfrm state add src $L_IP dst $R_IP proto esp spi $spi_o reqid 7 mode tunnel enc cbc(aes) 0x000102030405060708090a0b0c0d0e0f auth-trunc hmac(sha1) 0x101112131415161718191a1b1c1d1e1f20212223 96
xfrm state add src $R_IP dst $L_IP proto esp spi $spi_i reqid 7 mode tunnel enc cbc(aes) 0x000102030405060708090a0b0c0d0e0f auth-trunc hmac(sha1) 0x101112131415161718191a1b1c1d1e1f20212223 96
xfrm policy add src $a dst $b dir out tmpl src $lo dst $re proto esp reqid 7 mode tunnel
xfrm policy add src $b dst $a dir in tmpl src $re dst $lo proto esp reqid 7 mode tunnel
xfrm policy add src $b dst $a dir fwd tmpl src $re dst $lo proto esp reqid 7 mode tunnel
route add $b via $re
EOF
	done
	ok "$name: ESP SAs and policies installed by hand (the kernel has ESP)"
	sniff_start
	check "$name: ping $L_CLIENT -> $R_CLIENT through the manual tunnel" \
		ip netns exec "$NS_L" ping -c 3 -i 0.3 -W 5 -I "$L_CLIENT" "$R_CLIENT"
	sniff_stop
	local n
	n=$(sniffed "$L_IP" esp "$spi_o")
	check "$name: tcpdump saw $n ESP packets with SPI $spi_o" test "$n" -ge 3
	n=$(sniffed "$R_IP" esp "$spi_i")
	check "$name: tcpdump saw $n ESP replies with SPI $spi_i" test "$n" -ge 3
	n=$(grep -cE "^[0-9:.]+ IP $L_CLIENT > $R_CLIENT: ICMP" "$T/sniff.txt")
	check_eq "$name: no echo request $L_CLIENT -> $R_CLIENT in clear on the veth" 0 "$n"
	n=$(xfrm_sas "$NS_L" | awk -v x="$spi_o" '$2 == x { print $5 }')
	check "$name: SA $spi_o counted ${n:-?} packets" test "${n:-0}" -ge 3
	# the policies stay, the SAs go: the traffic must be dropped, not leak
	ip -n "$NS_L" xfrm state flush
	ip -n "$NS_R" xfrm state flush
	check_fails "$name: without SAs the policies block the ping" \
		ip netns exec "$NS_L" ping -c 1 -W 2 -I "$L_CLIENT" "$R_CLIENT"
	e2e_end "$name"
}

# --- the plan -------------------------------------------------------------
have_strongswan=1 have_libreswan=1
[ -x "$CHARON" ] && command -v swanctl >/dev/null || have_strongswan=0
[ -x "$LSBIN/pluto" ] || have_libreswan=0
peer_case() {   # peer_case NAME L R CASE INITIATOR: skip when a peer is missing
	local impl
	for impl in "$2" "$3"; do
		case $impl in
		strongswan) [ $have_strongswan = 1 ] || { ok "$1 # SKIP strongSwan not installed (tests/interop/setup.sh)"; return; } ;;
		libreswan) [ $have_libreswan = 1 ] || { ok "$1 # SKIP libreswan not unpacked (tests/interop/setup.sh)"; return; } ;;
		esac
	done
	e2e_case "$@"
}

# e2e_rekey_case NAME PEER: pluto (L) initiates to PEER with a 30 s IPsec
# lifetime and a 12 s margin (no fuzz): at 18 s it replaces the SA. While
# old and new coexist in the kernel, the ping goes out on the new SA only
# (the man page: never sends on a superseded SA) and the old one is gone
# once it expired; the tunnel carries the ping before, during and after.
e2e_rekey_case() {
	local name=$1 peer=$2 old_out new_out before after i
	e2e_begin "$name" pluto "$peer" psk-aes "IPsec SA replaced" || return 0
	[ "$peer" = pluto ] || ip -n "$NS_R" route add "$L_NET" via "$L_IP" src "$R_CLIENT"
	IO_PLUTO_CONN="salifetime=30 rekeymargin=12 rekeyfuzz=0%"
	if ! io_start L R; then IO_PLUTO_CONN=; e2e_end "$name"; return; fi
	IO_PLUTO_CONN=
	if ! io_initiate L; then
		fail "$name: pluto initiates"; sed 's/^/#   /' "$T/initiate.out" | tail -10
		e2e_end "$name"; return
	fi
	old_out=$(pluto_spis L out | head -1)
	check "$name: ping through the first SA ($old_out)" \
		ip netns exec "$NS_L" ping -c 2 -i 0.3 -W 5 -I "$L_CLIENT" "$R_CLIENT"
	# the replacement: a second established IPsec SA (18 s after the first)
	for ((i = 0; i < 60; i++)); do
		[ "$(pluto_spis L out | wc -l)" -ge 2 ] && break
		sleep 1
	done
	new_out=$(pluto_spis L out | grep -v "^$old_out$" | tail -1)
	if [ -n "$new_out" ]; then ok "$name: pluto replaced the IPsec SA ($old_out -> $new_out)"
	else fail "$name: pluto replaced the IPsec SA"; kernel_dump "$NS_L"; e2e_end "$name"; return; fi
	xfrm_sas "$NS_L" >"$T/rk-before"
	check "$name: old and new outbound SA both in the kernel" \
		grep -q "^esp $old_out .*" "$T/rk-before"
	ip netns exec "$NS_L" ping -c 3 -i 0.3 -W 5 -I "$L_CLIENT" "$R_CLIENT" >"$T/rk-ping" 2>&1
	check_eq "$name: ping during the overlap" 0 "$?"
	xfrm_sas "$NS_L" >"$T/rk-after"
	before=$(sa_packets "$T/rk-before" esp "$new_out") after=$(sa_packets "$T/rk-after" esp "$new_out")
	check "$name: the new outbound SA carried the ping (${before:-?} -> ${after:-?})" \
		test "${after:-0}" -ge $((${before:-0} + 3))
	before=$(sa_packets "$T/rk-before" esp "$old_out") after=$(sa_packets "$T/rk-after" esp "$old_out")
	check_eq "$name: the superseded outbound SA carried nothing" "${before:-x}" "${after:-y}"
	# the old SA's hard expiry (30 s after it was made)
	for ((i = 0; i < 40; i++)); do
		xfrm_sas "$NS_L" | grep -q "^esp $old_out " || break
		sleep 1
	done
	check "$name: the superseded SA left the kernel when it expired" \
		sh -c "! ip -n $NS_L xfrm state | grep -q 'spi $old_out'"
	check "$name: ping after the old SA expired" \
		ip netns exec "$NS_L" ping -c 2 -i 0.3 -W 5 -I "$L_CLIENT" "$R_CLIENT"
	e2e_end "$name"
}

# e2e_natt_case NAME: pluto <-> pluto with encapsulation=yes (NAT-T forced
# without a NAT, as strongSwan's forceencaps): the kernel SAs carry
# UDP encapsulation 4500 -> 4500 (XFRMA_ENCAP), the ping passes, the veth
# sees ESP inside UDP 4500 with pluto's SPI and no echo request in clear,
# and the outbound SA counts the packets (the kernel decapsulates what
# arrives on pluto's UDP_ENCAP_ESPINUDP socket).
e2e_natt_case() {
	local name=$1 out_spi before after n
	e2e_begin "$name" pluto pluto psk-aes "ESP in UDP 4500" || return 0
	IO_PLUTO_CONN="encapsulation=yes"
	if ! io_start L R; then IO_PLUTO_CONN=; e2e_end "$name"; return; fi
	IO_PLUTO_CONN=
	if ! io_initiate L; then
		fail "$name: pluto initiates"; sed 's/^/#   /' "$T/initiate.out" | tail -10
		e2e_end "$name"; return
	fi
	ok "$name: pluto initiates and succeeds"
	n=$(ip -n "$NS_L" xfrm state | grep -c "encap type espinudp sport 4500 dport 4500")
	check_eq "$name: both ESP SAs on L are UDP-encapsulated 4500 -> 4500" 2 "$n"
	out_spi=$(pluto_spis L out | head -1)
	xfrm_sas "$NS_L" >"$T/nt-before"
	: >"$T/nt-sniff.txt"
	ip netns exec "$NS_L" tcpdump -n -l -i "${NS_L}0" 'udp port 4500 or icmp' \
		>"$T/nt-sniff.txt" 2>"$T/nt-sniff.err" </dev/null &
	local sniff=$!
	wait_for 20 grep -q "listening on" "$T/nt-sniff.err"
	check "$name: ping $L_CLIENT -> $R_CLIENT through ESP in UDP" \
		ip netns exec "$NS_L" ping -c 3 -i 0.3 -W 5 -I "$L_CLIENT" "$R_CLIENT"
	sleep 0.3
	kill -INT "$sniff" 2>/dev/null
	wait "$sniff" 2>/dev/null
	xfrm_sas "$NS_L" >"$T/nt-after"
	n=$(grep -c "IP $L_IP.4500 > $R_IP.4500: UDP-encap: ESP(spi=$out_spi," "$T/nt-sniff.txt")
	check "$name: tcpdump saw $n ESP-in-UDP packets with pluto's SPI $out_spi" test "$n" -ge 3
	n=$(grep -cE "^[0-9:.]+ IP $L_CLIENT > $R_CLIENT: ICMP" "$T/nt-sniff.txt")
	check_eq "$name: no echo request in clear" 0 "$n"
	before=$(sa_packets "$T/nt-before" esp "$out_spi") after=$(sa_packets "$T/nt-after" esp "$out_spi")
	check "$name: the outbound SA counted the ping (${before:-?} -> ${after:-?})" \
		test "${after:-0}" -ge $((${before:-0} + 3))
	[ -n "$out_spi" ] && grep -q "ESP" "$T/nt-sniff.txt" || { sed 's/^/#   /' "$T/nt-sniff.txt" | head; kernel_dump "$NS_L"; }
	e2e_end "$name"
}

# e2e_ra_case NAME GW: remote access (issue 11, point 4). pluto (L) is an
# XAUTH + Mode Config client of GW (R: strongswan or pluto) as gateway,
# which lends from IO_RA_POOL: pluto's updown puts the virtual address on
# an interface and routes the gateway's subnet through it, so a plain ping
# of the host behind the gateway (R_CLIENT) leaves from the virtual address
# and passes through ESP (the outbound SA counts it, tcpdump sees ESP and
# no echo request in clear); after "ipsecctl down" the address, the route
# and the SAs are gone.
e2e_ra_case() {
	local name=$1 gw=$2 vip out_spi before after n
	e2e_begin "$name" pluto "$gw" psk-aes "XAUTH + Mode Config client of a $gw gateway" || return 0
	IO_RA=([L]=client [R]=gateway)
	# the gateway's way back to the pool (IO_RA_POOL lies in 10.99.0.0/24;
	# charon's own route is in table 220, this one is plain)
	ip -n "$NS_R" route add 10.99.0.0/24 via "$L_IP" src "$R_CLIENT"
	if ! io_start R L; then IO_RA=(); e2e_end "$name"; return; fi
	if ! io_initiate L; then
		fail "$name: pluto initiates"; sed 's/^/#   /' "$T/initiate.out" | tail -10
		IO_RA=(); e2e_end "$name"; return
	fi
	ok "$name: pluto initiates and succeeds"
	io_check_established R "$name"
	vip=$(pluto_ra_vip L)
	vip=${vip%%/*}
	check "$name: pluto got $vip from the pool $IO_RA_POOL" io_ra_in_pool "$vip"
	check_eq "$name: the $gw gateway lent $vip" "$vip" "$(peer ra_vip R | cut -d/ -f1)"
	check_contains "$name: updown put $vip on an interface of L" " $vip/" "$(ip -n "$NS_L" -4 addr)"
	check_contains "$name: updown routes $R_NET from $vip" "src $vip" \
		"$(ip -n "$NS_L" route show table all | grep -F "$R_NET")"
	out_spi=$(pluto_spis L out | head -1)
	xfrm_sas "$NS_L" >"$T/ra-before"
	sniff_start
	check "$name: ping $R_CLIENT (behind the gateway) from $vip" \
		ip netns exec "$NS_L" ping -c 3 -i 0.3 -W 5 "$R_CLIENT"
	sniff_stop
	xfrm_sas "$NS_L" >"$T/ra-after"
	before=$(sa_packets "$T/ra-before" esp "$out_spi") after=$(sa_packets "$T/ra-after" esp "$out_spi")
	check "$name: the outbound SA counted the ping (${before:-?} -> ${after:-?})" \
		test "${after:-0}" -ge $((${before:-0} + 3))
	n=$(grep -c "IP $L_IP > $R_IP: ESP(spi=$out_spi," "$T/sniff.txt")
	check "$name: tcpdump saw $n ESP packets with pluto's SPI $out_spi" test "$n" -ge 3
	n=$(grep -cE "IP $vip > $R_CLIENT: ICMP" "$T/sniff.txt")
	check_eq "$name: no echo request in clear" 0 "$n"
	check "$name: ipsecctl down lab" pluto_ctl L down lab
	check "$name: the virtual address is gone from L" \
		wait_for 10 sh -c '! ip -n "$1" -4 addr | grep -qF " $2/"' sh "$NS_L" "$vip"
	check "$name: the route through it is gone" \
		sh -c '! ip -n "$1" route show table all | grep -qF "src $2"' sh "$NS_L" "$vip"
	check_eq "$name: no SA left on L" "" "$(ip -n "$NS_L" xfrm state)"
	IO_RA=()
	e2e_end "$name"
}

echo "# kernel $(uname -r), $(nproc) CPU(s); pluto $PLUTO"
manual_esp
peer_case selfcheck-strongswan-libreswan strongswan libreswan psk-aes L
for peer in strongswan libreswan pluto; do
	# pluto initiates AES and AH; the peer initiates 3DES (pluto responds)
	peer_case "pluto-$peer-esp-aes" pluto "$peer" psk-aes L
	peer_case "pluto-$peer-esp-3des" pluto "$peer" psk-3des R
	peer_case "pluto-$peer-ah" pluto "$peer" ah L
done
# ESP AES-GCM (RFC 4106): pluto initiating with ours, responding to each
# peer, libreswan's and strongSwan's spellings in pluto's esp= (pluto <->
# pluto GCM runs in the interop suite only: time)
peer_case pluto-strongswan-esp-gcm pluto strongswan gcm L
peer_case pluto-libreswan-esp-gcm256 pluto libreswan gcm256 R
peer_case pluto-strongswan-esp-gcm12-pfs pluto strongswan gcm12-pfs R
# IPComp over ESP, tunnel and transport mode (strongSwan left out: time)
for peer in libreswan pluto; do
	peer_case "pluto-$peer-ipcomp-tunnel" pluto "$peer" ipcomp L
	E2E_MODE=transport
	peer_case "pluto-$peer-ipcomp-transport" pluto "$peer" ipcomp L
	E2E_MODE=tunnel
done
e2e_trap_case pluto-pluto-trap-acquire
e2e_natt_case pluto-pluto-natt-forced
if [ $have_libreswan = 1 ]; then e2e_rekey_case pluto-libreswan-rekey libreswan
else ok "pluto-libreswan-rekey # SKIP libreswan not unpacked (tests/interop/setup.sh)"; fi
# remote access: pluto as the client of a pluto gateway's pool
e2e_ra_case pluto-pluto-ra-pool pluto
echo "# $E2E_CASES cases in $(elapsed) s"
done_testing
