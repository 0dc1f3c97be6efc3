// A tailing consumer: prints a log's entries ("ID<TAB>payload", one per line) from a start
// position, then waits for new ones as they are appended, by any process.
//
//   example_tailing_consumer --data /tmp/wal orders                 # forever (Ctrl-C stops)
//   example_tailing_consumer --data /tmp/wal orders --from 500 --count 100
//   example_tailing_consumer --data /tmp/wal orders --idle-exit-ms 2000   # stop when quiet
#include <chrono>
#include <cstdio>
#include <optional>

#include "example_args.h"

namespace {
constexpr const char* usage =
    "usage: example_tailing_consumer (--data DIR | --config FILE) LOG [--from ID] [--count N]\n"
    "                                [--idle-exit-ms MS]\n"
    "Prints LOG's entries from ID (default: the first one kept) as \"ID<TAB>payload\" lines and\n"
    "waits for new ones. Stops after N entries, or after MS milliseconds without a new one.\n";
}  // namespace

int main(int argc, char** argv) {
  const examples::Args args =
      examples::parse_args(argc, argv, usage, {"from", "count", "idle-exit-ms"}, 1);
  const std::string& log = args.positional[0];
  const bool from_given = args.flags.count("from") != 0;
  const uint64_t count_max = examples::number_flag(args, "count", UINT64_MAX);
  const uint64_t idle_exit_ms = examples::number_flag(args, "idle-exit-ms", 0);
  wal::client::Client client = examples::open_client_with_log(args, log);
  const wal::client::StartAt start =
      from_given ? wal::client::StartAt::id(examples::number_flag(args, "from", 0))
                 : wal::client::StartAt::earliest();
  wal::Result<wal::client::Reader> reader = client.open_reader(log, start);
  if (!reader) examples::fail("cannot open a reader on '" + log + "'", reader.error());

  // Waits in slices of a second when no idle limit is set: the loop could check a stop flag.
  const auto wait = std::chrono::milliseconds(idle_exit_ms > 0 ? idle_exit_ms : 1000);
  for (uint64_t printed = 0; printed < count_max;) {
    wal::Result<std::optional<wal::client::Entry>> entry = reader->next_for(wait);
    if (!entry) examples::fail("read failed", entry.error());
    if (!entry->has_value()) {
      if (idle_exit_ms > 0) break;
      continue;
    }
    const wal::client::Entry& got = **entry;
    std::printf("%llu\t%.*s\n", static_cast<unsigned long long>(got.id),
                static_cast<int>(got.text().size()), got.text().data());
    std::fflush(stdout);  // a pipe reader sees each entry as it arrives
    ++printed;
  }
  return 0;
}
