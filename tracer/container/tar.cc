#include "tracer/container/tar.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>

#include "core/atomic_file.h"
#include "core/error.h"

namespace sctrace::container {

namespace {

constexpr size_t kBlock = 512;

void put_octal(char* field, size_t width, unsigned long long v) {
  // width-1 digits, zero padded, NUL terminated.
  std::string s = fmt::format("{:0{}o}", v, width - 1);
  if (s.size() > width - 1) fail(ErrorKind::input, "tar: value {} does not fit a {}-byte field", v, width);
  std::memcpy(field, s.data(), s.size());
  field[width - 1] = '\0';
}

void put_header(std::string& out, const TarEntry& e) {
  std::string path = e.path;
  while (!path.empty() && path.front() == '/') path.erase(0, 1);
  if (e.directory && !path.empty() && path.back() != '/') path += '/';
  if (path.empty()) fail(ErrorKind::input, "tar: empty path");
  char h[kBlock] = {};
  // name[100] at 0, prefix[155] at 345: a long path is split at a '/'.
  if (path.size() <= 100) {
    std::memcpy(h, path.data(), path.size());
  } else {
    size_t cut = path.rfind('/', 155);
    while (cut != std::string::npos && path.size() - cut - 1 > 100) cut = std::string::npos;
    if (cut == std::string::npos || cut == 0) fail(ErrorKind::input, "tar: path too long for ustar: {}", path);
    std::memcpy(h + 345, path.data(), cut);
    std::memcpy(h, path.data() + cut + 1, path.size() - cut - 1);
  }
  put_octal(h + 100, 8, e.mode & 07777);
  put_octal(h + 108, 8, 0);  // uid
  put_octal(h + 116, 8, 0);  // gid
  put_octal(h + 124, 12, e.directory ? 0 : e.data.size());
  put_octal(h + 136, 12, 0);  // mtime
  h[156] = e.directory ? '5' : '0';
  std::memcpy(h + 257, "ustar\0" "00", 8);
  std::memcpy(h + 265, "root", 4);
  std::memcpy(h + 297, "root", 4);
  // The checksum is computed with its own field as spaces.
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::string cs = fmt::format("{:06o}", sum);
  std::memcpy(h + 148, cs.data(), 6);
  h[154] = '\0';
  h[155] = ' ';
  out.append(h, kBlock);
}

}  // namespace

std::string make_tar(const std::vector<TarEntry>& entries) {
  std::string out;
  for (const auto& e : entries) {
    put_header(out, e);
    if (e.directory) continue;
    out += e.data;
    out.append((kBlock - e.data.size() % kBlock) % kBlock, '\0');
  }
  out.append(2 * kBlock, '\0');
  return out;
}

TarEntry tar_file_from_host(const std::string& host_path, const std::string& path) {
  struct stat st;
  if (stat(host_path.c_str(), &st) != 0) fail_errno(ErrorKind::io, errno, host_path);
  TarEntry e;
  e.path = path;
  // A binary (the sensor is 25 MB with debug info): not bound by the JSON input limit.
  e.data = read_file(host_path, std::max<size_t>(kMaxInputBytes, static_cast<size_t>(st.st_size)));
  e.mode = st.st_mode & 07777;
  return e;
}

}  // namespace sctrace::container
