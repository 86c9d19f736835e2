/*
 * freeport - prints N loopback ports (default 1) that are free for both UDP
 * and TCP right now (with the three ports above free for UDP), one per line. The e2e tests start cdivas and SIPp on
 * them so that parallel test runs never collide.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int bind_loopback(int type, unsigned short port, unsigned short *bound)
{
  int fd = socket(AF_INET, type, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
      getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
    close(fd);
    return -1;
  }
  *bound = ntohs(sa.sin_port);
  return fd;
}

int main(int argc, char **argv)
{
  int wanted = argc > 1 ? atoi(argv[1]) : 1;
  int held[256][5], n = 0;
  /* Random even candidates below the kernel's ephemeral range, so that a
   * port handed out here is not taken by some client socket meanwhile. */
  srand((unsigned)getpid() ^ (unsigned)time(NULL));
  for (int attempts = 0; n < wanted && n < 256 && attempts < 5000; attempts++) {
    /* Blocks of four: SIPp's media uses the port and the three above it
     * (audio and video, RTP and RTCP), so two blocks never overlap. */
    unsigned short port = (unsigned short)(20000 + 4 * (rand() % 3000)), got;
    int fds[5], k;
    fds[0] = bind_loopback(SOCK_STREAM, port, &got);
    for (k = 1; k < 5 && fds[k - 1] >= 0; k++)
      fds[k] = bind_loopback(SOCK_DGRAM, (unsigned short)(port + k - 1), &got);
    if (fds[k - 1] < 0) {
      for (int j = 0; j < k - 1; j++)
        close(fds[j]);
      continue;
    }
    for (k = 0; k < 5; k++)
      held[n][k] = fds[k];
    printf("%u\n", port);
    n++;
  }
  for (int i = 0; i < n; i++)
    for (int k = 0; k < 5; k++)
      close(held[i][k]);
  return n == wanted ? 0 : 1;
}
