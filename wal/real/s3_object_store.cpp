#include "wal/real/s3_object_store.h"

#include <algorithm>
#include <charconv>

#include "wal/async/sleep.h"
#include "s3_store_state.h"
#include "wal/real/s3_xml.h"

namespace wal {

namespace s3 {

namespace {

using std::chrono::milliseconds;

// The attempt's timeout: the base, plus the body at the slowest acceptable rate, cut to what is
// left of the call. At least 1 ms (curl reads 0 as "no timeout").
milliseconds attempt_timeout(const S3Options& options, uint64_t body_bytes, Duration left) {
  const uint64_t transfer_ms = body_bytes * 1000 / options.transfer_bytes_per_second_min;
  const milliseconds wanted = options.attempt_timeout + milliseconds(transfer_ms);
  const auto left_ms = std::chrono::duration_cast<milliseconds>(left);
  return std::max(milliseconds(1), std::min(wanted, left_ms));
}

bool retry_allowed(const HttpResult& result, RetryPolicy policy) {
  const bool mutation = policy == RetryPolicy::mutation;
  return classify_failure(result, mutation, "").retry_safe;
}

// Exponential from backoff_min, capped at backoff_max, with +-50% jitter.
milliseconds backoff(S3ObjectStore::State& state, uint32_t attempt) {
  const int64_t base = state.options.backoff_min.count() << std::min<uint32_t>(attempt, 16);
  const int64_t capped = std::min<int64_t>(base, state.options.backoff_max.count());
  const auto jitter = static_cast<int64_t>(state.random.between(0, static_cast<uint64_t>(capped)));
  return milliseconds(capped / 2 + jitter / 2 + 1);
}

}  // namespace

Task<HttpResult> exchange(std::shared_ptr<S3ObjectStore::State> state, Operation operation,
                          RetryPolicy policy, uint64_t response_body_bytes_max) {
  WAL_ASSERT(state != nullptr);
  WAL_ASSERT_GT(state->options.attempts_max, 0u);
  const TimePoint deadline = state->loop.now() + state->options.call_timeout;
  const uint64_t body_bytes = operation.body ? operation.body->size() : 0;
  for (uint32_t attempt = 0;; ++attempt) {
    HttpRequest request = state->signer.build(operation);
    request.connect_timeout = state->options.connect_timeout;
    request.timeout = attempt_timeout(state->options, body_bytes, deadline - state->loop.now());
    request.response_body_bytes_max = response_body_bytes_max;
    ++state->stats.requests;
    if (attempt > 0) ++state->stats.retries;
    HttpResult result = co_await state->transport.send(std::move(request));
    if (is_success(result) || !retry_allowed(result, policy)) co_return result;
    if (attempt + 1 >= state->options.attempts_max) co_return result;
    const milliseconds pause = backoff(*state, attempt);
    if (state->loop.now() + pause >= deadline) co_return result;
    co_await sleep_for(state->loop, pause);
  }
}

Error failure_of(S3ObjectStore::State& state, const HttpResult& result, bool mutation,
                 std::string_view what) {
  Error error = classify_failure(result, mutation, what).error;
  if (error.unknown()) ++state.stats.unknown_outcomes;
  return error;
}

}  // namespace s3

namespace {

using s3::HttpResult;
using s3::Operation;
using s3::RetryPolicy;
using State = S3ObjectStore::State;

// The character that starts a list token this store made from S3's continuation token. Keys
// cannot hold NUL (check_object_key), so no key passed as a start-after token starts with it.
constexpr char continuation_marker = '\0';

Result<uint64_t> parse_size(std::string_view text, std::string_view what) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size()) {
    return make_error(Errc::protocol, std::string(what) + ": bad size '" + std::string(text) +
                                          "' from the server");
  }
  return value;
}

