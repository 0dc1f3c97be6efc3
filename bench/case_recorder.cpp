#include "case_recorder.h"

#include <cstring>

#include "wal/core/assert.h"

namespace wal::bench {

namespace {

uint64_t micros(Steady::duration d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return us < 0 ? 0 : static_cast<uint64_t>(us);
}

}  // namespace

double CaseResult::entries_per_second() const {
  return seconds > 0 ? static_cast<double>(acknowledged_count) / seconds : 0;
}

double CaseResult::mib_per_second() const {
  return entries_per_second() * static_cast<double>(entry_bytes) / (1 << 20);
}

CaseRecorder::CaseRecorder(Steady::time_point window_start, Steady::time_point window_end)
    : window_start_(window_start), window_end_(window_end) {
  WAL_ASSERT(window_start_ < window_end_);
}

void CaseRecorder::stamp(std::span<std::byte> payload, Steady::time_point due) {
  WAL_ASSERT_GE(payload.size(), stamp_bytes);
  const auto ticks = static_cast<int64_t>(due.time_since_epoch().count());
  std::memcpy(payload.data(), &ticks, stamp_bytes);
}

std::optional<Steady::time_point> CaseRecorder::read_stamp(std::span<const std::byte> payload) {
  if (payload.size() < stamp_bytes) return std::nullopt;
  int64_t ticks = 0;
  std::memcpy(&ticks, payload.data(), stamp_bytes);
  return Steady::time_point(Steady::duration(ticks));
}

void CaseRecorder::acknowledged(Steady::time_point due, Steady::time_point now) {
  const std::lock_guard lock(mutex_);
  ++acknowledged_total_;
  if (in_window(now)) ++acknowledged_in_window_;
  if (in_window(due)) append_latency_.record(micros(now - due));
}

void CaseRecorder::failed(const std::string& error) {
  const std::lock_guard lock(mutex_);
  if (failed_count_++ == 0) first_error_ = error;
}

void CaseRecorder::received(Steady::time_point due, Steady::time_point now) {
  const std::lock_guard lock(mutex_);
  ++received_total_;
  if (!in_window(due)) return;
  ++received_of_window_;
  end_to_end_latency_.record(micros(now - due));
}

uint64_t CaseRecorder::acknowledged_total() const {
  const std::lock_guard lock(mutex_);
  return acknowledged_total_;
}

uint64_t CaseRecorder::received_total() const {
  const std::lock_guard lock(mutex_);
  return received_total_;
}

void CaseRecorder::finish(CaseResult& result) const {
  const std::lock_guard lock(mutex_);
  result.seconds = std::chrono::duration<double>(window_end_ - window_start_).count();
  result.acknowledged_count = acknowledged_in_window_;
  result.failed_count = failed_count_;
  result.first_error = first_error_;
  result.received_count = received_of_window_;
  result.append_latency = append_latency_;
  result.end_to_end_latency = end_to_end_latency_;
  WAL_ASSERT_GT(result.seconds, 0.0);
  WAL_ASSERT_LE(result.acknowledged_count, acknowledged_total_);
}

}  // namespace wal::bench
