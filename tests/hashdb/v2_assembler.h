#pragma once
// A version-2 database put together section by section from docs/database-format.md, without
// the library's writer, and signed validly: tests change one field at a time (a record's bytes,
// a class byte, a header count) and check that the reader rejects exactly that, for its stated
// reason, although the signature is good. Assembling the writer's own contents gives the
// writer's bytes (tests/hashdb/database_v2_test.cpp checks that), so the document, the writer
// and the reader agree.

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "hashdb/digest.h"
#include "hashdb/keys.h"
#include "hashdb/policy.h"
#include "hashdb/sha256.h"

namespace testsupport {

inline void PutLe(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
inline void SetLe(std::vector<std::uint8_t>& out, std::size_t at, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
// Unsigned LEB128, shortest form.
inline void PutLeb(std::vector<std::uint8_t>& out, std::uint64_t v) {
  do {
    std::uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(static_cast<std::uint8_t>(b | (v != 0 ? 0x80 : 0)));
  } while (v != 0);
}

// One record's bytes. has_dir: `dir_or_shared` is a directory index, else a shared length.
inline std::vector<std::uint8_t> RecordBytes(bool has_dir, std::uint64_t dir_or_shared,
                                             std::uint64_t digest, std::uint64_t attributes,
                                             std::uint64_t size, const std::string& suffix) {
  std::vector<std::uint8_t> out;
  PutLeb(out, suffix.size() * 2 + (has_dir ? 1 : 0));
  PutLeb(out, dir_or_shared);
  PutLeb(out, digest);
  PutLeb(out, attributes);
  PutLeb(out, size);
  out.insert(out.end(), suffix.begin(), suffix.end());
  return out;
}

struct V2Parts {
  std::uint64_t generation = 1;
  std::int64_t created = 1700000000;
  std::vector<hashdb::Digest> digests;
  std::vector<std::uint8_t> classes;
  std::vector<std::string> directories;
  std::vector<std::array<std::uint32_t, 3>> attributes;  // mode, uid, gid
  std::vector<std::vector<std::uint8_t>> records;        // each record's bytes, in order
  std::vector<std::uint8_t> policy = hashdb::SerializePolicy(hashdb::Policy{});
  // Called on the whole file before it is signed (the header, a section, padding...).
  std::function<void(std::vector<std::uint8_t>&)> patch;
  // Replaces the block index computed from the records (64 per block).
  std::optional<std::vector<std::uint32_t>> block_index;
};

// Section offsets of an assembled file, for patches.
struct V2Offsets {
  std::size_t digests, classes, dir_offsets, dir_names, attributes, block_index, records, policy,
      signature;
};

inline std::size_t Align8(std::size_t v) { return (v + 7) & ~std::size_t{7}; }

inline std::vector<std::uint8_t> AssembleV2(const V2Parts& parts, hashdb::Signer& signer,
                                            V2Offsets* offsets_out = nullptr) {
  std::vector<std::uint8_t> stream;
  std::vector<std::uint32_t> blocks;
  for (std::size_t i = 0; i < parts.records.size(); ++i) {
    if (i % 64 == 0) blocks.push_back(static_cast<std::uint32_t>(stream.size()));
    stream.insert(stream.end(), parts.records[i].begin(), parts.records[i].end());
  }
  if (parts.block_index) blocks = *parts.block_index;
  std::string names;
  for (const auto& d : parts.directories) names += d;

  V2Offsets o{};
  o.digests = 128;
  o.classes = o.digests + 32 * parts.digests.size();
  o.dir_offsets = Align8(o.classes + parts.digests.size());
  o.dir_names = o.dir_offsets + 4 * (parts.directories.size() + 1);
  o.attributes = Align8(o.dir_names + names.size());
  o.block_index = Align8(o.attributes + 12 * parts.attributes.size());
  o.records = Align8(o.block_index + 4 * ((parts.records.size() + 63) / 64));
  o.policy = Align8(o.records + stream.size());
  o.signature = Align8(o.policy + parts.policy.size());

  std::vector<std::uint8_t> out(o.signature, 0);
  const char magic[] = "LOCKDB\r\n";
  std::memcpy(out.data(), magic, 8);
  SetLe(out, 8, 2, 2);
  SetLe(out, 10, 128, 2);
  SetLe(out, 16, parts.generation, 8);
  SetLe(out, 24, static_cast<std::uint64_t>(parts.created), 8);
  std::memcpy(out.data() + 32, signer.public_key().id().data(), 32);
  SetLe(out, 64, parts.digests.size(), 4);
  SetLe(out, 68, parts.records.size(), 4);
  SetLe(out, 72, parts.directories.size(), 4);
  SetLe(out, 76, parts.attributes.size(), 4);
  SetLe(out, 80, names.size(), 8);
  SetLe(out, 88, stream.size(), 8);
  SetLe(out, 96, parts.policy.size(), 4);
  SetLe(out, 100, static_cast<std::uint16_t>(signer.public_key().algorithm()), 2);
  SetLe(out, 104, o.signature, 8);
  for (std::size_t i = 0; i < parts.digests.size(); ++i) {
    std::memcpy(out.data() + o.digests + 32 * i, parts.digests[i].data(), 32);
  }
  if (!parts.classes.empty()) {
    std::memcpy(out.data() + o.classes, parts.classes.data(), parts.classes.size());
  }
  std::size_t at = 0;
  for (std::size_t i = 0; i <= parts.directories.size(); ++i) {
    SetLe(out, o.dir_offsets + 4 * i, at, 4);
    if (i < parts.directories.size()) at += parts.directories[i].size();
  }
  if (!names.empty()) std::memcpy(out.data() + o.dir_names, names.data(), names.size());
  for (std::size_t i = 0; i < parts.attributes.size(); ++i) {
    for (int f = 0; f < 3; ++f)
      SetLe(out, o.attributes + 12 * i + 4 * f, parts.attributes[i][f], 4);
  }
  for (std::size_t i = 0; i < blocks.size() && o.block_index + 4 * i + 4 <= o.records; ++i) {
    SetLe(out, o.block_index + 4 * i, blocks[i], 4);
  }
  if (!stream.empty()) std::memcpy(out.data() + o.records, stream.data(), stream.size());
  std::memcpy(out.data() + o.policy, parts.policy.data(), parts.policy.size());
  if (parts.patch) parts.patch(out);

  // Signed message: tag, u64 length, SHA-256 of each 1 MiB chunk; then u32 length, signature.
  std::vector<std::uint8_t> message;
  const char tag[] = "lockdb-signed-v1";
  message.insert(message.end(), tag, tag + 16);
  PutLe(message, out.size(), 8);
  for (std::size_t c = 0; c < out.size(); c += 1 << 20) {
    const std::size_t n = std::min<std::size_t>(1 << 20, out.size() - c);
    const hashdb::Digest d = hashdb::Sha256(std::span<const std::uint8_t>(out.data() + c, n));
    message.insert(message.end(), d.begin(), d.end());
  }
  auto signature = signer.Sign(message);
  REQUIRE(signature.ok());
  PutLe(out, signature->size(), 4);
  out.insert(out.end(), signature->begin(), signature->end());
  if (offsets_out != nullptr) *offsets_out = o;
  return out;
}

}  // namespace testsupport