// "bytes 10-19/1000" -> first 10, last 19, total 1000.
struct ContentRange {
  uint64_t first = 0;
  uint64_t last = 0;
  uint64_t total = 0;
};
Result<ContentRange> parse_content_range(std::string_view text, std::string_view what) {
  const auto bad = [&] {
    return make_error(Errc::protocol, std::string(what) + ": bad Content-Range '" +
                                          std::string(text) + "'");
  };
  if (!text.starts_with("bytes ")) return bad();
  text.remove_prefix(6);
  const size_t dash = text.find('-');
  const size_t slash = text.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) {
    return bad();
  }
  Result<uint64_t> first = parse_size(text.substr(0, dash), what);
  Result<uint64_t> last = parse_size(text.substr(dash + 1, slash - dash - 1), what);
  Result<uint64_t> total = parse_size(text.substr(slash + 1), what);
  if (!first.ok() || !last.ok() || !total.ok() || *last < *first || *last >= *total) return bad();
  return ContentRange{*first, *last, *total};
}

Result<ObjectInfo> info_from_headers(const HttpResult& result, std::string key,
                                     std::string_view what) {
  ObjectInfo info;
  info.key = std::move(key);
  Result<uint64_t> size = parse_size(result.header("content-length"), what);
  if (!size.ok()) return std::move(size).error();
  info.size_bytes = *size;
  info.etag = s3::unquote_etag(result.header("etag"));
  if (info.etag.empty()) return make_error(Errc::protocol, std::string(what) + ": no ETag");
  return info;
}

Task<Result<ObjectInfo>> head_object(std::shared_ptr<State> state, std::string key) {
  const std::string what = "HEAD " + key;
  Operation operation{"HEAD", key, {}, {}, nullptr};
  HttpResult result = co_await s3::exchange(state, std::move(operation), RetryPolicy::read);
  if (!s3::is_success(result)) co_return s3::failure_of(*state, result, false, what);
  co_return info_from_headers(result, std::move(key), what);
}

// A 412 on If-Match: S3 answers 404 for a missing key, RGW 412. A HEAD tells them apart (both
// answers are definite: the PUT changed nothing).
Task<Error> if_match_refusal(std::shared_ptr<State> state, std::string key, std::string what) {
  Result<ObjectInfo> current = co_await head_object(state, key);
  if (!current.ok() && current.error().code == Errc::not_found) {
    co_return make_error(Errc::not_found, what + ": no such key (If-Match)");
  }
  co_return make_error(Errc::condition_failed, what + ": the ETag does not match");
}

Task<Result<ObjectInfo>> put_object(std::shared_ptr<State> state, std::string key,
                                    SharedBytes body, PutCondition condition) {
  WAL_ASSERT(body != nullptr);
  WAL_CO_TRY(check_object_key(key));
  const std::string what = "PUT " + key;
  if (body->size() > limits::object_size_bytes_max) {
    co_return make_error(Errc::too_large, what + ": body of " + std::to_string(body->size()) +
                                              " bytes is over the object size limit");
  }
  Operation operation{"PUT", key, {}, {}, body};
  switch (condition.kind) {
    case PutCondition::Kind::none:
      break;
    case PutCondition::Kind::if_none_match:
      operation.headers.emplace_back("If-None-Match", "*");
      break;
    case PutCondition::Kind::if_match:
      if (condition.etag.empty()) {
        co_return make_error(Errc::invalid_argument, what + ": empty etag");
      }
      // Unquoted: RGW compares the raw string, and every server accepts the bare ETag.
      operation.headers.emplace_back("If-Match", s3::unquote_etag(condition.etag));
      break;
  }
  HttpResult result = co_await s3::exchange(state, std::move(operation), RetryPolicy::mutation);
  if (s3::is_success(result)) {
    std::string etag = s3::unquote_etag(result.header("etag"));
    if (etag.empty()) {
      // The PUT landed; only its ETag is missing from the answer. Ask for it.
      Result<ObjectInfo> info = co_await head_object(state, key);
      if (!info.ok()) co_return make_unknown(Errc::protocol, what + ": no ETag in the answer");
      etag = info->etag;
    }
    co_return ObjectInfo{std::move(key), body->size(), std::move(etag)};
  }
  const bool answered_once = result.failure == s3::HttpFailure::none && result.send_count <= 1;
  if (answered_once && result.status == 412) {
    if (condition.kind == PutCondition::Kind::if_none_match) {
      co_return make_error(Errc::already_exists, what + ": the key exists (If-None-Match)");
    }
    if (condition.kind == PutCondition::Kind::if_match) {
      co_return co_await if_match_refusal(state, std::move(key), what);
    }
  }
  co_return s3::failure_of(*state, result, true, what);
}

