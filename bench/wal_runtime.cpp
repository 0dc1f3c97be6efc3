#include "wal_runtime.h"

#include <filesystem>

#include "wal/real/local_object_store.h"
#include "wal/real/os_random.h"

namespace wal::bench {

WalRuntime::~WalRuntime() {
  // Users first, then the stores, then the pool (it finishes queued jobs before joining).
  client_.reset();
  env_.reset();
  counting_meta_.reset();
  counting_objects_.reset();
  meta_.reset();
  objects_.reset();
  pool_.reset();
}

Result<std::unique_ptr<WalRuntime>> WalRuntime::open(const std::string& dir,
                                                     const MetaStoreConfig& meta_config,
                                                     const std::optional<S3Options>& s3) {
  WAL_ASSERT(!dir.empty());
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return make_error(Errc::io_error, "cannot create " + dir + ": " + error.message());
  std::unique_ptr<WalRuntime> runtime(new WalRuntime());
  runtime->pool_ = std::make_unique<BlockingPool>(runtime->loop_, pool_threads_count);
  runtime->random_ = std::make_unique<Xoshiro256>(os_entropy_seed());
  if (s3.has_value()) {
    auto objects = runtime->run(S3ObjectStore::open(runtime->loop_, *s3, /*probe=*/false));
    if (!objects.ok()) return std::move(objects).error();
    runtime->objects_ = std::move(objects).value();
  } else {
    auto objects = runtime->run(LocalObjectStore::open(*runtime->pool_, dir + "/objects"));
    if (!objects.ok()) return std::move(objects).error();
    runtime->objects_ = std::move(objects).value();
  }
  auto meta = runtime->run(open_meta_store(meta_config, runtime->loop_, runtime->loop_, dir));
  if (!meta.ok()) return std::move(meta).error();
  runtime->meta_ = std::move(meta).value();
  runtime->counting_objects_ = std::make_unique<CountingObjectStore>(*runtime->objects_);
  runtime->counting_meta_ = std::make_unique<CountingMetaStore>(*runtime->meta_);
  runtime->env_.emplace(Env{runtime->loop_, runtime->loop_, *runtime->random_, runtime->faults_,
                            runtime->counting_objects_.get(), runtime->counting_meta_.get(),
                            nullptr, nullptr});
  runtime->client_.emplace(*runtime->env_, ClientOptions{.meta_root = meta_config.prefix});
  WAL_ASSERT(runtime->client_.has_value());
  return runtime;
}

}  // namespace wal::bench
