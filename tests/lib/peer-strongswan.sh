# shellcheck shell=bash
# strongSwan 5.9.8 (charon-systemd + swanctl) as an interop peer. Sourced by
# lib.sh. Per side, in $T/SIDE:
#   strongswan.conf       self-contained (no /etc/strongswan.d), found by
#                         charon and swanctl through STRONGSWAN_CONF
#   swanctl/swanctl.conf  the connection "lab" and its secret (SWANCTL_DIR)
#   charon.vici           this instance's VICI socket
# and the log $T/SIDE-charon.log (IKE at level 4: it has "encryption key Ka",
# which decrypts captures), stdout/stderr in $T/SIDE-charon.out.
#
# Why kernel-netlink and the xfrm stub instead of kernel-libipsec: this
# kernel has no ESP, and 5.9.8's userspace libipsec can only do
# UDP-encapsulated ESP, so with it charon fakes a NAT (NAT-D payloads with
# random hashes) and floats to UDP 4500 from MM5 on. pluto has no NAT-T yet.
# With kernel-netlink plus xfrm-stub.so preloaded, SA installation "works"
# (no packet is protected), there is no NAT faking, and the whole exchange
# is plain IKEv1 on UDP 500 -- which is what these tests check. The stub
# also fakes CPI allocation and AH SAs, so AH and IPComp work here, unlike
# with libipsec.
#
# IO_SS_BACKEND=libipsec runs charon with kernel-libipsec instead (no stub):
# the NAT-T tests (natt.sh) want exactly its faked NAT and float to 4500.

swanctl_on() {
	local s=$1; shift
	STRONGSWAN_CONF=$T/$s/strongswan.conf SWANCTL_DIR=$T/$s/swanctl swanctl "$@"
}

# IO_REMOTE_ANY=1: a road-warrior responder (README (h)): remote_addrs and
# the remote id are %any, the secret names only our id.
# IO_SS_CONN_EXTRA / IO_SS_CHILD_EXTRA: more lines for the connection /
# its child (e.g. lifetimes); IO_SS_DPD_DELAY: dpd_delay (default 0)
strongswan_conf() {
	local s=$1 d=$T/$1 p proposals auth_local auth_remote remote_addr remote_id kern=kernel-netlink
	p=$(other "$1")
	# IO_SS_BACKEND=libipsec: it must come before kernel-netlink (routes)
	[ "${IO_SS_BACKEND:-netlink}" = libipsec ] && kern="kernel-libipsec kernel-netlink"
	remote_addr=$(ip_of "$p") remote_id=$(ip_of "$p")
	[ -n "${IO_REMOTE_ANY:-}" ] && remote_addr=%any remote_id=%any
	mkdir -p "$d"/swanctl/{private,pubkey,x509,x509ca}
	# remote access (IO_RA, tests/lib/scenario.sh): XAUTH, pools and
	# attributes, the Cisco Unity ones, and DNS servers written to a file of
	# our own (resolve, with resolvconf pointed at nothing: the host's
	# resolv.conf is never touched)
	local ra_plugins= ra_conf=
	if [ -n "${IO_RA[$s]:-}" ]; then
		ra_plugins=" xauth-generic attr unity resolve"
		ra_conf="resolve { file = $d/resolv.conf
                     resolvconf { path = $d/no-resolvconf } }"
	fi
	cat >"$d/strongswan.conf" <<EOF
