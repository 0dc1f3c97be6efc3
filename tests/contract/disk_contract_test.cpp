// The Disk contract (wal/env/disk.h), run against every implementation: MemDisk on a
// ManualLoop and PosixDisk on the real EventLoop in a temporary directory. The simulator's disk
// joins by adding a factory to disk_factories().
// Crash behaviour is not part of this suite: see tests/unit/mem_disk_crash_test.cpp.
#include <gtest/gtest.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/contract/contract_support.h"
#include "tests/contract/sim_harness.h"
#include "wal/env/disk.h"
#include "wal/mem/mem_disk.h"
#include "wal/real/posix_disk.h"

namespace wal::contract {
namespace {

// An implementation under test with the harness it runs on.
class DiskWorld {
 public:
  virtual ~DiskWorld() = default;
  virtual Harness& harness() = 0;
  virtual Disk& disk() = 0;
};

struct DiskFactory {
  std::string name;
  std::function<std::unique_ptr<DiskWorld>()> make;
};

class MemDiskWorld final : public DiskWorld {
 public:
  Harness& harness() override { return harness_; }
  Disk& disk() override { return disk_; }

 private:
  ManualHarness harness_;
  MemDisk disk_;
};

class PosixDiskWorld final : public DiskWorld {
 public:
  Harness& harness() override { return harness_; }
  Disk& disk() override { return disk_; }

 private:
  // Declaration order is destruction order reversed: the disk goes first, then the pool
  // (which finishes its jobs while the loop still exists), the directory, the loop.
  RealHarness harness_;
  TempDir dir_;
  BlockingPool pool_{harness_.loop(), 2};
  PosixDisk disk_{pool_, dir_.path() + "/disk"};
};

// The simulator's per-node disk (faults off) on virtual time.
class SimDiskWorld final : public DiskWorld {
 public:
  Harness& harness() override { return harness_; }
  Disk& disk() override { return harness_.disk(); }

 private:
  SimHarness harness_;
};

std::vector<DiskFactory> disk_factories() {
  return {
      {"mem", [] { return std::make_unique<MemDiskWorld>(); }},
      {"posix", [] { return std::make_unique<PosixDiskWorld>(); }},
      {"sim", [] { return std::make_unique<SimDiskWorld>(); }},
  };
}

Bytes pattern_bytes(size_t size, uint8_t seed) {
  Bytes bytes(size);
  for (size_t i = 0; i < size; ++i) bytes[i] = std::byte{static_cast<uint8_t>(seed + i * 7)};
  return bytes;
}

class DiskContract : public ::testing::TestWithParam<DiskFactory> {
 protected:
  void SetUp() override { world_ = GetParam().make(); }
  Disk& disk() { return world_->disk(); }
  template <typename T>
  T run(Task<T> task) {
    return world_->harness().run(std::move(task));
  }

  void write(const std::string& path, uint64_t offset, std::string_view text) {
    const Status status = run(disk().write(path, offset, to_bytes(text)));
    ASSERT_TRUE(status.ok()) << status.error().describe();
  }
  uint64_t append(const std::string& path, std::string_view text) {
    Result<uint64_t> offset = run(disk().append(path, to_bytes(text)));
    EXPECT_TRUE(offset.ok()) << offset.error().describe();
    return offset.ok() ? *offset : UINT64_MAX;
  }
  // The whole file as text, or "<code>" on error.
  std::string read_all(const std::string& path) {
    Result<Bytes> bytes = run(disk().read(path, 0, UINT64_MAX));
    if (!bytes) return "<" + std::string(errc_name(bytes.error().code)) + ">";
    return to_string(*bytes);
  }
  std::vector<std::string> list(const std::string& prefix) {
    Result<std::vector<std::string>> paths = run(disk().list(prefix));
    EXPECT_TRUE(paths.ok()) << paths.error().describe();
    return paths.ok() ? *paths : std::vector<std::string>{"<error>"};
  }

