// wp: the command-line tool for the MemoryBuffer WAL on the embedded backends.
//   wp --data DIR log create|list|delete NAME
//   wp --data DIR append NAME [--count N --size BYTES] [--format lines|hex]
//                            [--producer P [--sequence-start S]]
//   wp --data DIR read NAME [--from earliest|latest|ID] [--limit N] [--ids] [--format ...]
//   wp --data DIR tail [-f] [-n N] NAME
//   wp --data DIR truncate NAME ID ; wp --data DIR gc NAME
//   wp --data DIR inspect NAME ; wp --data DIR verify NAME
// Every command has --help. Options may also come from --config FILE (JSON).
// Exit status: 0 ok, 1 the operation failed (one line on stderr says why), 2 bad usage (bad
// flags, arguments or config; nothing was done). No input ends in an abort or a signal.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "config_planted_bug.h"
#include "wal/format/block_format.h"
#include "wal/log/log_client.h"
#include "wp_args.h"
#include "wp_commands.h"
#include "wp_quorum_commands.h"

namespace {

using wal::cli::exit_failed;
using wal::cli::exit_ok;
using wal::cli::exit_usage;
using wal::cli::PayloadFormat;
using wal::cli::uint_in;

const std::map<std::string, PayloadFormat> format_names{{"lines", PayloadFormat::lines},
                                                       {"hex", PayloadFormat::hex}};

// --count beyond this is a typo, not a workload: a billion generated entries already take
// hours, and an unchecked count (a "-1" that wrapped) once filled the disk.
constexpr uint64_t generated_count_max = 1'000'000'000;

const char* const exit_status_help =
    "Exit status: 0 ok; 1 the operation failed or verify/inspect found problems (stderr says "
    "which); 2 bad usage: flags, arguments or config file (nothing was done).";

// A malformed name is a usage error (exit 2), found before any store is opened.
CLI::Validator log_name() {
  auto check = [](std::string& text) -> std::string {
    wal::Status valid = wal::validate_log_name(text);
    return valid.ok() ? std::string() : valid.error().message;
  };
  return CLI::Validator(check, "NAME");
}

struct Args {
  wal::cli::WpConfig config;
  std::string config_path;
  std::string name;
  std::optional<std::string> gc_name;
  wal::cli::AppendArgs append;
  wal::cli::ReadArgs read;
  wal::cli::ReadArgs tail;
  uint64_t tail_count = 10;
  uint64_t truncate_id = 0;
  bool with_blocks = false;
};

struct Commands {
  CLI::App* log_create = nullptr;
  CLI::App* log_list = nullptr;
  CLI::App* log_delete = nullptr;
  CLI::App* append = nullptr;
  CLI::App* read = nullptr;
  CLI::App* tail = nullptr;
  CLI::App* truncate = nullptr;
  CLI::App* gc = nullptr;
  CLI::App* inspect = nullptr;
  CLI::App* verify = nullptr;
};

void add_log_commands(CLI::App& app, Args& args, Commands& commands) {
  auto* log_cmd = app.add_subcommand("log", "create, list or delete logs");
  log_cmd->require_subcommand(1);
  commands.log_create = log_cmd->add_subcommand(
      "create", "create a log (and the data directory, if it does not exist yet)");
  commands.log_create
      ->add_option("name", args.name, "log name: 1 to 200 of letters, digits, - _ . (not . or ..)")
      ->required()
      ->check(log_name());
  commands.log_list = log_cmd->add_subcommand("list", "list logs, one per line: name<TAB>id");
  commands.log_delete = log_cmd->add_subcommand(
      "delete", "delete a log and all its data; re-run it (or `wp gc`) to finish an "
                "interrupted deletion");
  commands.log_delete->add_option("name", args.name, "log name")->required()->check(log_name());
}

void add_append(CLI::App& app, Args& args, Commands& commands) {
  wal::cli::AppendArgs& a = args.append;
  auto* append = app.add_subcommand(
      "append", "append one entry per stdin line (or --count generated entries); prints a "
                "summary to stderr once every entry is durable. Stops at the first line that "
                "fails: the log then holds exactly the lines before it");
  commands.append = append;
  append->add_option("name", a.name, "log name")->required()->check(log_name());
  append->add_option("--count", a.count, "append N generated entries instead of stdin")
      ->check(uint_in(1, generated_count_max));
  append->add_option("--size", a.size_bytes, "bytes per generated entry (default 100)")
      ->check(uint_in(1, wal::limits::entry_size_bytes_max));
  append->add_option("--format", a.format, "stdin format: lines (default) or hex")
      ->transform(CLI::CheckedTransformer(format_names, CLI::ignore_case));
  append->add_flag("--quiet,-q", a.quiet, "no summary");
  append->add_option("--producer", a.producer,
                     "idempotent append: entry i gets key (PRODUCER, --sequence-start + i); "
                     "re-running the same input appends only what the log lacks (PRODUCER > 0)")
      ->check(uint_in(1, UINT64_MAX));
  append->add_option("--sequence-start", a.sequence_start,
                     "the sequence of the first entry with --producer (default 1)")
      ->check(uint_in(0, UINT64_MAX));
}

void add_read_commands(CLI::App& app, Args& args, Commands& commands) {
  wal::cli::ReadArgs& r = args.read;
  auto* read = app.add_subcommand("read", "print entries, one per line, up to the current end");
  commands.read = read;
  read->add_option("name", r.name, "log name")->required()->check(log_name());
  read->add_option("--from", r.from, "earliest (default), latest, or an entry id")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            if (text == "earliest" || text == "latest") return {};
            wal::Result<uint64_t> id = wal::cli::parse_uint(text, "an entry id", 0, UINT64_MAX);
            return id.ok() ? std::string()
                           : "must be earliest, latest or an entry id (an integer in 0.." +
                                 std::to_string(UINT64_MAX) + "), got '" + text + "'";
          },
          "earliest|latest|ID"));
  read->add_option("--limit", r.limit, "print at most N entries")->check(uint_in(1, UINT64_MAX));
  read->add_flag("--ids", r.with_ids, "prefix each entry with its id and a TAB");
  read->add_flag("--follow,-f", r.follow, "keep waiting for new entries");
  read->add_option("--format", r.format, "output format: lines (default) or hex")
      ->transform(CLI::CheckedTransformer(format_names, CLI::ignore_case));

  wal::cli::ReadArgs& t = args.tail;
  auto* tail = app.add_subcommand(
      "tail", "print the last entries; -f follows new ones, also appended by other processes");
  commands.tail = tail;
  tail->add_option("name", t.name, "log name")->required()->check(log_name());
  tail->add_flag("--follow,-f", t.follow, "keep waiting for new entries");
  tail->add_option("-n,--lines", args.tail_count, "how many of the last entries (default 10)")
      ->check(uint_in(0, UINT64_MAX));
  tail->add_flag("--ids", t.with_ids, "prefix each entry with its id and a TAB");
}

