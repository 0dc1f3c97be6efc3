// The LogStore uploader and registration: sealed segments become blocks the ordinary LogReader
// and verify_log read like a MemoryBuffer segment; refusal when the node lacks entries; journals
// dropped once uploaded or gone; the leased registration key.
#include <gtest/gtest.h>

#include "tests/unit/logstore_fixture.h"
#include "wal/log/log_client.h"
#include "wal/log/log_verify.h"
#include "wal/src/quorum/logstore_journal.h"

#include <algorithm>

using namespace std::chrono_literals;

namespace wal::quorum::testing {
namespace {

struct UploadFixture : LogStoreFixture {
  UploadFixture() { options.upload_block_bytes_max = 200; }  // several blocks per segment
  // A log created the way LogClient does it, so LogReader finds it.
  uint64_t create_client_log(const std::string& log_name) {
    LogClient log_client(reader_env);
    WAL_ASSERT(run(log_client.create_log(log_name)).ok());
    auto info = run(log_client.get_log(log_name));
    WAL_ASSERT(info.ok());
    return info->meta.log_id;
  }
  // Nodes "a" and "b", a log "orders" made as LogClient makes it, and its first segment (open).
  SegmentRef start_two_with_segment() {
    start("a");
    start("b");
    const uint64_t log_id = create_client_log("orders");
    return create_segment("orders", log_id, 0, 0);
  }
  std::vector<LogEntry> read_all(const std::string& log_name) {
    LogClient log_client(reader_env);
    auto reader = run(log_client.open_reader(log_name, ReadPosition::earliest()));
    WAL_ASSERT(reader.ok());
    std::vector<LogEntry> entries;
    while (true) {
      auto entry = run((*reader)->try_next());
      WAL_ASSERT(entry.ok());
      if (!*entry) break;
      entries.push_back(std::move(**entry));
    }
    return entries;
  }
  Env reader_env{loop, loop, random, faults, &objects, &meta, nullptr, nullptr};
};

TEST(logstore_upload, a_sealed_segment_uploads_to_blocks_the_log_reader_reads) {
  UploadFixture f;
  const SegmentRef ref = f.start_two_with_segment();
  const uint64_t log_id = ref.log_id;
  for (const char* node : {"a", "b"}) {
    ASSERT_EQ(f.add(node, add_request(ref, 0, 20))->status, AddStatus::ok);
  }
  f.loop.run_for(300ms);
  EXPECT_EQ(f.objects.object_count(), 0u) << "uploaded before the seal";
  f.seal_segment(ref, 18);  // the last two entries were never acknowledged
  f.loop.run_for(300ms);
  auto meta = f.segment_meta(ref);
  ASSERT_TRUE(meta.has_value());
  EXPECT_TRUE(meta->uploaded);
  EXPECT_GT(meta->block_count, 2u);
  EXPECT_EQ(f.store("a").stats().segments_uploaded + f.store("b").stats().segments_uploaded, 1u);
  EXPECT_TRUE(f.store("a").upload_problems().empty());
  EXPECT_TRUE(f.store("b").upload_problems().empty());
  auto entries = f.read_all("orders");
  ASSERT_EQ(entries.size(), 18u);
  for (EntryId id = 0; id < 18; ++id) {
    EXPECT_EQ(entries[id].id, id);
    EXPECT_EQ(entries[id].payload, payload(id));
  }
  auto report = f.run(verify_log(f.reader_env, f.keys("orders", log_id)));
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
  EXPECT_EQ(report->entries_checked, 18u);
}

// Both ensemble members upload the same segment: the second finds identical objects.
TEST(logstore_upload, two_nodes_produce_identical_blocks) {
  UploadFixture f;
  f.start("a");
  f.start("b");  // before the segment exists: a disk started later would be in limbo for it
  const uint64_t log_id = f.create_client_log("orders");
  const SegmentRef ref = f.create_segment("orders", log_id, 0, 0);
  ASSERT_EQ(f.add("a", add_request(ref, 0, 12))->status, AddStatus::ok);
  ASSERT_EQ(f.add("b", add_request(ref, 0, 12))->status, AddStatus::ok);
  f.crash("b");  // b holds the same entries, but is down while a uploads
  f.seal_segment(ref, 12);
  f.loop.run_for(150ms);
  ASSERT_TRUE(f.segment_meta(ref)->uploaded);
  const std::vector<std::string> keys = f.objects.keys();
  // With a gone and the mark undone, b uploads as if a had crashed right after its PUTs.
  f.crash("a");
  f.start("b");
  auto meta = *f.segment_meta(ref);
  meta.uploaded = false;
  meta.block_count = 0;
  const std::string key = f.keys("orders", log_id).segment_key(0);
  ASSERT_TRUE(f.meta.apply_txn(TxnRequest{{}, {PutOp{key, encode(meta), 0}}, {}}).ok());
  f.loop.run_for(150ms);
  EXPECT_TRUE(f.segment_meta(ref)->uploaded);
  EXPECT_EQ(f.store("b").stats().segments_uploaded, 1u);
  EXPECT_TRUE(f.store("b").upload_problems().empty());
  EXPECT_EQ(f.objects.keys(), keys);
}

TEST(logstore_upload, an_existing_block_with_other_bytes_is_never_overwritten) {
  UploadFixture f;
  f.start("a");
  const uint64_t log_id = f.create_client_log("orders");
  const SegmentRef ref = f.create_segment("orders", log_id, 0, 0);
  ASSERT_EQ(f.add("a", add_request(ref, 0, 12))->status, AddStatus::ok);
  const std::string block0 = f.keys("orders", log_id).block_key(0, 0);
  ASSERT_TRUE(f.objects.apply_put(block0, to_bytes("someone else's"), {}).ok());
  f.seal_segment(ref, 12);
  f.loop.run_for(150ms);
  EXPECT_FALSE(f.segment_meta(ref)->uploaded);
  ASSERT_FALSE(f.store("a").upload_problems().empty());
  EXPECT_EQ(f.objects.find(block0)->body, to_bytes("someone else's"));
}

TEST(logstore_upload, a_node_missing_part_of_the_segment_does_not_upload) {
  UploadFixture f;
  f.start("a");
  const uint64_t log_id = f.create_client_log("orders");
  const SegmentRef ref = f.create_segment("orders", log_id, 0, 0);
  ASSERT_EQ(f.add("a", add_request(ref, 0, 3))->status, AddStatus::ok);
  f.seal_segment(ref, 5);
  f.loop.run_for(500ms);
  EXPECT_FALSE(f.segment_meta(ref)->uploaded);
  EXPECT_EQ(f.objects.object_count(), 0u);
  // Once it holds the rest (a recovering writer re-replicated), it uploads.
  ASSERT_TRUE(f.fence("a", ref, 2)->fenced);
  AddRequest recovery = add_request(ref, 3, 5, 2);
  recovery.recovery = true;
  auto added = f.add("a", recovery);
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(added->status, AddStatus::ok);
  f.loop.run_for(150ms);
  EXPECT_TRUE(f.segment_meta(ref)->uploaded);
  EXPECT_EQ(f.read_all("orders").size(), 5u);
}

TEST(logstore_upload, the_journal_is_dropped_once_the_segment_is_marked_uploaded) {
  UploadFixture f;
  LogStoreNode& node = f.start("a");
  const uint64_t log_id = f.create_client_log("orders");
  const SegmentRef ref = f.create_segment("orders", log_id, 0, 0);
  ASSERT_EQ(f.add("a", add_request(ref, 0, 4))->status, AddStatus::ok);
  const std::string path = journal::journal_path(ref.log_id, ref.segment_id);
  f.seal_segment(ref, 4);
  f.loop.run_for(150ms);  // one scan: uploads and marks
  ASSERT_TRUE(f.segment_meta(ref)->uploaded);
  EXPECT_TRUE(f.node("a").disk.exists(path)) << "dropped before the mark was read back";
  f.loop.run_for(100ms);  // the next scan sees the mark
  EXPECT_FALSE(f.node("a").disk.exists(path));
  EXPECT_EQ(node.stats().journals_dropped, 1u);
  EXPECT_EQ(node.find_segment(ref.log_id, ref.segment_id), nullptr);
  auto late = f.add("a", add_request(ref, 4, 5));
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->status, AddStatus::sealed);
  EXPECT_FALSE(f.node("a").disk.exists(path)) << "a late add recreated the journal";
}

// Regression (wp-sim --mode quorum seed 359): a journal dropped after the upload was forgotten
// in a restart, so a zombie writer's add re-created it without the fence, and two such nodes
// acknowledged an entry past the sealed end. The node now asks the MetaStore first.
TEST(logstore_upload, after_a_restart_a_dropped_journal_does_not_come_back_for_a_zombie) {
  UploadFixture f;
  f.start("a");
  const uint64_t log_id = f.create_client_log("orders");
  const SegmentRef ref = f.create_segment("orders", log_id, 0, 0);
  ASSERT_TRUE(f.fence("a", ref, 2).ok());  // a new writer fenced it, sealed it empty
  f.seal_segment(ref, 0);
  f.loop.run_for(300ms);  // uploaded (nothing to upload), journal dropped
  const std::string path = journal::journal_path(ref.log_id, ref.segment_id);
  ASSERT_FALSE(f.node("a").disk.exists(path));
  f.restart("a");
  auto zombie = f.add("a", add_request(ref, 0, 1, /*epoch=*/1));
  ASSERT_TRUE(zombie.ok());
  EXPECT_EQ(zombie->status, AddStatus::sealed);
  EXPECT_FALSE(f.node("a").disk.exists(path));
}

TEST(logstore_upload, the_journal_of_a_deleted_segment_is_dropped) {
  UploadFixture f;
  LogStoreNode& node = f.start("a");
  const uint64_t log_id = f.create_client_log("orders");
  const SegmentRef ref = f.create_segment("orders", log_id, 0, 0);
  const SegmentRef kept = f.create_segment("orders", log_id, 1, 0);
  ASSERT_EQ(f.add("a", add_request(ref, 0, 2))->status, AddStatus::ok);
  ASSERT_EQ(f.add("a", add_request(kept, 0, 2))->status, AddStatus::ok);
  f.loop.run_for(250ms);
  EXPECT_EQ(node.stats().journals_dropped, 0u);
  const std::string key = f.keys("orders", log_id).segment_key(0);
  ASSERT_TRUE(f.meta.apply_txn(TxnRequest{{}, {DeleteOp{key, {}}}, {}}).ok());
  f.loop.run_for(150ms);
  EXPECT_EQ(node.stats().journals_dropped, 1u);
  EXPECT_FALSE(f.node("a").disk.exists(journal::journal_path(ref.log_id, 0)));
  EXPECT_TRUE(f.node("a").disk.exists(journal::journal_path(ref.log_id, 1)));
}

// Long-open segments: full blocks of confirmed entries go to object storage before the seal.
TEST(logstore_upload, an_open_segment_checkpoints_its_full_confirmed_blocks) {
  UploadFixture f;
  const SegmentRef ref = f.start_two_with_segment();
  const uint64_t log_id = ref.log_id;
  for (const char* node : {"a", "b"}) {
    ASSERT_EQ(f.add(node, add_request(ref, 0, 20))->status, AddStatus::ok);
  }
  f.loop.run_for(300ms);
  EXPECT_EQ(f.objects.object_count(), 0u) << "nothing is confirmed yet";
  // The next add tells the nodes that [0, 15) is acknowledged.
  for (const char* node : {"a", "b"}) {
    ASSERT_EQ(f.add(node, add_request(ref, 20, 21, 1, /*confirmed_end=*/15))->status,
              AddStatus::ok);
  }
  f.loop.run_for(300ms);
  auto open = f.segment_meta(ref);
  ASSERT_TRUE(open.has_value());
  EXPECT_EQ(open->state, SegmentState::open);
  ASSERT_GT(open->checkpoint_block_count, 0u);
  EXPECT_LE(open->checkpoint_end_entry_id, 15u) << "a block holding unconfirmed entries";
  EXPECT_GT(open->checkpoint_end_entry_id, 0u);
  EXPECT_EQ(f.store("a").stats().checkpoints + f.store("b").stats().checkpoints, 1u);
  EXPECT_TRUE(f.store("a").upload_problems().empty());
  EXPECT_TRUE(f.store("b").upload_problems().empty());
  // A reader without a network (no LogStores) reads the checkpointed prefix from the store.
  auto prefix = f.read_all("orders");
  ASSERT_EQ(prefix.size(), open->checkpoint_end_entry_id);
  for (EntryId id = 0; id < prefix.size(); ++id) EXPECT_EQ(prefix[id].payload, payload(id));
  // More confirmed entries: the next checkpoint extends the first one.
  for (const char* node : {"a", "b"}) {
    ASSERT_EQ(f.add(node, add_request(ref, 21, 22, 1, /*confirmed_end=*/21))->status,
              AddStatus::ok);
  }
  f.loop.run_for(300ms);
  auto extended = f.segment_meta(ref);
  EXPECT_GT(extended->checkpoint_end_entry_id, open->checkpoint_end_entry_id);
  EXPECT_GT(extended->checkpoint_block_count, open->checkpoint_block_count);
  // The seal's upload reuses the checkpointed blocks and adds the rest.
  f.seal_segment(ref, 21);
  f.loop.run_for(300ms);
  auto sealed = f.segment_meta(ref);
  ASSERT_TRUE(sealed->uploaded);
  EXPECT_GE(sealed->block_count, extended->checkpoint_block_count);
  EXPECT_TRUE(f.store("a").upload_problems().empty());
  EXPECT_TRUE(f.store("b").upload_problems().empty());
  auto entries = f.read_all("orders");
  ASSERT_EQ(entries.size(), 21u);
  for (EntryId id = 0; id < 21; ++id) EXPECT_EQ(entries[id].payload, payload(id));
  auto report = f.run(verify_log(f.reader_env, f.keys("orders", log_id)));
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
}

// The upload removes every checkpoint manifest but the footer, also one whose writer no longer
// remembers writing it (a restart forgets that).
TEST(logstore_upload, the_upload_removes_every_checkpoint_manifest_but_the_footer) {
  UploadFixture f;
  const SegmentRef ref = f.start_two_with_segment();
  const uint64_t log_id = ref.log_id;
  for (const char* node : {"a", "b"}) {
    ASSERT_EQ(f.add(node, add_request(ref, 0, 20))->status, AddStatus::ok);
    ASSERT_EQ(f.add(node, add_request(ref, 20, 21, 1, /*confirmed_end=*/15))->status,
              AddStatus::ok);
  }
  f.loop.run_for(300ms);
  const LogKeys keys = f.keys("orders", log_id);
  auto open = f.segment_meta(ref);
  ASSERT_GT(open->checkpoint_block_count, 0u);
  const std::string checkpoint = keys.manifest_key(0, open->checkpoint_block_count);
  ASSERT_TRUE(f.objects.find(checkpoint).has_value());
  f.restart("a");
  f.restart("b");
  f.seal_segment(ref, 21);
  f.loop.run_for(600ms);
  auto sealed = f.segment_meta(ref);
  ASSERT_TRUE(sealed->uploaded);
  ASSERT_NE(sealed->block_count, open->checkpoint_block_count);
  EXPECT_EQ(f.store("a").gauges().segments_held + f.store("b").gauges().segments_held, 0u);
  std::vector<std::string> manifests;
  for (const std::string& key : f.objects.keys()) {
    auto parts = parse_object_key(keys.log_object_prefix(), key);
    if (parts && parts->kind == ObjectKeyParts::Kind::manifest) manifests.push_back(key);
  }
  EXPECT_EQ(manifests, std::vector<std::string>{keys.manifest_key(0, sealed->block_count)});
  EXPECT_EQ(f.read_all("orders").size(), 21u);
}

// A journal kept aside because its header was damaged goes once its segment is uploaded.
TEST(logstore_upload, a_damaged_journal_kept_aside_goes_with_the_upload) {
  UploadFixture f;
  const SegmentRef ref = f.start_two_with_segment();
  for (const char* node : {"a", "b"}) {
    ASSERT_EQ(f.add(node, add_request(ref, 0, 10))->status, AddStatus::ok);
  }
  const std::string path = journal::journal_path(ref.log_id, ref.segment_id);
  f.node("a").disk.corrupt_bit(path, 20 * 8);  // inside the header record's body
  f.restart("a");
  const std::string damaged = path + std::string(".damaged");
  ASSERT_TRUE(f.node("a").disk.contents(damaged).has_value());
  EXPECT_EQ(f.fence("a", ref, 2)->knowledge, Knowledge::unknown);
  ASSERT_TRUE(f.fence("b", ref, 2)->fenced);
  f.seal_segment(ref, 10, 2);
  f.loop.run_for(1s);
  ASSERT_TRUE(f.segment_meta(ref)->uploaded);
  EXPECT_EQ(f.store("a").gauges().segments_held, 0u);
  EXPECT_FALSE(f.node("a").disk.contents(damaged).has_value()) << "kept after the upload";
  EXPECT_FALSE(f.node("a").disk.contents(path).has_value());
}

// Block boundaries come from the segment's record, not the node: two nodes configured with
// different sizes still write the same objects.
TEST(logstore_upload, nodes_with_different_block_sizes_cut_the_blocks_the_segment_records) {
  UploadFixture f;
  f.start("a");
  f.options.upload_block_bytes_max = 8ull << 20;
  f.start("b");
  const uint64_t log_id = f.create_client_log("orders");
  const SegmentRef ref = f.create_segment("orders", log_id, 0, 0);
  const std::string key = f.keys("orders", log_id).segment_key(0);
  auto recorded = f.segment_meta(ref);
  recorded->upload_block_bytes = 300;
  auto put = f.meta.apply_txn(TxnRequest{{}, {PutOp{key, encode(*recorded), 0}}, {}});
  ASSERT_TRUE(put.ok());
  const SegmentRef current{ref.log_name, ref.log_id, ref.segment_id, ref.first_entry_id,
                           ref.create_revision};
  for (const char* node : {"a", "b"}) {
    ASSERT_EQ(f.add(node, add_request(current, 0, 30, 1, 0))->status, AddStatus::ok);
    ASSERT_EQ(f.add(node, add_request(current, 30, 31, 1, 30))->status, AddStatus::ok);
  }
  f.loop.run_for(600ms);
  EXPECT_GT(f.segment_meta(ref)->checkpoint_block_count, 1u);
  f.seal_segment(ref, 31);
  f.loop.run_for(600ms);
  EXPECT_TRUE(f.segment_meta(ref)->uploaded);
  EXPECT_TRUE(f.store("a").upload_problems().empty());
  EXPECT_TRUE(f.store("b").upload_problems().empty());
  EXPECT_EQ(f.read_all("orders").size(), 31u);
}

// A node in limbo for a segment (its disk is newer than the segment) does not checkpoint it.
TEST(logstore_upload, a_node_in_limbo_does_not_checkpoint) {
  UploadFixture f;
  const uint64_t log_id = f.create_client_log("orders");
  const SegmentRef ref = f.create_segment("orders", log_id, 0, 0);
  LogStoreNode& node = f.start("a");  // started after the segment was created: unknown for it
  ASSERT_TRUE(f.fence("a", ref, 2).ok());
  AddRequest recovery = add_request(ref, 0, 20, 2, 20);
  recovery.recovery = true;
  auto added = f.add("a", recovery);
  ASSERT_TRUE(added.ok());
  ASSERT_EQ(added->status, AddStatus::ok);
  const Segment* held = node.find_segment(ref.log_id, ref.segment_id);
  ASSERT_NE(held, nullptr);
  ASSERT_TRUE(held->knowledge_lost());
  ASSERT_EQ(held->confirmed_end(), 20u);
  f.loop.run_for(600ms);
  EXPECT_EQ(f.segment_meta(ref)->checkpoint_block_count, 0u);
  EXPECT_EQ(f.store("a").stats().checkpoints, 0u);
}

// A node whose disk was wiped is in limbo for the segments created before; once one is sealed it
// copies the missing entries from its peers, journals the repair, and knows the segment again,
// also after a restart, where a zombie's add is still refused.
TEST(logstore_repair, a_wiped_node_copies_a_sealed_segment_from_its_peers) {
  UploadFixture f;
  for (const char* node : {"a", "b", "c"}) f.start(node);
  const uint64_t log_id = f.create_client_log("orders");
  const SegmentRef ref = f.create_segment("orders", log_id, 0, 0);
  for (const char* node : {"a", "b", "c"}) {
    ASSERT_EQ(f.add(node, add_request(ref, 0, 12))->status, AddStatus::ok);
  }
  // Keep the segment from being uploaded (and dropped) so the repair can be watched: a foreign
  // object where its first block goes makes every upload fail.
  ASSERT_TRUE(f.objects.apply_put(f.keys("orders", log_id).block_key(0, 0),
                                  to_bytes("someone else's"), {}).ok());
  f.crash("c");
  f.node("c").disk.wipe();
  LogStoreNode& c = f.start("c");
  // A recovering writer fences all three (c answers unknown) and seals at 12.
  for (const char* node : {"a", "b"}) ASSERT_TRUE(f.fence(node, ref, 2)->fenced);
  auto unknown = f.fence("c", ref, 2);
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->knowledge, Knowledge::unknown);
  f.seal_segment(ref, 12, /*epoch=*/2);
  f.loop.run_for(500ms);
  EXPECT_EQ(c.stats().segments_repaired, 1u);
  EXPECT_EQ(c.stats().entries_repaired, 12u);
  const Segment* held = c.find_segment(ref.log_id, ref.segment_id);
  ASSERT_NE(held, nullptr);
  EXPECT_FALSE(held->knowledge_lost());
  EXPECT_EQ(held->durable_end(), 12u);
  ReadRequest read_back;
  read_back.segment = ref;
  auto copied = f.read("c", read_back);  // served from c's journal
  ASSERT_TRUE(copied.ok());
  ASSERT_EQ(copied->payloads.size(), 12u);
  for (EntryId id = 0; id < 12; ++id) EXPECT_EQ(copied->payloads[id], payload(id));
  auto known = f.fence("c", ref, 3);
  ASSERT_TRUE(known.ok());
  EXPECT_EQ(known->knowledge, Knowledge::known);
  EXPECT_EQ(known->durable_end, 12u);

