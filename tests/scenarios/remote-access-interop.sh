#!/bin/bash
# Remote access (issue 11, points 3): XAUTH + Mode Config between a
# gateway and a client, each side asserting its own view (the address lent
# or got, the user, both SAs, DNS/domain where the client shows them).
#
#   remote-access-interop.sh CASE
#
# The harness self-tests (no pluto; registered, they must pass):
#   harness-strongswan   strongSwan client (L) -> strongSwan gateway (R):
#                        PSK + XAUTH pull, then push, then RSA + XAUTH, then
#                        the client's ISAKMP rekey (a reauthentication: XAUTH
#                        again, the address adopted), then a wrong password
#                        refused (the gateway's log names the user)
#   harness-libreswan    the same with libreswan on both sides (pull, push,
#                        wrong password; domain, banner and split include
#                        as the client logs them)
# Not a test, a finding: a strongSwan 5.9.8 client against a libreswan 4.10
# gateway rejects libreswan's Mode Config REPLY ("length of
# CONFIGURATION_ATTRIBUTE_V1 substructure list invalid" in charon's log),
# retransmits until it gives up and never gets an address,
# so neither is the reference for the other (the drafts are).
# Both peers put XAUTH into the Main Mode proposal: strongSwan and libreswan
# clients offer Authentication-Method 65001 (XAUTHInitPreShared; 65005 for
# RSA), and libreswan's gateway ignores a plain PSK proposal ("no connection
# has been authorized with authby=PSK and xauth=no"); a pluto that offers
# or accepts only method 1 meets neither.
#
# The pluto cases (ready; registered in tests/interop/meson.build when
# pluto's XAUTH/Mode Config engine lands; until then pluto refuses the
# keywords and the case fails at "add", or skips without an IKE engine):
#   ss-gw-psk | ss-gw-rsa | ss-gw-push   pluto client (L) -> strongSwan gateway (R):
#                        address from the pool, user, DNS, domain, banner,
#                        split include (pluto's IPsec SA is for R's subnet)
#   ls-gw-psk | ls-gw-push                pluto client -> libreswan gateway
#   ss-client | ss-client-push            strongSwan client (R) -> pluto gateway (L)
#   ls-client | ls-client-push            libreswan client (R) -> pluto gateway (L)
#   pluto-pluto                           pluto client (R) -> pluto gateway (L)
#   wrong-ss | wrong-ls                   pluto client, wrong password, against
#                        strongSwan / libreswan: whack says AuthenticationFailed
#                        (no timeout), the gateway's log names the user
#   wrong-pluto          strongSwan client, wrong password, against pluto: the
#                        client fails, pluto logs the user and three tries
#   two-clients          two road warriors (strongSwan, two addresses, two
#                        users) on one pluto gateway: distinct addresses
#   reconnect            a strongSwan client goes and comes back: same lease
#   rekey                pluto client against strongSwan with a short ISAKMP
#                        lifetime: the new ISAKMP SA keeps the address and
#                        the user; XAUTH as strongSwan expects it (again)
# shellcheck source=tests/lib/scenario.sh
. "$SRCDIR/tests/lib/scenario.sh"
CASE_NAME=${1:-}
usage() { echo "usage: remote-access-interop.sh CASE (see the head of the script)" >&2; exit 2; }

# --- each implementation's own view, dispatched like peer VERB ---
ra_vip()  { "${IMPL[$1]}_ra_vip" "$@"; }
ra_user() { "${IMPL[$1]}_ra_user" "$@"; }
ra_dns()  { "${IMPL[$1]}_ra_dns" "$@"; }
log_of()  { cat "$(peer log "$1")"; }

# ra_up GW CLIENT WHAT: both sides started (gateway first), the client
# initiates; asserts success, both SAs on both sides
ra_up() {
	local gw=$1 cl=$2 what=$3
	IO_RA[$gw]=gateway IO_RA[$cl]=client
	io_start "$gw" || return 1
	[ "${IMPL[$gw]}" = pluto ] && io_skip_unless_engine "$gw"
	io_start "$cl" || return 1
	[ "${IMPL[$cl]}" = pluto ] && io_skip_unless_engine "$cl"
	io_check_initiate "$cl" "$what"
	io_check_established "$cl" "$what"
	io_check_established "$gw" "$what"
}

