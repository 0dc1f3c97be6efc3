// MemDisk's crash model and fault knobs (wal/include/wal/mem/mem_disk.h). Randomised cases run
// over many seeds and also check that every allowed outcome (kept, lost, torn, vanished) does
// occur, so a crash() that did nothing, or always the same thing, fails here.
#include <gtest/gtest.h>

#include <bit>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "wal/env/random.h"
#include "wal/mem/mem_disk.h"

namespace wal {
namespace {

constexpr uint64_t seed_count = 300;

// Never zero, so zero-filled gaps are told apart from written bytes.
Bytes pattern_bytes(size_t size, uint8_t seed) {
  Bytes bytes(size);
  for (size_t i = 0; i < size; ++i) {
    bytes[i] = std::byte{static_cast<uint8_t>(1 + (seed + i * 7) % 255)};
  }
  return bytes;
}

Bytes concat(const Bytes& a, const Bytes& b) {
  Bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

Bytes slice(const Bytes& bytes, size_t begin, size_t end) {
  return Bytes(bytes.begin() + static_cast<ptrdiff_t>(begin),
               bytes.begin() + static_cast<ptrdiff_t>(end));
}

int differing_bit_count(const Bytes& a, const Bytes& b) {
  EXPECT_EQ(a.size(), b.size());
  int count = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    count += std::popcount(static_cast<uint8_t>(a[i] ^ b[i]));
  }
  return count;
}

void must(const Status& status) { ASSERT_TRUE(status.ok()) << status.error().describe(); }

TEST(mem_disk_crash, synced_bytes_survive_exactly) {
  for (uint64_t seed = 0; seed < seed_count; ++seed) {
    MemDisk disk;
    const Bytes a = pattern_bytes(3000, 1);
    const Bytes b = pattern_bytes(10, 2);
    must(disk.apply_write("a", 0, a));
    must(disk.apply_sync("a"));
    must(disk.apply_write("dir/b", 0, b));
    must(disk.apply_sync("dir/b"));
    Xoshiro256 random(seed);
    disk.crash(random);
    ASSERT_EQ(disk.contents("a"), a) << "seed " << seed;
    ASSERT_EQ(disk.contents("dir/b"), b) << "seed " << seed;
  }
}

TEST(mem_disk_crash, unsynced_appends_never_alter_the_synced_prefix) {
  MemDiskCrashSummary total;
  for (uint64_t seed = 0; seed < seed_count; ++seed) {
    MemDisk disk(512);
    const Bytes synced = pattern_bytes(1000, 3);
    must(disk.apply_write("journal", 0, synced));
    must(disk.apply_sync("journal"));
    Bytes full = synced;
    uint8_t pattern_seed = 10;
    for (size_t size : {700, 1500, 4196, 60}) {
      const Bytes chunk = pattern_bytes(size, pattern_seed++);
      ASSERT_EQ(*disk.apply_append("journal", chunk), full.size());
      full = concat(full, chunk);
    }
    Xoshiro256 random(seed);
    const MemDiskCrashSummary summary = disk.crash(random);
    EXPECT_EQ(summary.writes_kept_count + summary.writes_lost_count + summary.writes_torn_count,
              4u);
    const Bytes after = *disk.contents("journal");
    ASSERT_GE(after.size(), synced.size()) << "seed " << seed;
    ASSERT_LE(after.size(), full.size()) << "seed " << seed;
    ASSERT_EQ(slice(after, 0, synced.size()), synced) << "seed " << seed;
    for (size_t i = synced.size(); i < after.size(); ++i) {
      // Past the synced prefix: a byte of a kept write, or a gap a lost write left.
      ASSERT_TRUE(after[i] == full[i] || after[i] == std::byte{0}) << "seed " << seed;
    }
    total.writes_kept_count += summary.writes_kept_count;
    total.writes_lost_count += summary.writes_lost_count;
    total.writes_torn_count += summary.writes_torn_count;
  }
  EXPECT_GT(total.writes_kept_count, 0u);
  EXPECT_GT(total.writes_lost_count, 0u);
  EXPECT_GT(total.writes_torn_count, 0u);
}

TEST(mem_disk_crash, torn_write_is_cut_at_a_sector_boundary) {
  for (uint64_t sector_size : {512, 4096}) {
    std::set<uint64_t> sizes_seen;
    const uint64_t offset = 100;  // not sector aligned, so cuts are not offsets into the write
    const Bytes bytes = pattern_bytes(10 * sector_size + 100, 5);
    const uint64_t end = offset + bytes.size();
    for (uint64_t seed = 0; seed < seed_count; ++seed) {
      MemDisk disk(sector_size);
      must(disk.apply_write("f", 0, {}));
      must(disk.apply_sync("f"));  // exists durably, empty
      must(disk.apply_write("f", offset, bytes));
      Xoshiro256 random(seed);
      disk.crash(random);
      const Bytes after = *disk.contents("f");
      const uint64_t size = after.size();
      ASSERT_TRUE(size == 0 || size == end || size % sector_size == 0) << size;
      if (size > 0) {
        ASSERT_EQ(slice(after, 0, offset), Bytes(offset));  // the gap before the write
        ASSERT_EQ(slice(after, offset, size), slice(bytes, 0, size - offset));
      }
      sizes_seen.insert(size);
    }
    EXPECT_TRUE(sizes_seen.contains(0));
    EXPECT_TRUE(sizes_seen.contains(end));
    EXPECT_GE(sizes_seen.size(), 5u) << "torn cuts should vary";
  }
}

TEST(mem_disk_crash, never_synced_file_may_vanish_or_survive) {
  int vanished_count = 0;
  int survived_count = 0;
  const Bytes bytes = pattern_bytes(100, 7);
  for (uint64_t seed = 0; seed < seed_count; ++seed) {
    MemDisk disk;
    must(disk.apply_write("new", 0, bytes));
    must(disk.apply_write("synced", 0, bytes));
    must(disk.apply_sync("synced"));
    Xoshiro256 random(seed);
    disk.crash(random);
    ASSERT_TRUE(disk.exists("synced"));
    if (!disk.exists("new")) {
      ++vanished_count;
      continue;
    }
    ++survived_count;
    const Bytes after = *disk.contents("new");
    ASSERT_TRUE(after.empty() || after == bytes) << "no sector boundary inside 100 bytes";
  }
  EXPECT_GT(vanished_count, 0);
  EXPECT_GT(survived_count, 0);
}

TEST(mem_disk_crash, renamed_synced_file_survives_under_the_new_name) {
  const Bytes fresh = pattern_bytes(700, 8);
  for (uint64_t seed = 0; seed < seed_count; ++seed) {
    MemDisk disk;
    must(disk.apply_write("final", 0, pattern_bytes(50, 9)));
    must(disk.apply_sync("final"));
    must(disk.apply_write("tmp", 0, fresh));
    must(disk.apply_sync("tmp"));
    must(disk.apply_rename("tmp", "final"));
    Xoshiro256 random(seed);
    disk.crash(random);
    ASSERT_FALSE(disk.exists("tmp"));
    ASSERT_EQ(disk.contents("final"), fresh) << "seed " << seed;
  }
}

TEST(mem_disk_crash, renaming_an_unsynced_file_keeps_it_unsynced) {
  int vanished_count = 0;
  for (uint64_t seed = 0; seed < seed_count; ++seed) {
    MemDisk disk;
    must(disk.apply_write("tmp", 0, pattern_bytes(100, 9)));
    must(disk.apply_rename("tmp", "final"));
    Xoshiro256 random(seed);
    disk.crash(random);
    ASSERT_FALSE(disk.exists("tmp"));
    if (!disk.exists("final")) ++vanished_count;
  }
  EXPECT_GT(vanished_count, 0);
  EXPECT_LT(vanished_count, static_cast<int>(seed_count));
}

TEST(mem_disk_crash, removed_file_stays_removed) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    MemDisk disk;
    must(disk.apply_write("f", 0, pattern_bytes(10, 1)));
    must(disk.apply_sync("f"));
    must(disk.apply_remove("f"));
    Xoshiro256 random(seed);
    disk.crash(random);
    ASSERT_FALSE(disk.exists("f"));
  }
}

