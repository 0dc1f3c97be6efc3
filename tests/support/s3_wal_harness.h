#pragma once
// The MemoryBuffer WAL as `wp` runs it, on a real S3 server: the real EventLoop, an
// S3ObjectStore, and a SqliteMetaStore in a directory of the test's. For the S3 integration
// tests, which record what every append returned and then check the log against it.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"
#include "wal/env/env.h"
#include "wal/log/log_client.h"
#include "wal/real/event_loop.h"
#include "wal/real/s3_object_store.h"
#include "wal/real/sqlite_meta_store.h"

namespace wal::testing {

// FaultPoints with at most one planted bug switched on (wal/env/fault_points.h), to show that a
// test fails when the handling it checks is broken.
class PlantedBug final : public FaultPoints {
 public:
  explicit PlantedBug(SimBug planted) : planted_(planted) {}
  [[nodiscard]] bool bug(SimBug bug) const override { return bug == planted_; }
  void reached(CoverageMark) const override {}

 private:
  SimBug planted_;
};

// The bug named by the environment variable WAL_PLANT_BUG (a name from `wp-sim bugs`, e.g.
// ack_before_put), or SimBug::none when it is unset. Aborts on an unknown name.
[[nodiscard]] SimBug planted_bug_from_environment();

class RealWal {
 public:
  // Opens the store (without the capability probe) and the SQLite MetaStore at `meta_path`.
  // `planted` switches on one planted bug in the WAL. Throws if a store fails to open.
  RealWal(const S3Options& options, const std::string& meta_path,
          SimBug planted = SimBug::none);
  ~RealWal();
  RealWal(const RealWal&) = delete;
  RealWal& operator=(const RealWal&) = delete;

  template <typename T>
  T run(Task<T> task) {
    return loop_.run(std::move(task));
  }
  EventLoop& loop() { return loop_; }
  LogClient& client() { return *client_; }
  S3ObjectStore& store() { return *store_; }

 private:
  EventLoop loop_;
  Xoshiro256 random_;
  PlantedBug faults_;
  std::unique_ptr<S3ObjectStore> store_;
  std::unique_ptr<SqliteMetaStore> meta_;
  std::optional<Env> env_;
  std::optional<LogClient> client_;
};

// "entry-<index>-" followed by a few bytes that vary with the index, then `padding_bytes`.
[[nodiscard]] std::string payload_text(uint64_t index, uint64_t padding_bytes = 0);

// What each append returned, by payload index. An index without a result never completed.
struct AppendRecord {
  uint64_t padding_bytes = 0;  // of every payload (payload_text)
  std::map<uint64_t, std::optional<Result<EntryId>>> results;
  [[nodiscard]] uint64_t acknowledged() const;
  [[nodiscard]] uint64_t failed_unknown() const;
  [[nodiscard]] uint64_t failed_definite() const;
};

// Appends payloads [first, first + count) on `writer`, all called at once and in order (so ids
// follow indexes), and runs the loop until every one has returned (true) or `time_limit` has
// passed (false; the appends still running are abandoned).
bool append_all(RealWal& wal, LogWriter& writer, AppendRecord& record, uint64_t first,
                uint64_t count, std::chrono::seconds time_limit = std::chrono::seconds(120));

// Reads the whole log and checks it against `record`: ids dense from 0, no payload twice,
// every acknowledged append present at its id with its bytes, no append that failed
// definitely present. Returns one line per violation (empty: the log is right), and the
// number of entries read in `entries_read`.
[[nodiscard]] std::vector<std::string> check_log(RealWal& wal, const std::string& name,
                                                 const AppendRecord& record,
                                                 uint64_t* entries_read = nullptr);

}  // namespace wal::testing
