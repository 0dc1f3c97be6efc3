// Every id below the log's end was written by some append. Most ids are accounted for by an
// acknowledgement or a sighting; the others ("unclaimed": truncated before anyone read them)
// need an append that may have happened (unknown outcome, abandoned, pending) and that nobody
// saw elsewhere. Such an append fits a run of unclaimed ids only if one of its attempts (the
// original, or a keyed re-send by a later writer) was invoked before the id above the run was
// known to exist, by a writer whose epoch lies between those of the entries around the run (a
// newer writer's entries follow an older one's). Without that, the entries came from appends
// that reported a definite failure, or from nowhere.
#include <algorithm>
#include <limits>
#include <optional>

#include <fmt/core.h>

#include "sim/checker_support.h"

namespace wal::sim::checker_support {

namespace {

struct Claim {
  Epoch epoch_min = 0;
  Epoch epoch_max = std::numeric_limits<Epoch>::max();
  TimePoint known{};  // when the id was first known to exist
};

struct Attempt {
  Epoch epoch = 0;
  TimePoint invoked{};
};

struct Candidate {
  std::vector<Attempt> attempts;  // the original first, then the re-sends
  bool used = false;

  [[nodiscard]] Epoch epoch_min() const {
    Epoch low = attempts.front().epoch;
    for (const Attempt& a : attempts) low = std::min(low, a.epoch);
    return low;
  }
  [[nodiscard]] bool fits(const Claim& below, const Claim& above) const {
    return std::any_of(attempts.begin(), attempts.end(), [&](const Attempt& a) {
      return a.epoch >= below.epoch_min && a.epoch <= above.epoch_max && a.invoked < above.known;
    });
  }
};

// The epochs an append's entry may have been written with: its writer's, or a re-sender's.
std::pair<Epoch, Epoch> epochs_of(const AppendRecord& a, const Observed& observed) {
  Epoch low = a.epoch;
  Epoch high = a.epoch;
  for (const AppendAttempt& r : a.resends) {
    const auto found = observed.epoch_of_writer.find(r.writer_index);
    if (found == observed.epoch_of_writer.end()) continue;
    low = std::min(low, found->second);
    high = std::max(high, found->second);
  }
  return {low, high};
}

// Per id below `end`: who claims it (acknowledged, read, in the final log), or nothing.
std::vector<std::optional<Claim>> claims(const History& history, const Observed& observed,
                                         EntryId end) {
  std::vector<std::optional<Claim>> out(end);
  auto claim = [&](EntryId id, uint64_t hash, TimePoint known) {
    if (id >= end) return;
    std::optional<Claim>& c = out[id];
    if (c) {
      c->known = std::min(c->known, known);
      return;
    }
    c = Claim{};
    c->known = known;
    if (const auto a = observed.append_of.find(hash); a != observed.append_of.end()) {
      std::tie(c->epoch_min, c->epoch_max) = epochs_of(*a->second, observed);
    }  // else: bytes nobody sent (another rule names them), no bound
  };
  for (const AppendRecord& a : history.appends) {
    if (a.outcome == AppendOutcome::ok) claim(a.id, a.payload_hash, a.completed);
  }
  for (const ReadRecord& r : history.reads) claim(r.id, r.payload_hash, r.at);
  const FinalLog& log = history.final_log;
  for (size_t i = 0; i < log.ids.size(); ++i) claim(log.ids[i], log.payload_hashes[i], log.at);
  return out;
}

}  // namespace

void check_ids_accounted(const History& history, const Observed& observed,
                         std::vector<Anomaly>& out) {
  const FinalLog& log = history.final_log;
  if (!log.read_ok) return;
  const EntryId end = log.first_kept + log.ids.size();
  const std::vector<std::optional<Claim>> claimed = claims(history, observed, end);
  std::vector<Candidate> candidates;
  for (const AppendRecord& a : history.appends) {
    const bool may_have = a.outcome != AppendOutcome::ok &&
                          a.outcome != AppendOutcome::failed_definite;
    if (!may_have || observed.visible(a.payload_hash)) continue;
    // A keyed append re-sent by a later writer may have been written with that writer's epoch
    // (seed 3,030,581 of the keyed sweep: re-sent at epoch 7, truncated before any read).
    Candidate c;
    c.attempts.push_back({a.epoch, a.invoked});
    for (const AppendAttempt& r : a.resends) {
      const auto found = observed.epoch_of_writer.find(r.writer_index);
      if (found != observed.epoch_of_writer.end()) c.attempts.push_back({found->second, r.invoked});
    }
    candidates.push_back(std::move(c));
  }
  // Lowest epoch first: runs of unclaimed ids are taken in id order, and later runs need
  // newer writers.
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& x, const Candidate& y) {
    return std::pair(x.epoch_min(), x.attempts.front().invoked) <
           std::pair(y.epoch_min(), y.attempts.front().invoked);
  });
  for (EntryId low = 0; low < end;) {
    if (claimed[low]) {
      ++low;
      continue;
    }
    EntryId high = low;
    while (high < end && !claimed[high]) ++high;
    const Claim below = low > 0 ? *claimed[low - 1] : Claim{0, 0, TimePoint{}};
    const Claim above = high < end ? *claimed[high]
                                   : Claim{0, std::numeric_limits<Epoch>::max(), log.at};
    uint64_t found = 0;
    for (Candidate& c : candidates) {
      if (found == high - low) break;
      if (c.used || !c.fits(below, above)) continue;
      c.used = true;
      ++found;
    }
    if (found < high - low) {
      add(out, "phantom_entry",
          fmt::format("ids {}..{} were neither acknowledged nor seen, and only {} appends that "
                      "may have happened (invoked before {}ms, by a writer of epoch {}..{}) can "
                      "have written them", low, high - 1, found, ms(above.known),
                      below.epoch_min, above.epoch_max));
    }
    low = high;
  }
}

}  // namespace wal::sim::checker_support
