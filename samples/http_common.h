#pragma once
// A deliberately tiny HTTP/1.1 server core shared by http_server and
// prefork_server: raw syscalls only, one connection at a time, every answer
// with "Connection: close".
//
//   GET  /      -> 200 "hello"
//   GET  /id    -> 200 "uid=U gid=G pid=P\n" (shows a worker's dropped ids)
//   POST /echo  -> 200 with the request body
//   anything else -> 404
//
// Shutdown: SIGTERM/SIGINT are blocked and read from a signalfd polled next
// to the listening socket, so they cannot slip in between a check and a
// blocking accept. (A blocked signal is also never discarded, which matters
// as PID 1 of a container: there an unhandled SIGTERM would be dropped.)
#include <sys/signalfd.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <strings.h>

#include "common.h"

// The kernel's sigset_t is 64 bits on every arch sctrace supports.
#define HTTP_KSIGSET_SIZE 8

static inline unsigned long long http_sigbit(int sig) { return 1ULL << (sig - 1); }

// Blocks `mask` and returns a signalfd for it.
static inline int http_signalfd(unsigned long long mask) {
  if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, &mask, NULL, HTTP_KSIGSET_SIZE) != 0) sample_die("rt_sigprocmask");
  long fd = syscall(SYS_signalfd4, -1, &mask, HTTP_KSIGSET_SIZE, SFD_CLOEXEC);
  if (fd < 0) sample_die("signalfd4");
  return (int)fd;
}

// The first all-digit argument, else the default.
static inline int http_port_arg(int argc, char** argv, int dflt) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (!*a) continue;
    int v = 0, ok = 1;
    for (const char* p = a; *p; ++p) {
      if (*p < '0' || *p > '9' || v > 65535) {
        ok = 0;
        break;
      }
      v = v * 10 + (*p - '0');
    }
    if (ok && v > 0 && v <= 65535) return v;
  }
  return dflt;
}

static inline int http_listen(int port) {
  // Non-blocking: with several processes polling one socket, all wake up
  // and all but one find nothing to accept; they must not block there.
  long fd = syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) sample_die("socket");
  int one = 1;
  if (syscall(SYS_setsockopt, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) sample_die("setsockopt");
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_ANY);
  if (syscall(SYS_bind, fd, &sa, sizeof sa) != 0) sample_die("bind");
  if (syscall(SYS_listen, fd, 64) != 0) sample_die("listen");
  return (int)fd;
}

// Waits up to ms for fd to become readable; 1 ready, 0 timeout, -1 error.
static inline int http_wait_readable(int fd, int ms) {
  struct pollfd p = {fd, POLLIN, 0};
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  for (;;) {
    long r = syscall(SYS_ppoll, &p, 1, &ts, NULL, HTTP_KSIGSET_SIZE);
    if (r < 0 && errno == EINTR) continue;
    return r < 0 ? -1 : (int)r;
  }
}

static inline void http_respond(int fd, int code, const char* reason, const char* body, size_t body_len) {
  char head[256];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                   code, reason, body_len);
  if (n <= 0) return;
  // A client that went away is its problem, not the server's.
  if (sample_write_all(fd, head, (size_t)n) != 0) return;
  if (body_len) sample_write_all(fd, body, body_len);
}

static inline int http_header_value(const char* headers, const char* name, char* out, size_t out_len) {
  size_t nl = strlen(name);
  for (const char* p = headers; p && *p;) {
    const char* eol = strstr(p, "\r\n");
    if (!eol) break;
    if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
      const char* v = p + nl + 1;
      while (*v == ' ' || *v == '\t') ++v;
      size_t len = (size_t)(eol - v);
      if (len >= out_len) len = out_len - 1;
      memcpy(out, v, len);
      out[len] = 0;
      return 1;
    }
    p = eol + 2;
  }
  return 0;
}

// Serves one request on conn (the caller closes it).
static inline void http_serve_connection(int conn) {
  static char buf[65536 + 1];
  size_t len = 0;
  char* end = NULL;
  while (!end) {
    if (len >= sizeof buf - 1 || http_wait_readable(conn, 5000) != 1) return;
    long n = syscall(SYS_read, conn, buf + len, sizeof buf - 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    len += (size_t)n;
    buf[len] = 0;
    end = strstr(buf, "\r\n\r\n");
  }
  size_t header_len = (size_t)(end - buf) + 4;
  char method[16] = "", path[1024] = "";
  const char* sp1 = memchr(buf, ' ', header_len);
  const char* sp2 = sp1 ? memchr(sp1 + 1, ' ', header_len - (size_t)(sp1 + 1 - buf)) : NULL;
  if (!sp1 || !sp2 || (size_t)(sp1 - buf) >= sizeof method || (size_t)(sp2 - sp1 - 1) >= sizeof path) {
    http_respond(conn, 400, "Bad Request", "bad request\n", 12);
    return;
  }
  memcpy(method, buf, (size_t)(sp1 - buf));
  memcpy(path, sp1 + 1, (size_t)(sp2 - sp1 - 1));

  size_t body_len = 0;
  char value[32];
  end[2] = 0;  // terminate the headers for the lookup (the body is kept below)
  if (http_header_value(strstr(buf, "\r\n") + 2, "Content-Length", value, sizeof value))
    body_len = (size_t)strtoul(value, NULL, 10);
  end[2] = '\r';
  if (body_len > sizeof buf - 1 - header_len) {
    http_respond(conn, 413, "Payload Too Large", "too large\n", 10);
    return;
  }
  while (len < header_len + body_len) {
    if (http_wait_readable(conn, 5000) != 1) return;
    long n = syscall(SYS_read, conn, buf + len, header_len + body_len - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    len += (size_t)n;
  }

  if (strcmp(method, "GET") == 0 && strcmp(path, "/") == 0) {
    http_respond(conn, 200, "OK", "hello", 5);
  } else if (strcmp(method, "GET") == 0 && strcmp(path, "/id") == 0) {
    char id[96];
    int n = snprintf(id, sizeof id, "uid=%ld gid=%ld pid=%ld\n", syscall(SYS_getuid), syscall(SYS_getgid),
                     syscall(SYS_getpid));
    http_respond(conn, 200, "OK", id, n > 0 ? (size_t)n : 0);
  } else if (strcmp(method, "POST") == 0 && strcmp(path, "/echo") == 0) {
    http_respond(conn, 200, "OK", buf + header_len, body_len);
  } else {
    http_respond(conn, 404, "Not Found", "not found\n", 10);
  }
}

// Accepts and serves until a signal arrives on sigfd; returns its number.
static inline int http_serve(int listen_fd, int sigfd) {
  for (;;) {
    struct pollfd p[2] = {{listen_fd, POLLIN, 0}, {sigfd, POLLIN, 0}};
    long r = syscall(SYS_ppoll, p, 2, NULL, NULL, HTTP_KSIGSET_SIZE);
    if (r < 0) {
      if (errno == EINTR) continue;
      sample_die("ppoll");
    }
    if (p[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      long n = syscall(SYS_read, sigfd, &si, sizeof si);
      if (n == (long)sizeof si) return (int)si.ssi_signo;
    }
    if (p[0].revents & POLLIN) {
      long conn = syscall(SYS_accept4, listen_fd, NULL, NULL, SOCK_CLOEXEC);
      if (conn < 0) {
        // Another worker took it, or the client gave up: not fatal.
        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) continue;
        sample_die("accept4");
      }
      http_serve_connection((int)conn);
      syscall(SYS_close, conn);
    }
  }
}
