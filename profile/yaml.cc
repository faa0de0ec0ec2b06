#include "profile/yaml.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace sctrace {
namespace {

using nlohmann::json;

struct Line {
  size_t no = 0;          // 1-based, for messages
  std::string_view raw;   // without the line end
  size_t indent = 0;      // leading spaces; for "- x" moved to the column of x once the entry is entered
};

bool is_ws(char c) { return c == ' ' || c == '\t'; }

// Length of the UTF-8 sequence at s[i] (a non-ASCII byte), 0 when invalid:
// overlong forms, surrogates and code points past U+10FFFF are invalid too.
size_t utf8_length(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  uint32_t cp = 0;
  if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1Fu;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0Fu;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07u;
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    auto d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xC0u) != 0x80u) return 0;
    cp = (cp << 6) | (d & 0x3Fu);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// A value quoted for a one-line message (escapes control characters).
std::string shown(std::string_view s) {
  std::string v(s.substr(0, 60));
  if (s.size() > 60) v.replace(57, 3, "...");
  // A cut may split a UTF-8 sequence: replace rather than throw.
  return json(v).dump(-1, ' ', false, json::error_handler_t::replace);
}

bool one_of(std::string_view s, std::initializer_list<std::string_view> set) {
  for (auto x : set)
    if (s == x) return true;
  return false;
}

bool all_digits(std::string_view s, bool hex = false) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))))) return false;
  return true;
}

class YamlReader {
 public:
  YamlReader(std::string_view text, std::string_view source) : source_(source) { split(text); }

  json document() {
    skip_blank();
    if (!at_end()) {
      const Line& l = cur();
      if (l.raw.front() == '%') bad(l.no, "directives (%YAML, %TAG) are not supported");
      if (is_marker(l, "---")) {
        if (!rest_is_blank(l.raw.substr(3)))
          bad(l.no, "content on the '---' line is not supported (start the document on the next line)");
        ++pos_;
        skip_blank();
      }
    }
    json root = nullptr;
    if (!structural_end()) root = block(0, 0);
    skip_blank();
    if (!at_end()) {
      const Line& l = cur();
      if (is_marker(l, "...")) {
        if (!rest_is_blank(l.raw.substr(3))) bad(l.no, "content after the document end '...'");
        ++pos_;
        skip_blank();
        if (!at_end()) bad(cur().no, "content after the document end '...' (one document only)");
      } else if (is_marker(l, "---")) {
        bad(l.no, "several YAML documents in one file are not supported");
      } else {
        bad(l.no, "unexpected content (indentation?)");
      }
    }
    return root;
  }

 private:
  template <typename... Args>
  [[noreturn]] void bad(size_t line, fmt::format_string<Args...> f, Args&&... args) const {
    fail(ErrorKind::input, "{}: line {}: {}", source_, line, fmt::format(f, std::forward<Args>(args)...));
  }

