#include "core/record_frame.h"

#include <sys/random.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "core/error.h"
#include "core/hmac.h"

namespace sctrace {

namespace {

constexpr char kMagic[8] = {'S', 'C', 'T', 'R', 'F', 'R', 'M', '1'};

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

std::string_view as_view(const Digest& d) { return {reinterpret_cast<const char*>(d.data()), d.size()}; }

}  // namespace

std::string encode_frame(std::string_view key, uint64_t sequence, bool final_frame, std::string_view body) {
  std::string out(kMagic, sizeof kMagic);
  put_le(out, sequence, 8);
  put_le(out, final_frame ? kFrameFinal : 0, 4);
  put_le(out, body.size(), 4);
  out += as_view(hmac_sha256(key, {out}));
  const Digest body_mac = hmac_sha256(key, {out, body});
  out.reserve(out.size() + body.size() + kFrameMacBytes);
  out += body;
  out += as_view(body_mac);
  return out;
}

FrameReader::Verdict FrameReader::refuse(Verdict v, std::string why) {
  verdict_ = v;
  why_ = std::move(why);
  buf_.clear();
  buf_.shrink_to_fit();
  return verdict_;
}

FrameReader::Verdict FrameReader::feed(std::string_view data) {
  while (verdict_ == Verdict::reading && !data.empty()) {
    // Never more than the frame in hand: a header, or an authenticated body.
    const size_t want = have_header_ ? kFrameHeaderBytes + body_len_ + kFrameMacBytes : kFrameHeaderBytes;
    const size_t take = std::min(data.size(), want - buf_.size());
    buf_.append(data.substr(0, take));
    data.remove_prefix(take);
    if (buf_.size() < want) break;
    if (!have_header_) {
      const std::string_view head(buf_.data(), 24);
      const auto* mac = reinterpret_cast<const uint8_t*>(buf_.data() + 24);
      int found = -1;
      if (std::memcmp(buf_.data(), kMagic, sizeof kMagic) == 0) {
        if (key_ >= 0) {
          if (digest_equal(hmac_sha256((*keys_)[key_], {head}).data(), mac)) found = key_;
        } else {
          for (size_t i = 0; i < keys_->size() && found < 0; ++i)
            if (digest_equal(hmac_sha256((*keys_)[i], {head}).data(), mac)) found = static_cast<int>(i);
        }
      }
      if (found < 0)
        return key_ < 0 ? refuse(Verdict::unauthenticated, "not a frame made with any sensor's key")
                        : refuse(Verdict::tampered, fmt::format("frame {} has a bad header MAC", next_seq_));
      key_ = found;
      const uint64_t seq = get_le(buf_.data() + 8, 8);
      flags_ = static_cast<uint32_t>(get_le(buf_.data() + 16, 4));
      body_len_ = static_cast<uint32_t>(get_le(buf_.data() + 20, 4));
      if (final_) return refuse(Verdict::tampered, "a frame after the final one");
      if (seq != next_seq_) return refuse(Verdict::tampered, fmt::format("frame {} where {} was due", seq, next_seq_));
      if (body_len_ > max_body_)
        return refuse(Verdict::too_large, fmt::format("a recording of {} bytes, over the channel's bound of {} bytes",
                                                      body_len_, max_body_));
      have_header_ = true;
      continue;
    }
    const std::string_view header(buf_.data(), kFrameHeaderBytes);
    const std::string_view body(buf_.data() + kFrameHeaderBytes, body_len_);
    const auto* mac = reinterpret_cast<const uint8_t*>(buf_.data() + kFrameHeaderBytes + body_len_);
    if (!digest_equal(hmac_sha256((*keys_)[key_], {header, body}).data(), mac))
      return refuse(Verdict::tampered, fmt::format("frame {} has a bad MAC", next_seq_));
    if (!body.empty()) {
      latest_.assign(body);
      ++bodies_;
    }
    final_ = (flags_ & kFrameFinal) != 0;
    ++next_seq_;
    have_header_ = false;
    buf_.clear();
  }
  return verdict_;
}

std::string random_key_hex() {
  uint8_t raw[32];
  size_t got = 0;
  while (got < sizeof raw) {
    const ssize_t n = ::getrandom(raw + got, sizeof raw - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno(ErrorKind::runtime, errno, "getrandom");
    }
    got += static_cast<size_t>(n);
  }
  std::string hex;
  for (uint8_t b : raw) hex += fmt::format("{:02x}", b);
  return hex;
}

std::string key_from_hex(std::string_view hex) {
  if (hex.size() != 64) return {};
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (size_t j = i; j < i + 2; ++j) {
      const char c = hex[j];
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return {};
      v = v * 16 + d;
    }
    out.push_back(static_cast<char>(v));
  }
  return out;
}

}  // namespace sctrace
