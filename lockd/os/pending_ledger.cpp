#include "lockd/os/pending_ledger.h"

#include <sys/mman.h>

#include <algorithm>
#include <new>
#include <utility>

namespace lockd::os {

namespace {
using Slot = std::atomic<std::uint32_t>;
static_assert(Slot::is_always_lock_free, "ledger slots must be lock-free to be shared by fork");
// One slot per fd number, then the count of reads in progress.
constexpr std::size_t kBytes = sizeof(Slot) * (PendingLedger::kCapacity + 1);
}  // namespace

hashdb::Result<PendingLedger> PendingLedger::Create() {
  void* p = ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return hashdb::ErrnoError("mmap pending ledger");
  // Anonymous memory is zero-filled: every slot starts clear. Construct the atomics in place.
  auto* slots = static_cast<Slot*>(p);
  for (int i = 0; i <= kCapacity; ++i) new (&slots[i]) Slot(0);
  return PendingLedger(slots);
}

PendingLedger::~PendingLedger() {
  if (slots_ != nullptr) ::munmap(slots_, kBytes);
}

PendingLedger::PendingLedger(PendingLedger&& other) noexcept
    : slots_(std::exchange(other.slots_, nullptr)) {}

PendingLedger& PendingLedger::operator=(PendingLedger&& other) noexcept {
  if (this != &other) {
    if (slots_ != nullptr) ::munmap(slots_, kBytes);
    slots_ = std::exchange(other.slots_, nullptr);
  }
  return *this;
}

bool PendingLedger::Record(int fd, pid_t pid) {
  if (fd < 0 || fd >= kCapacity) return false;
  const std::uint32_t value = kSet | (static_cast<std::uint32_t>(pid > 0 ? pid : 0) & ~kSet);
  slots_[fd].store(value, std::memory_order_release);
  return true;
}

void PendingLedger::Clear(int fd) {
  if (fd < 0 || fd >= kCapacity) return;
  slots_[fd].store(0, std::memory_order_release);
}

void PendingLedger::BeginRead() { slots_[kCapacity].fetch_add(1, std::memory_order_seq_cst); }

void PendingLedger::EndRead() { slots_[kCapacity].fetch_sub(1, std::memory_order_seq_cst); }

bool PendingLedger::ReadInProgress() const {
  return slots_[kCapacity].load(std::memory_order_seq_cst) != 0;
}

void PendingLedger::ResetReads() { slots_[kCapacity].store(0, std::memory_order_seq_cst); }

std::vector<PendingLedger::Entry> PendingLedger::TakeAll() {
  std::vector<Entry> out;
  for (int i = 0; i < kCapacity; ++i) {
    if (slots_[i].load(std::memory_order_relaxed) == 0) continue;
    const std::uint32_t v = slots_[i].exchange(0, std::memory_order_acq_rel);
    if (v != 0) out.push_back({i, static_cast<pid_t>(v & ~kSet)});
  }
  return out;
}

std::size_t PendingLedger::CountPending() const {
  std::size_t n = 0;
  for (int i = 0; i < kCapacity; ++i) {
    if (slots_[i].load(std::memory_order_acquire) != 0) ++n;
  }
  return n;
}

OrphanReport DenyOrphans(PendingLedger* ledger, const std::function<int(int fd)>& deny,
                         int fd_limit) {
  OrphanReport report;
  if (ledger != nullptr) {
    for (const auto& e : ledger->TakeAll()) {
      if (deny(e.fd) == 0) {
        ++report.denied;
        report.pids.push_back(e.pid);
      }
    }
  }
  // The sweep is needed only when the reader died between a read(2) and recording what it
  // returned; without a ledger nothing is known, so always sweep then.
  report.swept = ledger == nullptr || ledger->ReadInProgress();
  if (ledger != nullptr) ledger->ResetReads();
  const int limit = report.swept ? std::clamp(fd_limit, 0, PendingLedger::kCapacity) : 0;
  for (int fd = 0; fd < limit; ++fd) {
    if (deny(fd) == 0) {
      ++report.denied;
      ++report.denied_outside_ledger;
    }
  }
  return report;
}

}  // namespace lockd::os
