// A minimal producer: appends every line of standard input to a log, one entry per line, with
// up to 1,000 appends in flight (the writer groups them into blocks), and prints the ids.
//
//   example_producer --data /tmp/wal orders < lines.txt
#include <cstdio>
#include <deque>
#include <future>
#include <iostream>
#include <string>

#include "example_args.h"

namespace {
constexpr const char* usage =
    "usage: example_producer (--data DIR | --config FILE) LOG < lines\n"
    "Appends each line of standard input to LOG (created if missing) as one entry.\n";
// Appends in flight at once: enough for the writer to fill blocks while earlier ones upload.
constexpr size_t appends_in_flight_max = 1000;
}  // namespace

int main(int argc, char** argv) {
  const examples::Args args = examples::parse_args(argc, argv, usage, {}, 1);
  const std::string& log = args.positional[0];
  wal::client::Client client = examples::open_client_with_log(args, log);
  wal::Result<wal::client::Writer> writer = client.open_writer(log);
  if (!writer) examples::fail("cannot open a writer on '" + log + "'", writer.error());

  std::deque<std::future<wal::Result<wal::client::EntryId>>> in_flight;
  uint64_t count = 0;
  uint64_t first_id = 0;
  auto wait_oldest = [&] {
    wal::Result<wal::client::EntryId> id = in_flight.front().get();
    in_flight.pop_front();
    if (!id) examples::fail("append failed", id.error());
    if (count++ == 0) first_id = *id;
  };
  std::string line;
  while (std::getline(std::cin, line)) {
    if (in_flight.size() == appends_in_flight_max) wait_oldest();
    in_flight.push_back(writer->append_async(wal::to_bytes(line)));
  }
  while (!in_flight.empty()) wait_oldest();
  if (wal::Status closed = writer->close(); !closed) examples::fail("close failed", closed.error());
  if (count == 0) {
    std::printf("appended nothing\n");
  } else {
    std::printf("appended %llu entries, ids %llu..%llu\n", static_cast<unsigned long long>(count),
                static_cast<unsigned long long>(first_id),
                static_cast<unsigned long long>(first_id + count - 1));
  }
  return 0;
}
