#!/usr/bin/env bash
# Builds safeshare with clang and runs its tests under sanitizers
# (docs/development.md, "Sanitizers and fuzzing"):
#   run.sh asan [ctest args]  AddressSanitizer + UndefinedBehaviorSanitizer:
#                             the whole unit and end-to-end suite, in build-asan/
#                             (which also holds the libFuzzer targets)
#   run.sh tsan [ctest args]  ThreadSanitizer: the store, committer, notifier and
#                             agent tests, in build-tsan/
# Any report fails the run. The PostgreSQL tests run when
# SAFESHARE_TEST_POSTGRES names a server (deploy/test.sh starts one).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/sanitizers"
mode="${1:-}"
shift || true

# Checks that need no compiler, and the whole-suite reruns in shuffled order
# (they check test independence, not the code): run once by the normal suite.
RUN_ONCE='^(format|layering|mutation_list_applies|deploy_examples)$|\.shuffled$'
# ThreadSanitizer's share: the store and its committer, the mailbox notifier,
# and the agents (key log, CLI, inbox daemon) against a TSan-built gateway.
TSAN_TARGETS=(store_test store_backends_test store_rules_test group_committer_test
  mailbox_notifier_test audit_log_test key_log_test delivery_e2e_test mailbox_e2e_test
  safeshare-gateway safeshare)
TSAN_TESTS='^(store|store_backends|store_rules|group_committer|mailbox_notifier|audit_log|key_log)$|^(DeliveryE2eTest|MailboxE2eTest)\.'
# Its bound is one second of wall clock, which TSan's slowdown overruns.
TSAN_EXCLUDED='^DeliveryE2eTest\.TheAgentDaemonStopsPromptlyInEveryState$'

case "$mode" in
  asan)
    BUILD="${SAFESHARE_ASAN_BUILD_DIR:-$ROOT/build-asan}"
    SANITIZE=address,undefined FUZZ=ON TARGETS=() SELECT=(-E "$RUN_ONCE")
    ;;
  tsan)
    BUILD="${SAFESHARE_TSAN_BUILD_DIR:-$ROOT/build-tsan}"
    SANITIZE=thread FUZZ=OFF TARGETS=("${TSAN_TARGETS[@]}") SELECT=(-R "$TSAN_TESTS" -E "$TSAN_EXCLUDED")
    ;;
  *)
    echo "usage: $0 asan|tsan [ctest args]" >&2
    exit 2
    ;;
esac

if [ ! -f "$BUILD/build.ninja" ]; then
  # -O1 and line tables: readable reports, a build and a run a third shorter
  # than -O2 -g.
  CXX=clang++-14 cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DSAFESHARE_SANITIZE="$SANITIZE" -DSAFESHARE_FUZZ="$FUZZ" -DSAFESHARE_BENCH=OFF >/dev/null
fi
status=0
ninja -C "$BUILD" "${TARGETS[@]}" | grep -v '^\[' || status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || exit "$status"

# Every report is also written under sanitizer-reports/ and fails the run:
# the gateways the end-to-end tests start inherit these options, and a report
# from a gateway the test then kills would otherwise go unseen.
REPORTS="$BUILD/sanitizer-reports"
rm -rf "$REPORTS"
mkdir -p "$REPORTS"
export ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1:log_path=$REPORTS/report:log_exe_name=1"
export LSAN_OPTIONS="suppressions=$HERE/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$REPORTS/report:log_exe_name=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$HERE/tsan.supp:log_path=$REPORTS/report:log_exe_name=1"
export LLVM_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-14

echo "$mode: $(cd "$BUILD" && ctest -N "${SELECT[@]}" | tail -1) in $BUILD"
status=0
if [ "$mode" = asan ]; then
  # Two passes: the unit tests with the strict leak check, the end-to-end
  # tests (gRPC threads alive at exit) with lsan-grpc-exit.supp.
  (cd "$BUILD" && ctest --output-on-failure -j"$(nproc)" -L unit "${SELECT[@]}" "$@") || status=$?
  export LSAN_OPTIONS="suppressions=$HERE/lsan-grpc-exit.supp:print_suppressions=0"
  (cd "$BUILD" && ctest --output-on-failure -j"$(nproc)" -L e2e "${SELECT[@]}" "$@") || status=$?
else
  (cd "$BUILD" && ctest --output-on-failure -j"$(nproc)" "${SELECT[@]}" "$@") || status=$?
fi
if [ -n "$(ls -A "$REPORTS")" ]; then
  for r in "$REPORTS"/*; do
    echo "---- $r"
    head -60 "$r"
  done
  echo "$mode: sanitizer reports above (all in $REPORTS)" >&2
  exit 1
fi
exit "$status"
