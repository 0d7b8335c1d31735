#!/bin/bash
# 10,000 MI1s at 1,000/s from one address (a %any template admits them)
# while a configured peer negotiates: see flood-lib.sh.
FLOOD_MODE=one-source
# shellcheck source=tests/hostile/flood-lib.sh
. "$SRCDIR/tests/hostile/flood-lib.sh"
