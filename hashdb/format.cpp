#include "hashdb/format.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include "hashdb/sha256.h"

namespace hashdb::format {

namespace v2 {

std::optional<Layout> ComputeLayout(std::uint64_t digest_count, std::uint64_t record_count,
                                    std::uint64_t directory_count, std::uint64_t attribute_count,
                                    std::uint64_t directory_names_size, std::uint64_t record_bytes,
                                    std::uint64_t policy_size) {
  // Any of these beyond 2^40 cannot fit a file the reader maps (2 GiB); refusing them first
  // keeps every sum below far from overflowing.
  constexpr std::uint64_t kLimit = 1ull << 40;
  for (std::uint64_t v : {digest_count, record_count, directory_count, attribute_count,
                          directory_names_size, record_bytes, policy_size}) {
    if (v > kLimit) return std::nullopt;
  }
  Layout l;
  l.digests = kHeaderSize;
  l.classes = l.digests + digest_count * kDigestEntrySize;
  l.directory_offsets = AlignUp(l.classes + digest_count);
  l.directory_names = l.directory_offsets + 4 * (directory_count + 1);
  l.attributes = AlignUp(l.directory_names + directory_names_size);
  l.block_index = AlignUp(l.attributes + attribute_count * kAttributeSize);
  l.records = AlignUp(l.block_index + 4 * BlockCount(record_count));
  l.policy = AlignUp(l.records + record_bytes);
  l.signature = AlignUp(l.policy + policy_size);
  return l;
}

}  // namespace v2

std::size_t ChunkCount(std::uint64_t length) {
  return static_cast<std::size_t>((length + kChunkSize - 1) / kChunkSize);
}

std::vector<std::uint8_t> SignedMessageShell(std::uint64_t length) {
  std::vector<std::uint8_t> message(sizeof(kSignedMessageTag) + 8 +
                                    ChunkCount(length) * kDigestSize);
  std::memcpy(message.data(), kSignedMessageTag, sizeof(kSignedMessageTag));
  StoreU64(message.data() + sizeof(kSignedMessageTag), length);
  return message;
}

void HashChunk(std::span<const std::uint8_t> data, std::size_t chunk,
               std::vector<std::uint8_t>& message) {
  const std::size_t begin = chunk * kChunkSize;
  const std::size_t len = std::min(kChunkSize, data.size() - begin);
  const Digest d = Sha256(data.subspan(begin, len));
  std::memcpy(message.data() + sizeof(kSignedMessageTag) + 8 + chunk * kDigestSize, d.data(),
              kDigestSize);
}

std::vector<std::uint8_t> SignedMessage(std::span<const std::uint8_t> data, unsigned threads) {
  const std::size_t chunks = ChunkCount(data.size());
  std::vector<std::uint8_t> message = SignedMessageShell(data.size());
  auto hash_range = [&](std::size_t first, std::size_t last) {
    for (std::size_t c = first; c < last; ++c) HashChunk(data, c, message);
  };
  // Threads only pay off for files of several MiB (a large database), not for small ones.
  unsigned n = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(chunks / 4)));
  if (n == 1) {
    hash_range(0, chunks);
    return message;
  }
  std::vector<std::thread> workers;
  std::size_t per = (chunks + n - 1) / n;
  for (unsigned t = 0; t < n; ++t) {
    std::size_t first = t * per;
    std::size_t last = std::min(chunks, first + per);
    if (first >= last) break;
    workers.emplace_back(hash_range, first, last);
  }
  for (auto& w : workers) w.join();
  return message;
}

}  // namespace hashdb::format
