#include "sim/trace.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>

#include "wal/env/random.h"

namespace wal::sim {

namespace {

uint64_t rotate_left(uint64_t value, int bits) { return (value << bits) | (value >> (64 - bits)); }

// MurmurHash3's 64-bit finaliser: a different mixer from the low lane's splitmix64, so that the
// two lanes do not fail together.
uint64_t murmur_finalise(uint64_t value) {
  value ^= value >> 33;
  value *= 0xff51afd7ed558ccdULL;
  value ^= value >> 33;
  value *= 0xc4ceb9fe1a85ec53ULL;
  return value ^ (value >> 33);
}

// Order-sensitive: absorbing (x, y) and (y, x) give different lanes, because every word passes
// through a full avalanche that depends on all earlier words.
void absorb(TraceHash& hash, uint64_t word) {
  hash.lane_low = mix64(hash.lane_low ^ word);
  hash.lane_high = murmur_finalise(hash.lane_high + word * 0x9e3779b97f4a7c15ULL +
                                   rotate_left(hash.lane_low, 23));
}

int64_t time_ns(TimePoint time) { return time.time_since_epoch().count(); }

}  // namespace

uint64_t hash_bytes(ByteView bytes) {
  uint64_t hash = mix64(bytes.size());
  size_t offset = 0;
  for (; offset + 8 <= bytes.size(); offset += 8) {
    hash = mix64(hash ^ get_u64(bytes.data() + offset));
  }
  uint64_t tail = 0;
  for (size_t i = offset; i < bytes.size(); ++i) {
    tail |= static_cast<uint64_t>(bytes[i]) << (8 * (i - offset));
  }
  WAL_ASSERT_LE(bytes.size() - offset, size_t{7});
  return mix64(hash ^ tail ^ 0xa5a5a5a5a5a5a5a5ULL);
}

std::string TraceHash::hex() const { return fmt::format("{:016x}{:016x}", lane_high, lane_low); }

std::string_view trace_kind_name(TraceKind kind) {
  switch (kind) {
    case TraceKind::run: return "run";
    case TraceKind::schedule: return "schedule";
    case TraceKind::cancel: return "cancel";
    case TraceKind::decision: return "decision";
  }
  WAL_UNREACHABLE();
}

Trace::Trace(Options options) : options_(options) {
  WAL_ASSERT(options_.records_max > 0);
  if (options_.record_digests) {
    // Reserve a modest start so short runs never reallocate; long runs grow geometrically.
    records_.reserve(static_cast<size_t>(std::min<uint64_t>(options_.records_max, 4096)));
  }
}

void Trace::on_run(uint64_t event_index, TimePoint now, uint32_t owner, Site site,
                   uint64_t sequence) {
  WAL_ASSERT(now >= now_);
  WAL_ASSERT_GT(event_index, event_index_);  // steps count from 1; 0 is set-up before any step
  event_index_ = event_index;
  now_ = now;
  mix(TraceKind::run, owner, site, now, sequence, {});
}

void Trace::on_time(TimePoint now) {
  WAL_ASSERT(now >= now_);
  now_ = now;
}

void Trace::on_schedule(TimePoint now, TimePoint when, uint32_t owner, Site site) {
  WAL_ASSERT(when >= now);
  WAL_ASSERT(now >= now_);
  now_ = now;
  mix(TraceKind::schedule, owner, site, now, static_cast<uint64_t>(time_ns(when)), {});
}

void Trace::on_cancel(TimePoint now, uint32_t owner, Site site, uint64_t value) {
  WAL_ASSERT(now >= now_);
  now_ = now;
  mix(TraceKind::cancel, owner, site, now, value, {});
}

void Trace::decision(Site site, uint32_t node, uint64_t value, std::string_view detail) {
  mix(TraceKind::decision, node, site, now_, value, detail);
}

void Trace::mix(TraceKind kind, uint32_t node, Site site, TimePoint time, uint64_t value,
                std::string_view detail) {
  absorb(hash_, static_cast<uint64_t>(kind) | (static_cast<uint64_t>(node) << 8));
  absorb(hash_, site.hash());
  absorb(hash_, static_cast<uint64_t>(time_ns(time)));
  absorb(hash_, value);
  const uint64_t index = record_count_++;
  if (!options_.record_digests && options_.jsonl == nullptr) return;
  const TraceRecord record{index, event_index_, time, node, kind, site, value, hash_.lane_low};
  if (options_.record_digests && records_.size() < options_.records_max) {
    records_.push_back(record);
  }
  if (options_.jsonl != nullptr) write_jsonl_record(*options_.jsonl, record, detail);
}

TraceLog Trace::log() const {
  TraceLog log;
  log.records = records_;
  log.record_count = record_count_;
  log.hash = hash_;
  WAL_ASSERT_LE(log.records.size(), log.record_count);
  return log;
}

// ---- comparing runs --------------------------------------------------------------------------

namespace {

bool same_record(const TraceRecord& a, const TraceRecord& b) {
  return a.index == b.index && a.digest == b.digest && a.kind == b.kind && a.node == b.node &&
         a.site == b.site && a.time == b.time && a.value == b.value;
}

std::string describe_record(const std::optional<TraceRecord>& record) {
  if (!record) return "(none)";
  return fmt::format("{} {} node={} t_ns={} value={} event={}", trace_kind_name(record->kind),
                     record->site.name(), record->node, time_ns(record->time), record->value,
                     record->event_index);
}

}  // namespace

std::string Divergence::describe() const {
  return fmt::format("first divergence at record {}: run a: {}; run b: {}", index,
                     describe_record(a), describe_record(b));
}

std::optional<Divergence> first_divergence(const TraceLog& a, const TraceLog& b) {
  const size_t common = std::min(a.records.size(), b.records.size());
  for (size_t i = 0; i < common; ++i) {
    if (!same_record(a.records[i], b.records[i])) {
      return Divergence{i, a.records[i], b.records[i]};
    }
  }
  // The recorded prefixes agree. A run that recorded more (and whose partner stopped because
  // it ended, not because of records_max) diverges at `common`.
  Divergence beyond{common, std::nullopt, std::nullopt};
  if (common < a.records.size()) beyond.a = a.records[common];
  if (common < b.records.size()) beyond.b = b.records[common];
  const bool counts_differ = a.record_count != b.record_count;
  if (beyond.a || beyond.b || counts_differ || !(a.hash == b.hash)) return beyond;
  WAL_ASSERT_EQ(a.records.size(), b.records.size());
  return std::nullopt;
}

// ---- JSONL -----------------------------------------------------------------------------------

void write_jsonl_record(std::ostream& out, const TraceRecord& record, std::string_view detail) {
  nlohmann::ordered_json line;
  line["i"] = record.index;
  line["t_us"] = time_ns(record.time) / 1000;
  line["t_ns"] = time_ns(record.time);
  line["node"] = record.node;
  line["kind"] = trace_kind_name(record.kind);
  line["site"] = record.site.name();
  line["value"] = record.value;
  line["event"] = record.event_index;
  line["detail"] = detail;
  out << line.dump() << '\n';
}

void write_jsonl(std::ostream& out, const TraceLog& log) {
  for (const TraceRecord& record : log.records) write_jsonl_record(out, record, {});
}

}  // namespace wal::sim
