#!/usr/bin/env bash
# fleet-report.html in a real browser (Debian's chromium, headless), as export_browser_test.sh
# does for the export's report.html: it renders (heading, failed bundles, drift table in the
# DOM), loads nothing (no markup that could load, a Content-Security-Policy, and chromium's net
# log shows no request made by the page), and a bundle whose file name carries markup that
# would load a remote image and run a script, and which fails verification, is shown as text.
# Bundles: real exports of a real terminal history (tests/integration/fleet_lib.sh).
#
# Skipped (77) only when chromium is missing outside CI; in CI a missing chromium fails.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/maintenance_lib.sh"
source "$(dirname "$0")/fleet_lib.sh"
source "$(dirname "$0")/browser_lib.sh"
browser_require

fleet_seed
fleet_drift_db "$T/drift.lockdb"
B=$T/bundles
mkdir -p "$B"
for n in 1 2 3; do
  fleet_terminal "t$n" "0000000000000000000000000000000$n" "$T/allowlist.lockdb"
  fleet_export "t$n" "$B/atm-$n.tar"
done
fleet_terminal t4 00000000000000000000000000000004 "$T/drift.lockdb"
fleet_export t4 "$B/atm-4.tar"
# No '/' in a file name: browsers read "https:\\host\x" as https://host/x.
HOSTILE='x"><img src="https:\\example.invalid\p.png" onerror="document.title=1"><script>document.title="owned"'
fleet_export t2 "$B/$HOSTILE"
printf 'Z' | dd of="$B/$HOSTILE/blocks.csv" bs=1 seek=20 conv=notrunc status=none

rc=0
"$LOCKCTL" fleet report "$B" --trust "$T/export-trust" --out "$T/report" >"$T/fleet.out" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || fail "fleet report exited $rc (expected 1: one bundle fails): $(cat "$T/fleet.out")"
REPORT=$T/report/fleet-report.html

log "static check: nothing in the HTML points outside the file"
html_loads_nothing "$REPORT" || fail "fleet-report.html has markup that could load or run something"
grep -q "default-src 'none'" "$REPORT" || fail "fleet-report.html has no Content-Security-Policy"

log "control page: the net-log check sees what a page loads"
control_page_check

log "fleet-report.html: renders, sections in the DOM, hostile name as text, no request"
chromium_run "$T/report" "file://$REPORT" --dump-dom || fail "chromium --dump-dom exited non-zero: $(tail -5 "$T/report.err")"
DOM=$T/report.out
grep -q "<h1>lockd fleet report</h1>" "$DOM" || fail "rendered DOM lacks the heading"
grep -q "<title>lockd fleet report</title>" "$DOM" || fail "the page title changed (a script ran?)"
grep -q '<h2 id="failures">Bundles that failed verification</h2>' "$DOM" || fail "no failures section"
grep -q '<h3 id="image-1">Image group 1: 4 terminal(s), 2 variant(s)</h3>' "$DOM" || fail "no image group heading"
grep -qF "$MNT/app/extra-tool" "$DOM" || fail "the drift table does not show extra-tool"
grep -qF 'blocks.csv: SHA-256' "$DOM" || fail "the failure's reason is not shown"
grep -q "<img" "$DOM" && fail "the hostile bundle name became an <img> element"
grep -q "<title>owned" "$DOM" && fail "the hostile bundle name's script ran"
grep -qF '&lt;img src=' "$DOM" && grep -qF '&lt;script&gt;document.title=' "$DOM" ||
  fail "the hostile bundle name is not shown as text"
requests=$(page_requests "$T/report.netlog.json")
[[ -z $requests ]] || fail "fleet-report.html made requests: $requests"
grep -Ei "Refused to (load|execute)" "$T/report.err" && fail "the page tried to load something (CSP refused it)"

log "screenshot"
chromium_run "$T/shot" "file://$REPORT" --screenshot="$T/fleet-report.png" --window-size=1200,1800 ||
  fail "chromium --screenshot exited non-zero: $(tail -5 "$T/shot.err")"
png_is_rendered "$T/fleet-report.png" 1200 1800 || fail "the screenshot is not a rendered page"
[[ -n ${LOCKD_KEEP_SCREENSHOT:-} ]] && cp "$T/fleet-report.png" "$LOCKD_KEEP_SCREENSHOT"
requests=$(page_requests "$T/shot.netlog.json")
[[ -z $requests ]] || fail "fleet-report.html made requests while rendering the screenshot: $requests"

finish