std::string range_header(ByteRange range) {
  WAL_ASSERT_GT(range.length, 0u);
  const uint64_t room = UINT64_MAX - range.offset;
  if (range.length - 1 >= room) return "bytes=" + std::to_string(range.offset) + "-";
  return "bytes=" + std::to_string(range.offset) + "-" +
         std::to_string(range.offset + range.length - 1);
}

// Builds the answer of a successful GET; checks the body against what was asked for.
Result<ObjectData> object_from_get(HttpResult& result, std::string key,
                                   std::optional<ByteRange> range, std::string_view what) {
  ObjectData data;
  data.info.key = std::move(key);
  data.info.etag = s3::unquote_etag(result.header("etag"));
  if (data.info.etag.empty()) return make_error(Errc::protocol, std::string(what) + ": no ETag");
  if (result.status == 206) {
    Result<ContentRange> content = parse_content_range(result.header("content-range"), what);
    if (!content.ok()) return std::move(content).error();
    const bool as_asked = range.has_value() && content->first == range->offset &&
                          content->last - content->first + 1 <= range->length &&
                          result.body.size() == content->last - content->first + 1;
    if (!as_asked) {
      return make_error(Errc::protocol, std::string(what) + ": the server sent another range");
    }
    data.info.size_bytes = content->total;
    data.body = std::move(result.body);
    return data;
  }
  // 200: the whole object, also when a range was asked for (a server may ignore Range).
  data.info.size_bytes = result.body.size();
  data.body = std::move(result.body);
  if (range.has_value()) {
    if (range->offset >= data.body.size() && !(range->offset == 0 && data.body.empty())) {
      return make_error(Errc::out_of_range, std::string(what) + ": range starts past the end");
    }
    const uint64_t end = range->offset + std::min(range->length, data.body.size() - range->offset);
    data.body = Bytes(data.body.begin() + static_cast<ptrdiff_t>(range->offset),
                      data.body.begin() + static_cast<ptrdiff_t>(end));
  }
  return data;
}

Task<Result<ObjectData>> get_object(std::shared_ptr<State> state, std::string key,
                                    std::optional<ByteRange> range) {
  WAL_CO_TRY(check_object_key(key));
  const std::string what = "GET " + key;
  if (range.has_value() && range->length == 0) {
    co_return make_error(Errc::invalid_argument, what + ": empty range");
  }
  Operation operation{"GET", key, {}, {}, nullptr};
  if (range.has_value()) operation.headers.emplace_back("Range", range_header(*range));
  // Room for the whole object even with a range (a server may ignore Range), and for errors.
  constexpr uint64_t body_max = limits::object_size_bytes_max + (64u << 10);
  HttpResult result = co_await s3::exchange(state, std::move(operation), RetryPolicy::read,
                                            body_max);
  if (s3::is_success(result)) co_return object_from_get(result, std::move(key), range, what);
  if (result.failure == s3::HttpFailure::none && result.status == 416 && range.has_value() &&
      range->offset == 0) {
    // S3 refuses every range of an empty object; the interface allows offset 0 of one.
    Result<ObjectInfo> info = co_await head_object(state, key);
    if (info.ok() && info->size_bytes == 0) co_return ObjectData{std::move(info).value(), {}};
  }
  co_return s3::failure_of(*state, result, false, what);
}