# ra_check_views GW CLIENT WHAT: the client got an address from the pool,
# the gateway lent that very address to IO_RA_USER; the client shows the
# DNS servers (where it shows them)
ra_check_views() {
	local gw=$1 cl=$2 what=$3 vip gvip
	wait_for 5 sh -c '[ -n "$1" ]' sh "$(ra_vip "$cl")"
	vip=$(ra_vip "$cl") gvip=$(ra_vip "$gw")
	gvip=${gvip:-(none)}
	if io_ra_in_pool "$vip"; then ok "$what: ${IMPL[$cl]} client got $vip from the pool $IO_RA_POOL"
	else fail "$what: ${IMPL[$cl]} client got an address from the pool $IO_RA_POOL (got '$vip')"; fi
	# (none) on both sides is no agreement
	check_eq "$what: ${IMPL[$gw]} gateway lent that address" "${vip%%/*}" "${gvip%%/*}"
	check_eq "$what: ${IMPL[$gw]} gateway's user" "$IO_RA_USER" "$(ra_user "$gw")"
	check_eq "$what: ${IMPL[$cl]} client's user" "$IO_RA_USER" "$(ra_user "$cl")"
	# libreswan 4.10 as a client takes only the address from a pushed SET
	# (it logs "Received IP address", no DNS): nothing to read there
	if [ -n "${IO_RA_PUSH:-}" ] && [ "${IMPL[$cl]}" = libreswan ]; then
		echo "# $what: libreswan's client shows no DNS servers after a push"
	else
		check_eq "$what: ${IMPL[$cl]} client's DNS servers" "$(io_ra_dns_sorted)" "$(ra_dns "$cl")"
	fi
}

# ra_check_refused GW CLIENT WHAT: the client's initiate fails, nothing is
# established on either side, the gateway's log names the user
ra_check_refused() {
	local gw=$1 cl=$2 what=$3
	IO_RA[$gw]=gateway IO_RA[$cl]=client
	io_start "$gw" || return 1
	[ "${IMPL[$gw]}" = pluto ] && io_skip_unless_engine "$gw"
	io_start "$cl" || return 1
	[ "${IMPL[$cl]}" = pluto ] && io_skip_unless_engine "$cl"
	if io_initiate "$cl"; then
		fail "$what: the ${IMPL[$cl]} client's initiate fails"
	else
		ok "$what: the ${IMPL[$cl]} client's initiate fails"
	fi
	check_fails "$what: no IPsec SA on the ${IMPL[$cl]} client" peer established "$cl"
	check_fails "$what: no IPsec SA on the ${IMPL[$gw]} gateway" peer established "$gw"
	check "$what: the ${IMPL[$gw]} gateway's log says $IO_RA_USER failed" \
		wait_for 5 grep -qiE -- "$IO_RA_USER.*fail|fail.*$IO_RA_USER" "$(peer log "$gw")"
}

# --- the harness self-tests ---
harness_strongswan() {
	io_side L strongswan
	io_side R strongswan
	check "namespaces and veth up" io_netns_up || done_testing
	io_case psk-aes
	ra_up R L "strongSwan <-> strongSwan, PSK + XAUTH, pull" && ra_check_views R L "PSK, pull"
	# strongSwan shows neither the domain nor the banner (no handler takes
	# them): its log shows the attributes parsed, and the gateway's that it
	# sent them with the split include
	check "PSK, pull: the gateway sent address, 2 DNS, split include, domain, banner" \
		grep -qF "CPRP(ADDR DNS DNS U_SPLITINC U_DEFDOM U_BANNER)" "$(peer log R)"
	for a in UNITY_SPLIT_INCLUDE UNITY_DEF_DOMAIN UNITY_BANNER; do
		check "PSK, pull: the client processed $a" grep -qF "processing $a attribute" "$(peer log L)"
	done
	io_stop L R
	io_case psk-aes
	IO_RA_PUSH=1
	ra_up R L "strongSwan <-> strongSwan, PSK + XAUTH, push" && ra_check_views R L "PSK, push"
	io_stop L R
	IO_RA_PUSH=
	io_case rsa-raw
	ra_up R L "strongSwan <-> strongSwan, RSA + XAUTH" && ra_check_views R L "RSA"
	io_stop L R
	# what strongSwan expects of an ISAKMP "rekey" (in IKEv1 a new Main
	# Mode): a reauthentication, XAUTH included, the gateway adopting the
	# CHILD_SA and the virtual address (the rekey case holds pluto to it)
	# (over_time: the old IKE_SA lives on until the new one is up)
	io_case psk-aes
	mark=$(cat "$(peer log R)" 2>/dev/null | wc -l)
	IO_SS_RA_CLIENT_EXTRA="rekey_time = 6s
    over_time = 30s"
	ra_up R L "strongSwan <-> strongSwan, client rekeys after 6 s" && vip=$(strongswan_ra_vip L)
	IO_SS_RA_CLIENT_EXTRA=
	check "ISAKMP rekey: the gateway adopts the address in the new IKE_SA" wait_for 20 grep -qF \
		"detected reauth of existing IKE_SA, adopting 1 children, 0 child tasks, and 1 virtual IPs" "$(peer log R)"
	check_eq "ISAKMP rekey: XAUTH ran again (the gateway authenticated $IO_RA_USER twice)" 2 \
		"$(tail -n +"$((mark + 1))" "$(peer log R)" | grep -c "XAuth authentication of '$IO_RA_USER' successful")"
	check_eq "ISAKMP rekey: the client keeps its address" "$vip" "$(strongswan_ra_vip L)"
	check_eq "ISAKMP rekey: the gateway lends it still" "$vip" "$(strongswan_ra_vip R)"
	io_stop L R
	io_case psk-aes
	IO_RA_CLIENT_PASSWORD="not alice's password"
	ra_check_refused R L "wrong password"
	IO_RA_CLIENT_PASSWORD=
}

