/*
 * floor: the least a client can spend reading streamed completions.
 *
 * It opens N keep-alive connections to a server (llmsim), sends one
 * streaming completion request on each, and reads every answer with
 * level-triggered epoll: one read() per ready socket, no parsing beyond
 * finding where a chunked response ends ("\r\n0\r\n\r\n"). When an answer
 * ends it sends the next request on the same connection, until each
 * connection has had WAVES answers (a closed loop of N users). It prints
 * one JSON line: answers, bytes, reads, and its own user and system CPU
 * time from getrusage.
 *
 * What genload spends per token beyond this is genload's own share: the
 * kernel's cost of a read of one small TCP segment is in both.
 *
 *   floor HOST PORT STREAMS WAVES BODY_FILE
 *
 * BODY_FILE holds the request's JSON body. Build: cc -O2 -o floor floor.c
 * (bench/perf builds it when a C compiler is there).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct stream {
	int fd;
	int answers;   /* answers finished on this connection */
	char tail[8];  /* the last bytes read, to find an end cut by a read */
	int ntail;
};

static const char end[] = "\r\n0\r\n\r\n";
static char *request;
static size_t request_len;

static void die(const char *what) {
	perror(what);
	exit(1);
}

/* sendall writes the whole request (it is small: one write in practice). */
static void sendall(int fd) {
	size_t off = 0;
	while (off < request_len) {
		ssize_t n = write(fd, request + off, request_len - off);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			die("write");
		}
		off += (size_t)n;
	}
}

/* ended reports whether the bytes read so far end a response: it keeps
 * the last bytes of everything read on the connection, across reads. */
static int ended(struct stream *s, const char *buf, size_t n) {
	const size_t L = sizeof end - 1;
	char w[2 * sizeof end];
	size_t k;
	if (n >= L) {
		memcpy(w, buf + n - L, L);
		k = L;
	} else {
		memcpy(w, s->tail, (size_t)s->ntail);
		memcpy(w + s->ntail, buf, n);
		k = (size_t)s->ntail + n;
	}
	size_t keep = k < L ? k : L;
	memcpy(s->tail, w + k - keep, keep);
	s->ntail = (int)keep;
	return keep == L && memcmp(s->tail, end, L) == 0;
}

int main(int argc, char **argv) {
	if (argc != 6) {
		fprintf(stderr, "usage: floor HOST PORT STREAMS WAVES BODY_FILE\n");
		return 2;
	}
	const char *host = argv[1];
	int port = atoi(argv[2]), streams = atoi(argv[3]), waves = atoi(argv[4]);
	if (port <= 0 || streams <= 0 || waves <= 0) {
		fprintf(stderr, "floor: PORT, STREAMS and WAVES must be positive\n");
		return 2;
	}
	FILE *bf = fopen(argv[5], "r");
	if (!bf)
		die(argv[5]);
	char body[65536];
	size_t blen = fread(body, 1, sizeof body - 1, bf);
	fclose(bf);
	request = malloc(blen + 512);
	request_len = (size_t)snprintf(request, blen + 512,
		"POST /v1/completions HTTP/1.1\r\nHost: %s:%d\r\n"
		"Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%.*s",
		host, port, blen, (int)blen, body);

	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		fprintf(stderr, "floor: %s is not an IPv4 address\n", host);
		return 2;
	}
	int ep = epoll_create1(0);
	if (ep < 0)
		die("epoll_create1");
	struct stream *ss = calloc((size_t)streams, sizeof *ss);
	for (int i = 0; i < streams; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket");
		if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
			die("connect");
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		ss[i].fd = fd;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &ss[i]};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			die("epoll_ctl");
		sendall(fd);
	}

	long long answers = 0, bytes = 0, reads = 0;
	long long want = (long long)streams * waves;
	static char buf[65536];
	struct epoll_event evs[1024];
	while (answers < want) {
		int n = epoll_wait(ep, evs, 1024, 60000);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		if (n == 0) {
			fprintf(stderr, "floor: nothing to read for 60 s (%lld of %lld answers)\n", answers, want);
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct stream *s = evs[i].data.ptr;
			ssize_t r = read(s->fd, buf, sizeof buf);
			reads++;
			if (r < 0) {
				if (errno == EAGAIN || errno == EINTR)
					continue;
				die("read");
			}
			if (r == 0) {
				fprintf(stderr, "floor: the server closed a connection\n");
				return 1;
			}
			bytes += r;
			if (ended(s, buf, (size_t)r)) {
				answers++;
				s->ntail = 0;
				if (++s->answers < waves)
					sendall(s->fd);
			}
		}
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"answers\":%lld,\"bytes\":%lld,\"reads\":%lld,\"user_us\":%lld,\"sys_us\":%lld}\n",
		answers, bytes, reads,
		(long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
		(long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec);
	return 0;
}
