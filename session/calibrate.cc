#include "session/calibrate.h"

#include <elf.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "advice/container_config.h"
#include "core/arch.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "profile/agent_profile.h"
#include "profile/emit/formats.h"
#include "profile/templates.h"
#include "tracer/container/session.h"
#include "tracer/container/tar.h"
#include "tracer/temp_dir.h"

namespace sctrace {

namespace fs = std::filesystem;
using nlohmann::json;

// The syscall number comes from libseccomp; the instruction encodings are
// the arch's.
std::string do_nothing_elf() {
  const arch::Token native = arch::native();
  const auto nr = arch::syscall_nr(native, "exit_group");
  if (!nr) fail(ErrorKind::runtime, "libseccomp does not know exit_group on this arch");
  std::string code;
  uint16_t machine = 0;
  auto put32 = [&](uint32_t v) { code.append(reinterpret_cast<const char*>(&v), 4); };
  if (native == SCMP_ARCH_X86_64) {
    machine = EM_X86_64;
    code = "\x31\xff\xb8";  // xor %edi,%edi; mov $nr,%eax
    put32(static_cast<uint32_t>(*nr));
    code += "\x0f\x05";  // syscall
  } else if (native == SCMP_ARCH_AARCH64) {
    machine = EM_AARCH64;
    put32(0xd2800000u);                                         // mov x0, #0
    put32(0xd2800008u | (static_cast<uint32_t>(*nr) << 5));     // mov x8, #nr
    put32(0xd4000001u);                                         // svc #0
  } else {
    fail(ErrorKind::runtime, "calibrate: no do-nothing program for {} (x86_64 and aarch64 only)",
         arch::short_name(native));
  }
  constexpr uint64_t kBase = 0x400000;
  const uint64_t header = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = machine;
  eh.e_version = EV_CURRENT;
  eh.e_entry = kBase + header;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  Elf64_Phdr ph{};
  ph.p_type = PT_LOAD;
  ph.p_flags = PF_R | PF_X;
  ph.p_offset = 0;
  ph.p_vaddr = ph.p_paddr = kBase;
  ph.p_filesz = ph.p_memsz = header + code.size();
  ph.p_align = 0x1000;
  std::string out(reinterpret_cast<const char*>(&eh), sizeof eh);
  out.append(reinterpret_cast<const char*>(&ph), sizeof ph);
  return out + code;
}

OwnedPath calibrate_temp_dir() {
  std::string tmpl_dir = make_owned_temp_dir("calibrate", fs::temp_directory_path().string());
  return OwnedPath(tmpl_dir);
}

namespace {

// A do-nothing container starts in well under a second; one that takes this
// long is blocked (a runtime that never handed the listener over).
constexpr std::chrono::seconds kStartLimit{60};
const std::vector<std::string> kPodmanUlimits = {"--ulimit", "nofile=10000:10000", "--ulimit", "nproc=1000:1000"};

std::string first_line(const std::string& s) {
  std::string l = s.substr(0, s.find('\n'));
  while (!l.empty() && (l.back() == '\r' || l.back() == ' ')) l.pop_back();
  return l;
}

using container::Captured;

// Runs argv with stdout captured; its stderr is passed on only when it fails.
// limit > 0: killed (SIGKILL) after that long.
Captured capture(const std::vector<std::string>& argv, std::chrono::seconds limit = std::chrono::seconds(0)) {
  Captured c = container::run_capture(argv, limit);
  if (!c.ok()) std::fputs(c.err.c_str(), stderr);
  return c;
}

// podman (or a Docker that passes listenerPath): an image imported from a
// one-file root filesystem, removed by ID at the end.
class CliStarter : public CalibrationStarter {
 public:
  CliStarter(std::string cli, const std::string& dir) : cli_(std::move(cli)) {
    std::string tar = container::make_tar({{"nothing", do_nothing_elf(), 0755, false}});
    const std::string tar_path = dir + "/rootfs.tar";
    write_file_atomic(tar_path, tar);
    Captured c = capture({cli_, "import", "--change", "ENTRYPOINT [\"/nothing\"]", tar_path});
    if (!c.ok()) fail(ErrorKind::runtime, "{} import of the do-nothing image failed", cli_);
    // The ID is the last line of stdout.
    std::string out = c.out;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    image_ = first_line(out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1));
    if (image_.empty()) fail(ErrorKind::runtime, "{} import printed no image ID", cli_);
  }
  ~CliStarter() override {
    try {
      capture({cli_, "rmi", "-f", image_});
    } catch (const Error&) {
    }
  }
  std::string runtime_version() override {
    if (cli_ == "podman" || fs::path(cli_).filename() == "podman") {
      Captured c = capture({cli_, "info", "--format", "{{.Host.OCIRuntime.Version}}"});
      Captured v = capture({cli_, "version", "--format", "{{.Client.Version}}"});
      return fmt::format("{} (podman {})", first_line(c.out), first_line(v.out));
    }
    Captured v = capture({cli_, "version", "--format", "{{.Server.Version}}"});
    return fmt::format("runc (docker {})", first_line(v.out));
  }
  int start(const SeccompProfile& recording, bool no_new_privs, const std::string& dir, int n) override {
    const std::string profile = fmt::format("{}/recording-{}.json", dir, n);
    write_file_atomic(profile, to_docker_json(recording));
    std::vector<std::string> argv = {cli_, "run", "--rm", "--network", "none", "--security-opt", "seccomp=" + profile};
    if (no_new_privs) argv.insert(argv.end(), {"--security-opt", "no-new-privileges"});
    if (fs::path(cli_).filename() == "podman") argv.insert(argv.end(), kPodmanUlimits.begin(), kPodmanUlimits.end());
    argv.push_back(image_);
    const std::string name = fmt::format("sctrace-calibrate-{}-{}", ::getpid(), n);
    argv.insert(argv.begin() + 2, {"--name", name});
    Captured c = capture(argv, kStartLimit);
    ::unlink(profile.c_str());
    if (c.timed_out) {
      capture({cli_, "rm", "-f", name});
      fail(ErrorKind::runtime, "calibrate: the container did not finish within {} s", kStartLimit.count());
    }
    return c.status;
  }