  LogStoreNode& restarted = f.restart("c");
  const Segment* replayed = restarted.find_segment(ref.log_id, ref.segment_id);
  ASSERT_NE(replayed, nullptr);
  EXPECT_FALSE(replayed->knowledge_lost());
  EXPECT_EQ(replayed->sealed_end(), std::optional<EntryId>(12));
  auto zombie = f.add("c", add_request(ref, 12, 13, /*epoch=*/1));
  ASSERT_TRUE(zombie.ok());
  EXPECT_NE(zombie->status, AddStatus::ok);
  auto past_seal = f.add("c", add_request(ref, 12, 13, /*epoch=*/3));
  ASSERT_TRUE(past_seal.ok());
  EXPECT_EQ(past_seal->status, AddStatus::sealed);
}

// Without a peer that holds the sealed range the node stays in limbo: it never vouches for
// entries it could not copy.
TEST(logstore_repair, a_node_stays_in_limbo_while_no_peer_has_the_entries) {
  UploadFixture f;
  for (const char* node : {"a", "c"}) f.start(node);
  const uint64_t log_id = f.create_client_log("orders");
  const SegmentRef ref = f.create_segment("orders", log_id, 0, 0);
  ASSERT_EQ(f.add("a", add_request(ref, 0, 12))->status, AddStatus::ok);
  ASSERT_TRUE(f.objects.apply_put(f.keys("orders", log_id).block_key(0, 0),
                                  to_bytes("someone else's"), {}).ok());
  f.crash("c");
  f.node("c").disk.wipe();
  LogStoreNode& c = f.start("c");
  ASSERT_TRUE(f.fence("c", ref, 2).ok());
  f.seal_segment(ref, 12, 2);
  f.crash("a");
  f.loop.run_for(500ms);
  EXPECT_EQ(c.stats().segments_repaired, 0u);
  EXPECT_TRUE(c.find_segment(ref.log_id, ref.segment_id)->knowledge_lost());
  f.start("a");  // back: the next scans repair
  f.loop.run_for(500ms);
  EXPECT_EQ(c.stats().segments_repaired, 1u);
  EXPECT_FALSE(c.find_segment(ref.log_id, ref.segment_id)->knowledge_lost());
}

