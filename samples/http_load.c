// http_load PORT [N]: the benchmark's loopback HTTP load generator
// (bench/bench.py times it, untraced, against an http_server that runs
// untraced or traced). N (default 1000) sequential connections to
// 127.0.0.1:PORT, one "GET /" each, expecting 200 "hello". The server answers
// every request "Connection: close", so there is no keep-alive mode.
// Prints "http_load: N requests ok"; exits 1 naming the first request that
// failed. It is a C program so that the client's own cost stays small next
// to the server's and the tracer's.
#include <arpa/inet.h>
#include <netinet/in.h>

#include "common.h"

static int connect_once(int port) {
  long fd = syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) sample_die("socket");
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (;;) {
    if (syscall(SYS_connect, fd, &sa, sizeof sa) == 0) return (int)fd;
    if (errno != EINTR) sample_die("connect");
  }
}

// Reads until the server closes; returns the length read or -1.
static long read_to_eof(int fd, char* buf, size_t cap) {
  size_t len = 0;
  for (;;) {
    if (len == cap) return -1;
    long n = syscall(SYS_read, fd, buf + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) return (long)len;
    len += (size_t)n;
  }
}

int main(int argc, char** argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0;
  long count = argc > 2 ? atol(argv[2]) : 1000;
  if (port <= 0 || port > 65535 || count <= 0) {
    sample_puts("usage: http_load PORT [N]\n");
    return 2;
  }
  static const char request[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  static const char want[] = "hello";
  const size_t req_len = sizeof request - 1, want_len = sizeof want - 1;
  static char response[4096];

  for (long i = 0; i < count; ++i) {
    int fd = connect_once(port);
    if (sample_write_all(fd, request, req_len) != 0) sample_die("write");
    long n = read_to_eof(fd, response, sizeof response - 1);
    syscall(SYS_close, fd);
    response[n > 0 ? n : 0] = 0;
    const char* sep = n > 0 ? strstr(response, "\r\n\r\n") : NULL;
    if (n < 12 || strncmp(response, "HTTP/1.1 200", 12) != 0 || !sep ||
        (size_t)(response + n - (sep + 4)) != want_len || memcmp(sep + 4, want, want_len) != 0) {
      char msg[96];
      snprintf(msg, sizeof msg, "http_load: request %ld of %ld: bad response\n", i + 1, count);
      sample_write_all(2, msg, strlen(msg));
      return 1;
    }
  }
  char msg[64];
  snprintf(msg, sizeof msg, "http_load: %ld requests ok\n", count);
  sample_puts(msg);
  return 0;
}
