#pragma once
// A fresh, empty directory under the system temp dir, removed with everything in it when
// destroyed. For tests of the real implementations (files, SQLite, the S3 harness's metadata).

#include <string>

namespace wal::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace wal::testing