 private:
  std::unique_ptr<DiskWorld> world_;
};

TEST_P(DiskContract, write_then_read_round_trips) {
  write("journal", 0, "hello world");
  EXPECT_EQ(read_all("journal"), "hello world");
  Result<Bytes> middle = run(disk().read("journal", 6, 3));
  ASSERT_TRUE(middle.ok());
  EXPECT_EQ(to_string(*middle), "wor");
}

TEST_P(DiskContract, write_overwrites_in_place_without_changing_size) {
  write("f", 0, "aaaaaaaa");
  write("f", 2, "XY");
  EXPECT_EQ(read_all("f"), "aaXYaaaa");
  EXPECT_EQ(*run(disk().size("f")), 8u);
}

TEST_P(DiskContract, write_past_end_zero_fills_the_gap) {
  write("f", 0, "ab");
  write("f", 5, "cd");
  const std::string expected("ab\0\0\0cd", 7);
  EXPECT_EQ(read_all("f"), expected);
  write("fresh", 3, "z");
  EXPECT_EQ(read_all("fresh"), std::string("\0\0\0z", 4));
}

TEST_P(DiskContract, empty_write_creates_an_empty_file) {
  write("empty", 0, "");
  Result<uint64_t> size = run(disk().size("empty"));
  ASSERT_TRUE(size.ok()) << size.error().describe();
  EXPECT_EQ(*size, 0u);
  EXPECT_EQ(list(""), std::vector<std::string>{"empty"});
}

TEST_P(DiskContract, large_write_round_trips) {
  const Bytes big = pattern_bytes(3 << 20, 11);  // 3 MiB: several pwrite/pread rounds possible
  ASSERT_TRUE(run(disk().write("big", 0, big)).ok());
  Result<Bytes> back = run(disk().read("big", 0, big.size()));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(*back == big);
}

TEST_P(DiskContract, append_returns_increasing_offsets_where_bytes_landed) {
  EXPECT_EQ(append("log", "one"), 0u);
  EXPECT_EQ(append("log", "three"), 3u);
  EXPECT_EQ(append("log", ""), 8u);
  EXPECT_EQ(append("log", "x"), 8u);
  EXPECT_EQ(read_all("log"), "onethreex");
  write("log", 20, "tail");
  EXPECT_EQ(append("log", "after"), 24u);  // appends follow the end, wherever it moved
}

TEST_P(DiskContract, read_past_end_is_short_or_empty) {
  write("f", 0, "0123456789");
  Result<Bytes> short_read = run(disk().read("f", 7, 100));
  ASSERT_TRUE(short_read.ok());
  EXPECT_EQ(to_string(*short_read), "789");
  Result<Bytes> at_end = run(disk().read("f", 10, 5));
  ASSERT_TRUE(at_end.ok());
  EXPECT_TRUE(at_end->empty());
  Result<Bytes> far_past = run(disk().read("f", uint64_t{1} << 62, 5));
  ASSERT_TRUE(far_past.ok());
  EXPECT_TRUE(far_past->empty());
  Result<Bytes> zero_length = run(disk().read("f", 2, 0));
  ASSERT_TRUE(zero_length.ok());
  EXPECT_TRUE(zero_length->empty());
}

TEST_P(DiskContract, missing_file_is_not_found_for_read_size_sync_truncate) {
  EXPECT_EQ(run(disk().read("missing", 0, 1)).error().code, Errc::not_found);
  EXPECT_EQ(run(disk().size("missing")).error().code, Errc::not_found);
  EXPECT_EQ(run(disk().sync("missing")).error().code, Errc::not_found);
  EXPECT_EQ(run(disk().truncate("missing", 0)).error().code, Errc::not_found);
  EXPECT_EQ(run(disk().read("dir/missing", 0, 1)).error().code, Errc::not_found);
  EXPECT_FALSE(run(disk().read("missing", 0, 1)).error().unknown());
}

TEST_P(DiskContract, sync_keeps_contents_and_succeeds_repeatedly) {
  write("dir/f", 0, "durable");
  EXPECT_TRUE(run(disk().sync("dir/f")).ok());
  EXPECT_TRUE(run(disk().sync("dir/f")).ok());
  append("dir/f", "+more");
  EXPECT_TRUE(run(disk().sync("dir/f")).ok());
  EXPECT_EQ(read_all("dir/f"), "durable+more");
}

TEST_P(DiskContract, size_reports_bytes_written) {
  write("f", 0, "12345");
  EXPECT_EQ(*run(disk().size("f")), 5u);
  append("f", "678");
  EXPECT_EQ(*run(disk().size("f")), 8u);
}

TEST_P(DiskContract, truncate_cuts_the_file) {
  write("f", 0, "0123456789");
  ASSERT_TRUE(run(disk().truncate("f", 4)).ok());
  EXPECT_EQ(*run(disk().size("f")), 4u);
  EXPECT_EQ(read_all("f"), "0123");
  EXPECT_EQ(append("f", "x"), 4u);
  ASSERT_TRUE(run(disk().truncate("f", 5)).ok());  // to the current size: no change
  ASSERT_TRUE(run(disk().truncate("f", 0)).ok());
  EXPECT_EQ(read_all("f"), "");
}

TEST_P(DiskContract, truncate_past_the_end_is_invalid) {
  write("f", 0, "abc");
  const Status status = run(disk().truncate("f", 4));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, Errc::invalid_argument);
  EXPECT_EQ(read_all("f"), "abc");
}

TEST_P(DiskContract, list_returns_prefix_matches_sorted_including_nested_paths) {
  for (const char* path : {"b", "a/2", "a/1", "a/sub/x", "ab", "c/deep/er/file", "a/sub/w"}) {
    write(path, 0, "x");
  }
  EXPECT_EQ(list(""), (std::vector<std::string>{"a/1", "a/2", "a/sub/w", "a/sub/x", "ab", "b",
                                                "c/deep/er/file"}));
  EXPECT_EQ(list("a"), (std::vector<std::string>{"a/1", "a/2", "a/sub/w", "a/sub/x", "ab"}));
  EXPECT_EQ(list("a/"), (std::vector<std::string>{"a/1", "a/2", "a/sub/w", "a/sub/x"}));
  EXPECT_EQ(list("a/sub/"), (std::vector<std::string>{"a/sub/w", "a/sub/x"}));
  EXPECT_EQ(list("c/de"), (std::vector<std::string>{"c/deep/er/file"}));
  EXPECT_EQ(list("zzz"), std::vector<std::string>{});
  EXPECT_EQ(list("nodir/"), std::vector<std::string>{});
}

TEST_P(DiskContract, list_on_an_empty_disk_is_empty) { EXPECT_TRUE(list("").empty()); }

TEST_P(DiskContract, rename_moves_the_file) {
  write("tmp", 0, "contents");
  ASSERT_TRUE(run(disk().rename("tmp", "final")).ok());
  EXPECT_EQ(read_all("final"), "contents");
  EXPECT_EQ(read_all("tmp"), "<not_found>");
  EXPECT_EQ(list(""), std::vector<std::string>{"final"});
}

TEST_P(DiskContract, rename_replaces_an_existing_target) {
  write("new", 0, "new contents");
  write("current", 0, "old contents that are longer");
  ASSERT_TRUE(run(disk().read("current", 0, 1)).ok());  // warm any per-file cache
  ASSERT_TRUE(run(disk().rename("new", "current")).ok());
  EXPECT_EQ(read_all("current"), "new contents");
  EXPECT_EQ(append("current", "!"), 12u);
  EXPECT_EQ(list(""), std::vector<std::string>{"current"});
}

TEST_P(DiskContract, rename_into_a_new_directory_works) {
  write("tmp", 0, "x");
  ASSERT_TRUE(run(disk().rename("tmp", "sealed/segment-1")).ok());
  EXPECT_EQ(read_all("sealed/segment-1"), "x");
  EXPECT_TRUE(run(disk().sync("sealed/segment-1")).ok());
}

TEST_P(DiskContract, rename_of_a_missing_file_is_not_found) {
  write("other", 0, "keep");
  const Status status = run(disk().rename("missing", "other"));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, Errc::not_found);
  EXPECT_EQ(read_all("other"), "keep");
}

