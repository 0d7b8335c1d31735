#!/bin/bash
# 10,000 MI1s at 1,000/s from random forged addresses, every 10th with the
# configured peer's own address, while that peer negotiates: see
# flood-lib.sh.
FLOOD_MODE=forged
# shellcheck source=tests/hostile/flood-lib.sh
. "$SRCDIR/tests/hostile/flood-lib.sh"
