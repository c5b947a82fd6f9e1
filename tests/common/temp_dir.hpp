// A fresh folder under the system's temp folder, removed with everything in
// it when the object goes. Shared by the test binaries (tests/CMakeLists.txt
// puts tests/common on their include path).
//
//   cairn::testing::TempDir dir;             // e.g. /tmp/cairn-test-Ab12Cd
//   Open(dir.Sub("store"));                  // "/tmp/cairn-test-Ab12Cd/store"
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace cairn::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "cairn-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed for " + tmpl);
    }
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string Sub(const std::string& name) const {
    return (path_ / name).string();
  }

 private:
  std::filesystem::path path_;
};

}  // namespace cairn::testing
