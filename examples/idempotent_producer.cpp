// An idempotent producer that survives kill -9: appends "record 1" .. "record N" to a log, each
// with the key {producer, sequence = record number}. Killed at any moment and started again
// with the same arguments, it asks the log where its producer stopped and continues there, so
// the log ends up holding every record exactly once, in order.
//
//   example_idempotent_producer --data /tmp/wal payments --producer 7 --count 100000
//
// Why this is exact: a new writer fences the killed one and recovers every entry that was
// durable (acknowledged or not), and the keys stored with those entries tell last_appended()
// the producer's last sequence in the log. The records above it were never stored, so they
// are appended now; an append whose outcome was unknown when the process died is either in the
// log (at or below the last sequence) or not (above it), never both.
#include <cstdio>
#include <deque>
#include <future>
#include <string>

#include "example_args.h"

namespace {
constexpr const char* usage =
    "usage: example_idempotent_producer (--data DIR | --config FILE) LOG --producer ID\n"
    "                                   --count N\n"
    "Appends \"record 1\" .. \"record N\" to LOG with producer ID (not 0); a re-run after a\n"
    "crash appends exactly what is missing. Progress goes to standard error.\n";
constexpr size_t appends_in_flight_max = 1000;
constexpr uint64_t progress_every_records = 10000;
}  // namespace

int main(int argc, char** argv) {
  const examples::Args args =
      examples::parse_args(argc, argv, usage, {"producer", "count"}, 1);
  const std::string& log = args.positional[0];
  const uint64_t producer_id = examples::number_flag(args, "producer", 0);
  const uint64_t count = examples::number_flag(args, "count", 0);
  if (producer_id == 0) examples::fail("--producer must be given and not 0");
  wal::client::Client client = examples::open_client_with_log(args, log);
  wal::Result<wal::client::Writer> writer = client.open_writer(log);
  if (!writer) examples::fail("cannot open a writer on '" + log + "'", writer.error());

  wal::Result<std::optional<wal::client::ProducerPosition>> last =
      writer->last_appended(producer_id);
  if (!last) examples::fail("cannot ask for the producer's position", last.error());
  const uint64_t first = last->has_value() ? (*last)->sequence + 1 : 1;
  std::fprintf(stderr, "producer %llu: the log holds records 1..%llu; appending %llu..%llu\n",
               static_cast<unsigned long long>(producer_id),
               static_cast<unsigned long long>(first - 1),
               static_cast<unsigned long long>(first), static_cast<unsigned long long>(count));

  std::deque<std::pair<uint64_t, std::future<wal::Result<wal::client::EntryId>>>> in_flight;
  auto wait_oldest = [&] {
    auto [sequence, future] = std::move(in_flight.front());
    in_flight.pop_front();
    wal::Result<wal::client::EntryId> id = future.get();
    if (!id) examples::fail("record " + std::to_string(sequence) + " failed", id.error());
    if (sequence % progress_every_records == 0) {
      std::fprintf(stderr, "acknowledged record %llu (entry %llu)\n",
                   static_cast<unsigned long long>(sequence),
                   static_cast<unsigned long long>(*id));
    }
  };
  for (uint64_t sequence = first; sequence <= count; ++sequence) {
    if (in_flight.size() == appends_in_flight_max) wait_oldest();
    const std::string record = "record " + std::to_string(sequence);
    in_flight.emplace_back(sequence, writer->append_async(wal::to_bytes(record),
                                                          {producer_id, sequence}));
  }
  while (!in_flight.empty()) wait_oldest();
  if (wal::Status closed = writer->close(); !closed) examples::fail("close failed", closed.error());
  std::fprintf(stderr, "done: records 1..%llu are in the log\n",
               static_cast<unsigned long long>(count));
  return 0;
}
