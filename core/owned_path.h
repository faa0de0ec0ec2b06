#pragma once
// A file or directory tree that sctrace created and removes when the owner
// goes out of scope (a profile written for a runtime, a cidfile, a private
// bundle copy). Move-only; release() gives the path up without removing it.
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

namespace sctrace {

class OwnedPath {
 public:
  OwnedPath() = default;
  explicit OwnedPath(std::string path) : path_(std::move(path)) {}
  OwnedPath(OwnedPath&& o) noexcept : path_(std::exchange(o.path_, {})) {}
  OwnedPath& operator=(OwnedPath&& o) noexcept {
    if (this != &o) {
      remove();
      path_ = std::exchange(o.path_, {});
    }
    return *this;
  }
  OwnedPath(const OwnedPath&) = delete;
  OwnedPath& operator=(const OwnedPath&) = delete;
  ~OwnedPath() { remove(); }

  const std::string& path() const { return path_; }
  std::string release() { return std::exchange(path_, {}); }

 private:
  void remove() {
    std::error_code ec;  // already gone, or never created: nothing to do
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }

  std::string path_;
};

}  // namespace sctrace