harness_libreswan() {
	io_side L libreswan
	io_side R libreswan
	check "namespaces and veth up" io_netns_up || done_testing
	io_case psk-aes
	ra_up R L "libreswan <-> libreswan, PSK + XAUTH, pull" && ra_check_views R L "PSK, pull"
	check_eq "PSK, pull: the libreswan client's domain" "$IO_RA_DOMAIN" "$(libreswan_ra_domain L)"
	check_eq "PSK, pull: the libreswan client's banner" "$IO_RA_BANNER" "$(libreswan_ra_banner L)"
	check "PSK, pull: the libreswan client received the split include" \
		grep -qF "Received subnet $(net_of R)" "$(peer log L)"
	io_stop L R
	io_case psk-aes
	IO_RA_PUSH=1
	ra_up R L "libreswan <-> libreswan, PSK + XAUTH, push" && ra_check_views R L "PSK, push"
	io_stop L R
	IO_RA_PUSH=
	io_case psk-aes
	IO_RA_CLIENT_PASSWORD="not alice's password"
	ra_check_refused R L "wrong password"
	IO_RA_CLIENT_PASSWORD=
}

# ============================ the pluto cases ============================
# pluto_vs PEER: namespaces up, pluto on L, PEER on R (started by the case)
pluto_vs() {
	io_side L pluto
	io_side R "$1"
	check "namespaces and veth up" io_netns_up || done_testing
}
# pluto_client_extra GW WHAT: what only pluto shows as a client: the
# domain and banner on its State, and the split include -- the gateway's
# IPsec SA joins its own subnet to the client's virtual address
pluto_client_extra() {
	local gw=$1 what=$2 vip
	vip=$(pluto_ra_vip L)
	check_eq "$what: pluto's State Domains" "$IO_RA_DOMAIN" "$(pluto_ra_domains L)"
	check_eq "$what: pluto's State Banner" "$IO_RA_BANNER" "$(pluto_ra_banner L)"
	case ${IMPL[$gw]} in
	strongswan)
		check_contains "$what: strongSwan's CHILD_SA is $(net_of "$gw") === ${vip%%/*}/32" \
			"local-ts=[$(net_of "$gw")] remote-ts=[${vip%%/*}/32]" "$(strongswan_ra_sa "$gw")" ;;
	libreswan)
		check_contains "$what: libreswan's IPsec SA is $(net_of "$gw") === ${vip%%/*}/32" \
			"$(net_of "$gw")===$(ip_of "$gw")" "$(libreswan_whack "$gw" --status)" ;;
	esac
}
# pluto_gateway_extra CL WHAT: pluto as the gateway lent from its pool and
# shows the user on the instance of "lab"
pluto_gateway_extra() {
	local cl=$1 what=$2
	check_contains "$what: pluto's states are on an instance of lab" '"lab+' \
		"$(pluto_ctl L status --json | jq -c '[.states[].connection]')"
	check_not_contains "$what: no XAUTH password in pluto's status" "$IO_RA_PASSWORD" \
		"$(pluto_ctl L status --json) $(pluto_ctl L status)"
	check_not_contains "$what: no XAUTH password in pluto's log (--debug-all)" "$IO_RA_PASSWORD" \
		"$(cat "$(pluto_log L)")"
}

