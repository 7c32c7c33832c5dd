# cli_lib.sh — sourced by the end-to-end CLI tests (fit_cli.sh, approx_cli.sh): a scratch
# folder removed on exit, PASS/FAIL counting, the CSV lines that legitimately differ
# between two runs, and the closing "N passed, N failed" line.
BAYESRUN=${BAYESRUN:-./bayesrun}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bayesrun_cli.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS: $1"; }
no() { fail=$((fail + 1)); echo "FAIL: $1"; }
PY=$(command -v /usr/bin/python3 || command -v python3)
# CSV lines that legitimately differ between two runs (clock, thread count, path)
strip() { grep -v -e '^# start_datetime' -e 'Elapsed Time' -e 'seconds (' -e '^# num_threads' \
  -e '^#   file = ' "$1"; }
finish() {
  echo "$pass passed, $fail failed"
  [ $fail = 0 ]
}
