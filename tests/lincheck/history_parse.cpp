// Reads the JSON-lines history format (docs/history.md). Each line is one JSON object; the
// first is the header. A malformed line stops the parse with its line number: a checker that
// guessed at a broken record could pass a history it never understood.
#include <charconv>

#include <nlohmann/json.hpp>

#include "tests/lincheck/history.h"

namespace lincheck {

namespace {

// Thrown inside this file only, caught by parse_history: one line's first problem.
struct BadLine {
  std::string message;
};

class Fields {
 public:
  explicit Fields(const nlohmann::json& object) : object_(object) {}

  [[nodiscard]] bool has(const char* name) const { return object_.contains(name); }
  [[nodiscard]] uint64_t u64(const char* name) const {
    const nlohmann::json& value = field(name);
    if (!value.is_number_unsigned()) throw BadLine{std::string(name) + " is not an unsigned integer"};
    return value.get<uint64_t>();
  }
  [[nodiscard]] int64_t i64(const char* name) const {
    const nlohmann::json& value = field(name);
    if (!value.is_number_integer()) throw BadLine{std::string(name) + " is not an integer"};
    return value.get<int64_t>();
  }
  [[nodiscard]] std::optional<int64_t> maybe_i64(const char* name) const {
    return has(name) ? std::optional<int64_t>(i64(name)) : std::nullopt;
  }
  [[nodiscard]] std::string text(const char* name) const {
    const nlohmann::json& value = field(name);
    if (!value.is_string()) throw BadLine{std::string(name) + " is not a string"};
    return value.get<std::string>();
  }
  // A payload hash: 16 hex digits (64 bits do not survive every JSON reader as a number).
  [[nodiscard]] uint64_t hash(const char* name) const {
    const std::string digits = text(name);
    uint64_t value = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(),
                                              value, 16);
    if (digits.size() != 16 || error != std::errc() || end != digits.data() + digits.size()) {
      throw BadLine{std::string(name) + " is not 16 hex digits"};
    }
    return value;
  }
  [[nodiscard]] const nlohmann::json& field(const char* name) const {
    const auto found = object_.find(name);
    if (found == object_.end()) throw BadLine{std::string("no ") + name};
    return *found;
  }