# pluto client (L) against a peer gateway (R)
case_pluto_client() {
	local peer=$1 auth=$2 what
	pluto_vs "$peer"
	io_case "$auth"
	what="pluto client -> $peer gateway, $AUTH + XAUTH, $([ -n "$IO_RA_PUSH" ] && echo push || echo pull)"
	ra_up R L "$what" || return
	ra_check_views R L "$what"
	pluto_client_extra R "$what"
	check_not_contains "$what: no XAUTH password in pluto's log (--debug-all)" "$IO_RA_PASSWORD" \
		"$(cat "$(pluto_log L)")"
}
# a peer client (R) against the pluto gateway (L)
case_pluto_gateway() {
	local peer=$1 what
	pluto_vs "$peer"
	io_case psk-aes
	what="$peer client -> pluto gateway, PSK + XAUTH, $([ -n "$IO_RA_PUSH" ] && echo push || echo pull)"
	ra_up L R "$what" || return
	ra_check_views L R "$what"
	pluto_gateway_extra R "$what"
	# strongSwan's unity plugin asks Quick Mode for 0.0.0.0/0 once it got
	# a split include; the gateway echoes it but narrows the SA to its subnet
	[ "$peer" != strongswan ] ||
		check_contains "$what: pluto narrowed strongSwan's 0.0.0.0/0 to $(net_of L)" \
			"asks for 0.0.0.0/0; its SA carries only $(net_of L)" "$(cat "$(pluto_log L)")"
}
# a wrong password against GW_PEER's gateway: pluto (L) is the client;
# against the pluto gateway the client is strongSwan (R)
case_wrong() {
	local gw_peer=$1 t0 t1
	IO_RA_CLIENT_PASSWORD="not alice's password"
	if [ "$gw_peer" = pluto ]; then
		pluto_vs strongswan
		io_case psk-aes
		ra_check_refused L R "strongSwan client, wrong password -> pluto gateway"
		# the server allows three tries: strongSwan answers each request
		# (pluto names XAUTH_TYPE generic in it, as the draft allows)
		check_eq "pluto asked three times" 3 \
			"$(grep -cE 'parsed TRANSACTION request .*CPRQ\((X_TYPE )?X_USER X_PWD\)' "$(peer log R)")"
	else
		pluto_vs "$gw_peer"
		io_case psk-aes
		t0=$(date +%s)
		ra_check_refused R L "pluto client, wrong password -> $gw_peer gateway"
		t1=$(date +%s)
		check_contains "whack/ipsecctl says AuthenticationFailed" "AuthenticationFailed" "$(cat "$T/initiate.out")"
		check "it says so at once, not after a retransmission timeout ($((t1 - t0)) s)" test $((t1 - t0)) -lt 10
	fi
	check_not_contains "no XAUTH password in pluto's log" "not alice's password" "$(cat "$(pluto_log L)")"
	IO_RA_CLIENT_PASSWORD=
}
# two road warriors (strongSwan's lab and lab2: two addresses, two users) on
# one pluto gateway get distinct addresses, each seen by both sides
case_two_clients() {
	local v1 v2 p1 p2
	pluto_vs strongswan
	ip -n "$NS_R" addr add "$IO_RA_SECOND_IP/24" dev "${NS_R}0"
	io_case psk-aes
	IO_RA_SECOND=1
	ra_up L R "first road warrior ($IO_RA_USER)" || return
	check "second road warrior ($IO_RA_USER2): strongSwan initiates lab2" \
		swanctl_on R --initiate --child lab2 --timeout "$IO_NEGOTIATE_TIMEOUT"
	v1=$(strongswan_ra_vip R lab) v2=$(strongswan_ra_vip R lab2)
	check "both got an address from the pool ($v1, $v2)" io_ra_in_pool "$v1"
	check "the second too" io_ra_in_pool "$v2"
	check "the addresses differ" test -n "$v1" -a "$v1" != "$v2"
	p1=$(pluto_ctl L status --json | jq -r --arg u "$IO_RA_USER" '.states[] | select(.xauthUser == $u and .established) | .virtualAddress' | head -1)
	p2=$(pluto_ctl L status --json | jq -r --arg u "$IO_RA_USER2" '.states[] | select(.xauthUser == $u and .established) | .virtualAddress' | head -1)
	check_eq "pluto lent $IO_RA_USER's address" "$v1" "${p1%%/*}"
	check_eq "pluto lent $IO_RA_USER2's address" "$v2" "${p2%%/*}"
	check_eq "pluto holds two instances of lab" 2 \
		"$(pluto_ctl L status --json | jq '[.connections[] | select(.instanceOf == "lab")] | length')"
}
# the same user going and coming back gets the same address (pluto as the
# gateway; strongSwan deletes its SAs and initiates again)
case_reconnect() {
	local v1 v2
	pluto_vs strongswan
	io_case psk-aes
	ra_up L R "first connection" || return
	ra_check_views L R "first connection"
	v1=$(pluto_ra_vip L)
	check "strongSwan goes (Deletes)" swanctl_on R --terminate --ike lab
	check "pluto drops the SAs" wait_for 10 sh -c '! "$1" --socket "$2" status --json | jq -e ".states | length > 0"' \
		sh "$IPSECCTL" "$(pluto_sock L)"
	io_check_initiate R "reconnect"
	io_check_established L "reconnect"
	v2=$(pluto_ra_vip L)
	check_eq "reconnect: pluto lends the same address" "$v1" "$v2"
	check_eq "reconnect: strongSwan got the same address" "${v1%%/*}" "$(strongswan_ra_vip R)"
}
# rekeying the ISAKMP SA (pluto client, ikelifetime 30 s, margin 12 s, no
# fuzz: a new Main Mode ~18 s in) keeps the address and the user. XAUTH as
# the peer expects it: strongSwan's gateway treats the new Main Mode as a
# reauthentication and asks again (harness-strongswan shows it with its own
# client), adopting the CHILD_SA and the virtual address
case_rekey() {
	local v1 old
	pluto_vs strongswan
	io_case psk-aes
	IO_PLUTO_CONN="ikelifetime=30 rekeymargin=12 rekeyfuzz=0%"
	ra_up R L "before the rekey" || return
	v1=$(pluto_ra_vip L)
	check "before the rekey: an address ($v1)" io_ra_in_pool "$v1"
	old=$(pluto_ra_isakmp L | jq -r .serial)
	check "pluto replaced its ISAKMP SA (#$old)" wait_for 25 sh -c \
		'[ "$("$1" --socket "$2" status --json | jq -r "[.states[] | select(.kind == \"isakmp\" and .established)] | last | .serial")" != "$3" ]' \
		sh "$IPSECCTL" "$(pluto_sock L)" "$old"
	sleep 1
	check_eq "after the rekey: pluto keeps the address" "$v1" "$(pluto_ra_vip L)"
	check_eq "after the rekey: pluto's new ISAKMP SA has the user" "$IO_RA_USER" "$(pluto_ra_user L)"
	check_eq "after the rekey: strongSwan still lends the address" "${v1%%/*}" "$(strongswan_ra_vip R)"
	check_eq "XAUTH as strongSwan expects: it authenticated $IO_RA_USER again for the new ISAKMP SA" 2 \
		"$(grep -c "XAuth authentication of '$IO_RA_USER' successful" "$(peer log R)")"
	check "strongSwan adopted the address in the new IKE_SA" grep -qF \
		"detected reauth of existing IKE_SA, adopting 1 children, 0 child tasks, and 1 virtual IPs" "$(peer log R)"
	io_check_established R "after the rekey"
	io_check_established L "after the rekey"
	IO_PLUTO_CONN=
}

