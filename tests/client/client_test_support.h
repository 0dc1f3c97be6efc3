#pragma once
// Shared by the client library's tests (tests/client/): a client on the embedded stores in a
// fresh temporary directory, with one log created.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/support/temp_dir.h"
#include "wal/client/client.h"

namespace wal::client::testing {

// Stops the test with the error's description when `result` failed.
#define WAL_CLIENT_ASSERT_OK(result) \
  ASSERT_TRUE((result).ok()) << (result).error().describe()

// A client on the embedded stores (local objects + SQLite) in a temporary directory.
// `writer_json`: the config's "writer" section.
inline Result<Client> open_embedded(const std::string& data_dir,
                                    const std::string& writer_json = "{}") {
  ClientOptions options;
  options.config_json = R"({"writer": )" + writer_json + "}";
  options.data_dir = data_dir;
  return Client::open(options);
}

inline std::string payload_text(const Entry& entry) { return std::string(entry.text()); }

}  // namespace wal::client::testing