 private:
  const nlohmann::json& object_;
};

Outcome outcome_of(const Fields& f) {
  const std::string name = f.text("outcome");
  for (Outcome o : {Outcome::ok, Outcome::failed_definite, Outcome::failed_unknown,
                    Outcome::abandoned, Outcome::pending}) {
    if (outcome_name(o) == name) return o;
  }
  throw BadLine{"unknown outcome '" + name + "'"};
}

Append append_of(const Fields& f) {
  Append a;
  a.index = f.u64("index");
  a.node = f.u64("node");
  a.writer = f.u64("writer");
  a.epoch = f.u64("epoch");
  a.payload = f.hash("payload_hash");
  a.invoked_ns = f.i64("invoked_ns");
  a.completed_ns = f.maybe_i64("completed_ns");
  a.outcome = outcome_of(f);
  if (a.outcome == Outcome::ok) a.id = f.u64("id");
  if (a.outcome == Outcome::ok && !a.completed_ns) throw BadLine{"an ok append without completed_ns"};
  a.keyed = f.has("key");
  if (f.has("resends")) {
    const nlohmann::json& list = f.field("resends");
    if (!list.is_array()) throw BadLine{"resends is not a list"};
    for (const nlohmann::json& item : list) {
      if (!item.is_object()) throw BadLine{"a resend is not an object"};
      const Fields r(item);
      a.resends.push_back(Resend{r.u64("writer"), r.u64("epoch"), r.i64("invoked_ns")});
    }
  }
  return a;
}

void final_of(const Fields& f, LogHistory& log, size_t line) {
  if (log.final_read) throw BadLine{"a second final read of log '" + log.name + "'"};
  FinalRead r;
  r.line = line;
  const std::string outcome = f.text("outcome");
  if (outcome != "ok" && outcome != "failed") throw BadLine{"final outcome is ok or failed"};
  r.ok = outcome == "ok";
  r.at_ns = f.i64("at_ns");
  if (f.has("error")) r.error = f.text("error");
  if (r.ok) {
    r.first_kept = f.u64("first_kept");
    r.end = f.u64("end");
    if (r.end < r.first_kept) throw BadLine{"final end below first_kept"};
  }
  log.final_read = std::move(r);
}

// One line into `history`; `entries` collects final_entry lines until their final line is known.
void parse_record(const Fields& f, size_t line, History& history,
                  std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>>& entries) {
  const std::string type = f.text("type");
  if (type == "header") throw BadLine{"a second header"};
  const std::string name = f.text("log");
  LogHistory& log = history.logs[name];
  log.name = name;
  if (type == "open") {
    log.opens.push_back(Open{line, f.u64("writer"), f.u64("node"), f.u64("epoch"),
                             f.i64("opened_ns")});
  } else if (type == "append") {
    log.appends.push_back(append_of(f));
    log.appends.back().line = line;
  } else if (type == "read") {
    log.reads.push_back(Read{line, f.u64("node"), f.u64("session"), f.u64("id"),
                             f.hash("payload_hash"), f.maybe_i64("invoked_ns"), f.i64("at_ns")});
  } else if (type == "truncate") {
    log.truncations.push_back(Truncate{line, f.u64("point"), f.i64("invoked_ns"),
                                       f.maybe_i64("completed_ns"), outcome_of(f)});
  } else if (type == "final") {
    final_of(f, log, line);
  } else if (type == "final_entry") {
    entries[name].emplace_back(f.u64("id"), f.hash("payload_hash"));
  } else {
    throw BadLine{"unknown record type '" + type + "'"};
  }
}

void check_header(const nlohmann::json& object, History& history) {
  const Fields f(object);
  if (!f.has("type") || f.text("type") != "header") throw BadLine{"the first line is not a header"};
  if (f.text("format") != format_name) {
    throw BadLine{"format '" + f.text("format") + "', expected '" + std::string(format_name) + "'"};
  }
  const uint64_t version = f.u64("version");
  if (version != format_version) {
    throw BadLine{"format version " + std::to_string(version) + "; this checker reads version " +
                  std::to_string(format_version)};
  }
  if (f.has("source")) history.source = f.text("source");
}

}  // namespace

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::ok: return "ok";
    case Outcome::failed_definite: return "failed_definite";
    case Outcome::failed_unknown: return "failed_unknown";
    case Outcome::abandoned: return "abandoned";
    case Outcome::pending: return "pending";
  }
  return "?";
}

Parsed parse_history(std::string_view text) {
  History history;
  std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>> entries;
  size_t line = 0;
  try {
    for (size_t start = 0; start < text.size();) {
      size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      const std::string_view content = text.substr(start, end - start);
      start = end + 1;
      ++line;
      if (content.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      const nlohmann::json object = nlohmann::json::parse(content, nullptr, false);
      if (object.is_discarded() || !object.is_object()) throw BadLine{"not a JSON object"};
      if (line == 1) {
        check_header(object, history);
      } else {
        parse_record(Fields(object), line, history, entries);
      }
    }
    if (line == 0) throw BadLine{"empty: no header"};
    for (auto& [name, list] : entries) {
      LogHistory& log = history.logs[name];
      if (!log.final_read || !log.final_read->ok) {
        throw BadLine{"final_entry lines for log '" + name + "' without an ok final line"};
      }
      log.final_read->entries = std::move(list);
    }
  } catch (const BadLine& bad) {
    return Parsed{std::nullopt, "line " + std::to_string(line) + ": " + bad.message};
  }
  for (const auto& [name, log] : history.logs) {
    if (log.final_read && log.final_read->ok &&
        log.final_read->entries.size() != log.final_read->end - log.final_read->first_kept) {
      return Parsed{std::nullopt, "log '" + name + "': the final read lists " +
                                      std::to_string(log.final_read->entries.size()) +
                                      " entries between first_kept and end " +
                                      std::to_string(log.final_read->end - log.final_read->first_kept)};
    }
  }
  return Parsed{std::move(history), {}};
}

}  // namespace lincheck