void add_maintenance_commands(CLI::App& app, Args& args, Commands& commands) {
  commands.truncate = app.add_subcommand(
      "truncate", "drop every entry below ID (whole segments are freed by `wp gc`); ID may not "
                  "be beyond the log's acknowledged end");
  commands.truncate->add_option("name", args.name, "log name")->required()->check(log_name());
  commands.truncate->add_option("id", args.truncate_id, "first entry id to keep")
      ->required()
      ->check(uint_in(0, UINT64_MAX));

  commands.gc = app.add_subcommand(
      "gc", "delete truncated segments and orphaned objects, and finish interrupted log "
            "deletions");
  commands.gc->add_option("name", args.gc_name, "log name (default: every log)")
      ->check(log_name());

  commands.inspect = app.add_subcommand("inspect", "show segments, blocks, epochs and the tail");
  commands.inspect->add_option("name", args.name, "log name")->required()->check(log_name());
  commands.inspect->add_flag("--blocks", args.with_blocks,
                             "also show where each segment's objects are");

  commands.verify = app.add_subcommand(
      "verify", "check every block's checksums and the continuity of ids, and say exactly "
                "which entries a reader can and cannot read; exit 1 on any problem");
  commands.verify->add_option("name", args.name, "log name")->required()->check(log_name());
}

// How the command uses the data directory: only `log create` may create it, and commands that
// only read work on a read-only copy.
wal::cli::StoreAccess access_for(const Commands& commands) {
  if (commands.log_create->parsed()) return wal::cli::StoreAccess::create;
  if (commands.read->parsed() || commands.tail->parsed() || commands.inspect->parsed() ||
      commands.verify->parsed() || commands.log_list->parsed()) {
    return wal::cli::StoreAccess::read_only;
  }
  return wal::cli::StoreAccess::read_write;
}

