#pragma once
// A strict reader for the YAML that Kubernetes users and tools write for a
// SeccompProfile resource, and nothing more. No YAML library is a dependency:
// the subset is small and everything outside it is refused with the line that
// uses it, rather than half-understood.
//
// Accepted:
//   - one document, optionally opened by `---` and closed by `...`
//   - block mappings and block sequences (a sequence may sit at its key's
//     indentation, as kubectl writes it), indentation by spaces
//   - plain, 'single-quoted' and "double-quoted" scalars on one line
//   - flow sequences and flow mappings on one line: [a, "b"], {index: 0}
//   - literal block scalars `|`, `|-`, `|+` (kubectl's last-applied annotation)
//   - comments, blank lines, CRLF line ends, a UTF-8 byte order mark
// Refused: tabs for indentation, anchors/aliases (&a, *a), tags (!!str),
// directives (%YAML), complex keys (?), folded scalars (>), multi-line plain or
// quoted scalars, multi-line flow collections, duplicate keys, several
// documents, nesting deeper than kMaxYamlDepth, invalid UTF-8.
//
// Plain scalars resolve as in YAML 1.2's core schema, minus its ambiguities
// with YAML 1.1 (which Go's yaml.v2, hence kubectl, still speaks): null ~,
// true/false, decimal and 0x integers (an integer that fits neither int64 nor
// uint64 is refused), finite floats. Numbers YAML 1.1 and 1.2 read
// differently (010, 0o10, 1_000) are refused; anything else is a string.
#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sctrace {

inline constexpr int kMaxYamlDepth = 64;

// Throws Error(ErrorKind::input): "SOURCE: line N: what is wrong".
nlohmann::json parse_yaml(std::string_view text, std::string_view source);

}  // namespace sctrace
