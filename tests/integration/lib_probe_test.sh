#!/bin/bash
# The harness's own deadlines (lib.sh `probe`, `expect_within`): a probe that ends within its
# deadline is not reported hung, whatever the deadline's size, and one that does not end is.
# (mawk's printf "%d" stops at 2^31-1: as nanoseconds, every deadline above 2.1 s was cut to
# 2.1 s, so `probe 3 sleep 2.5` was reported hung.)
source "$(dirname "$0")/lib.sh"

probe 4 sleep 2.5
[[ $PROBE_RC == 0 ]] && log "ok: a 2.5 s command within a 4 s deadline ended (${PROBE_MS} ms)" ||
  fail "a 2.5 s command within a 4 s deadline was reported '$PROBE_RC' after ${PROBE_MS} ms"
probe 0.3 sleep 5
[[ $PROBE_RC == hung ]] && log "ok: a 5 s command past a 0.3 s deadline is reported hung" ||
  fail "a 5 s command past a 0.3 s deadline was reported '$PROBE_RC'"
((PROBE_MS < 2000)) || fail "the 0.3 s deadline was only noticed after ${PROBE_MS} ms"
finish