case $CASE_NAME in
harness-strongswan) io_require; harness_strongswan ;;
harness-libreswan) io_require; harness_libreswan ;;
ss-gw-psk) io_require; case_pluto_client strongswan psk-aes ;;
ss-gw-rsa) io_require; case_pluto_client strongswan rsa-raw ;;
ss-gw-push) io_require; IO_RA_PUSH=1; case_pluto_client strongswan psk-aes ;;
ls-gw-psk) io_require; case_pluto_client libreswan psk-aes ;;
ls-gw-push) io_require; IO_RA_PUSH=1; case_pluto_client libreswan psk-aes ;;
ss-client) io_require; case_pluto_gateway strongswan ;;
ss-client-push) io_require; IO_RA_PUSH=1; case_pluto_gateway strongswan ;;
ls-client) io_require; case_pluto_gateway libreswan ;;
ls-client-push) io_require; IO_RA_PUSH=1; case_pluto_gateway libreswan ;;
pluto-pluto) io_require_netns jq; case_pluto_gateway pluto ;;
wrong-ss) io_require; case_wrong strongswan ;;
wrong-ls) io_require; case_wrong libreswan ;;
wrong-pluto) io_require; case_wrong pluto ;;
two-clients) io_require; case_two_clients ;;
reconnect) io_require; case_reconnect ;;
rekey) io_require; case_rekey ;;
*) usage ;;
esac
io_finish
