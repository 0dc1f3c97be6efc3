#pragma once
// Trace: the running 128-bit hash of everything a simulation run does, and optionally a per-record
// log of it, so two runs of one seed can be compared and the first difference located.
//
// What goes in (each item is one record; records are numbered from 0 in the order they happen):
//   run       the scheduler executed an event (node = its owner, value = its sequence number);
//   schedule  an event was scheduled (value = its due time in ns);
//   cancel    a pending event was cancelled (value = its sequence number, or a count);
//   decision  a simulator service made a choice: a random draw, a delay, a drop, a duplicate, a
//             crash (value = the choice).
// Each record mixes (kind, node, site hash, virtual time, value) into two 64-bit lanes. No
// pointer, address, floating point or unordered-container order ever reaches the hash, so the
// same seed gives the same hash across compilers, build types and processes.
//
// Modes (Options): hash only (the default; a few multiplies per record, no allocation); record
// digests (also keep one TraceRecord per record, up to `records_max`, for first_divergence);
// JSONL (also write each record as one JSON line; see sim/README.md). Details for JSONL are
// formatted by the caller only when jsonl_enabled() is true, so the hot path never formats.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wal/core/assert.h"
#include "wal/core/bytes.h"
#include "wal/env/clock.h"

namespace wal::sim {

// FNV-1a, 64 bit. Names sites and random-stream purposes with a value that does not depend on
// the order in which names are first used, the build, or where the string lives in memory.
[[nodiscard]] constexpr uint64_t fnv1a64(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// Where an event or decision comes from, for the trace. Built at compile time from a string
// literal ("net.deliver_request"), so naming a site costs nothing at run time. Only the hash
// enters the trace hash; the name is for people (divergence reports, JSONL). The constructor is
// consteval, so a forwarding call (std::make_unique) needs an explicit Site("name").
class Site {
 public:
  consteval Site(const char* name)  // NOLINT: implicit from a literal on purpose
      : name_(name), hash_(fnv1a64(name)) {}
  [[nodiscard]] constexpr const char* name() const { return name_; }
  [[nodiscard]] constexpr uint64_t hash() const { return hash_; }
  [[nodiscard]] constexpr bool operator==(const Site& other) const {
    return hash_ == other.hash_;
  }

 private:
  const char* name_;  // a string literal: static storage
  uint64_t hash_;
};

// A hash of a byte payload (message bodies) for decision values. Eight bytes at a time,
// little-endian loads, so it is the same on every platform.
[[nodiscard]] uint64_t hash_bytes(ByteView bytes);

struct TraceHash {
  uint64_t lane_low = 0;
  uint64_t lane_high = 0;
  [[nodiscard]] bool operator==(const TraceHash&) const = default;
  [[nodiscard]] std::string hex() const;  // 32 lowercase hex digits, high lane first
};

enum class TraceKind : uint8_t { run, schedule, cancel, decision };
[[nodiscard]] std::string_view trace_kind_name(TraceKind kind);

struct TraceRecord {
  uint64_t index = 0;        // position among all records of the run
  uint64_t event_index = 0;  // scheduler step during which it happened (run records: its own)
  TimePoint time{};          // virtual time when it happened
  uint32_t node = 0;         // owner id: 0 = the world, >= 1 = a node
  TraceKind kind = TraceKind::run;
  Site site = "?";
  uint64_t value = 0;
  uint64_t digest = 0;  // the running hash's low lane after this record
};

struct TraceLog {
  std::vector<TraceRecord> records;  // the first `records_max` records (record-digests mode)
  uint64_t record_count = 0;         // records mixed into the hash, kept or not
  TraceHash hash;                    // the final hash
  [[nodiscard]] bool truncated() const { return records.size() < record_count; }
};

// Where two runs first differ. `a`/`b` are the records of each run at `index`; a side is empty
// when that run ended (or stopped recording) before `index`. When both sides are empty the
// recorded prefixes agree but the final hashes differ beyond them (raise records_max).
struct Divergence {
  uint64_t index = 0;
  std::optional<TraceRecord> a;
  std::optional<TraceRecord> b;
  [[nodiscard]] std::string describe() const;  // one line, for test failures and CI logs
};

// nullopt when the two logs have the same hash and the same recorded records.
[[nodiscard]] std::optional<Divergence> first_divergence(const TraceLog& a, const TraceLog& b);

// JSONL: one JSON object per record, one record per line (format in sim/README.md).
void write_jsonl_record(std::ostream& out, const TraceRecord& record, std::string_view detail);
void write_jsonl(std::ostream& out, const TraceLog& log);

namespace limits {
// 2M records of 64 bytes is 128 MiB: enough to locate a divergence in a typical CI seed (a few
// hundred thousand events) without letting one long run exhaust a CI machine's memory.
inline constexpr uint64_t trace_records_max_default = 2'000'000;
}  // namespace limits

class Trace {
 public:
  struct Options {
    bool record_digests = false;
    uint64_t records_max = limits::trace_records_max_default;
    std::ostream* jsonl = nullptr;  // not owned; must outlive the Trace's use
  };
  Trace() : Trace(Options{}) {}
  explicit Trace(Options options);
  Trace(const Trace&) = delete;
  Trace& operator=(const Trace&) = delete;

  // Called by the Scheduler. on_run also sets the current event (time, index) that later
  // decisions are attributed to; event indices start at 1 (0 = set-up before the first step).
  // on_time moves the decision time forward when the scheduler advances time without an event.
  void on_time(TimePoint now);
  void on_run(uint64_t event_index, TimePoint now, uint32_t owner, Site site, uint64_t sequence);
  void on_schedule(TimePoint now, TimePoint when, uint32_t owner, Site site);
  void on_cancel(TimePoint now, uint32_t owner, Site site, uint64_t value);

  // A simulator decision made by `node` (0 = the world) during the current event.
  void decision(Site site, uint32_t node, uint64_t value) { decision(site, node, value, {}); }
  void decision(Site site, uint32_t node, uint64_t value, std::string_view detail);

  [[nodiscard]] bool jsonl_enabled() const { return options_.jsonl != nullptr; }
  [[nodiscard]] bool recording() const { return options_.record_digests; }
  [[nodiscard]] TraceHash hash() const { return hash_; }
  [[nodiscard]] uint64_t record_count() const { return record_count_; }
  [[nodiscard]] const std::vector<TraceRecord>& records() const { return records_; }
  // The log so far (records copied); for comparing two runs with first_divergence.
  [[nodiscard]] TraceLog log() const;

 private:
  void mix(TraceKind kind, uint32_t node, Site site, TimePoint time, uint64_t value,
           std::string_view detail);

  Options options_;
  TraceHash hash_;
  uint64_t record_count_ = 0;
  uint64_t event_index_ = 0;
  TimePoint now_{};
  std::vector<TraceRecord> records_;
};

}  // namespace wal::sim
