// Reads the JSON-lines history format (docs/history.md). Each line is one JSON object; the
// first is the header. A malformed line stops the parse with its line number: a checker that
// guessed at a broken record could pass a history it never understood.
#include <algorithm>
#include <charconv>
#include <climits>

#include "tests/lincheck/history.h"
#include "tests/lincheck/json_line.h"

namespace lincheck {

namespace {

// Thrown inside this file only, caught by parse_history: one line's first problem.
struct BadLine {
  std::string message;
};

class Fields {
 public:
  explicit Fields(const JsonFields& fields) : fields_(fields) {}

  [[nodiscard]] bool has(std::string_view name) const { return find(name) != nullptr; }
  [[nodiscard]] uint64_t u64(std::string_view name) const {
    const JsonValue& value = field(name);
    if (value.kind != JsonValue::Kind::unsigned_integer) {
      throw BadLine{std::string(name) + " is not an unsigned integer"};
    }
    return value.unsigned_;
  }
  [[nodiscard]] int64_t i64(std::string_view name) const {
    const JsonValue& value = field(name);
    if (value.kind == JsonValue::Kind::negative_integer) return value.signed_;
    if (value.kind != JsonValue::Kind::unsigned_integer ||
        value.unsigned_ > static_cast<uint64_t>(INT64_MAX)) {
      throw BadLine{std::string(name) + " is not an integer"};
    }
    return static_cast<int64_t>(value.unsigned_);
  }
  [[nodiscard]] std::optional<int64_t> maybe_i64(std::string_view name) const {
    return has(name) ? std::optional<int64_t>(i64(name)) : std::nullopt;
  }
  [[nodiscard]] std::string_view text(std::string_view name) const {
    const JsonValue& value = field(name);
    if (value.kind != JsonValue::Kind::string) {
      throw BadLine{std::string(name) + " is not a string"};
    }
    return value.text;
  }
  // A payload hash: 16 hex digits (64 bits do not survive every JSON reader as a number).
  [[nodiscard]] uint64_t hash(std::string_view name) const {
    const std::string_view digits = text(name);
    uint64_t value = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(),
                                              value, 16);
    if (digits.size() != 16 || error != std::errc() || end != digits.data() + digits.size()) {
      throw BadLine{std::string(name) + " is not 16 hex digits"};
    }
    return value;
  }
  [[nodiscard]] const JsonValue& field(std::string_view name) const {
    const JsonValue* found = find(name);
    if (found == nullptr) throw BadLine{"no " + std::string(name)};
    return *found;
  }

 private:
  [[nodiscard]] const JsonValue* find(std::string_view name) const {
    for (const auto& [key, value] : fields_) {
      if (key == name) return &value;
    }
    return nullptr;
  }

  const JsonFields& fields_;
};

Outcome outcome_of(const Fields& f) {
  const std::string_view name = f.text("outcome");
  for (Outcome o : {Outcome::ok, Outcome::failed_definite, Outcome::failed_unknown,
                    Outcome::abandoned, Outcome::pending}) {
    if (outcome_name(o) == name) return o;
  }
  throw BadLine{"unknown outcome '" + std::string(name) + "'"};
}

Append append_of(const Fields& f, const JsonLine& line) {
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
  if (a.outcome == Outcome::ok && !a.completed_ns) {
    throw BadLine{"an ok append without completed_ns"};
  }
  a.keyed = f.has("key");
  if (f.has("resends")) {
    if (f.field("resends").kind != JsonValue::Kind::array) throw BadLine{"resends is not a list"};
    for (const auto& [name, items] : line.lists) {
      if (name != "resends") continue;
      for (const JsonFields& item : items) {
        const Fields r(item);
        a.resends.push_back(Resend{r.u64("writer"), r.u64("epoch"), r.i64("invoked_ns")});
      }
    }
  }
  return a;
}

void final_of(const Fields& f, LogHistory& log, size_t line) {
  if (log.final_read) throw BadLine{"a second final read of log '" + log.name + "'"};
  FinalRead r;
  r.line = line;
  const std::string_view outcome = f.text("outcome");
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
void parse_record(const JsonLine& json, size_t line, History& history,
                  std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>>& entries) {
  const Fields f(json.fields);
  const std::string_view type = f.text("type");
  if (type == "header") throw BadLine{"a second header"};
  const std::string_view name = f.text("log");
  LogHistory& log = history.logs[std::string(name)];
  log.name = name;
  if (type == "open") {
    log.opens.push_back(Open{line, f.u64("writer"), f.u64("node"), f.u64("epoch"),
                             f.i64("opened_ns")});
  } else if (type == "append") {
    log.appends.push_back(append_of(f, json));
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
    entries[log.name].emplace_back(f.u64("id"), f.hash("payload_hash"));
  } else {
    throw BadLine{"unknown record type '" + std::string(type) + "'"};
  }
}

void check_header(const JsonLine& json, History& history) {
  const Fields f(json.fields);
  if (!f.has("type") || f.text("type") != "header") throw BadLine{"the first line is not a header"};
  if (f.text("format") != format_name) {
    throw BadLine{"format '" + std::string(f.text("format")) + "', expected '" +
                  std::string(format_name) + "'"};
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
  JsonLines lines(text);
  JsonLine json;  // reused: its vectors keep their capacity from line to line
  size_t records = 0;
  try {
    while (lines.next(json)) {
      if (records++ == 0) {
        check_header(json, history);
      } else {
        parse_record(json, lines.line_number(), history, entries);
      }
    }
    if (!lines.error().empty()) throw BadLine{lines.error()};
    if (records == 0) throw BadLine{"empty: no header"};
    for (auto& [name, list] : entries) {
      LogHistory& log = history.logs[name];
      if (!log.final_read || !log.final_read->ok) {
        throw BadLine{"final_entry lines for log '" + name + "' without an ok final line"};
      }
      log.final_read->entries = std::move(list);
    }
  } catch (const BadLine& bad) {
    return Parsed{std::nullopt,
                  "line " + std::to_string(std::max<size_t>(lines.line_number(), 1)) + ": " +
                      bad.message};
  }
  for (const auto& [name, log] : history.logs) {
    if (!log.final_read || !log.final_read->ok) continue;
    const uint64_t span = log.final_read->end - log.final_read->first_kept;
    if (log.final_read->entries.size() != span) {
      return Parsed{std::nullopt, "log '" + name + "': the final read lists " +
                                      std::to_string(log.final_read->entries.size()) +
                                      " entries between first_kept and end " +
                                      std::to_string(span)};
    }
  }
  return Parsed{std::move(history), {}};
}

}  // namespace lincheck