charon-systemd {
  load_modular = no
  load = random nonce openssl aes sha1 sha2 md5 hmac gmp pem pkcs1 pkcs8 x509 pubkey kdf $kern socket-default vici$ra_plugins
  port = 500
  port_nat_t = 4500
  # fail fast: the tests bound every negotiation
  retransmit_timeout = 2.0
  retransmit_tries = 3
  filelog {
    interop {
      path = $T/$s-charon.log
      time_format = %H:%M:%S
      ike_name = yes
      flush_line = yes
      default = 1
      ike = 4
      cfg = 2
      knl = 2
      net = 2
      enc = 1
    }
  }
  journal { default = -1 }
  syslog { daemon { default = -1 } }
  plugins {
    vici { socket = unix://$d/charon.vici }
    $ra_conf
  }
}
swanctl {
  socket = unix://$d/charon.vici
  # swanctl's default list loads af-alg, which makes the kernel probe ~25
  # crypto modules; these are all it needs to read our files
  load = pem pkcs1 pkcs8 pubkey x509 openssl random
}
EOF
	if [ "$PHASE2" = ah ]; then
		proposals="ah_proposals = ${P2_INTEG}${PFSGROUP:+-$PFSGROUP}"
	else
		proposals="esp_proposals = $(io_p2_enc strongswan)${PFSGROUP:+-$PFSGROUP}"
	fi
	if [ "$AUTH" = rsa ]; then
		cp "$T/keys/$s.key" "$d/swanctl/private/"
		cp "$T/keys/$s.pub" "$T/keys/$p.pub" "$d/swanctl/pubkey/"
		auth_local="auth = pubkey
      pubkeys = $s.pub"
		auth_remote="auth = pubkey
      pubkeys = $p.pub"
	else
		auth_local="auth = psk" auth_remote="auth = psk"
	fi
	case ${IO_RA[$s]:-} in
	gateway) strongswan_ra_gateway "$s" "$auth_local" "$auth_remote" "$proposals"; return ;;
	client) strongswan_ra_client "$s" "$auth_local" "$auth_remote" "$proposals"; return ;;
	esac
	cat >"$d/swanctl/swanctl.conf" <<EOF
connections {
  lab {
    version = 1
    aggressive = no
    local_addrs = $(ip_of "$s")
    remote_addrs = $remote_addr
    proposals = ${IKE_ENC}-${IKE_HASH}-${IKE_GROUP}
    dpd_delay = ${IO_SS_DPD_DELAY:-0}
    send_certreq = no
    ${IO_SS_CONN_EXTRA:-}
    local {
      $auth_local
      id = $(ip_of "$s")
    }
    remote {
      $auth_remote
      id = $remote_id
    }
    children {
      lab {
        local_ts = $(net_of "$s")
        remote_ts = $(net_of "$p")
        mode = tunnel
        ipcomp = $COMPRESS
        $proposals
        start_action = none
        ${IO_SS_CHILD_EXTRA:-}
      }
    }
  }
}
secrets {
  ike-lab {
    id-local = $(ip_of "$s")
    $([ -n "${IO_REMOTE_ANY:-}" ] || echo "id-remote = $(ip_of "$p")")
    secret = "$PSK"
  }
}
EOF
	[ "$AUTH" = rsa ] && cat >>"$d/swanctl/swanctl.conf" <<EOF
secrets {
  private-lab { file = $s.key }
}
EOF
	return 0
}

strongswan_start() {
	local s=$1 d=$T/$1 stub=
	[ "${IO_SS_BACKEND:-netlink}" = libipsec ] || { stub=$(io_stub) || return 1; }
	rm -f "$d/charon.vici"
	ip netns exec "$(ns_of "$s")" env STRONGSWAN_CONF="$d/strongswan.conf" \
		SWANCTL_DIR="$d/swanctl" ${stub:+LD_PRELOAD="$stub"} "$CHARON" \
		>>"$T/$s-charon.out" 2>&1 </dev/null &
	echo $! >"$d/charon.pid"
	if ! wait_for 10 test -S "$d/charon.vici" || ! wait_for 5 swanctl_on "$s" --stats; then
		echo "# charon did not come up on $s" >&2
		return 1
	fi
	swanctl_on "$s" --load-all --noprompt >"$d/load.out" 2>&1 ||
		{ sed 's/^/#   /' "$d/load.out"; return 1; }
}

strongswan_initiate() {
	swanctl_on "$1" --initiate --child lab --timeout "$IO_NEGOTIATE_TIMEOUT"
}