TEST_P(DiskContract, remove_deletes_and_missing_is_ok) {
  write("dir/f", 0, "x");
  ASSERT_TRUE(run(disk().remove("dir/f")).ok());
  EXPECT_EQ(read_all("dir/f"), "<not_found>");
  EXPECT_TRUE(list("").empty());
  EXPECT_TRUE(run(disk().remove("dir/f")).ok());
  EXPECT_TRUE(run(disk().remove("never/was")).ok());
  EXPECT_EQ(append("dir/f", "again"), 0u);  // a removed file starts over
}

TEST_P(DiskContract, invalid_paths_are_rejected_by_every_call) {
  for (const std::string path : {"", "/abs", "../up", "a/../b", "a//b", "a/", ".", "./a", "a/."}) {
    SCOPED_TRACE("path '" + path + "'");
    EXPECT_EQ(run(disk().write(path, 0, to_bytes("x"))).error().code, Errc::invalid_argument);
    EXPECT_EQ(run(disk().append(path, to_bytes("x"))).error().code, Errc::invalid_argument);
    EXPECT_EQ(run(disk().sync(path)).error().code, Errc::invalid_argument);
    EXPECT_EQ(run(disk().read(path, 0, 1)).error().code, Errc::invalid_argument);
    EXPECT_EQ(run(disk().size(path)).error().code, Errc::invalid_argument);
    EXPECT_EQ(run(disk().truncate(path, 0)).error().code, Errc::invalid_argument);
    EXPECT_EQ(run(disk().rename(path, "ok")).error().code, Errc::invalid_argument);
    EXPECT_EQ(run(disk().rename("ok", path)).error().code, Errc::invalid_argument);
    EXPECT_EQ(run(disk().remove(path)).error().code, Errc::invalid_argument);
  }
  for (const std::string prefix : {"../", "/abs", "a/../b", "a//b"}) {
    EXPECT_EQ(run(disk().list(prefix)).error().code, Errc::invalid_argument) << prefix;
  }
  EXPECT_TRUE(list("").empty());  // nothing was created by the rejected calls
}

