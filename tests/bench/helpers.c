/* Tiny programs the benchmark runs as children (compiled by bench.py with the system cc):
 *   stamp FILE         write CLOCK_REALTIME in ns to FILE, then sleep until killed
 *   writer N CHUNK     write N bytes to stdout in CHUNK-byte writes (each ending in a newline),
 *                      then write "start end" (ns) to the file $STAMP and sleep until killed
 *   printer N LEN      the same in LEN-byte lines through stdio, as a program printing lines
 *                      does (stdout to a pipe is block-buffered: 4 KiB writes)
 *   ticker N US        write N 41-byte lines, one every US microseconds (on an absolute
 *                      schedule), then write "start end" (ns) to $STAMP and sleep until killed
 *   listener OUT [BYTES]
 *                      an event listener: answers OK to every event; without BYTES it appends
 *                      the time (ns) each event arrived to OUT, one line per event; with BYTES
 *                      it counts PROCESS_LOG data and, once BYTES have come, writes
 *                      "events bytes first_ns last_ns" to OUT
 *   forkexec N         average µs of fork+exec+wait of /bin/true
 *   pipe N [CHUNK [stdio]]
 *                      MB/s of writing N bytes in CHUNK-byte writes (64 KiB; with stdio, lines
 *                      through stdio) into `cat > /dev/null`
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void write_all(int fd, const char *buf, size_t n) {
    while (n) {
        ssize_t w = write(fd, buf, n);
        if (w < 0) exit(2);
        buf += w;
        n -= (size_t)w;
    }
}

/* "start end" (ns) to the file $STAMP, if set. */
static void write_stamp(long long start, long long end) {
    const char *stamp = getenv("STAMP");
    if (!stamp) return;
    FILE *f = fopen(stamp, "w");
    if (f) { fprintf(f, "%lld %lld\n", start, end); fclose(f); }
}

/* Reads stdin through a buffer of our own (stdio's would be fine, but this is exact). */
static char inbuf[1 << 16];
static size_t inlen, inpos;

static int in_byte(void) {
    if (inpos == inlen) {
        ssize_t n = read(0, inbuf, sizeof inbuf);
        if (n <= 0) exit(0);
        inlen = (size_t)n;
        inpos = 0;
    }
    return (unsigned char)inbuf[inpos++];
}

static int listener(const char *out, long long target) {
    FILE *f = fopen(out, "a");
    if (!f) return 1;
    long long events = 0, bytes = 0, first = 0;
    int done = 0;
    char line[512];
    for (;;) {
        write_all(1, "READY\n", 6);
        size_t n = 0;
        int c;
        while ((c = in_byte()) != '\n')
            if (n < sizeof line - 1) line[n++] = (char)c;
        line[n] = 0;
        long long t = now_ns();
        const char *l = strstr(line, " len:");
        long long len = l ? atoll(l + 5) : 0;
        /* PROCESS_LOG's data follows the payload's first line. */
        long long head = -1;
        for (long long i = 0; i < len; i++)
            if (in_byte() == '\n' && head < 0) head = i + 1;
        write_all(1, "RESULT 2\nOK", 11);
        if (target <= 0) {
            fprintf(f, "%lld\n", t);
            fflush(f);
            continue;
        }
        if (!events) first = t;
        events++;
        if (head >= 0) bytes += len - head;
        if (bytes >= target && !done) {
            fprintf(f, "%lld %lld %lld %lld\n", events, bytes, first, now_ns());
            fflush(f);
            done = 1;
        }
    }
}

int main(int argc, char **argv) {
    if (argc >= 3 && !strcmp(argv[1], "listener"))
        return listener(argv[2], argc >= 4 ? atoll(argv[3]) : 0);
    if (argc >= 3 && !strcmp(argv[1], "stamp")) {
        long long t = now_ns();
        FILE *f = fopen(argv[2], "w");
        if (!f) return 1;
        fprintf(f, "%lld\n", t);
        fclose(f);
        for (;;) pause();
    }
    if (argc >= 4 && (!strcmp(argv[1], "writer") || !strcmp(argv[1], "printer"))) {
        int stdio = !strcmp(argv[1], "printer");
        long long total = atoll(argv[2]);
        size_t chunk = (size_t)atoll(argv[3]);
        char *buf = malloc(chunk);
        memset(buf, 'x', chunk);
        buf[chunk - 1] = '\n';
        long long start = now_ns();
        for (long long done = 0; done < total; done += (long long)chunk) {
            if (stdio) {
                if (fwrite(buf, 1, chunk, stdout) != chunk) exit(2);
            } else {
                write_all(1, buf, chunk);
            }
        }
        if (fflush(stdout)) exit(2);
        write_stamp(start, now_ns());
        for (;;) pause();
    }
    if (argc >= 4 && !strcmp(argv[1], "ticker")) {
        long long n = atoll(argv[2]), us = atoll(argv[3]);
        char line[41];
        struct timespec at;
        clock_gettime(CLOCK_MONOTONIC, &at);
        long long start = now_ns();
        for (long long i = 0; i < n; i++) {
            snprintf(line, sizeof line, "line %-34lld", i);
            line[40] = '\n';
            write_all(1, line, 41);
            at.tv_nsec += us * 1000;
            while (at.tv_nsec >= 1000000000L) { at.tv_nsec -= 1000000000L; at.tv_sec++; }
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
        }
        write_stamp(start, now_ns());
        for (;;) pause();
    }
    if (argc >= 3 && !strcmp(argv[1], "forkexec")) {
        int n = atoi(argv[2]);
        long long start = now_ns();
        for (int i = 0; i < n; i++) {
            pid_t p = fork();
            if (p == 0) { execl("/bin/true", "true", (char *)0); _exit(127); }
            int st;
            waitpid(p, &st, 0);
        }
        printf("%.1f\n", (now_ns() - start) / 1000.0 / n);
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "pipe")) {
        long long total = atoll(argv[2]);
        int fds[2];
        if (pipe(fds)) return 1;
        pid_t p = fork();
        if (p == 0) {
            dup2(fds[0], 0);
            close(fds[1]);
            execl("/bin/sh", "sh", "-c", "cat > /dev/null", (char *)0);
            _exit(127);
        }
        close(fds[0]);
        size_t chunk = argc >= 4 ? (size_t)atoll(argv[3]) : 65536;
        int stdio = argc >= 5 && !strcmp(argv[4], "stdio");
        char *buf = malloc(chunk);
        memset(buf, 'x', chunk);
        buf[chunk - 1] = '\n';
        FILE *out = fdopen(fds[1], "w");
        if (!out) return 1;
        long long start = now_ns();
        for (long long done = 0; done < total; done += (long long)chunk) {
            if (stdio) {
                if (fwrite(buf, 1, chunk, out) != chunk) return 2;
            } else {
                write_all(fds[1], buf, chunk);
            }
        }
        fclose(out);
        int st;
        waitpid(p, &st, 0);
        printf("%.1f\n", total / 1e6 / ((now_ns() - start) / 1e9));
        return 0;
    }
    fprintf(stderr, "usage: helpers stamp FILE | writer N CHUNK | printer N LEN | forkexec N | pipe N [CHUNK [stdio]]\n");
    return 2;
}