// The registry entry of `node`: empty or one key-value.
std::vector<KeyValue> registration_of(LogStoreFixture& f, const std::string& node) {
  auto kv = f.meta.apply_range(
      RangeRequest{logstore_registry_prefix(f.options.meta_root) + node, {}, 0, 0});
  WAL_ASSERT(kv.ok());
  return kv->kvs;
}

TEST(logstore_registration, the_node_registers_under_a_lease_and_renews_it) {
  LogStoreFixture f;
  f.options.registration_ttl = 3s;
  LogStoreNode& node = f.start("a");
  f.loop.run_for(10ms);
  auto read = [&] { return registration_of(f, "a"); };
  ASSERT_EQ(read().size(), 1u);
  const LeaseId first_lease = read()[0].lease;
  EXPECT_NE(first_lease, 0);
  EXPECT_EQ(first_lease, node.registration_lease());
  f.loop.run_for(10s);  // well past the TTL: only keep-alives keep it
  ASSERT_EQ(read().size(), 1u);
  EXPECT_EQ(read()[0].lease, first_lease);
  // A lost lease (etcd expired it while the node was cut off) is replaced.
  ASSERT_TRUE(f.meta.expire_lease_now(first_lease).ok());
  EXPECT_TRUE(read().empty());
  f.loop.run_for(2s);
  ASSERT_EQ(read().size(), 1u);
  EXPECT_NE(read()[0].lease, first_lease);
  // A crashed node stops renewing, and its key goes with the lease.
  f.crash("a");
  f.loop.run_for(5s);
  EXPECT_TRUE(read().empty());
}