# strongswan_established SIDE: IKE_SA established and CHILD_SA installed
# with the case's protocol (ESP or AH), PFS group and IPComp (a CPI after
# the SPI: "in  c9bb9e7d/5da8")
strongswan_established() {
	local out child
	out=$(swanctl_on "$1" --list-sas 2>/dev/null) || return 1
	grep -q "ESTABLISHED, IKEv1" <<<"$out" || return 1
	child=$(grep -E "INSTALLED, TUNNEL(-in-UDP)?, ${PHASE2^^}:" <<<"$out") || return 1
	[ -z "$PFSGROUP" ] || [[ $child == *"/MODP_${PFSGROUP#modp}"* ]] || return 1
	if [ "$COMPRESS" = yes ]; then
		grep -qE '^ +in +[0-9a-f]+/[0-9a-f]+,' <<<"$out"
	else
		! grep -qE '^ +in +[0-9a-f]+/[0-9a-f]+,' <<<"$out"
	fi
}

strongswan_status() { swanctl_on "$1" --list-sas; }
strongswan_algs() { swanctl_on "$1" --list-sas; }

strongswan_stop() {
	local d=$T/$1
	[ -f "$d/charon.pid" ] && io_kill "$(cat "$d/charon.pid")" 10
	rm -f "$d/charon.pid" "$d/charon.vici"
}

strongswan_log() { echo "$T/$1-charon.log"; }

# --- remote access (IO_RA[SIDE], variables in tests/lib/scenario.sh) ---
# strongswan_ra_gateway SIDE AUTH_LOCAL AUTH_REMOTE PROPOSALS: swanctl.conf
# of an XAUTH + Mode Config gateway: any peer address, the machine proven
# by PSK or RSA, then the user by XAUTH (the second remote round, checked by
# xauth-generic against the "xauth-" secrets); the pool IO_RA_POOL carries
# the DNS servers, and the Unity domain (28674), banner (28672) and split
# include (the gateway's subnet) as pool attributes; pull=no pushes (SET)
strongswan_ra_gateway() {
	local s=$1 d=$T/$1 p remote_id=%any dns
	p=$(other "$1")
	# RSA: the client's key is known, so is its id
	[ "$AUTH" = rsa ] && remote_id=$(ip_of "$p")
	dns=$(tr ',' ' ' <<<"$IO_RA_DNS" | xargs | sed 's/ /, /g')
	cat >"$d/swanctl/swanctl.conf" <<EOF
connections {
  lab {
    version = 1
    aggressive = no
    local_addrs = $(ip_of "$s")
    remote_addrs = %any
    proposals = ${IKE_ENC}-${IKE_HASH}-${IKE_GROUP}
    dpd_delay = 0
    send_certreq = no
    pools = ra
    pull = $([ -n "${IO_RA_PUSH:-}" ] && echo no || echo yes)
    ${IO_SS_CONN_EXTRA:-}
    local {
      $2
      id = $(ip_of "$s")
    }
    remote {
      $3
      id = $remote_id
    }
    remote-2 {
      auth = xauth
    }
    children {
      lab {
        local_ts = $(net_of "$s")
        remote_ts = dynamic
        mode = tunnel
        $4
        start_action = none
        ${IO_SS_CHILD_EXTRA:-}
      }
    }
  }
}
pools {
  ra {
    addrs = $IO_RA_POOL
    dns = $dns
    split_include = $(net_of "$s")
    28674 = $IO_RA_DOMAIN
    28672 = $IO_RA_BANNER
  }
}
secrets {
  ike-lab {
    id-local = $(ip_of "$s")
    secret = "$PSK"
  }
  xauth-user {
    id = $IO_RA_USER
    secret = "$IO_RA_PASSWORD"
  }
  xauth-user2 {
    id = $IO_RA_USER2
    secret = "$IO_RA_PASSWORD2"
  }
}
EOF
	[ "$AUTH" = rsa ] && echo "secrets { private-lab { file = $s.key } }" >>"$d/swanctl/swanctl.conf"
	return 0
}