 private:
  std::string cli_;
  std::string image_;
};

// runc/crun: an OCI bundle (config.json from `<runtime> spec`).
class BundleStarter : public CalibrationStarter {
 public:
  BundleStarter(std::string runtime, const std::string& dir) : runtime_(std::move(runtime)), bundle_(dir + "/bundle") {
    fs::create_directories(bundle_ + "/rootfs");
    write_file_atomic(bundle_ + "/rootfs/nothing", do_nothing_elf());
    ::chmod((bundle_ + "/rootfs/nothing").c_str(), 0755);
    if (!capture({runtime_, "spec", "--bundle", bundle_}).ok())
      fail(ErrorKind::runtime, "{} spec failed", runtime_);
    config_ = json::parse(read_file(bundle_ + "/config.json"));
    config_["process"]["args"] = json::array({"/nothing"});
    config_["process"]["terminal"] = false;
    config_["root"]["path"] = bundle_ + "/rootfs";
  }
  std::string runtime_version() override { return first_line(capture({runtime_, "--version"}).out); }
  int start(const SeccompProfile& recording, bool no_new_privs, const std::string&, int n) override {
    json config = config_;
    config["process"]["noNewPrivileges"] = no_new_privs;
    EvalContext ctx = EvalContext::docker_default();
    ctx.caps = container_config_from_oci(config).caps;
    config["linux"]["seccomp"] = json(to_oci_seccomp(recording, ctx));
    write_file_atomic(bundle_ + "/config.json", config.dump(2) + "\n");
    const std::string id = fmt::format("sctrace-calibrate-{}-{}", ::getpid(), n);
    Captured c = capture({runtime_, "run", "--bundle", bundle_, id}, kStartLimit);
    if (c.timed_out) {
      capture({runtime_, "delete", "--force", id});
      fail(ErrorKind::runtime, "calibrate: the container did not finish within {} s", kStartLimit.count());
    }
    return c.status;
  }

 private:
  std::string runtime_;
  std::string bundle_;
  json config_;
};

}  // namespace

std::unique_ptr<CalibrationStarter> make_calibration_starter(const std::string& runtime, const std::string& dir) {
  if (runtime == "runc" || runtime == "crun") return std::make_unique<BundleStarter>(runtime, dir);
  return std::make_unique<CliStarter>(runtime, dir);
}

std::string calibrated_baseline(const std::string& path, const std::string& rt, const std::string& version, int starts,
                                const CalibrationSeen& seen) {
  using nlohmann::json;
  json doc = json::object();
  if (fs::exists(path)) {
    doc = json::parse(read_file(path), nullptr, false);
    if (!doc.is_object()) fail(ErrorKind::input, "{}: not a runtime baseline (JSON object)", path);
  } else {
    // The bundled baseline's Go scheduler list: not measurable per start.
    doc["go_runtime"] = runtime_baseline().go_runtime;
  }
  utsname u{};
  ::uname(&u);
  doc["comment"] = fmt::format(
      "Syscalls the OCI runtime makes after it installs the container's seccomp filter and before the entrypoint "
      "runs, measured by `sctrace calibrate --runtime {}` ({} starts per case) on Linux {}: a static container whose "
      "entrypoint only calls exit_group, recorded through a seccomp listener (listenerPath). 'write' cannot be "
      "observed that way (runc refuses SCMP_ACT_NOTIFY for it) and is included. 'calibration.seen' says in how many "
      "starts each name was seen. 'go_runtime' (kept from the file updated, else the bundled list) is what the "
      "runtime's Go scheduler may do at any moment; it is not measured per start and is added to both lists.",
      rt, starts, u.release);
  doc["runtime"] = version;
  json seen_json = json::object();
  for (bool nnp : {false, true}) {
    json list = json::array();
    json counts = json::object();
    for (const auto& [name, k] : seen.at(nnp)) {
      list.push_back(name);
      counts[name] = k;
    }
    const char* key = nnp ? "with_no_new_privs" : "with_new_privs";
    doc[key] = list;
    seen_json[key] = counts;
  }
  doc["calibration"] = {{"runtime", rt}, {"starts", starts}, {"kernel", u.release}, {"seen", seen_json}};
  // It must load as a baseline before it replaces one.
  std::string text = doc.dump(2) + "\n";
  parse_runtime_baseline(text, path);
  return text;
}

}  // namespace sctrace