Task<Result<ListPage>> list_objects(std::shared_ptr<State> state, std::string prefix,
                                    std::string token, size_t max_keys) {
  const std::string what = "LIST " + (prefix.empty() ? std::string("(whole bucket)") : prefix);
  if (max_keys == 0 || max_keys > limits::list_page_keys_max) {
    co_return make_error(Errc::invalid_argument, what + ": max_keys must be 1.." +
                                                     std::to_string(limits::list_page_keys_max));
  }
  Operation operation{"GET", "", {{"list-type", "2"}, {"max-keys", std::to_string(max_keys)}},
                      {}, nullptr};
  operation.query.emplace_back("prefix", prefix);
  // Keys may hold bytes XML 1.0 cannot carry (\x01): ask for them url-encoded.
  operation.query.emplace_back("encoding-type", "url");
  const bool continuation = !token.empty() && token.front() == continuation_marker;
  std::string start_after;
  if (continuation) {
    operation.query.emplace_back("continuation-token", token.substr(1));
  } else if (!token.empty()) {
    start_after = token;
    operation.query.emplace_back("start-after", token);
  }
  HttpResult result = co_await s3::exchange(state, std::move(operation), RetryPolicy::read);
  if (!s3::is_success(result)) co_return s3::failure_of(*state, result, false, what);
  Result<s3::ListObjectsResult> parsed = s3::parse_list_objects_v2(as_string_view(result.body));
  if (!parsed.ok()) co_return std::move(parsed).error();
  ListPage page;
  for (ObjectInfo& info : parsed->objects) {
    // Validate what came over the network instead of trusting it (order, prefix, page size).
    const bool ordered = page.objects.empty() ? info.key > start_after
                                              : info.key > page.objects.back().key;
    if (!info.key.starts_with(prefix) || !ordered || page.objects.size() >= max_keys) {
      co_return make_error(Errc::protocol, what + ": the server listed '" + info.key +
                                               "' out of order, outside the prefix or too many");
    }
    page.objects.push_back(std::move(info));
  }
  if (parsed->truncated) {
    if (!parsed->next_continuation_token.empty()) {
      page.next_token = std::string(1, continuation_marker) + parsed->next_continuation_token;
    } else {
      page.next_token = page.objects.back().key;  // start after it (checked non-empty by parse)
    }
  }
  co_return page;
}

}  // namespace

Task<Status> s3::delete_object(std::shared_ptr<State> state, std::string key) {
  WAL_CO_TRY(check_object_key(key));
  const std::string what = "DELETE " + key;
  Operation operation{"DELETE", key, {}, {}, nullptr};
  HttpResult result = co_await s3::exchange(state, std::move(operation), RetryPolicy::idempotent);
  if (s3::is_success(result)) co_return Status{};
  if (result.failure == s3::HttpFailure::none && result.status == 404 &&
      s3::error_body_of(result).code != "NoSuchBucket") {
    co_return Status{};  // some servers answer 404 for a missing key; S3 answers 204
  }
  co_return s3::failure_of(*state, result, true, what);
}

S3ObjectStore::S3ObjectStore(std::shared_ptr<State> state) : state_(std::move(state)) {
  WAL_ASSERT(state_ != nullptr);
}

S3ObjectStore::~S3ObjectStore() = default;

Task<Result<ObjectInfo>> S3ObjectStore::put(std::string key, Bytes body, PutCondition condition) {
  return put_object(state_, std::move(key), std::make_shared<const Bytes>(std::move(body)),
                    std::move(condition));
}

Task<Result<ObjectInfo>> S3ObjectStore::put_shared(std::string key, SharedBytes body,
                                                   PutCondition condition) {
  WAL_ASSERT(body != nullptr);
  return put_object(state_, std::move(key), std::move(body), std::move(condition));
}

Task<Result<ObjectData>> S3ObjectStore::get(std::string key, std::optional<ByteRange> range) {
  return get_object(state_, std::move(key), range);
}

Task<Result<ObjectInfo>> S3ObjectStore::head(std::string key) {
  return [](std::shared_ptr<State> state, std::string k) -> Task<Result<ObjectInfo>> {
    WAL_CO_TRY(check_object_key(k));
    co_return co_await head_object(std::move(state), std::move(k));
  }(state_, std::move(key));
}

Task<Result<ListPage>> S3ObjectStore::list(std::string prefix, std::string continuation_token,
                                           size_t max_keys) {
  return list_objects(state_, std::move(prefix), std::move(continuation_token), max_keys);
}

Task<Status> S3ObjectStore::remove(std::string key) {
  return s3::delete_object(state_, std::move(key));
}

const std::optional<S3Capabilities>& S3ObjectStore::capabilities() const {
  return state_->capabilities;
}
const S3Stats& S3ObjectStore::stats() const { return state_->stats; }
const S3Options& S3ObjectStore::options() const { return state_->options; }

}  // namespace wal