TEST(mem_disk_crash, unsynced_truncate_is_applied_or_not_and_keeps_the_prefix) {
  std::set<size_t> sizes_seen;
  const Bytes synced = pattern_bytes(1000, 4);
  for (uint64_t seed = 0; seed < seed_count; ++seed) {
    MemDisk disk;
    must(disk.apply_write("f", 0, synced));
    must(disk.apply_sync("f"));
    must(disk.apply_truncate("f", 400));
    Xoshiro256 random(seed);
    disk.crash(random);
    const Bytes after = *disk.contents("f");
    ASSERT_TRUE(after.size() == 400 || after.size() == 1000) << after.size();
    ASSERT_EQ(after, slice(synced, 0, after.size()));
    sizes_seen.insert(after.size());
  }
  EXPECT_EQ(sizes_seen, (std::set<size_t>{400, 1000}));
}

TEST(mem_disk_crash, leaves_nothing_pending) {
  MemDisk disk;
  must(disk.apply_write("a", 0, pattern_bytes(5000, 1)));
  must(disk.apply_sync("a"));
  ASSERT_TRUE(disk.apply_append("a", pattern_bytes(3000, 2)).ok());
  must(disk.apply_write("b", 0, pattern_bytes(2000, 3)));
  Xoshiro256 first(1);
  disk.crash(first);
  std::vector<std::optional<Bytes>> after_first;
  for (const char* path : {"a", "b"}) {
    after_first.push_back(disk.contents(path));
    EXPECT_EQ(disk.synced_contents(path), disk.contents(path));  // all of it is durable now
  }
  Xoshiro256 second(2);
  const MemDiskCrashSummary summary = disk.crash(second);
  EXPECT_EQ(summary.files_vanished_count + summary.writes_kept_count +
                summary.writes_lost_count + summary.writes_torn_count,
            0u);
  EXPECT_EQ(disk.contents("a"), after_first[0]);
  EXPECT_EQ(disk.contents("b"), after_first[1]);
}

