#!/bin/bash
# 10,000 MI1s at 1,000/s all with the configured peer's own address,
# forged, while that peer negotiates: its pool of 256 slots turns over
# every 256 ms and its own half-open state must live through that. See
# flood-lib.sh.
FLOOD_MODE=forged-peer
# shellcheck source=tests/hostile/flood-lib.sh
. "$SRCDIR/tests/hostile/flood-lib.sh"