int dispatch(wal::cli::WpRuntime& rt, const Commands& commands, Args& args) {
  namespace c = wal::cli;
  if (commands.log_create->parsed()) return rt.run(c::cmd_log_create(rt, args.name));
  if (commands.log_list->parsed()) return rt.run(c::cmd_log_list(rt));
  if (commands.log_delete->parsed()) return rt.run(c::cmd_log_delete(rt, args.name));
  if (commands.append->parsed()) return rt.run(c::cmd_append(rt, args.append));
  if (commands.read->parsed()) return rt.run(c::cmd_read(rt, args.read));
  if (commands.tail->parsed()) {
    args.tail.last = args.tail_count;
    return rt.run(c::cmd_read(rt, args.tail));
  }
  if (commands.truncate->parsed()) {
    return rt.run(c::cmd_truncate(rt, args.name, args.truncate_id));
  }
  if (commands.gc->parsed()) return rt.run(c::cmd_gc(rt, args.gc_name));
  const bool quorum = rt.config().quorum.enabled;
  if (commands.inspect->parsed()) {
    return rt.run(quorum ? c::cmd_quorum_inspect(rt, args.name)
                         : c::cmd_inspect(rt, args.name, args.with_blocks));
  }
  if (commands.verify->parsed()) {
    return rt.run(quorum ? c::cmd_quorum_verify(rt, args.name) : c::cmd_verify(rt, args.name));
  }
  return -1;
}

// Parses the command line. Help is printed to stdout (exit 0); any other parse error is one
// line on stderr (exit 2), never CLI11's own exit codes.
std::optional<int> parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      return app.exit(error);  // --help
    }
    std::fprintf(stderr, "wp: usage error: %s (see wp --help)\n", error.what());
    return exit_usage;
  }
  return std::nullopt;
}

int run(int argc, char** argv) {
  CLI::App app{"wp: a write-ahead log on object storage: objects in DIR/objects or S3 (--config, "
               "\"object_store\"), metadata in DIR/meta.sqlite or in etcd (--config, "
               "\"meta_store\"). MemoryBuffer by default; with \"mode\": \"quorum\" in the "
               "config file, QuorumBuffer: appends go to wp-logstore daemons (docs/deploy.md)."};
  app.footer(exit_status_help);
  app.set_version_flag("--version", wal::cli::version_text("wp"));
  app.require_subcommand(1);
  Args args;
  app.add_option("--data", args.config.data_dir,
                 "data directory (`log create` creates it; other commands need it to exist)");
  app.add_option("--config", args.config_path,
                 "JSON config file: {\"data_dir\": ..., \"writer\": {...}, \"reader\": {...}, "
                 "\"object_store\": {\"type\": \"s3\", \"bucket\": ..., ...}, "
                 "\"meta_store\": {\"type\": \"etcd\", \"endpoints\": [...], ...}, "
                 "\"mode\": \"quorum\", \"quorum\": {...}} (docs/cli.md, docs/deploy.md)");
  Commands commands;
  add_log_commands(app, args, commands);
  add_append(app, args, commands);
  add_read_commands(app, args, commands);
  add_maintenance_commands(app, args, commands);
  if (std::optional<int> status = parse(app, argc, argv)) return *status;

  if (!args.config_path.empty()) {
    const std::string data_from_flag = args.config.data_dir;
    wal::Status loaded = wal::cli::load_config_file(args.config_path, args.config);
    if (!loaded.ok()) {
      std::fprintf(stderr, "wp: usage error: %s\n", loaded.error().message.c_str());
      return exit_usage;
    }
    if (!data_from_flag.empty()) args.config.data_dir = data_from_flag;  // the flag wins
  }
  auto runtime = wal::cli::WpRuntime::open(args.config, access_for(commands));
  if (!runtime.ok()) {
    if (runtime.error().code == wal::Errc::invalid_argument) {
      std::fprintf(stderr, "wp: usage error: %s\n", runtime.error().message.c_str());
      return exit_usage;
    }
    return wal::cli::report_error(runtime.error());
  }
  const int status = dispatch(**runtime, commands, args);
  if (status >= 0) return status;
  std::fputs(app.help().c_str(), stderr);
  return exit_usage;
}

}  // namespace

int main(int argc, char** argv) {
  // Nothing in wp throws on purpose; this turns anything a library might throw (an allocation
  // failure on a huge input, say) into the documented one-line failure instead of an abort.
  try {
    return run(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "wp: error: %s\n", error.what());
  } catch (...) {
    std::fprintf(stderr, "wp: error: unexpected exception\n");
  }
  return exit_failed;
}
