#!/usr/bin/env bash
# report.html of the export in a real browser (Debian's chromium, headless, as root with
# --no-sandbox): it renders, the blocks-per-day chart is an <svg> in the rendered DOM with a
# bar per deny, and the page requests nothing from the network. A file name carrying markup
# that would load a remote image and run a script is denied first, so the report has to show it
# without obeying it.
#
# "Requests nothing" is checked twice: statically (no src/href/url()/@import pointing anywhere
# in the HTML) and in chromium's own net log, where every request a page makes appears with
# its initiator (the browser's own background requests have none: "not an origin"). A control
# page that does load remote things proves the net-log check sees page requests.
#
# Skipped (77) only when chromium is missing outside CI; in CI a missing chromium fails.
source "$(dirname "$0")/lib.sh"

CHROMIUM=$(command -v chromium || true)
if [[ -z $CHROMIUM ]]; then
  if [[ -n ${CI:-} ]]; then
    log "FAIL: chromium is not installed (installer/deps.sh installs it); CI must run this test"
    exit 1
  fi
  log "SKIP: chromium is not installed (installer/deps.sh installs it)"
  exit 77
fi

setup_standard
# No '/' in a file name: browsers read "https:\\host\x" as https://host/x, so this is a
# remote image (and a script) if the report ever passed the name through as markup.
HOSTILE='x"><img src="https:\\example.invalid\p.png" onerror="document.title=1"><script>document.title="owned"'
cp /usr/bin/id "$MNT/$HOSTILE"
start_lockd
expect_denied "$MNT/foreign"
expect_denied "$MNT/$HOSTILE"
for _ in $(seq 100); do
  [[ $(grep -c '"type":"deny"' "$T/log/audit.jsonl" 2>/dev/null || true) -ge 2 ]] && break
  sleep 0.1
done
stop_lockd
"$LOCKCTL" export --out "$T/bundle" --config "$T/lockd.toml" >/dev/null 2>"$T/export.err" ||
  { cat "$T/export.err" >&2; fail "export exited non-zero"; }
REPORT=$T/bundle/report.html

log "static check: nothing in the HTML points outside the file"
# Parsed, not grepped: the hostile name legitimately appears as text ("src=&quot;https:...").
"$PYTHON" - "$REPORT" <<'PY' || fail "report.html has markup that could load or run something"
import sys
from html.parser import HTMLParser
BAD_TAGS = {"script", "link", "iframe", "frame", "img", "image", "object", "embed", "base",
            "video", "audio", "source", "track", "form", "use", "foreignobject", "meta-refresh"}
BAD_ATTRS = {"src", "href", "xlink:href", "action", "formaction", "poster", "srcset", "data",
             "background", "ping", "manifest"}
problems = []
class P(HTMLParser):
    in_style = False
    def handle_starttag(self, tag, attrs):
        if tag in BAD_TAGS:
            problems.append(f"<{tag}>")
        for k, v in attrs:
            if k in BAD_ATTRS or k.startswith("on"):
                problems.append(f"<{tag} {k}=...>")
            if k == "style" and v and ("url(" in v or "@import" in v):
                problems.append(f"<{tag} style=url(...)>")
            if tag == "meta" and k == "http-equiv" and v and v.lower() == "refresh":
                problems.append("<meta refresh>")
        self.in_style = tag == "style"
    def handle_endtag(self, tag):
        self.in_style = False
    def handle_data(self, data):
        if self.in_style and ("url(" in data or "@import" in data or "//" in data):
            problems.append("style sheet with url()/@import")
P(convert_charrefs=True).feed(open(sys.argv[1], encoding="utf-8").read())
for p in problems:
    print("report.html:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
grep -q "default-src 'none'" "$REPORT" || fail "report.html has no Content-Security-Policy"

# chromium_run OUT_PREFIX URL [extra flags]: headless chromium with a net log; 40 s at most.
chromium_run() {
  local prefix=$1 url=$2
  shift 2
  rm -rf "$T/profile"
  timeout 40 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-default-apps --disable-sync --no-first-run \
    --disable-extensions --user-data-dir="$T/profile" --enable-logging=stderr --v=1 \
    --log-net-log="$prefix.netlog.json" "$@" "$url" >"$prefix.out" 2>"$prefix.err"
}

# page_requests NETLOG: URLs that a page (not the browser itself) asked for, one per line.
page_requests() {
  "$PYTHON" - "$1" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))
names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
for e in log["events"]:
    p = e.get("params") or {}
    if names.get(e["type"]) == "URL_REQUEST_START_JOB" and "url" in p:
        if p.get("initiator", "not an origin") != "not an origin":
            print(p["url"])
PY
}

log "control page: the net-log check sees what a page loads"
cat >"$T/control.html" <<'HTML'
<!DOCTYPE html><html><head><meta charset="utf-8"><title>control</title>
<link rel="stylesheet" href="https://example.invalid/c.css"></head>
<body><img src="http://127.0.0.1:9/c.png"><p>control</p></body></html>
HTML
start=$(date +%s)
chromium_run "$T/control" "file://$T/control.html" --dump-dom || fail "chromium failed on the control page: $(tail -5 "$T/control.err")"
control=$(page_requests "$T/control.netlog.json")
[[ $control == *"example.invalid/c.css"* && $control == *"127.0.0.1:9/c.png"* ]] ||
  fail "the net log did not show the control page's requests: '$control'"

log "report.html: renders, chart in the DOM, no request"
chromium_run "$T/report" "file://$REPORT" --dump-dom || fail "chromium --dump-dom exited non-zero: $(tail -5 "$T/report.err")"
DOM=$T/report.out
grep -q "<h1>lockd audit export" "$DOM" || fail "rendered DOM lacks the heading"
grep -q '<svg class="chart"' "$DOM" || fail "rendered DOM lacks the chart svg"
grep -q '<rect class="deny"' "$DOM" || fail "the chart has no deny bar"
grep -q "<title>lockd audit export" "$DOM" || fail "the page title changed (a script ran?)"
grep -q "owned" "$DOM" && grep -q "<title>owned" "$DOM" && fail "the hostile file name's script ran"
grep -q "<img" "$DOM" && fail "the hostile file name became an <img> element"
grep -qF '&lt;img src=' "$DOM" && grep -qF '&lt;script&gt;document.title=' "$DOM" ||
  fail "the hostile file name is not shown as text"
requests=$(page_requests "$T/report.netlog.json")
[[ -z $requests ]] || fail "report.html made requests: $requests"
grep -Ei "Refused to (load|execute)" "$T/report.err" && fail "the page tried to load something (CSP refused it)"

log "screenshot"
chromium_run "$T/shot" "file://$REPORT" --screenshot="$T/report.png" --window-size=1100,1600 ||
  fail "chromium --screenshot exited non-zero: $(tail -5 "$T/shot.err")"
"$PYTHON" - "$T/report.png" <<'PY' || fail "the screenshot is not a rendered page"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
width, height = struct.unpack(">II", data[16:24])
assert (width, height) == (1100, 1600), (width, height)
# Decode the IDAT stream and count distinct rows: a blank page has one.
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    if kind == b"IDAT":
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
stride = len(raw) // height
rows = {raw[i * stride + 1:(i + 1) * stride] for i in range(height)}
assert len(rows) > 50, f"only {len(rows)} distinct pixel rows"
PY
requests=$(page_requests "$T/shot.netlog.json")
[[ -z $requests ]] || fail "report.html made requests while rendering the screenshot: $requests"
log "chromium runs took $(($(date +%s) - start)) s"

finish
