#include "config_quorum.h"

#include <nlohmann/json.hpp>

#include "config_json.h"
#include "wal/format/block_format.h"

namespace wal::cli {

namespace {

Status parse_writer(const nlohmann::json& section, QuorumClientConfig& config) {
  const std::string where = "quorum.";
  quorum::QuorumWriterOptions& w = config.writer;
  WAL_CLI_TRY(check_config_keys(section, "quorum.",
                                {"segment_entries_max", "segment_bytes_max", "segment_age_max_ms",
                                 "rpc_timeout_ms", "buffered_bytes_max", "message_bytes_max",
                                 "upload_block_bytes_max", "logstores"}));
  WAL_CLI_TRY(read_config_u64(section, where, "segment_entries_max", 1, UINT64_MAX,
                              w.segment_entries_max));
  WAL_CLI_TRY(read_config_u64(section, where, "segment_bytes_max", 1, UINT64_MAX,
                              w.segment_bytes_max));
  // At least a second: an age roll costs a seal and a segment creation in etcd.
  WAL_CLI_TRY(read_config_ms(section, where, "segment_age_max_ms", 1000, 7 * 86'400'000ull,
                             w.segment_age_max));
  WAL_CLI_TRY(read_config_ms(section, where, "rpc_timeout_ms", 10, 600'000, w.rpc_timeout));
  WAL_CLI_TRY(read_config_u64(section, where, "buffered_bytes_max", 1024, 64ull << 30,
                              w.buffered_bytes_max));
  // The protocol bounds one message at 64 MiB (wal/quorum/protocol.h).
  WAL_CLI_TRY(read_config_u64(section, where, "message_bytes_max", 1024, 64ull << 20,
                              w.message_bytes_max));
  WAL_CLI_TRY(read_config_u64(section, where, "upload_block_bytes_max", 1024,
                              limits::block_size_bytes_max, w.upload_block_bytes_max));
  WAL_CLI_TRY(read_config_string_map(section, where, "logstores", config.logstores));
  for (const auto& [node, address] : config.logstores) {
    WAL_CLI_TRY(check_host_port(address, "config: quorum.logstores." + node, false));
  }
  return Status{};
}

}  // namespace

Status parse_quorum_config(const nlohmann::json& root, QuorumClientConfig& config) {
  if (root.contains("mode")) {
    const nlohmann::json& mode = root["mode"];
    if (!mode.is_string() || (mode != "quorum" && mode != "memory")) {
      return make_error(Errc::invalid_argument,
                        "config: 'mode' must be \"memory\" (MemoryBuffer) or \"quorum\" "
                        "(QuorumBuffer)");
    }
    config.enabled = mode == "quorum";
  }
  if (root.contains("quorum")) {
    if (!config.enabled) {
      return make_error(Errc::invalid_argument,
                        "config: a 'quorum' section needs \"mode\": \"quorum\"");
    }
    WAL_CLI_TRY(parse_writer(root["quorum"], config));
  }
  return Status{};
}

}  // namespace wal::cli
