# shellcheck shell=bash
# Headless Chromium for the report tests (sourced after lib.sh): Debian's chromium, as root
# with --no-sandbox, with a net log in which every request a page makes appears with its
# initiator (the browser's own background requests have none: "not an origin").
#
# browser_require: sets CHROMIUM, or skips (77) when it is missing outside CI; in CI a
# missing chromium fails.
browser_require() {
  CHROMIUM=$(command -v chromium || true)
  if [[ -z $CHROMIUM ]]; then
    if [[ -n ${CI:-} ]]; then
      log "FAIL: chromium is not installed (installer/deps.sh installs it); CI must run this test"
      exit 1
    fi
    log "SKIP: chromium is not installed (installer/deps.sh installs it)"
    exit 77
  fi
}

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

# html_loads_nothing FILE: parses the HTML (not grep: hostile names legitimately appear as
# text) and fails naming any markup that could load or run something.
html_loads_nothing() {
  "$PYTHON" - "$1" <<'PY'
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
    print(sys.argv[1] + ":", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
}

# control_page_check: a page that does load remote things proves the net-log check sees page
# requests.
control_page_check() {
  cat >"$T/control.html" <<'HTML'
<!DOCTYPE html><html><head><meta charset="utf-8"><title>control</title>
<link rel="stylesheet" href="https://example.invalid/c.css"></head>
<body><img src="http://127.0.0.1:9/c.png"><p>control</p></body></html>
HTML
  chromium_run "$T/control" "file://$T/control.html" --dump-dom || fail "chromium failed on the control page: $(tail -5 "$T/control.err")"
  local control
  control=$(page_requests "$T/control.netlog.json")
  [[ $control == *"example.invalid/c.css"* && $control == *"127.0.0.1:9/c.png"* ]] ||
    fail "the net log did not show the control page's requests: '$control'"
}

# png_is_rendered PNG WIDTH HEIGHT: a PNG of that size with more than 50 distinct pixel rows
# (a blank page has one).
png_is_rendered() {
  "$PYTHON" - "$@" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
width, height = struct.unpack(">II", data[16:24])
assert (width, height) == (int(sys.argv[2]), int(sys.argv[3])), (width, height)
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
}