// A daemon's registration names where to reach it; deregister() takes it away for good (the
// registration loop does not put it back), and the node goes on serving.
TEST(logstore_registration, registers_its_address_and_zone_and_deregisters_on_request) {
  LogStoreFixture f;
  f.options.registration_ttl = 3s;
  f.options.advertise_address = "10.1.2.3:7001";
  f.options.zone = "zone-b";
  LogStoreNode& node = f.start("a");
  f.loop.run_for(10ms);
  auto read = [&] { return registration_of(f, "a"); };
  ASSERT_EQ(read().size(), 1u);
  EXPECT_EQ(read()[0].value, R"({"address":"10.1.2.3:7001","node":"a","zone":"zone-b"})");
  EXPECT_TRUE(node.gauges().registered);
  ASSERT_TRUE(f.run(node.deregister()).ok());
  EXPECT_TRUE(read().empty());
  EXPECT_FALSE(node.gauges().registered);
  f.loop.run_for(10s);  // several registration ticks
  EXPECT_TRUE(read().empty()) << "the registration came back after deregister()";
  const uint64_t log_id = f.create_log("orders");
  const SegmentRef ref = f.create_segment("orders", log_id, 0, 0);
  EXPECT_EQ(f.add("a", add_request(ref, 0, 3))->status, AddStatus::ok);
}

