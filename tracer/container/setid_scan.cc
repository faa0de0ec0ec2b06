#include "tracer/container/setid_scan.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>

#include "tracer/container/engine.h"

namespace sctrace::container {

namespace {

uint64_t octal(const char* p, size_t n) {
  // GNU base-256 for large sizes: high bit of the first byte set.
  if (static_cast<unsigned char>(p[0]) & 0x80) {
    uint64_t v = static_cast<unsigned char>(p[0]) & 0x7f;
    for (size_t i = 1; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < n && p[i]; ++i) {
    if (p[i] == ' ') continue;
    if (p[i] < '0' || p[i] > '7') break;
    v = v * 8 + static_cast<uint64_t>(p[i] - '0');
  }
  return v;
}

std::string field(const char* p, size_t n) { return std::string(p, strnlen(p, n)); }

uint64_t padded(uint64_t size) { return (size + 511) / 512 * 512; }

}  // namespace

void SetidTarScanner::header(const char* h) {
  if (std::all_of(h, h + 512, [](char c) { return c == 0; })) return;  // end-of-archive blocks
  uint64_t size = octal(h + 124, 12);
  char type = h[156];
  if (type == 'L' || type == 'x') {  // the next entry's name follows as data
    capture_ = size;
    capture_type_ = type;
    captured_.clear();
    skip_ = padded(size) - size;
    return;
  }
  std::string name = field(h, 100);
  if (std::memcmp(h + 257, "ustar", 5) == 0) {
    std::string prefix = field(h + 345, 155);
    if (!prefix.empty()) name = prefix + "/" + name;
  }
  if (!next_name_.empty()) name = std::exchange(next_name_, std::string());
  uint64_t mode = octal(h + 100, 8);
  bool regular = type == '0' || type == 0 || type == '7';
  if (regular && (mode & (S_ISUID | S_ISGID)) != 0) {
    if (name.rfind("./", 0) == 0) name = name.substr(1);
    if (name.empty() || name[0] != '/') name = "/" + name;
    files_.push_back(name);
  }
  skip_ = padded(size);
}

void SetidTarScanner::feed(std::string_view data) {
  buf_.append(data);
  size_t pos = 0;
  for (;;) {
    if (capture_ > 0) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(capture_, buf_.size() - pos));
      captured_.append(buf_, pos, n);
      pos += n;
      capture_ -= n;
      if (capture_ > 0) break;
      if (capture_type_ == 'L') {
        next_name_ = std::string(captured_.c_str());
      } else {
        // pax records: "<len> key=value\n"...
        size_t p = 0;
        while (p < captured_.size()) {
          size_t sp = captured_.find(' ', p);
          if (sp == std::string::npos) break;
          size_t len = std::strtoul(captured_.c_str() + p, nullptr, 10);
          if (len == 0 || p + len > captured_.size()) break;
          std::string rec = captured_.substr(sp + 1, p + len - sp - 2);
          if (rec.rfind("path=", 0) == 0) next_name_ = rec.substr(5);
          p += len;
        }
      }
      continue;
    }
    if (skip_ > 0) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(skip_, buf_.size() - pos));
      pos += n;
      skip_ -= n;
      if (skip_ > 0) break;
      continue;
    }
    if (buf_.size() - pos < 512) break;
    header(buf_.data() + pos);
    pos += 512;
  }
  buf_.erase(0, pos);
}

std::vector<std::string> setid_files(Engine& engine, const std::string& container_id) {
  SetidTarScanner scan;
  Engine::RequestOptions opts;
  opts.timeout = std::chrono::minutes(10);
  opts.on_data = [&](std::string_view chunk) { scan.feed(chunk); };
  engine.checked("GET", "/containers/" + url_path_escape(container_id) + "/export", nullptr, opts);
  std::vector<std::string> files = scan.files();
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace sctrace::container
