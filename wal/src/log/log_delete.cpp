// LogClient::delete_log and finish_deletions: deleting a log so that an interruption at any
// point leaves a marker that says what is left to delete.
#include <charconv>

#include "wal/log/log_client.h"
#include "wal/log/object_sweep.h"
#include "wal/log/retry.h"

namespace wal {

namespace {

std::string deletion_key(std::string_view meta_root, uint64_t log_id) {
  return deleting_prefix(meta_root) + pad20(log_id);
}

}  // namespace

std::string deleting_prefix(std::string_view meta_root) {
  return std::string(meta_root) + "deleting/";
}

Task<Status> LogClient::delete_log(std::string name) {
  Result<LogInfo> info = co_await get_log(name);
  if (!info.ok() && info.error().code == Errc::not_found) {
    // Perhaps an earlier deletion of this name was interrupted after its metadata went.
    std::optional<std::string> this_name = name;  // no temporary in a co_await expression
    Result<std::vector<PendingDeletion>> finished =
        co_await finish_deletions(std::move(this_name));
    if (!finished.ok()) co_return std::move(finished).error();
    if (finished->empty()) co_return std::move(info).error();
    co_return Status{};
  }
  if (!info.ok()) co_return std::move(info).error();
  const LogKeys keys = keys_for(*info);
  const PendingDeletion deletion{name, info->meta.log_id};
  const std::string marker = deletion_key(options_.meta_root, deletion.log_id);
  TxnRequest request;
  request.compares = {Compare{keys.log_key(), Compare::Target::create_revision,
                              Compare::Op::greater, 0, {}}};
  request.success = {DeleteOp{keys.log_key(), {}},
                     DeleteOp{keys.log_prefix(), prefix_end(keys.log_prefix())},
                     PutOp{marker, name, 0}};
  Result<TxnResponse> response = co_await env_.meta_store->txn(std::move(request));
  if (!response.ok()) {
    // Unknown: the next call settles it (the log is gone and the marker says what is left, or
    // the log is still there).
    co_return std::move(response).error();
  }
  if (!response->succeeded) co_return make_error(Errc::not_found, "no log named '" + name + "'");
  Status finished = co_await finish_deletion(deletion);
  if (!finished.ok()) {
    // The metadata is gone already: the deletion did take effect, so the error must not read
    // as "nothing happened". The marker keeps what is left; a repeated delete_log finishes it.
    const Error& error = finished.error();
    co_return make_unknown(error.code, "log '" + name + "': metadata deleted, but deleting its "
                                           "objects failed: " + error.message);
  }
  co_return Status{};
}

Task<Result<std::vector<PendingDeletion>>> LogClient::finish_deletions(
    std::optional<std::string> name) {
  const std::string prefix = deleting_prefix(options_.meta_root);
  Result<RangeResponse> all = co_await read_prefix(env_, prefix);
  if (!all.ok()) co_return std::move(all).error();
  std::vector<PendingDeletion> finished;
  for (const KeyValue& kv : all->kvs) {
    const std::string_view digits = std::string_view(kv.key).substr(prefix.size());
    PendingDeletion deletion{kv.value, 0};
    const auto [end, error] =
        std::from_chars(digits.data(), digits.data() + digits.size(), deletion.log_id);
    if (digits.size() != 20 || error != std::errc() || end != digits.data() + digits.size()) {
      co_return make_error(Errc::corrupt, kv.key + ": not a deletion marker");
    }
    if (name && deletion.name != *name) continue;
    WAL_CO_TRY(co_await finish_deletion(deletion));
    finished.push_back(std::move(deletion));
  }
  co_return finished;
}

// Objects first, marker last: a crash in between only repeats the (idempotent) deletion.
Task<Status> LogClient::finish_deletion(const PendingDeletion& deletion) {
  const std::string object_prefix = options_.object_root + pad20(deletion.log_id) + "/";
  Result<uint64_t> deleted = co_await sweep_objects(
      env_, object_prefix, [](const ObjectInfo&) { return SweepChoice::remove; });
  if (!deleted.ok()) co_return std::move(deleted).error();
  TxnRequest request;
  request.success = {DeleteOp{deletion_key(options_.meta_root, deletion.log_id), {}}};
  Result<TxnResponse> response = co_await env_.meta_store->txn(std::move(request));
  // Unknown: the marker may remain; the next pass deletes nothing and removes it.
  if (!response.ok()) co_return std::move(response).error();
  co_return Status{};
}

}  // namespace wal
