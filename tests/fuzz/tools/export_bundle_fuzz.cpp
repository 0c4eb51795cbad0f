// Fuzz target for what `lockctl export verify` reads from an auditor's bundle, which comes from
// outside (tools/export/): the ustar reader (ReadTar), the manifest and its signature file
// (ParseManifest, ParseManifestSignature), and the whole offline check of the files read
// (VerifyBundle: manifest digests, signature against a trust store and without one, the audit
// log chain in audit/ and chain.json). Whatever an archive holds, the names read are safe
// bundle names and write back into an archive that reads as the same files; a manifest that
// parses is exactly the lines its entries make; a bundle that passes the check against a trust
// store was signed by one of its anchors.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_keys.h"
#include "tools/export/bundle.h"
#include "tools/export/tar.h"
#include "tools/export/verify_bundle.h"

namespace ex = lockctl::exporttool;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const hashdb::TrustStore trust = fuzzkeys::Trust();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto files = ex::ReadTar(bytes, "fuzz.tar"); files.ok()) {
    for (const auto& [name, content] : *files) {
      if (!ex::IsSafeMemberName(name)) __builtin_trap();
    }
    auto tar = ex::WriteTar(*files, 0);
    if (!tar.ok()) __builtin_trap();
    auto back = ex::ReadTar(*tar, "again.tar");
    if (!back.ok() || *back != *files) __builtin_trap();
    ex::BundleContents bundle{std::move(*files), {}};
    for (const hashdb::TrustStore* t : {&trust, static_cast<const hashdb::TrustStore*>(nullptr)}) {
      const ex::BundleVerdict verdict = ex::VerifyBundle(bundle, t, "fuzz-trust");
      // A bundle that passes against a trust store was signed by a trust anchor.
      if (t != nullptr && verdict.ok() && verdict.signature.rfind("valid, by key ", 0) != 0) {
        __builtin_trap();
      }
      if (verdict.ok() && verdict.signature.empty()) __builtin_trap();
    }
  }
  if (auto entries = ex::ParseManifest(bytes); entries.ok()) {
    std::string lines;
    for (const auto& e : *entries) lines += e.sha256 + "  " + e.name + "\n";
    if (lines != bytes) __builtin_trap();
  }
  (void)ex::ParseManifestSignature(bytes, "MANIFEST.sig");
  return 0;
}