// Every state change reaches the observer once, in order, and the gauges follow the segment.
TEST(logstore_events, the_observer_sees_each_state_change_and_gauges_follow) {
  LogStoreFixture f;
  std::vector<LogStoreEvent> events;
  f.options.observer = [&](const LogStoreEvent& e) { events.push_back(e); };
  LogStoreNode& node = f.start("a");
  f.loop.run_for(10ms);
  const uint64_t log_id = f.create_log("orders");
  const SegmentRef ref = f.create_segment("orders", log_id, 0, 0);
  ASSERT_EQ(f.add("a", add_request(ref, 0, 5))->status, AddStatus::ok);
  LogStoreGauges g = node.gauges();
  EXPECT_EQ(g.segments_held, 1u);
  EXPECT_EQ(g.segments_open, 1u);
  EXPECT_EQ(g.entries_in_memory, 0u);  // all synced: none waits in memory for the journal
  EXPECT_EQ(g.entry_bytes_in_memory, 0u);
  uint64_t bytes = 0;
  for (EntryId id = 0; id < 5; ++id) bytes += payload(id).size();
  EXPECT_EQ(g.entry_cache_entries, 5u);  // the tail just made durable
  EXPECT_EQ(g.entry_cache_bytes, bytes);
  ASSERT_TRUE(f.fence("a", ref, 2)->fenced);
  f.seal_segment(ref, 5, 2);
  f.loop.run_for(1s);  // the uploader sees the seal, uploads, drops the journal
  EXPECT_EQ(node.gauges().segments_held, 0u);
  std::vector<LogStoreEventKind> kinds;
  for (const LogStoreEvent& e : events) kinds.push_back(e.kind);
  const std::vector<LogStoreEventKind> expected{
      LogStoreEventKind::started,        LogStoreEventKind::registered,
      LogStoreEventKind::segment_opened, LogStoreEventKind::segment_fenced,
      LogStoreEventKind::segment_sealed, LogStoreEventKind::segment_uploaded,
      LogStoreEventKind::journal_dropped};
  ASSERT_EQ(kinds, expected);
  EXPECT_EQ(events[3].value, 2u);  // the fence epoch
  EXPECT_EQ(events[4].value, 5u);  // the sealed end
  ASSERT_TRUE(events[2].segment.has_value());
  EXPECT_EQ(*events[2].segment, ref);
  EXPECT_EQ(describe(events[3]), "segment orders/1#0 (first id 0): fenced at epoch 2");
}

