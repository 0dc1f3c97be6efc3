#pragma once
// A MemoryBuffer WAL on in-memory stores and a ManualLoop, for unit tests. SlowObjectStore adds a
// fixed latency to every call so tests can act while PUTs are in flight.

#include <memory>
#include <string>
#include <vector>

#include "wal/async/scope.h"
#include "wal/async/sleep.h"
#include "wal/env/env.h"
#include "wal/log/log_client.h"
#include "wal/mem/manual_loop.h"
#include "wal/mem/mem_meta_store.h"
#include "wal/mem/mem_object_store.h"

namespace wal::testing {

class SlowObjectStore final : public ObjectStore {
 public:
  SlowObjectStore(ObjectStore& inner, Clock& clock) : inner_(inner), clock_(clock) {}
  Duration latency{0};

  Task<Result<ObjectInfo>> put(std::string key, Bytes body, PutCondition condition) override {
    co_await sleep_for(clock_, latency);
    co_return co_await inner_.put(std::move(key), std::move(body), std::move(condition));
  }
  Task<Result<ObjectData>> get(std::string key, std::optional<ByteRange> range) override {
    co_await sleep_for(clock_, latency);
    co_return co_await inner_.get(std::move(key), range);
  }
  Task<Result<ObjectInfo>> head(std::string key) override {
    co_await sleep_for(clock_, latency);
    co_return co_await inner_.head(std::move(key));
  }
  Task<Result<ListPage>> list(std::string prefix, std::string token, size_t max_keys) override {
    co_await sleep_for(clock_, latency);
    co_return co_await inner_.list(std::move(prefix), std::move(token), max_keys);
  }
  Task<Status> remove(std::string key) override {
    co_await sleep_for(clock_, latency);
    co_return co_await inner_.remove(std::move(key));
  }
  Task<Result<std::vector<Status>>> remove_many(std::vector<std::string> keys) override {
    co_await sleep_for(clock_, latency);
    co_return co_await inner_.remove_many(std::move(keys));
  }

 private:
  ObjectStore& inner_;
  Clock& clock_;
};

struct WalFixture {
  WalFixture() : meta(loop, loop), slow_objects(objects, loop) {}

  template <typename T>
  T run(Task<T> task) {
    return loop.run(std::move(task));
  }
  std::unique_ptr<LogWriter> open_writer(const std::string& name, WriterOptions options = {}) {
    auto writer = run(client.open_writer(name, options));
    WAL_ASSERT(writer.ok());
    return std::move(writer).value();
  }
  std::unique_ptr<LogReader> open_reader(const std::string& name,
                                         ReadPosition position = ReadPosition::earliest()) {
    auto reader = run(client.open_reader(name, position));
    WAL_ASSERT(reader.ok());
    return std::move(reader).value();
  }
  // Lets background work (tail publication) settle, then reads everything readable.
  std::vector<LogEntry> read_all(const std::string& name,
                                 ReadPosition position = ReadPosition::earliest()) {
    loop.run_for(std::chrono::seconds(1));
    auto reader = open_reader(name, position);
    std::vector<LogEntry> entries;
    while (true) {
      auto entry = run(reader->try_next());
      WAL_ASSERT(entry.ok());
      if (!*entry) break;
      entries.push_back(std::move(**entry));
    }
    return entries;
  }

  ManualLoop loop;
  Xoshiro256 random{42};
  NoFaults faults;
  MemObjectStore objects;
  MemMetaStore meta;
  SlowObjectStore slow_objects;
  Env env{loop, loop, random, faults, &slow_objects, &meta, nullptr, nullptr};
  LogClient client{env};
};

[[nodiscard]] inline Bytes payload_for(uint64_t i) {
  return to_bytes("entry-" + std::to_string(i) + std::string(i % 17, 'x'));
}

// Opens a writer, appends payload_for(0 .. count-1) concurrently and waits until every one is
// acknowledged. Returns the writer still open: close it, or drop it as a crash would.
[[nodiscard]] inline std::unique_ptr<LogWriter> append_and_wait(WalFixture& f,
                                                                const std::string& name,
                                                                uint64_t count,
                                                                WriterOptions options = {}) {
  auto writer = f.open_writer(name, options);
  Scope scope(f.loop);
  uint64_t acknowledged = 0;
  for (uint64_t i = 0; i < count; ++i) {
    scope.spawn([](LogWriter& w, uint64_t index, uint64_t& done) -> Task<void> {
      auto id = co_await w.append(payload_for(index));
      WAL_ASSERT(id.ok());
      ++done;
    }(*writer, i, acknowledged));
  }
  f.loop.run_until_condition([&] { return acknowledged == count; });
  return writer;
}

}  // namespace wal::testing
