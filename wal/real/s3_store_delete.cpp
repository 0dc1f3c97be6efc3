// S3ObjectStore::remove_many: DeleteObjects with per-key results.
#include <map>

#include "wal/real/s3_object_store.h"
#include "s3_store_state.h"
#include "wal/real/s3_xml.h"

namespace wal {

namespace {

using s3::HttpResult;
using State = S3ObjectStore::State;

Status status_of_failed_key(const s3::DeleteObjectsResult::Failure& failure) {
  const std::string message = "DeleteObjects " + failure.key + ": " + failure.code +
                              (failure.message.empty() ? "" : " (" + failure.message + ")");
  if (failure.code == "AccessDenied") return make_error(Errc::permission_denied, message);
  if (failure.code == "SlowDown" || failure.code == "InternalError") {
    return make_error(Errc::unavailable, message);
  }
  return make_error(Errc::io_error, message);
}

// One DeleteObjects request for `keys` (all valid and XML-safe); fills `out` at `indexes`.
// Returns the whole request's failure, if it failed as a whole.
Task<Status> delete_batch(std::shared_ptr<State> state, std::vector<std::string> keys,
                          std::vector<size_t> indexes, std::vector<Status>& out) {
  WAL_ASSERT_EQ(keys.size(), indexes.size());
  WAL_ASSERT(!keys.empty());
  const std::string body_text = s3::delete_objects_body(keys);
  auto body = std::make_shared<const Bytes>(to_bytes(body_text));
  s3::Operation operation{"POST", "", {{"delete", ""}},
                          {{"Content-MD5", s3::md5_base64(*body)},
                           {"Content-Type", "application/xml"}},
                          body};
  HttpResult result =
      co_await s3::exchange(state, std::move(operation), s3::RetryPolicy::idempotent);
  const std::string what = "DeleteObjects of " + std::to_string(keys.size()) + " keys";
  if (!s3::is_success(result)) co_return s3::failure_of(*state, result, true, what);
  Result<s3::DeleteObjectsResult> parsed = s3::parse_delete_objects(as_string_view(result.body));
  if (!parsed.ok()) {
    // The server answered 200, so it did delete something; what exactly is unknown.
    ++state->stats.unknown_outcomes;
    co_return make_unknown(Errc::protocol, what + ": " + parsed.error().message);
  }
  std::map<std::string, Status> by_key;
  for (const std::string& key : parsed->deleted) by_key.try_emplace(key, Status{});
  // A key reported failed stays failed even if it is also listed as deleted.
  for (const auto& failure : parsed->failed) by_key.insert_or_assign(failure.key,
                                                                     status_of_failed_key(failure));
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto found = by_key.find(keys[i]);
    if (found != by_key.end()) {
      out[indexes[i]] = found->second;
      continue;
    }
    ++state->stats.unknown_outcomes;
    out[indexes[i]] = make_unknown(Errc::protocol, "DeleteObjects " + keys[i] +
                                                       ": the server did not report this key");
  }
  co_return Status{};
}

// For servers without DeleteObjects (501), and for keys XML cannot carry: one DELETE each.
Task<void> delete_one_by_one(std::shared_ptr<State> state, std::vector<std::string> keys,
                             std::vector<size_t> indexes, std::vector<Status>& out) {
  WAL_ASSERT_EQ(keys.size(), indexes.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    out[indexes[i]] = co_await s3::delete_object(state, keys[i]);
  }
}

Task<Result<std::vector<Status>>> remove_keys(std::shared_ptr<State> state,
                                              std::vector<std::string> keys) {
  if (keys.size() > limits::list_page_keys_max) {
    co_return make_error(Errc::invalid_argument,
                         "DeleteObjects: more than " +
                             std::to_string(limits::list_page_keys_max) + " keys");
  }
  std::vector<Status> out(keys.size());
  std::vector<std::string> batch_keys;
  std::vector<size_t> batch_indexes;
  std::vector<std::string> single_keys;
  std::vector<size_t> single_indexes;
  for (size_t i = 0; i < keys.size(); ++i) {
    Status valid = check_object_key(keys[i]);
    if (!valid.ok()) {
      out[i] = std::move(valid);
    } else if (s3::xml_can_carry(keys[i])) {
      batch_keys.push_back(keys[i]);
      batch_indexes.push_back(i);
    } else {
      single_keys.push_back(keys[i]);
      single_indexes.push_back(i);
    }
  }
  if (!batch_keys.empty()) {
    Status batch = co_await delete_batch(state, batch_keys, batch_indexes, out);
    if (!batch.ok() && batch.error().code == Errc::unsupported) {
      co_await delete_one_by_one(state, std::move(batch_keys), std::move(batch_indexes), out);
    } else if (!batch.ok()) {
      co_return std::move(batch).error();
    }
  }
  if (!single_keys.empty()) {
    co_await delete_one_by_one(state, std::move(single_keys), std::move(single_indexes), out);
  }
  WAL_ASSERT_EQ(out.size(), keys.size());
  co_return out;
}

}  // namespace

Task<Result<std::vector<Status>>> S3ObjectStore::remove_many(std::vector<std::string> keys) {
  return remove_keys(state_, std::move(keys));
}

}  // namespace wal
