// idle: prints "idle: waiting" and sleeps in pause() until a signal ends it.
// It installs no handler, so a SIGTERM kills it (143), except as PID 1 of a
// container, where the kernel drops a signal init does not handle and only
// SIGKILL ends it (137): the service without an init that issue 16's
// planned-stop checks need. The shared modes (--extra-syscall, --danger=)
// run before it waits, so that a service can take a path its recording did
// not (the log-mode rollout tests).
#include "common.h"

int main(int argc, char** argv) {
  sample_finish(argc, argv);
  static const char msg[] = "idle: waiting\n";
  sample_write_all(1, msg, sizeof msg - 1);
  for (;;) pause();
}
