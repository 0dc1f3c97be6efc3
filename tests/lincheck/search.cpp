#include "tests/lincheck/search.h"

#include <algorithm>
#include <tuple>
#include <unordered_set>

namespace lincheck {

namespace {

constexpr size_t none = static_cast<size_t>(-1);

struct Hash128 {
  uint64_t low = 0;
  uint64_t high = 0;
  bool operator==(const Hash128&) const = default;
  void toggle(const Hash128& other) {
    low ^= other.low;
    high ^= other.high;
  }
};

struct Hash128Hasher {
  size_t operator()(const Hash128& h) const { return static_cast<size_t>(h.low ^ (h.high * 31)); }
};

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Operations kept in a fixed order (by a position), from which members are taken out and put
// back in last-in, first-out order: the dancing links of Wing & Gong's list.
class OrderedSet {
 public:
  // `members` in order; each is an operation index below `universe`.
  OrderedSet(const std::vector<size_t>& members, size_t universe)
      : prev_(universe + 1, none), next_(universe + 1, none), head_(universe) {
    size_t last = head_;
    for (size_t m : members) {
      next_[last] = m;
      prev_[m] = last;
      last = m;
    }
    next_[last] = head_;
    prev_[head_] = last;
  }
  [[nodiscard]] size_t first() const { return next_[head_] == head_ ? none : next_[head_]; }
  [[nodiscard]] size_t after(size_t m) const { return next_[m] == head_ ? none : next_[m]; }
  [[nodiscard]] bool empty() const { return next_[head_] == head_; }
  void remove(size_t m) {
    next_[prev_[m]] = next_[m];
    prev_[next_[m]] = prev_[m];
  }
  void restore(size_t m) {
    next_[prev_[m]] = m;
    prev_[next_[m]] = m;
  }

 private:
  std::vector<size_t> prev_;
  std::vector<size_t> next_;
  size_t head_;
};

// Call and return positions in the time order of all events: a call at the same instant as a
// return comes first, so simultaneous operations overlap. `none`: no return.
struct Positions {
  std::vector<size_t> call;
  std::vector<size_t> ret;
};

Positions order_events(const std::vector<Op>& ops) {
  std::vector<std::tuple<int64_t, bool, size_t>> events;
  events.reserve(2 * ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    events.emplace_back(ops[i].call_ns, false, i);
    if (ops[i].return_ns) events.emplace_back(*ops[i].return_ns, true, i);
  }
  std::sort(events.begin(), events.end());
  Positions out{std::vector<size_t>(ops.size(), none), std::vector<size_t>(ops.size(), none)};
  for (size_t pos = 0; pos < events.size(); ++pos) {
    const auto [time, is_return, op] = events[pos];
    (is_return ? out.ret : out.call)[op] = pos;
  }
  return out;
}

class Search {
 public:
  Search(Model& model, uint64_t steps_max)
      : Search(model, steps_max, order_events(model.ops())) {}

  Search(Model& model, uint64_t steps_max, Positions positions)
      : model_(model),
        steps_max_(steps_max),
        call_pos_(std::move(positions.call)),
        return_pos_(std::move(positions.ret)),
        greedy_(members([&](size_t op) { return model.is_greedy(op); }, call_pos_),
                model.ops().size()),
        returns_(members([&](size_t op) { return model.ops()[op].return_ns.has_value(); },
                         return_pos_),
                 model.ops().size()) {
    uint64_t state = 0x5eed;  // fixed: the same history always takes the same path
    zobrist_.resize(model_.ops().size());
    for (Hash128& z : zobrist_) z = Hash128{splitmix64(state), splitmix64(state)};
    for (size_t op = 0; op < model_.ops().size(); ++op) {
      if (model_.ops()[op].kind == OpKind::open) opens_.push_back(op);
    }
    std::sort(opens_.begin(), opens_.end(),
              [&](size_t x, size_t y) { return call_pos_[x] < call_pos_[y]; });
  }

  SearchResult run() {
    while (!returns_.empty()) {
      if (result_.steps >= steps_max_) {
        result_.kind = SearchResult::Kind::exhausted;
        return result_;
      }
      apply_greedy();
      if (returns_.empty()) break;
      if (choose(candidates(), 0)) continue;
      // Every candidate failed: the first pending return's operation cannot be linearised.
      note_stuck(returns_.first());
      if (!backtrack()) {
        result_.kind = SearchResult::Kind::not_linearizable;
        return result_;
      }
    }
    result_.kind = SearchResult::Kind::linearizable;
    return result_;
  }