  void split(std::string_view text) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    size_t no = 1, start = 0;
    for (size_t i = 0;;) {
      if (i == text.size() || text[i] == '\n') {
        std::string_view raw = text.substr(start, i - start);
        if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
        Line l{no, raw, 0};
        while (l.indent < raw.size() && raw[l.indent] == ' ') ++l.indent;
        lines_.push_back(l);
        if (i == text.size()) break;
        ++i, ++no, start = i;
        continue;
      }
      auto c = static_cast<unsigned char>(text[i]);
      if (c < 0x80) {
        bool crlf = c == '\r' && i + 1 < text.size() && text[i + 1] == '\n';
        if (c < 0x20 && c != '\t' && !crlf) bad(no, "control character 0x{:02x}", c);
        ++i;
        continue;
      }
      size_t n = utf8_length(text, i);
      if (n == 0) bad(no, "invalid UTF-8");
      i += n;
    }
  }

  bool at_end() const { return pos_ >= lines_.size(); }
  Line& cur() { return lines_[pos_]; }
  static std::string_view content(const Line& l) { return l.raw.substr(l.indent); }

  // Nothing but whitespace and perhaps a comment.
  static bool rest_is_blank(std::string_view s) {
    size_t i = 0;
    while (i < s.size() && is_ws(s[i])) ++i;
    return i == s.size() || s[i] == '#';
  }

  static bool is_marker(const Line& l, std::string_view m) {
    return l.indent == 0 && l.raw.substr(0, 3) == m && (l.raw.size() == 3 || is_ws(l.raw[3]));
  }

  bool structural_end() {
    return at_end() || is_marker(cur(), "---") || is_marker(cur(), "...");
  }

  void skip_blank() {
    while (!at_end()) {
      const Line& l = cur();
      if (!rest_is_blank(l.raw.substr(l.indent))) {
        if (l.raw[l.indent] == '\t') bad(l.no, "tab used for indentation (YAML indents with spaces only)");
        return;
      }
      ++pos_;  // blank, or a comment after spaces and tabs
    }
  }

  void enter(int depth, size_t no) const {
    if (depth > kMaxYamlDepth) bad(no, "nesting deeper than {} levels", kMaxYamlDepth);
  }

  static bool seq_entry(std::string_view c) { return !c.empty() && c[0] == '-' && (c.size() == 1 || is_ws(c[1])); }

  // ---- scalars -------------------------------------------------------------

  // A quoted scalar starting at s[i]; leaves i after the closing quote.
  std::string quoted(std::string_view s, size_t& i, size_t no) const {
    const char q = s[i++];
    std::string out;
    while (true) {
      if (i >= s.size())
        bad(no, "unterminated {} string (quoted scalars must end on their line)",
            q == '"' ? "double-quoted" : "single-quoted");
      char c = s[i++];
      if (c == q) {
        if (q == '\'' && i < s.size() && s[i] == '\'') {  // '' is a quote inside '...'
          out += '\'';
          ++i;
          continue;
        }
        return out;
      }
      if (c != '\\' || q == '\'') {
        out += c;
        continue;
      }
      if (i >= s.size()) bad(no, "unterminated double-quoted string (quoted scalars must end on their line)");
      char e = s[i++];
      size_t hex = 0;
      switch (e) {
        case '0': out += '\0'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 't':
        case '\t': out += '\t'; break;
        case 'n': out += '\n'; break;
        case 'v': out += '\v'; break;
        case 'f': out += '\f'; break;
        case 'r': out += '\r'; break;
        case 'e': out += '\x1b'; break;
        case ' ': out += ' '; break;
        case '"': out += '"'; break;
        case '/': out += '/'; break;
        case '\\': out += '\\'; break;
        case 'N': append_utf8(out, 0x85); break;
        case '_': append_utf8(out, 0xA0); break;
        case 'L': append_utf8(out, 0x2028); break;
        case 'P': append_utf8(out, 0x2029); break;
        case 'x': hex = 2; break;
        case 'u': hex = 4; break;
        case 'U': hex = 8; break;
        default: bad(no, "unknown escape '\\{}' in a double-quoted string", e);
      }
      if (hex == 0) continue;
      std::string_view digits = s.substr(i, hex);
      uint32_t cp = 0;
      if (digits.size() != hex || !all_digits(digits, true) ||
          std::from_chars(digits.data(), digits.data() + hex, cp, 16).ec != std::errc())
        bad(no, "escape '\\{}' needs {} hex digits", e, hex);
      if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) bad(no, "escape '\\{}{}' is not a character", e, digits);
      append_utf8(out, cp);
      i += hex;
    }
  }

  // Indicators that cannot start a plain scalar here (YAML 1.2 section 7.3.3).
  void check_plain_start(std::string_view s, size_t no, bool flow) const {
    char c = s[0];
    bool next_ws = s.size() == 1 || is_ws(s[1]) || (flow && one_of(s.substr(1, 1), {",", "]", "}"}));
    switch (c) {
      case '&': bad(no, "anchors ('&') are not supported");
      case '*': bad(no, "aliases ('*') are not supported");
      case '!': bad(no, "tags ('!') are not supported");
      case '%': bad(no, "'%' cannot start a plain value (quote it)");
      case '@':
      case '`': bad(no, "'{}' is reserved in YAML and cannot start a plain value (quote it)", c);
      case '|':
      case '>': bad(no, "block scalars ('{}') are not supported here", c);
      case ',':
      case ']':
      case '}':
      case '[':
      case '{': bad(no, "unexpected '{}'", c);
      case '#': bad(no, "missing value before the comment");
      case '?':
        if (next_ws) bad(no, "complex keys ('?') are not supported");
        break;
      case ':':
        if (next_ws) bad(no, "missing key before ':'");
        break;
      case '-':
        if (next_ws) bad(no, "a block sequence cannot start here (put it on the next line)");
        break;
      default: break;
    }
  }

  // Plain scalar in block context: the rest of the line before a comment.
  std::string_view plain_block(std::string_view s, size_t no) const {
    check_plain_start(s, no, false);
    size_t end = s.size();
    for (size_t i = 1; i < s.size(); ++i) {
      if (s[i] == '#' && is_ws(s[i - 1])) {
        end = i;
        break;
      }
      if (s[i] == ':' && (i + 1 == s.size() || is_ws(s[i + 1])))
        bad(no, "': ' inside a value (quote the value; a nested mapping starts on the next line)");
    }
    while (end > 0 && is_ws(s[end - 1])) --end;
    return s.substr(0, end);
  }

  // Plain scalar in a flow collection: ends at , [ ] { } ": " and " #".
  std::string_view plain_flow(std::string_view s, size_t& i, size_t no) const {
    check_plain_start(s.substr(i), no, true);
    size_t start = i;
    for (; i < s.size(); ++i) {
      char c = s[i];
      if (c == ',' || c == '[' || c == ']' || c == '{' || c == '}') break;
      if (c == '#' && i > start && is_ws(s[i - 1])) break;
      if (c == ':' && (i + 1 == s.size() || is_ws(s[i + 1]) || one_of(s.substr(i + 1, 1), {",", "]", "}"}))) break;
    }
    size_t end = i;
    while (end > start && is_ws(s[end - 1])) --end;
    return s.substr(start, end - start);
  }

  json resolve(std::string_view p, size_t no) const {
    if (one_of(p, {"null", "Null", "NULL", "~"})) return nullptr;
    if (one_of(p, {"true", "True", "TRUE"})) return true;
    if (one_of(p, {"false", "False", "FALSE"})) return false;
    // YAML 1.1 (Go's yaml.v2, kubectl) reads these as booleans, YAML 1.2 as strings.
    if (one_of(p, {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"}))
      bad(no, "'{}' is a boolean in YAML 1.1 and a string in 1.2: quote it or write true/false", p);
    if (one_of(p, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN"}))
      bad(no, "'{}': infinities and NaN are not supported", p);

    std::string_view body = p;
    bool negative = false;
    if (!body.empty() && (body[0] == '-' || body[0] == '+')) negative = body[0] == '-', body.remove_prefix(1);
    if (body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') && p[0] != '-' && p[0] != '+') {
      if (!all_digits(body.substr(2), true)) return std::string(p);
      uint64_t v = 0;
      auto r = std::from_chars(body.data() + 2, body.data() + body.size(), v, 16);
      if (r.ec != std::errc()) bad(no, "integer {} out of range", p);
      return v;
    }
    if (body.size() > 2 && body[0] == '0' && (body[1] == 'o' || body[1] == 'O') && all_digits(body.substr(2)))
      bad(no, "'{}' is octal in YAML 1.2 and a string in 1.1: write it in decimal", p);
    if (all_digits(body)) {
      if (body.size() > 1 && body[0] == '0')
        bad(no, "'{}' is octal in YAML 1.1 and decimal in 1.2: drop the leading zeros or quote it", p);
      if (negative) {
        int64_t v = 0;
        auto r = std::from_chars(p.data(), p.data() + p.size(), v);
        if (r.ec != std::errc() || r.ptr != p.data() + p.size()) bad(no, "integer {} out of range", p);
        if (v == 0) return uint64_t{0};  // "-0"
        return v;
      }
      uint64_t v = 0;
      auto r = std::from_chars(body.data(), body.data() + body.size(), v);
      if (r.ec != std::errc() || r.ptr != body.data() + body.size()) bad(no, "integer {} out of range", p);
      return v;
    }
    // YAML 1.1 integers with '_' separators and base 60 (1:30) are strings in 1.2.
    auto int_like = [](std::string_view s, char sep) {
      bool digit = false, has_sep = false;
      for (char c : s) {
        if (c >= '0' && c <= '9') digit = true;
        else if (c == sep) has_sep = true;
        else return false;
      }
      return digit && has_sep && s.front() != sep;
    };
    if (int_like(body, '_') || int_like(body, ':'))
      bad(no, "'{}' is a number in YAML 1.1 and a string in 1.2: quote it or write it plainly", p);
    // Floats: [digits][.digits][e[+-]digits] with a '.' or an exponent.
    size_t i = 0, mant = 0;
    bool dot = false;
    while (i < body.size() && body[i] >= '0' && body[i] <= '9') ++i, ++mant;
    if (i < body.size() && body[i] == '.') {
      dot = true;
      ++i;
      while (i < body.size() && body[i] >= '0' && body[i] <= '9') ++i, ++mant;
    }
    bool exp = false;
    if (mant > 0 && i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
      size_t j = i + 1;
      if (j < body.size() && (body[j] == '+' || body[j] == '-')) ++j;
      if (all_digits(body.substr(j))) exp = true, i = body.size();
    }
    if (mant == 0 || i != body.size() || (!dot && !exp)) return std::string(p);
    std::string copy(p);
    errno = 0;
    char* end = nullptr;
    double d = std::strtod(copy.c_str(), &end);
    if (errno == ERANGE || !std::isfinite(d) || end != copy.c_str() + copy.size())
      bad(no, "number {} out of range", p);
    return d;
  }

  // After a value: only whitespace and a comment may follow.
  void trailing(std::string_view s, size_t i, size_t no) const {
    size_t j = i;
    while (j < s.size() && is_ws(s[j])) ++j;
    if (j == s.size() || (s[j] == '#' && j > i)) return;
    bad(no, "unexpected {} after the value", shown(s.substr(j)));
  }

  // ---- flow collections (one line) ------------------------------------------

  json flow(std::string_view s, size_t& i, size_t no, int depth) const {
    enter(depth, no);
    const char open = s[i++];
    const char close = open == '[' ? ']' : '}';
    json out = open == '[' ? json::array() : json::object();
    auto skip = [&] {
      while (i < s.size() && is_ws(s[i])) ++i;
      if (i >= s.size() || (s[i] == '#' && i > 0 && is_ws(s[i - 1])))
        bad(no, "'{}' not closed on its line (multi-line flow collections are not supported)", open);
    };
    skip();
    if (s[i] == close) {
      ++i;
      return out;
    }
    while (true) {
      skip();
      if (open == '[') {
        out.push_back(flow_node(s, i, no, depth));
      } else {
        std::string key;
        if (s[i] == '"' || s[i] == '\'') key = quoted(s, i, no);
        else key = std::string(plain_flow(s, i, no));
        if (key.empty()) bad(no, "empty key in a flow mapping");
        skip();
        if (s[i] != ':') bad(no, "expected ':' after the key {} in a flow mapping", shown(key));
        ++i;
        skip();
        if (out.contains(key)) bad(no, "duplicate key {}", shown(key));
        out[key] = flow_node(s, i, no, depth);
      }
      skip();
      if (s[i] == ',') {
        ++i;
        skip();
        if (s[i] == close) {
          ++i;
          return out;
        }
        continue;
      }
      if (s[i] == close) {
        ++i;
        return out;
      }
      bad(no, "expected ',' or '{}' in a flow collection, got '{}'", close, s[i]);
    }
  }

  json flow_node(std::string_view s, size_t& i, size_t no, int depth) const {
    char c = s[i];
    if (c == '[' || c == '{') return flow(s, i, no, depth + 1);
    if (c == '"' || c == '\'') return quoted(s, i, no);
    if (c == ',' || c == ']' || c == '}') bad(no, "missing value in a flow collection");
    std::string_view p = plain_flow(s, i, no);
    if (p.empty()) bad(no, "missing value in a flow collection");
    return resolve(p, no);
  }

  // ---- block structure ------------------------------------------------------

  // The node whose first line is the current one (not blank, indent >= the
  // parent's). min_indent: the least indentation of its continuation lines.
  json block(size_t min_indent, int depth) {
    Line& l = cur();
    enter(depth, l.no);
    std::string_view c = content(l);
    if (seq_entry(c)) return sequence(l.indent, depth);
    if (key_at(l)) return mapping(l.indent, depth);
    return inline_value(l, l.indent, min_indent, depth);
  }

  struct Key {
    std::string name;
    size_t value_col;  // column just after the ':'
  };

  // "key: ..." on this line (at its indentation)?
  std::optional<Key> key_at(const Line& l) const {
    std::string_view c = content(l);
    if (c.empty()) return std::nullopt;
    if (c[0] == '"' || c[0] == '\'') {
      size_t i = 0;
      std::string name = quoted(c, i, l.no);
      while (i < c.size() && is_ws(c[i])) ++i;
      if (i < c.size() && c[i] == ':' && (i + 1 == c.size() || is_ws(c[i + 1]))) return Key{name, l.indent + i + 1};
      return std::nullopt;
    }
    if (c[0] == '[' || c[0] == '{') return std::nullopt;
    if (c[0] == '?' && (c.size() == 1 || is_ws(c[1]))) bad(l.no, "complex keys ('?') are not supported");
    for (size_t i = 0; i < c.size(); ++i) {
      if (c[i] == '#' && (i == 0 || is_ws(c[i - 1]))) return std::nullopt;
      if (c[i] == ':' && (i + 1 == c.size() || is_ws(c[i + 1]))) {
        std::string_view k = c.substr(0, i);
        while (!k.empty() && is_ws(k.back())) k.remove_suffix(1);
        if (k.empty()) bad(l.no, "missing key before ':'");
        check_plain_start(k, l.no, false);
        return Key{std::string(k), l.indent + i + 1};
      }
    }
    return std::nullopt;
  }

  json mapping(size_t indent, int depth) {
    enter(depth, cur().no);
    json obj = json::object();
    while (true) {
      skip_blank();
      if (structural_end()) break;
      Line& l = cur();
      if (l.indent < indent) break;
      if (l.indent > indent) bad(l.no, "unexpected indentation");
      if (seq_entry(content(l))) bad(l.no, "a sequence entry where 'key: value' was expected");
      std::optional<Key> key = key_at(l);
      if (!key) bad(l.no, "expected 'key: value'");
      if (obj.contains(key->name)) bad(l.no, "duplicate key {}", shown(key->name));
      json value = entry_value(l, key->value_col, indent, depth);
      obj[key->name] = std::move(value);
    }
    return obj;
  }

  // What follows "key:" at col: on the same line, or on the next lines.
  json entry_value(Line& l, size_t col, size_t indent, int depth) {
    std::string_view rest = l.raw.substr(col);
    if (rest_is_blank(rest)) {
      ++pos_;
      skip_blank();
      if (structural_end()) return nullptr;
      Line& next = cur();
      if (next.indent > indent) return block(indent + 1, depth + 1);
      // kubectl's style: a sequence at its key's indentation.
      if (next.indent == indent && seq_entry(content(next))) return sequence(indent, depth + 1);
      return nullptr;
    }
    while (col < l.raw.size() && is_ws(l.raw[col])) ++col;
    return inline_value(l, col, indent + 1, depth + 1);
  }

  // A scalar, flow collection or literal block scalar starting at l.raw[col].
  json inline_value(Line& l, size_t col, size_t min_indent, int depth) {
    enter(depth, l.no);
    std::string_view s = l.raw.substr(col);
    size_t i = 0;
    if (s[0] == '|') return literal(l, s, min_indent);
    if (s[0] == '>') bad(l.no, "folded block scalars ('>') are not supported (use '|' or a quoted string)");
    if (s[0] == '-' && (s.size() == 1 || is_ws(s[1])))
      bad(l.no, "a block sequence cannot start on the line of its key (put it on the next line)");
    json v;
    if (s[0] == '[' || s[0] == '{') {
      v = flow(s, i, l.no, depth + 1);
      trailing(s, i, l.no);
    } else if (s[0] == '"' || s[0] == '\'') {
      v = quoted(s, i, l.no);
      trailing(s, i, l.no);
    } else {
      v = resolve(plain_block(s, l.no), l.no);
    }
    ++pos_;
    return v;
  }

  // "|", "|-" or "|+": the more indented lines below, verbatim.
  json literal(const Line& header, std::string_view s, size_t min_indent) {
    char chomp = 0;
    size_t i = 1;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) chomp = s[i++];
    if (i < s.size() && s[i] >= '0' && s[i] <= '9')
      bad(header.no, "indentation indicators on block scalars are not supported");
    if (!rest_is_blank(s.substr(i)) || (i < s.size() && s[i] == '#'))
      bad(header.no, "unexpected {} after '|'", shown(s.substr(i)));
    ++pos_;
    std::optional<size_t> indent;
    std::string text, pending;
    for (; !at_end(); ++pos_) {
      const Line& l = cur();
      size_t sp = l.indent;
      if (sp == l.raw.size()) {  // empty or only spaces
        pending += '\n';
        continue;
      }
      if (!indent) {
        if (sp < min_indent || (sp == 0 && (is_marker(l, "---") || is_marker(l, "...")))) break;
        indent = sp;
      }
      if (sp < *indent) break;
      text += pending;
      pending.clear();
      text += l.raw.substr(*indent);
      text += '\n';
    }
    if (chomp == '+') return text + pending;
    if (chomp == '-' && !text.empty()) text.pop_back();
    return text;
  }

  json sequence(size_t indent, int depth) {
    enter(depth, cur().no);
    json arr = json::array();
    while (true) {
      skip_blank();
      if (structural_end()) break;
      Line& l = cur();
      if (l.indent < indent) break;
      if (l.indent > indent) bad(l.no, "unexpected indentation");
      std::string_view c = content(l);
      if (!seq_entry(c)) break;  // the parent mapping's next key, or an error the parent reports
      size_t j = 1;
      while (j < c.size() && c[j] == ' ') ++j;
      if (j < c.size() && c[j] == '\t') bad(l.no, "tab after '-' (YAML indents with spaces only)");
      if (j == c.size() || c[j] == '#') {
        ++pos_;
        skip_blank();
        if (!structural_end() && cur().indent > indent) arr.push_back(block(indent + 1, depth + 1));
        else arr.push_back(nullptr);
        continue;
      }
      // "- key: v" / "- - x": the entry is a node starting at its own column.
      l.indent += j;
      arr.push_back(block(indent + 1, depth + 1));
    }
    return arr;
  }

  std::string_view source_;
  std::vector<Line> lines_;
  size_t pos_ = 0;
};

}  // namespace

json parse_yaml(std::string_view text, std::string_view source) { return YamlReader(text, source).document(); }

}  // namespace sctrace