TEST_P(DiskContract, many_files_stay_independent) {
  // More files than PosixDisk caches descriptors for, interleaved so the cache churns.
  constexpr int file_count = 150;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < file_count; ++i) {
      append("many/f" + std::to_string(i), std::to_string(i) + ";");
    }
  }
  for (int i = 0; i < file_count; i += 7) {
    const std::string text = std::to_string(i) + ";";
    EXPECT_EQ(read_all("many/f" + std::to_string(i)), text + text);
  }
  EXPECT_EQ(list("many/").size(), static_cast<size_t>(file_count));
}

INSTANTIATE_TEST_SUITE_P(all, DiskContract, ::testing::ValuesIn(disk_factories()),
                         [](const ::testing::TestParamInfo<DiskFactory>& param_info) {
                           return param_info.param.name;
                         });

// PosixDisk specifics: files really live under the root, and the descriptor cache is bounded.
TEST(posix_disk, stores_files_under_its_root_and_bounds_open_descriptors) {
  RealHarness harness;
  TempDir dir;
  BlockingPool pool(harness.loop(), 2);
  PosixDisk disk(pool, dir.path() + "/root/");
  EXPECT_EQ(disk.root_path(), dir.path() + "/root");
  for (size_t i = 0; i < PosixDisk::open_file_count_max + 10; ++i) {
    ASSERT_TRUE(harness.run(disk.write("d/f" + std::to_string(i), 0, to_bytes("x"))).ok());
  }
  EXPECT_EQ(disk.open_file_count(), PosixDisk::open_file_count_max);
  ASSERT_TRUE(harness.run(disk.remove("d/f0")).ok());
  EXPECT_EQ(::access((dir.path() + "/root/d/f0").c_str(), F_OK), -1);
  EXPECT_EQ(::access((dir.path() + "/root/d/f1").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace wal::contract
