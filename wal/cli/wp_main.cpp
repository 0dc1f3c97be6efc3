// wp: the command-line tool for the MemoryBuffer WAL on the embedded backends.
//   wp --data DIR log create|list|delete NAME
//   wp --data DIR append NAME [--count N --size BYTES] [--format lines|hex]
//                            [--producer P [--sequence-start S]]
//   wp --data DIR read NAME [--from earliest|latest|ID] [--limit N] [--ids] [--format ...]
//   wp --data DIR tail [-f] [-n N] NAME
//   wp --data DIR truncate NAME ID ; wp --data DIR gc NAME
//   wp --data DIR inspect NAME ; wp --data DIR verify NAME
// Every command has --help. Options may also come from --config FILE (JSON).
#include <CLI/CLI.hpp>

#include <cstdio>

#include "wp_commands.h"
#include "wp_quorum_commands.h"

namespace {

using wal::cli::PayloadFormat;

const std::map<std::string, PayloadFormat> format_names{{"lines", PayloadFormat::lines},
                                                       {"hex", PayloadFormat::hex}};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wp: a write-ahead log on object storage: objects in DIR/objects, metadata in "
               "DIR/meta.sqlite or in etcd (--config, \"meta_store\"). MemoryBuffer by default; "
               "with \"mode\": \"quorum\" in the config file, QuorumBuffer: appends go to "
               "wp-logstore daemons (docs/deploy.md)."};
  app.require_subcommand(1);
  wal::cli::WpConfig config;
  std::string config_path;
  app.add_option("--data", config.data_dir, "data directory (created if missing)");
  app.add_option("--config", config_path,
                 "JSON config file: {\"data_dir\": ..., \"writer\": {...}, \"reader\": {...}, "
                 "\"meta_store\": {\"type\": \"etcd\", \"endpoints\": [...], ...}, "
                 "\"mode\": \"quorum\", \"quorum\": {...}}");

  std::string name;
  auto* log_cmd = app.add_subcommand("log", "create, list or delete logs");
  log_cmd->require_subcommand(1);
  auto* log_create = log_cmd->add_subcommand("create", "create a log");
  log_create->add_option("name", name, "log name (letters, digits, - _ .)")->required();
  auto* log_list = log_cmd->add_subcommand("list", "list logs, one per line: name<TAB>id");
  auto* log_delete = log_cmd->add_subcommand("delete", "delete a log and all its data");
  log_delete->add_option("name", name, "log name")->required();

  wal::cli::AppendArgs append_args;
  auto* append = app.add_subcommand(
      "append", "append one entry per stdin line (or --count generated entries); prints a "
                "summary to stderr once every entry is durable");
  append->add_option("name", append_args.name, "log name")->required();
  append->add_option("--count", append_args.count, "append N generated entries instead of stdin");
  append->add_option("--size", append_args.size_bytes, "bytes per generated entry (default 100)");
  append->add_option("--format", append_args.format, "stdin format: lines (default) or hex")
      ->transform(CLI::CheckedTransformer(format_names, CLI::ignore_case));
  append->add_flag("--quiet,-q", append_args.quiet, "no summary");
  append->add_option("--producer", append_args.producer,
                     "idempotent append: entry i gets key (PRODUCER, --sequence-start + i); "
                     "re-running the same input appends only what the log lacks (PRODUCER > 0)")
      ->check(CLI::Range(uint64_t{1}, UINT64_MAX));
  append->add_option("--sequence-start", append_args.sequence_start,
                     "the sequence of the first entry with --producer (default 1)");

  wal::cli::ReadArgs read_args;
  auto* read = app.add_subcommand("read", "print entries, one per line, up to the current end");
  read->add_option("name", read_args.name, "log name")->required();
  read->add_option("--from", read_args.from, "earliest (default), latest, or an entry id");
  read->add_option("--limit", read_args.limit, "print at most N entries");
  read->add_flag("--ids", read_args.with_ids, "prefix each entry with its id and a TAB");
  read->add_flag("--follow,-f", read_args.follow, "keep waiting for new entries");
  read->add_option("--format", read_args.format, "output format: lines (default) or hex")
      ->transform(CLI::CheckedTransformer(format_names, CLI::ignore_case));

  wal::cli::ReadArgs tail_args;
  uint64_t tail_count = 10;
  auto* tail = app.add_subcommand("tail", "print the last entries; -f follows new ones");
  tail->add_option("name", tail_args.name, "log name")->required();
  tail->add_flag("--follow,-f", tail_args.follow, "keep waiting for new entries");
  tail->add_option("-n,--lines", tail_count, "how many of the last entries (default 10)");
  tail->add_flag("--ids", tail_args.with_ids, "prefix each entry with its id and a TAB");

  uint64_t truncate_id = 0;
  auto* truncate = app.add_subcommand(
      "truncate", "drop every entry below ID (whole segments are freed by `wp gc`)");
  truncate->add_option("name", name, "log name")->required();
  truncate->add_option("id", truncate_id, "first entry id to keep")->required();

  auto* gc = app.add_subcommand("gc", "delete truncated segments and orphaned objects");
  gc->add_option("name", name, "log name")->required();

  bool with_blocks = false;
  auto* inspect = app.add_subcommand("inspect", "show segments, blocks, epochs and the tail");
  inspect->add_option("name", name, "log name")->required();
  inspect->add_flag("--blocks", with_blocks, "also show where each segment's objects are");

  auto* verify = app.add_subcommand(
      "verify", "check every block's checksums and the continuity of ids; exit 1 on corruption");
  verify->add_option("name", name, "log name")->required();

  CLI11_PARSE(app, argc, argv);

  if (!config_path.empty()) {
    const std::string data_from_flag = config.data_dir;
    wal::Status loaded = wal::cli::load_config_file(config_path, config);
    if (!loaded.ok()) return wal::cli::report_error(loaded.error());
    if (!data_from_flag.empty()) config.data_dir = data_from_flag;  // the flag wins
  }
  auto runtime = wal::cli::WpRuntime::open(config);
  if (!runtime.ok()) return wal::cli::report_error(runtime.error());
  wal::cli::WpRuntime& rt = **runtime;

  if (log_create->parsed()) return rt.run(wal::cli::cmd_log_create(rt, name));
  if (log_list->parsed()) return rt.run(wal::cli::cmd_log_list(rt));
  if (log_delete->parsed()) return rt.run(wal::cli::cmd_log_delete(rt, name));
  if (append->parsed()) return rt.run(wal::cli::cmd_append(rt, append_args));
  if (read->parsed()) return rt.run(wal::cli::cmd_read(rt, read_args));
  if (tail->parsed()) {
    tail_args.last = tail_count;
    return rt.run(wal::cli::cmd_read(rt, tail_args));
  }
  if (truncate->parsed()) return rt.run(wal::cli::cmd_truncate(rt, name, truncate_id));
  if (gc->parsed()) return rt.run(wal::cli::cmd_gc(rt, name));
  const bool quorum = rt.config().quorum.enabled;
  if (inspect->parsed()) {
    return rt.run(quorum ? wal::cli::cmd_quorum_inspect(rt, name)
                         : wal::cli::cmd_inspect(rt, name, with_blocks));
  }
  if (verify->parsed()) {
    return rt.run(quorum ? wal::cli::cmd_quorum_verify(rt, name) : wal::cli::cmd_verify(rt, name));
  }
  std::fputs(app.help().c_str(), stderr);
  return 2;
}