// A restart on a wiped disk reports itself, and the segments it held come back in limbo.
TEST(logstore_events, a_wiped_disk_is_reported_and_its_segments_come_back_in_limbo) {
  LogStoreFixture f;
  std::vector<LogStoreEvent> events;
  f.options.observer = [&](const LogStoreEvent& e) { events.push_back(e); };
  f.start("a");
  const uint64_t log_id = f.create_log("orders");
  const SegmentRef ref = f.create_segment("orders", log_id, 0, 0);
  ASSERT_EQ(f.add("a", add_request(ref, 0, 5))->status, AddStatus::ok);
  f.crash("a");
  f.node("a").disk.wipe();
  events.clear();
  LogStoreNode& node = f.start("a");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].kind, LogStoreEventKind::started);
  EXPECT_NE(events[0].detail.find("a new or wiped disk"), std::string::npos) << events[0].detail;
  EXPECT_EQ(f.fence("a", ref, 2)->knowledge, Knowledge::unknown);
  EXPECT_EQ(node.gauges().segments_in_limbo, 1u);
  bool limbo_reported = false;
  for (const LogStoreEvent& e : events) {
    limbo_reported = limbo_reported || (e.kind == LogStoreEventKind::segment_opened && e.value == 1);
  }
  EXPECT_TRUE(limbo_reported);
}

