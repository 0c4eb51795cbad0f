#!/usr/bin/env python3
"""Checks an authorization file's signature independently of lockd's C++ code.

Rebuilds the signed bytes from docs/authorization.md ("Signed bytes") and verifies them with
the openssl command line against a public key PEM. Used by tests/integration/token_*_test.sh so
that the documented format, not just the implementation, is what the tokens sign.

usage: token_verify.py AUTHORIZATION PUBLIC_KEY_PEM   (exit 0: verifies, 1: does not)
"""
import struct
import subprocess
import sys
import tempfile
import os

FIELDS = ["nonce", "terminal", "act", "argument", "issued-at", "expires-at", "token-id",
          "holder", "organisation", "not-after", "key-id", "signature"]


def parse(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    assert lines[0] == "lockd-authorization-v1", "bad header"
    values = {}
    for name, line in zip(FIELDS, lines[1:]):
        key, _, value = line.partition(":")
        assert key == name, f"expected {name}, got {key}"
        values[name] = value[1:] if value.startswith(" ") else value
    return values


def s(text):
    b = text.encode("utf-8")
    return struct.pack(">I", len(b)) + b


def canonical(v):
    return (b"lockd-authz-v1\0" + struct.pack(">H", 1) + bytes.fromhex(v["nonce"]) +
            s(v["terminal"]) + s(v["act"]) + s(v["argument"]) +
            struct.pack(">q", int(v["issued-at"])) + struct.pack(">q", int(v["expires-at"])) +
            s(v["token-id"]) + s(v["holder"]) + s(v["organisation"]) + s(v["not-after"]) +
            bytes.fromhex(v["key-id"]))


def main():
    v = parse(sys.argv[1])
    with tempfile.TemporaryDirectory() as d:
        msg, sig = os.path.join(d, "msg"), os.path.join(d, "sig")
        open(msg, "wb").write(canonical(v))
        open(sig, "wb").write(bytes.fromhex(v["signature"]))
        r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", sys.argv[2], "-signature",
                            sig, msg], capture_output=True, text=True)
    print(r.stdout.strip() or r.stderr.strip())
    return 0 if r.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