// A disk with many kinds of pending change, built the same way every time.
void build_busy_disk(MemDisk& disk) {
  for (int i = 0; i < 8; ++i) {
    const std::string path = "seg/" + std::to_string(i);
    must(disk.apply_write(path, 0, pattern_bytes(1500, static_cast<uint8_t>(i))));
    if (i % 2 == 0) must(disk.apply_sync(path));
    for (int j = 0; j < 4; ++j) {
      ASSERT_TRUE(disk.apply_append(path, pattern_bytes(900, static_cast<uint8_t>(j))).ok());
    }
    if (i % 3 == 0) must(disk.apply_truncate(path, 1200));
  }
}

std::vector<std::pair<std::string, Bytes>> snapshot(MemDisk& disk) {
  std::vector<std::pair<std::string, Bytes>> files;
  const std::vector<std::string> paths = *disk.apply_list("");
  for (const std::string& path : paths) files.emplace_back(path, *disk.contents(path));
  return files;
}

TEST(mem_disk_crash, same_seed_gives_the_same_post_crash_state) {
  std::set<std::vector<std::pair<std::string, Bytes>>> distinct_states;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    MemDisk left;
    MemDisk right;
    build_busy_disk(left);
    build_busy_disk(right);
    Xoshiro256 left_random(seed);
    Xoshiro256 right_random(seed);
    left.crash(left_random);
    right.crash(right_random);
    const auto state = snapshot(left);
    ASSERT_EQ(state, snapshot(right)) << "seed " << seed;
    distinct_states.insert(state);
  }
  EXPECT_GT(distinct_states.size(), 10u) << "different seeds should usually differ";
}

// ---- wipe and fault knobs ---------------------------------------------------------------------

TEST(mem_disk, wipe_empties_the_disk) {
  MemDisk disk;
  must(disk.apply_write("a", 0, pattern_bytes(10, 1)));
  must(disk.apply_sync("a"));
  must(disk.apply_write("b/c", 0, pattern_bytes(10, 1)));
  disk.wipe();
  EXPECT_TRUE(disk.apply_list("")->empty());
  EXPECT_EQ(disk.used_bytes(), 0u);
  EXPECT_EQ(disk.apply_read("a", 0, 10).error().code, Errc::not_found);
}

TEST(mem_disk, injected_io_error_fails_the_next_calls_without_effect) {
  MemDisk disk;
  must(disk.apply_write("f", 0, to_bytes("abc")));
  disk.fail_next(Errc::io_error, 3);
  Result<uint64_t> append = disk.apply_append("f", to_bytes("def"));
  ASSERT_FALSE(append.ok());
  EXPECT_EQ(append.error().code, Errc::io_error);
  EXPECT_FALSE(append.error().unknown());
  EXPECT_EQ(disk.apply_read("f", 0, 3).error().code, Errc::io_error);
  const Status sync = disk.apply_sync("f");
  ASSERT_FALSE(sync.ok());
  EXPECT_EQ(sync.error().code, Errc::io_error);
  EXPECT_EQ(disk.synced_contents("f"), std::nullopt);  // the failed sync made nothing durable
  EXPECT_EQ(disk.contents("f"), to_bytes("abc"));
  EXPECT_EQ(*disk.apply_size("f"), 3u);  // the failures are used up
  EXPECT_EQ(*disk.apply_append("f", to_bytes("def")), 3u);
}