// ---- bounded memory: payloads live in the journal, the cache holds at most its budget ----

constexpr uint64_t cache_budget_bytes = 4096;
constexpr EntryId large_segment_entry_count = 400;

// About 1 KiB, different for every id, so a read served from a wrong offset shows.
Bytes large_payload(EntryId id) {
  std::string text = "entry-" + std::to_string(id) + ":";
  while (text.size() < 1000 + id % 37) text += static_cast<char>('a' + (id * 7 + text.size()) % 26);
  return to_bytes(text);
}

struct LargeSegmentFixture : UploadFixture {
  LargeSegmentFixture() {
    options.entry_cache_bytes_max = cache_budget_bytes;  // 4 entries of a 400 KiB segment
    options.upload_block_bytes_max = 64 << 10;
    options.upload_open_segments = false;
  }
  // Adds [0, count) to `targets` in adds of 25, each confirming what the previous one added.
  void fill(const SegmentRef& ref, std::initializer_list<const char*> targets, EntryId count) {
    for (EntryId first = 0; first < count; first += 25) {
      AddRequest request;
      request.segment = ref;
      request.epoch = 1;
      request.first_entry_id = first;
      request.confirmed_end = first;
      for (EntryId id = first; id < std::min(count, first + 25); ++id) {
        request.payloads.push_back(large_payload(id));
      }
      for (const char* target : targets) {
        auto added = add(target, request);
        WAL_ASSERT(added.ok());
        WAL_ASSERT(added->status == AddStatus::ok);
      }
    }
  }
  // Every entry of [from, end) through ordinary protocol reads of `node`.
  std::vector<Bytes> read_range(const std::string& node, const SegmentRef& ref, EntryId from,
                                EntryId end) {
    std::vector<Bytes> payloads;
    while (from + payloads.size() < end) {
      ReadRequest request;
      request.segment = ref;
      request.from = from + payloads.size();
      request.bytes_max = 16 << 10;
      auto reply = read(node, request);
      WAL_ASSERT(reply.ok());
      WAL_ASSERT(!reply->payloads.empty());
      for (Bytes& payload : reply->payloads) payloads.push_back(std::move(payload));
    }
    return payloads;
  }
};

