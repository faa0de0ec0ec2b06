// http_server: a single-process, single-threaded HTTP server for the
// container tests. Listens on port argv[1] (default 8080): GET / -> "hello",
// POST /echo -> the body, other -> 404 (see http_common.h). Exits 0 on
// SIGTERM/SIGINT; --danger=NAME is attempted at that point (after the work).
#include "http_common.h"

int main(int argc, char** argv) {
  int port = http_port_arg(argc, argv, 8080);
  int sigfd = http_signalfd(http_sigbit(SIGTERM) | http_sigbit(SIGINT));
  int lfd = http_listen(port);
  char msg[64];
  int n = snprintf(msg, sizeof msg, "http_server: listening on %d\n", port);
  if (n > 0) sample_write_all(1, msg, (size_t)n);
  int sig = http_serve(lfd, sigfd);
  n = snprintf(msg, sizeof msg, "http_server: signal %d, exiting\n", sig);
  if (n > 0) sample_write_all(1, msg, (size_t)n);
  syscall(SYS_close, lfd);
  sample_finish(argc, argv);
  return 0;
}
