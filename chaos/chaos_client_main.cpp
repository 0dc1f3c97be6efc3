// wp-chaos-client: one client process of a wp-chaos run (chaos/README.md). wp-chaos starts it;
// it is usable alone to watch a cluster:
//   wp-chaos-client writer --config C --log L --events F --run-start-ns T --process P --count N
//   wp-chaos-client reader --config C --log L --events F --run-start-ns T --process P
//   wp-chaos-client final  --config C --log L --events F --run-start-ns T --process P
// Exit: 0 the role ran to its end, 1 it gave up (chaos_client.h), 2 bad arguments or an
// unusable event file or cluster config.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "chaos_client.h"
#include "config_planted_bug.h"

namespace {

struct Common {
  std::string config;
  std::string events;
  int64_t run_start_ns = 0;
  uint64_t process = 0;
};

void add_common(CLI::App& command, Common& common, std::string& log) {
  command.add_option("--config", common.config, "cluster config (scripts/cluster.sh writes it)")
      ->required();
  command.add_option("--log", log, "the log's name")->required();
  command.add_option("--events", common.events, "JSON-lines file the events are appended to")
      ->required();
  command
      .add_option("--run-start-ns", common.run_start_ns,
                  "the run's start, CLOCK_REALTIME in ns (event times count from it)")
      ->required();
  command.add_option("--process", common.process, "this process's number in the run")->required();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "wp-chaos-client: a writer, tailing reader or final reader of a wp-chaos run; "
      "records one JSON line per event (chaos/README.md)"};
  app.set_version_flag("--version", wal::cli::version_text("wp-chaos-client"));
  app.require_subcommand(1);
  Common common;
  wal::chaos::WriterArgs writer;
  wal::chaos::ReaderArgs reader;
  CLI::App* write = app.add_subcommand("writer", "append --count unique entries");
  add_common(*write, common, writer.log);
  write->add_option("--count", writer.count, "appends to invoke (0: open and close)");
  write->add_option("--window", writer.window, "appends outstanding at most")
      ->check(CLI::Range(1, 4096));
  write->add_option("--pace-ms", writer.pace_ms, "pause between two invocations");
  write->add_option("--payload-bytes", writer.payload_bytes, "payload size (at least ~20)")
      ->check(CLI::Range(1, 1 << 20));
  write->add_option("--open-timeout-s", writer.open_timeout_s, "give up opening after this");
  write->add_option("--until-ns", writer.until_ns,
                    "stop invoking at this time since the run's start, then close");
  write
      ->add_option("--reopen-when-fenced-ms", writer.reopen_when_fenced_ms,
                   "when fenced, wait this long and open again, fencing the other writer "
                   "(0, the default: stop)")
      ->check(CLI::Range(0, 600000));
  CLI::App* tail = app.add_subcommand("reader", "tail the log from its start until killed");
  add_common(*tail, common, reader.log);
  CLI::App* final = app.add_subcommand("final", "read the whole log once (the final read)");
  add_common(*final, common, reader.log);
  final->add_option("--attempts", reader.attempts_max, "attempts before outcome failed")
      ->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);

  wal::cli::WpConfig config;
  if (wal::Status loaded = wal::cli::load_config_file(common.config, config); !loaded.ok()) {
    std::fprintf(stderr, "wp-chaos-client: %s\n", loaded.error().describe().c_str());
    return 2;
  }
  auto runtime = wal::cli::WpRuntime::open(config, wal::cli::StoreAccess::read_write);
  if (!runtime.ok()) {
    std::fprintf(stderr, "wp-chaos-client: %s\n", runtime.error().describe().c_str());
    return 2;
  }
  wal::chaos::EventLog events(common.events, common.run_start_ns, common.process);
  if (write->parsed()) return wal::chaos::run_writer(**runtime, events, common.process, writer);
  if (tail->parsed()) return wal::chaos::run_reader(**runtime, events, reader);
  return wal::chaos::run_final_read(**runtime, events, reader);
}