# strongswan_ra_client SIDE AUTH_LOCAL AUTH_REMOTE PROPOSALS: an XAUTH +
# Mode Config client (vips = 0.0.0.0 asks for an address; the second local
# round is XAUTH as IO_RA_USER with IO_RA_CLIENT_PASSWORD). IO_RA_SECOND=1
# adds a second client "lab2" from IO_RA_SECOND_IP as IO_RA_USER2 (the
# address must be on SIDE's veth): two road warriors from one charon.
# IO_SS_RA_CLIENT_EXTRA: more lines for the client's connections only
strongswan_ra_client() {
	local s=$1 d=$T/$1 p
	p=$(other "$1")
	{
		echo "connections {"
		strongswan_ra_client_conn lab "$(ip_of "$s")" "$IO_RA_USER" "$2" "$3" "$4" "$p"
		[ -z "${IO_RA_SECOND:-}" ] ||
			strongswan_ra_client_conn lab2 "$IO_RA_SECOND_IP" "$IO_RA_USER2" "$2" "$3" "$4" "$p"
		echo "}"
		echo "secrets {"
		echo "  ike-lab { id-remote = $(ip_of "$p")"
		echo "    secret = \"$PSK\" }"
		echo "  xauth-user { id = $IO_RA_USER"
		echo "    secret = \"${IO_RA_CLIENT_PASSWORD:-$IO_RA_PASSWORD}\" }"
		echo "  xauth-user2 { id = $IO_RA_USER2"
		echo "    secret = \"$IO_RA_PASSWORD2\" }"
		echo "}"
		[ "$AUTH" = rsa ] && echo "secrets { private-lab { file = $s.key } }"
	} >"$d/swanctl/swanctl.conf"
	return 0
}
# strongswan_ra_client_conn NAME LOCAL_IP USER AUTH_LOCAL AUTH_REMOTE PROPOSALS PEER
strongswan_ra_client_conn() {
	cat <<EOF
  $1 {
    version = 1
    aggressive = no
    local_addrs = $2
    remote_addrs = $(ip_of "$7")
    vips = 0.0.0.0
    proposals = ${IKE_ENC}-${IKE_HASH}-${IKE_GROUP}
    dpd_delay = 0
    send_certreq = no
    ${IO_SS_CONN_EXTRA:-}
    ${IO_SS_RA_CLIENT_EXTRA:-}
    local {
      $4
      id = $2
    }
    local-2 {
      auth = xauth
      xauth_id = $3
    }
    remote {
      $5
      id = $(ip_of "$7")
    }
    children {
      $1 {
        local_ts = dynamic
        remote_ts = $(net_of "$7")
        mode = tunnel
        $6
        start_action = none
        ${IO_SS_CHILD_EXTRA:-}
      }
    }
  }
EOF
}

# strongswan_ra_sa SIDE [CONN]: the raw VICI record of CONN's IKE_SA (one
# line of "key=value" and "key=[list]"), empty if none
strongswan_ra_sa() {
	swanctl_on "$1" --list-sas --ike "${2:-lab}" --raw 2>/dev/null | grep -F "${2:-lab} {" | head -1
}
# strongswan_ra_field SIDE KEY [CONN]: one value of that record (a list's
# first element)
strongswan_ra_field() {
	strongswan_ra_sa "$1" "${3:-}" | grep -oE "[ {]$2=[^ ]*" | head -1 | sed -E "s/^.$2=\[?//; s/\]$//"
}
# strongswan_ra_vip SIDE [CONN]: the virtual address as SIDE sees it: a
# client the one it got (local-vips), a gateway the one it lent (remote-vips)
strongswan_ra_vip() {
	if [ "${IO_RA[$1]}" = client ]; then strongswan_ra_field "$1" local-vips "${2:-}"
	else strongswan_ra_field "$1" remote-vips "${2:-}"; fi
}
# strongswan_ra_user SIDE [CONN]: the XAUTH user a gateway accepted
# (remote-xauth-id), or the one a client last proved (VICI has no field for
# it: its log's "XAuth authentication of 'USER' (myself) successful")
strongswan_ra_user() {
	if [ "${IO_RA[$1]}" = client ]; then
		grep -oE "XAuth authentication of '[^']*' \(myself\) successful" "$T/$1-charon.log" |
			tail -1 | cut -d"'" -f2
	else
		strongswan_ra_field "$1" remote-xauth-id "${2:-}"
	fi
}
# strongswan_ra_dns SIDE: the DNS servers a client installed (the resolve
# plugin's own file), one a line, sorted
strongswan_ra_dns() { awk '/^nameserver/ { print $2 }' "$T/$1/resolv.conf" 2>/dev/null | sort; }
