#include "wal/log/options.h"

#include "wal/format/block_format.h"

namespace wal {

Status validate(const WriterOptions& options) {
  auto bad = [](const char* field, const char* rule) {
    return make_error(Errc::invalid_argument,
                      std::string("writer option ") + field + " " + rule);
  };
  if (options.block_size_bytes_max < block_format::header_size_bytes + 1 ||
      options.block_size_bytes_max > limits::block_size_bytes_max) {
    return bad("block_size_bytes_max", "must be within 69 bytes..64 MiB");
  }
  if (options.inflight_blocks_max == 0) return bad("inflight_blocks_max", "must be at least 1");
  if (options.unacknowledged_blocks_max < options.inflight_blocks_max) {
    return bad("unacknowledged_blocks_max", "must be at least inflight_blocks_max");
  }
  if (options.inflight_bytes_max == 0) return bad("inflight_bytes_max", "must be at least 1");
  if (options.segment_size_bytes_max == 0) {
    return bad("segment_size_bytes_max", "must be at least 1");
  }
  if (options.segment_age_max.count() <= 0) return bad("segment_age_max", "must be positive");
  if (options.producers_max == 0 ||
      options.producers_max > limits::manifest_producer_count_max) {
    return bad("producers_max", "must be within 1..65536");
  }
  if (options.retry_backoff_min.count() <= 0 ||
      options.retry_backoff_max < options.retry_backoff_min) {
    return bad("retry_backoff_min/max", "must be positive with min <= max");
  }
  if (options.tail_publish_interval_min.count() < 0) {
    return bad("tail_publish_interval_min", "must not be negative");
  }
  return {};
}

}  // namespace wal
