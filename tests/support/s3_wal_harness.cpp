#include "tests/support/s3_wal_harness.h"

#include <cstdlib>
#include <random>
#include <stdexcept>

#include "tests/support/s3_test_bucket.h"
#include "wal/async/completion.h"
#include "wal/async/scope.h"

namespace wal::testing {

SimBug planted_bug_from_environment() {
  const char* name = std::getenv("WAL_PLANT_BUG");
  if (name == nullptr || *name == '\0') return SimBug::none;
  for (uint16_t value = 1; value < static_cast<uint16_t>(SimBug::count_); ++value) {
    if (sim_bug_name(static_cast<SimBug>(value)) == name) return static_cast<SimBug>(value);
  }
  throw std::runtime_error(std::string("WAL_PLANT_BUG: no planted bug named ") + name);
}

RealWal::RealWal(const S3Options& options, const std::string& meta_path, SimBug planted)
    : random_(std::random_device{}()), faults_(planted) {
  store_ = open_s3_store(loop_, options);
  Result<std::unique_ptr<SqliteMetaStore>> meta =
      loop_.run(SqliteMetaStore::open(loop_, loop_, meta_path));
  if (!meta.ok()) throw std::runtime_error("open meta store: " + meta.error().describe());
  meta_ = std::move(meta).value();
  env_.emplace(Env{loop_, loop_, random_, faults_, store_.get(), meta_.get(), nullptr, nullptr});
  client_.emplace(*env_);
}

RealWal::~RealWal() {
  client_.reset();
  env_.reset();
  meta_.reset();
  store_.reset();
}

std::string payload_text(uint64_t index, uint64_t padding_bytes) {
  return "entry-" + std::to_string(index) + "-" + std::string(index % 23 + padding_bytes, 'p');
}

uint64_t AppendRecord::acknowledged() const {
  uint64_t count = 0;
  for (const auto& [index, result] : results) count += result.has_value() && result->ok();
  return count;
}

uint64_t AppendRecord::failed_unknown() const {
  uint64_t count = 0;
  for (const auto& [index, result] : results) {
    count += result.has_value() && !result->ok() && result->error().unknown();
  }
  return count;
}

uint64_t AppendRecord::failed_definite() const {
  uint64_t count = 0;
  for (const auto& [index, result] : results) {
    count += result.has_value() && !result->ok() && !result->error().unknown();
  }
  return count;
}

bool append_all(RealWal& wal, LogWriter& writer, AppendRecord& record, uint64_t first,
                uint64_t count, std::chrono::seconds time_limit) {
  return wal.run([](EventLoop& loop, LogWriter& w, AppendRecord& out, uint64_t begin, uint64_t n,
                    std::chrono::seconds limit) -> Task<bool> {
    Scope scope(loop);
    Completion<bool> all_done(loop);
    const TimerId timer = loop.call_at(loop.now() + limit, [all_done]() mutable {
      all_done.set(false);
    });
    uint64_t remaining = n;
    for (uint64_t index = begin; index < begin + n; ++index) {
      out.results[index];
      scope.spawn([](LogWriter& appender, uint64_t i, AppendRecord& sink, uint64_t& left,
                     Completion<bool> done) -> Task<void> {
        Task<Result<EntryId>> append =
            appender.append(to_bytes(payload_text(i, sink.padding_bytes)));
        sink.results[i].emplace(co_await std::move(append));
        if (--left == 0) done.set(true);
      }(w, index, out, remaining, all_done));
    }
    const bool finished = co_await all_done.wait();
    loop.cancel(timer);
    co_return finished;
  }(wal.loop(), writer, record, first, count, time_limit));
}

std::vector<std::string> check_log(RealWal& wal, const std::string& name,
                                   const AppendRecord& record, uint64_t* entries_read) {
  std::vector<std::string> problems;
  Result<std::unique_ptr<LogReader>> reader =
      wal.run(wal.client().open_reader(name, ReadPosition::earliest()));
  if (!reader.ok()) return {"open reader: " + reader.error().describe()};
  std::map<std::string, EntryId> id_of_payload;
  for (EntryId expected = 0;; ++expected) {
    Result<std::optional<LogEntry>> entry = wal.run((*reader)->try_next());
    if (!entry.ok()) return {"read: " + entry.error().describe()};
    if (!entry->has_value()) break;
    const LogEntry& got = **entry;
    if (got.id != expected) problems.push_back("id " + std::to_string(got.id) + " follows " +
                                               std::to_string(expected) + " (not dense)");
    if (!id_of_payload.emplace(to_string(got.payload), got.id).second) {
      problems.push_back("payload at id " + std::to_string(got.id) + " is there twice");
    }
  }
  if (entries_read != nullptr) *entries_read = id_of_payload.size();
  for (const auto& [index, result] : record.results) {
    if (!result.has_value()) continue;  // never returned: either outcome is allowed
    const auto found = id_of_payload.find(payload_text(index, record.padding_bytes));
    if (result->ok()) {
      if (found == id_of_payload.end()) {
        problems.push_back("acknowledged entry " + std::to_string(index) + " (id " +
                           std::to_string(**result) + ") is lost");
      } else if (found->second != **result) {
        problems.push_back("entry " + std::to_string(index) + " moved from id " +
                           std::to_string(**result) + " to " + std::to_string(found->second));
      }
    } else if (!result->error().unknown() && found != id_of_payload.end()) {
      problems.push_back("entry " + std::to_string(index) + " failed definitely (" +
                         result->error().describe() + ") but is in the log");
    }
  }
  return problems;
}

}  // namespace wal::testing