// The segment is 100 times the cache budget: reads and the upload are served from the journal,
// and neither the cache nor the in-memory payloads grow with it.
TEST(logstore_memory, a_segment_far_larger_than_the_cache_is_read_and_uploaded_correctly) {
  LargeSegmentFixture f;
  LogStoreNode& a = f.start("a");
  f.start("b");
  const uint64_t log_id = f.create_client_log("orders");
  const SegmentRef ref = f.create_segment("orders", log_id, 0, 0);
  f.fill(ref, {"a", "b"}, large_segment_entry_count);
  LogStoreGauges g = a.gauges();
  EXPECT_LE(g.entry_cache_bytes, cache_budget_bytes);
  EXPECT_EQ(g.entries_in_memory, 0u) << "synced payloads are still held in memory";
  // Confirm everything (an empty add carries the confirmed end), then read it all from "a".
  AddRequest confirm = add_request(ref, large_segment_entry_count, large_segment_entry_count);
  confirm.confirmed_end = large_segment_entry_count;
  ASSERT_EQ(f.add("a", confirm)->status, AddStatus::ok);
  const std::vector<Bytes> read = f.read_range("a", ref, 0, large_segment_entry_count);
  ASSERT_EQ(read.size(), large_segment_entry_count);
  for (EntryId id = 0; id < large_segment_entry_count; ++id) {
    ASSERT_EQ(read[id], large_payload(id)) << "entry " << id;
  }
  EXPECT_GT(a.stats().entry_cache_misses, large_segment_entry_count - 10);
  EXPECT_GT(a.stats().journal_reads, 0u);
  EXPECT_LE(a.gauges().entry_cache_bytes, cache_budget_bytes);
  // A read of the tail again: cached now.
  const uint64_t hits = a.stats().entry_cache_hits;
  ASSERT_EQ(f.read_range("a", ref, large_segment_entry_count - 1, large_segment_entry_count)[0],
            large_payload(large_segment_entry_count - 1));
  EXPECT_EQ(a.stats().entry_cache_hits, hits + 1);

  f.seal_segment(ref, large_segment_entry_count);
  f.loop.run_for(1s);
  auto meta = f.segment_meta(ref);
  ASSERT_TRUE(meta.has_value());
  ASSERT_TRUE(meta->uploaded);
  EXPECT_GT(meta->block_count, 4u);
  EXPECT_TRUE(a.upload_problems().empty());
  auto entries = f.read_all("orders");
  ASSERT_EQ(entries.size(), large_segment_entry_count);
  for (EntryId id = 0; id < large_segment_entry_count; ++id) {
    ASSERT_EQ(entries[id].payload, large_payload(id)) << "entry " << id;
  }
  auto report = f.run(verify_log(f.reader_env, f.keys("orders", log_id)));
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
  EXPECT_EQ(a.gauges().entry_cache_bytes, 0u) << "the dropped segment's entries stay cached";
}

// A retried add over entries that left the cache is compared with the journal's copy.
TEST(logstore_memory, a_retried_add_is_compared_with_the_journal_when_not_cached) {
  LargeSegmentFixture f;
  f.options.entry_cache_bytes_max = 0;  // every comparison reads the journal
  LogStoreNode& a = f.start("a");
  const SegmentRef ref = f.create_segment("orders", f.create_log("orders"), 0, 0);
  f.fill(ref, {"a"}, 50);
  AddRequest retried;
  retried.segment = ref;
  retried.epoch = 1;
  retried.first_entry_id = 40;
  for (EntryId id = 40; id < 55; ++id) retried.payloads.push_back(large_payload(id));
  auto added = f.add("a", retried);
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(added->status, AddStatus::ok);
  EXPECT_EQ(added->durable_end, 55u);
  EXPECT_EQ(a.stats().entry_cache_hits, 0u);
  EXPECT_GT(a.stats().journal_reads, 0u);
  retried.payloads[3] = to_bytes("not what entry 43 holds");
  auto differing = f.add("a", retried);
  ASSERT_FALSE(differing.ok());
  EXPECT_EQ(differing.error().code, Errc::corrupt);
}

// A journal record changed on disk after it was synced is reported, never served.
TEST(logstore_memory, a_record_damaged_on_disk_is_an_error_not_wrong_bytes) {
  LargeSegmentFixture f;
  f.options.entry_cache_bytes_max = 0;
  f.start("a");
  const SegmentRef ref = f.create_segment("orders", f.create_log("orders"), 0, 0);
  f.fill(ref, {"a"}, 50);
  const std::string path = journal::journal_path(ref.log_id, ref.segment_id);
  auto bytes = f.node("a").disk.contents(path);
  ASSERT_TRUE(bytes.has_value());
  const std::string needle = "entry-7:";
  auto at = std::search(bytes->begin(), bytes->end(), needle.begin(), needle.end(),
                        [](std::byte b, char c) { return b == static_cast<std::byte>(c); });
  ASSERT_NE(at, bytes->end());
  f.node("a").disk.corrupt_bit(path, static_cast<uint64_t>(at - bytes->begin() + 20) * 8);
  ReadRequest request;
  request.segment = ref;
  request.recovery_epoch = 0;
  request.from = 5;
  AddRequest confirm = add_request(ref, 50, 50);
  confirm.confirmed_end = 50;
  ASSERT_EQ(f.add("a", confirm)->status, AddStatus::ok);
  auto reply = f.read("a", request);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, Errc::corrupt) << reply.error().message;
  request.from = 8;  // past the damage: fine
  auto after = f.read("a", request);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->payloads.front(), large_payload(8));
}

}  // namespace
}  // namespace wal::quorum::testing
