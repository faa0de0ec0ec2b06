#pragma once
// The kernel's seccomp records read back into a recording (`sctrace harvest`).
//
// A filter that answers SCMP_ACT_LOG (a profile written with `run --unlisted
// log`) lets the call through and has the kernel write an audit record of type
// 1326 (AUDIT_SECCOMP). Without auditd the record goes to printk, so it shows
// in /dev/kmsg, dmesg and journald as
//   audit: type=1326 audit(1796663300.737:34): auid=... pid=31411 comm="exp"
//     exe="/tmp/hx/exp" sig=0 arch=c000003e syscall=110 compat=0 ip=... code=0x7ffc0000
// and with auditd in /var/log/audit/audit.log as "type=SECCOMP msg=audit(...): ...".
// The record carries no syscall arguments, and pid is the pid in the initial
// pid namespace.
//
// printk output of audit records is rate-limited (printk_ratelimit: by
// default a burst of 10 per 5 s, shared by the whole kernel); what it drops
// it announces with the next record it prints, as
// "kauditd_printk_skb: 23 callbacks suppressed". A full audit backlog is
// announced as "audit: audit_lost=N ...".
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "profile/recorder.h"
#include "profile/recording.h"

namespace sctrace {

struct SeccompLogRecord {
  double time = 0;      // audit's own clock: seconds since the epoch
  uint64_t serial = 0;  // audit's event serial
  pid_t pid = 0;        // in the initial pid namespace
  std::string comm;
  std::string exe;      // the path as the process saw it; "" when the line has none
  uint32_t audit_arch = 0;
  int32_t nr = -1;
  uint32_t code = 0;    // the filter's answer: action | data (0x7ffc0000 = SECCOMP_RET_LOG)
  bool logged_only() const;  // the action was SECCOMP_RET_LOG: the call ran
};

// One line of /dev/kmsg ("5,19374,11315069392,-;audit: type=1326 ..."), of
// dmesg or journalctl ("[ 12.3] audit: ...", "Dec 07 ... kernel: audit: ..."),
// or of audit.log ("type=SECCOMP msg=audit(...): ..."). nullopt for every
// other line, and for a seccomp line without a pid, arch or syscall.
std::optional<SeccompLogRecord> parse_seccomp_line(std::string_view line);

// What one line says the kernel dropped.
struct LogLoss {
  uint64_t suppressed = 0;               // printk's rate limit ("N callbacks suppressed")
  std::optional<uint64_t> audit_lost;    // the audit backlog's running total
};
std::optional<LogLoss> parse_loss_line(std::string_view line);

// Whether a record's pid is one of the processes a harvest is after. The
// record only names the pid, so this is asked of the live process: one that
// has exited cannot be told apart any more.
enum class Whose { selected, other, gone };

// Which records a harvest keeps.
struct HarvestSelect {
  double since = 0;  // seconds since the epoch; records before are skipped (0 = all)
  std::string exe;   // "" = any executable
  // The container's processes (nullptr = every process). Asked once per pid;
  // the answer is kept for the pid's later records.
  std::function<Whose(pid_t)> process;
};

struct Harvest {
  Recording recording;
  uint64_t records = 0;      // seccomp records read (any process, any time)
  uint64_t in_window = 0;    // of them, not before `since`
  uint64_t selected = 0;     // of them, of the selected processes and executable
  uint64_t gone = 0;         // in the window, from processes that had exited before harvest asked
  uint64_t not_logged = 0;   // selected, but the call was refused or killed, not run (not in the recording)
  uint64_t suppressed = 0;   // records the kernel said it dropped (rate limit)
  std::optional<uint64_t> audit_lost;  // the last audit_lost total the log showed
  // Names whose filtered arguments (templates/arg-filters.json) the log does
  // not carry: the recording marks those arguments unknown, so a profile made
  // from it does not narrow on them.
  std::vector<std::string> arguments_unknown;
  bool losses() const { return suppressed > 0 || audit_lost.value_or(0) > 0; }
};

// Feeds lines, one at a time and from any number of sources, into a
// recording of the selected records whose call ran (SECCOMP_RET_LOG).
class Harvester {
 public:
  explicit Harvester(HarvestSelect select);
  void add_line(std::string_view line);
  Harvest finish() &&;

 private:
  HarvestSelect select_;
  Harvest h_;
  Recorder recorder_{h_.recording};
  std::unordered_map<pid_t, Whose> asked_;
  std::set<std::pair<double, uint64_t>> seen_;  // (time, serial): one event read from two sources counts once
  uint64_t pending_suppressed_ = 0;             // announced before the next record, counted with it
};

// The lines `harvest` says about h: counts, losses, what to do about them.
std::vector<std::string> harvest_summary(const Harvest& h, const std::string& source, const std::string& whose);

// "90", "90s", "15m", "2h", "1d" -> seconds; nullopt when not a duration.
std::optional<double> parse_duration(std::string_view text);

}  // namespace sctrace
