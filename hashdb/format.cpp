#include "hashdb/format.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include "hashdb/sha256.h"

namespace hashdb::format {

std::vector<std::uint8_t> SignedMessage(std::span<const std::uint8_t> data, unsigned threads) {
  const std::size_t chunks = (data.size() + kChunkSize - 1) / kChunkSize;
  std::vector<std::uint8_t> message(sizeof(kSignedMessageTag) + 8 + chunks * kDigestSize);
  std::memcpy(message.data(), kSignedMessageTag, sizeof(kSignedMessageTag));
  StoreU64(message.data() + sizeof(kSignedMessageTag), data.size());
  std::uint8_t* out = message.data() + sizeof(kSignedMessageTag) + 8;

  auto hash_range = [&](std::size_t first, std::size_t last) {
    for (std::size_t c = first; c < last; ++c) {
      std::size_t begin = c * kChunkSize;
      std::size_t len = std::min(kChunkSize, data.size() - begin);
      Digest d = Sha256(data.subspan(begin, len));
      std::memcpy(out + c * kDigestSize, d.data(), kDigestSize);
    }
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
