#pragma once
// What the examples share: their command line (--config FILE or --data DIR, then flags of
// their own and positional arguments), --help, and one-line errors. Not part of the library.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "wal/client/client.h"

namespace examples {

struct Args {
  wal::client::ClientOptions options;
  std::map<std::string, std::string> flags;  // --name value
  std::vector<std::string> positional;
};

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "error: %s\n", what.c_str());
  std::exit(1);
}

[[noreturn]] inline void fail(const std::string& what, const wal::Error& error) {
  fail(what + ": " + error.describe());
}

// Reads argv. `usage` is printed for --help (exit 0) and after a usage error (exit 2).
// `flags`: the --name options that take a value, besides --config and --data.
inline Args parse_args(int argc, char** argv, const char* usage, std::set<std::string> flags,
                       size_t positional_count) {
  Args args;
  auto usage_error = [&](const std::string& what) {
    std::fprintf(stderr, "error: %s\n%s", what.c_str(), usage);
    std::exit(2);
  };
  for (int index = 1; index < argc; ++index) {
    const std::string arg = argv[index];
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage, stdout);
      std::exit(0);
    }
    if (arg.rfind("--", 0) != 0) {
      args.positional.push_back(arg);
      continue;
    }
    if (index + 1 >= argc) usage_error(arg + " needs a value");
    const std::string value = argv[++index];
    if (arg == "--config") {
      args.options.config_file = value;
    } else if (arg == "--data") {
      args.options.data_dir = value;
    } else if (flags.count(arg.substr(2)) != 0) {
      args.flags[arg.substr(2)] = value;
    } else {
      usage_error("unknown option " + arg);
    }
  }
  if (args.positional.size() != positional_count) usage_error("wrong number of arguments");
  return args;
}

// A flag's value as a number; `fallback` when absent.
inline uint64_t number_flag(const Args& args, const std::string& name, uint64_t fallback) {
  const auto it = args.flags.find(name);
  if (it == args.flags.end()) return fallback;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(it->second.c_str(), &end, 10);
  if (it->second.empty() || *end != '\0' || it->second[0] == '-') {
    fail("--" + name + " must be a non-negative integer, got '" + it->second + "'");
  }
  return value;
}

// Opens the client and makes sure the log exists (a second run finds it).
inline wal::client::Client open_client_with_log(const Args& args, const std::string& log) {
  wal::Result<wal::client::Client> client = wal::client::Client::open(args.options);
  if (!client) fail("cannot open the client", client.error());
  wal::Status created = client->create_log(log);
  if (!created && created.error().code != wal::Errc::already_exists) {
    fail("cannot create log '" + log + "'", created.error());
  }
  return std::move(client).value();
}

}  // namespace examples