 private:
  struct Frame {
    size_t op = 0;
    bool greedy = false;
    std::vector<size_t> candidates;  // a choice: what was on offer, and which was taken
    size_t taken = 0;
  };

  template <typename Predicate>
  std::vector<size_t> members(Predicate wanted, const std::vector<size_t>& position) const {
    std::vector<size_t> out;
    for (size_t op = 0; op < model_.ops().size(); ++op) {
      if (wanted(op)) out.push_back(op);
    }
    std::sort(out.begin(), out.end(),
              [&](size_t x, size_t y) { return position[x] < position[y]; });
    return out;
  }

  // An operation may go next only if no pending operation returned before it was called.
  [[nodiscard]] bool reachable(size_t op) const {
    const size_t first_return = returns_.first();
    return first_return == none || call_pos_[op] < return_pos_[first_return];
  }

  void take(size_t op, bool greedy) {
    if (model_.ops()[op].return_ns) returns_.remove(op);
    if (greedy) greedy_.remove(op);
    if (!greedy && model_.ops()[op].kind == OpKind::open) ++opens_taken_;
  }
  void give_back(size_t op, bool greedy) {
    if (!greedy && model_.ops()[op].kind == OpKind::open) --opens_taken_;
    if (greedy) greedy_.restore(op);
    if (model_.ops()[op].return_ns) returns_.restore(op);
  }

  // Applies every greedy operation that can go, in call order, until none can.
  void apply_greedy() {
    for (size_t op = greedy_.first(); op != none && reachable(op);) {
      ++result_.steps;
      if (model_.apply(op, nullptr)) {
        stack_.push_back(Frame{op, true, {}, 0});
        take(op, true);
        op = greedy_.first();
      } else {
        op = greedy_.after(op);
      }
    }
  }

  // What may be chosen now: the attempts that may take the next id, and the next open.
  std::vector<size_t> candidates() {
    std::vector<size_t> offered;
    model_.attempts_for_next_id(offered);
    if (opens_taken_ < opens_.size()) offered.push_back(opens_[opens_taken_]);
    std::erase_if(offered, [&](size_t op) { return !reachable(op); });
    std::sort(offered.begin(), offered.end(),
              [&](size_t x, size_t y) { return call_pos_[x] < call_pos_[y]; });
    return offered;
  }

  // Takes the first of `offered` from `from` on that the model accepts and that leads to a set
  // of choices not tried before.
  bool choose(std::vector<size_t> offered, size_t from) {
    for (size_t i = from; i < offered.size(); ++i) {
      const size_t op = offered[i];
      ++result_.steps;
      if (!model_.apply(op, nullptr)) continue;
      Hash128 next = chosen_;
      next.toggle(zobrist_[op]);
      if (!seen_.insert(next).second) {
        model_.undo(op);
        continue;
      }
      chosen_ = next;
      take(op, false);
      stack_.push_back(Frame{op, false, std::move(offered), i});
      return true;
    }
    return false;
  }

  // Undoes greedy steps and the last choice, then takes the next candidate of that choice (or
  // backs up further). False when nothing is left to try.
  bool backtrack() {
    while (!stack_.empty()) {
      Frame frame = std::move(stack_.back());
      stack_.pop_back();
      model_.undo(frame.op);
      give_back(frame.op, frame.greedy);
      if (frame.greedy) continue;
      chosen_.toggle(zobrist_[frame.op]);
      if (choose(std::move(frame.candidates), frame.taken + 1)) return true;
    }
    return false;
  }

  void note_stuck(size_t op) {
    if (!result_.stuck.empty() && stack_.size() <= result_.linearized_max) return;
    result_.linearized_max = std::max<uint64_t>(result_.linearized_max, stack_.size());
    std::string why;
    if (model_.apply(op, &why)) {
      model_.undo(op);
      why = "every order of the operations around it was tried";
    }
    result_.stuck = model_.describe(op) + ": " + why;
  }

  Model& model_;
  uint64_t steps_max_;
  const std::vector<size_t> call_pos_;
  const std::vector<size_t> return_pos_;
  OrderedSet greedy_;   // greedy operations not linearised, by call
  OrderedSet returns_;  // operations with a return not linearised, by return
  std::vector<size_t> opens_;  // in call order: opens are instants, so they go in that order
  size_t opens_taken_ = 0;
  std::vector<Hash128> zobrist_;
  Hash128 chosen_;  // of the non-greedy operations linearised
  std::unordered_set<Hash128, Hash128Hasher> seen_;
  std::vector<Frame> stack_;
  SearchResult result_;
};

}  // namespace

SearchResult search(Model& model, uint64_t steps_max) {
  Search s(model, steps_max);
  return s.run();
}

}  // namespace lincheck