TEST(mem_disk, injected_no_space_hits_only_calls_that_allocate) {
  MemDisk disk;
  must(disk.apply_write("f", 0, to_bytes("abc")));
  disk.fail_next(Errc::no_space, 1);
  EXPECT_TRUE(disk.apply_read("f", 0, 3).ok());
  EXPECT_TRUE(disk.apply_size("f").ok());
  EXPECT_TRUE(disk.apply_list("").ok());
  Result<uint64_t> append = disk.apply_append("f", to_bytes("def"));
  ASSERT_FALSE(append.ok());
  EXPECT_EQ(append.error().code, Errc::no_space);
  EXPECT_EQ(*disk.apply_append("f", to_bytes("def")), 3u);
}

TEST(mem_disk, capacity_limit_returns_no_space_for_growth_only) {
  MemDisk disk;
  disk.set_capacity_bytes(1000);
  must(disk.apply_write("a", 0, pattern_bytes(800, 1)));
  Result<uint64_t> over = disk.apply_append("b", pattern_bytes(300, 2));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, Errc::no_space);
  EXPECT_FALSE(disk.exists("b"));
  must(disk.apply_write("a", 0, pattern_bytes(500, 3)));  // overwrite: no growth
  EXPECT_EQ(*disk.apply_append("b", pattern_bytes(200, 4)), 0u);  // exactly full
  EXPECT_EQ(disk.used_bytes(), 1000u);
  EXPECT_EQ(disk.apply_write("a", 800, pattern_bytes(1, 5)).error().code, Errc::no_space);
  must(disk.apply_remove("b"));
  EXPECT_EQ(*disk.apply_append("a", pattern_bytes(200, 6)), 800u);
}

TEST(mem_disk, write_past_the_file_size_limit_is_no_space_not_a_crash) {
  MemDisk disk;
  EXPECT_EQ(disk.apply_write("f", MemDisk::file_size_bytes_max, to_bytes("x")).error().code,
            Errc::no_space);
  EXPECT_EQ(disk.apply_write("f", UINT64_MAX, to_bytes("x")).error().code, Errc::no_space);
  EXPECT_FALSE(disk.exists("f"));
}

TEST(mem_disk, corrupt_bit_flips_exactly_one_bit_in_visible_and_synced_copies) {
  MemDisk disk;
  const Bytes original = pattern_bytes(64, 1);
  must(disk.apply_write("f", 0, original));
  must(disk.apply_sync("f"));
  disk.corrupt_bit("f", 13);
  const Bytes visible = *disk.contents("f");
  EXPECT_EQ(differing_bit_count(visible, original), 1);
  EXPECT_EQ(visible[1] ^ original[1], std::byte{1 << 5});
  EXPECT_EQ(disk.synced_contents("f"), visible);
  Xoshiro256 random(1);
  disk.crash(random);
  EXPECT_EQ(disk.contents("f"), visible);  // silent and permanent
}

TEST(mem_disk, corrupt_bit_under_a_pending_overwrite_survives_any_crash) {
  const Bytes old_bytes = pattern_bytes(64, 1);
  const Bytes new_bytes = pattern_bytes(64, 2);
  for (uint64_t seed = 0; seed < 50; ++seed) {
    MemDisk disk;
    must(disk.apply_write("f", 0, old_bytes));
    must(disk.apply_sync("f"));
    must(disk.apply_write("f", 0, new_bytes));
    disk.corrupt_bit("f", 3);
    Xoshiro256 random(seed);
    disk.crash(random);
    const Bytes after = *disk.contents("f");
    // Kept: the new bytes flipped; lost: the old (synced) bytes flipped. Never unflipped.
    const Bytes& base = after[40] == new_bytes[40] ? new_bytes : old_bytes;
    ASSERT_EQ(differing_bit_count(after, base), 1) << "seed " << seed;
    ASSERT_EQ(after[0] ^ base[0], std::byte{1 << 3});
  }
}

}  // namespace
}  // namespace wal
