/* One thread count for every kernel, kept in a global rather than OpenMP's per-thread ICV so a
 * kernel called from any Python thread sees what set_num_threads chose. Default: OpenMP's,
 * which honours OMP_NUM_THREADS and otherwise uses every core the process may run on.
 *
 * A busy core (issue 12). On a laptop or a shared server another process often holds one of
 * the cores. A fork-join region then ends when its slowest thread does, and the thread that
 * shares its core with the other process runs in time slices of milliseconds: a 2-thread MLP
 * epoch measured 2.1-2.9x its 1-thread time beside one busy-loop process. Splitting the work
 * dynamically does not cure it (a thread descheduled while it holds a chunk still stalls the
 * join), so the kernels watch for it instead: each instrumented region (GEMM, convolution)
 * records when every thread finished its share and how much work that share was. A region
 * is slow when its slowest thread's rate is below a quarter of the fastest's and it finished
 * at least 1 ms after it (a lost time slice, not a late wake-up). Slow regions come every
 * few milliseconds under contention (the shared thread is off its core for a time slice, then
 * runs a slice, so slow and clean regions alternate, and "two slow regions in a row" missed
 * most of them); when two come within 20 ms of each other, every kernel runs on one thread
 * (fnn_region_threads) for a back-off period, 10 ms doubling to 1.6 s while the contention
 * persists, then probes with the full team again. A process alone on its cores rarely sees
 * one slow region, let alone two that close, and keeps its speed. FASTNN_ADAPTIVE_THREADS=0
 * turns this off. */
#include "fastnn_kernels.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static int fnn_threads = 0;

void fnn_set_num_threads(int n)
{
    if (n >= 1) fnn_threads = n;
}

int fnn_get_num_threads(void)
{
#ifdef _OPENMP
    if (fnn_threads < 1) fnn_threads = omp_get_max_threads();
    return fnn_threads;
#else
    return 1;
#endif
}

long long fnn_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Heuristic state, shared by every calling thread. Races between Python threads calling
 * kernels at once only blur the heuristic (relaxed atomics, no torn values), never results:
 * a region's thread count changes nothing but its speed (every kernel gives the same bits for
 * any thread count). */
/* The first back-off is short: a false alarm (the host preempting a virtual CPU for a few
 * milliseconds) then costs 10 ms on one thread, not 100 ms, while persistent contention
 * doubles it to 1.6 s within a few probes. */
enum { MIN_BACKOFF_NS = 10000000LL, MAX_BACKOFF_NS = 1600000000LL };
/* Slowest thread's rate below this fraction of the fastest's. A thread that shares its core
 * with a busy process loses whole time slices (milliseconds) and runs a region at a few percent
 * of the other's rate; a virtual machine's steal and wake-up jitter (tens of microseconds)
 * brought short regions down to 0.3-0.6 of it, and at 0.5 such regions tripped the check on
 * an otherwise idle machine. */
#define SLOW_RATE_RATIO 0.25
#define MIN_REGION_NS 30000LL  /* shorter regions are too noisy to judge */
/* ... and the slow thread must also finish this much after the fast one: a lost time slice
 * is milliseconds, while a thread that is merely late (woken last, preempted by another
 * spinning thread pool in the process such as OpenBLAS's, or its virtual CPU briefly
 * descheduled by the host) loses tens to hundreds of microseconds. On a noisy VM the rate test alone flagged 1-9 regions a second of
 * back-to-back 20-40 us products, and with 0.3 ms here still 1-3: enough to run the batch-32
 * forward at its 1-thread speed. At 1 ms: one in 12 s, and the busy-core epoch unchanged. */
#define MIN_LATENESS_NS 1000000LL
#define STRIKE_WINDOW_NS 20000000LL /* two slow regions this close mean a busy core */
#define CLEAN_TO_RESET 64      /* consecutive clean regions that reset the back-off */
/* A region that starts longer than this after the previous team region ended is not judged:
 * libgomp's idle threads stop spinning and sleep after a fraction of a millisecond, and the
 * one woken last starts late. On an unloaded machine that wake-up made the first region after
 * every pause look slow (a 2-thread batch-32 forward ran at its 1-thread speed in the
 * benchmarks, whose contenders pause between rounds); a busy core shows in regions back to
 * back, as in a training loop. */
#define IDLE_GAP_NS 200000LL

static int adaptive = -1; /* -1: not read from the environment yet */
static long long serial_until = 0;
static long long backoff = MIN_BACKOFF_NS;
static long long last_strike = 0; /* end of the last slow region, 0: none yet */
static int clean = 0;
static long long detections = 0;
static long long last_team_end = 0; /* when the last team region ended, 0: none yet */

static int adaptive_enabled(void)
{
    int on = __atomic_load_n(&adaptive, __ATOMIC_RELAXED);
    if (on < 0) {
        const char *env = getenv("FASTNN_ADAPTIVE_THREADS");
        on = !(env && strcmp(env, "0") == 0);
        __atomic_store_n(&adaptive, on, __ATOMIC_RELAXED);
    }
    return on;
}

void fnn_set_adaptive_threads(int on) { __atomic_store_n(&adaptive, on ? 1 : 0, __ATOMIC_RELAXED); }
int fnn_get_adaptive_threads(void) { return adaptive_enabled(); }

int fnn_region_threads(void)
{
    const int n = fnn_get_num_threads();
    if (n == 1) return 1;
    const long long until = __atomic_load_n(&serial_until, __ATOMIC_RELAXED);
    if (until == 0) return n;
    if (adaptive_enabled() && fnn_now_ns() < until) return 1;
    /* Back-off over: probe with the full team. The probe starts as if on a slow region, so
     * one more within the window (the contention is still there) ends it: a probe then costs
     * one slow region, not two. */
    __atomic_store_n(&serial_until, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&last_strike, fnn_now_ns(), __ATOMIC_RELAXED);
    return n;
}

void fnn_region_note_end(long long end) { __atomic_store_n(&last_team_end, end, __ATOMIC_RELAXED); }

void fnn_region_judge(const fnn_region *r, long long end)
{
    if (r->threads < 2 || r->threads > FNN_REGION_MAX_THREADS || !adaptive_enabled()) return;
    const long long previous_end = __atomic_exchange_n(&last_team_end, end, __ATOMIC_RELAXED);
    if (previous_end == 0 || r->start - previous_end > IDLE_GAP_NS) return;
    if (end - r->start < MIN_REGION_NS) return;
    double slow = -1.0, fast = 0.0;
    long long first = 0, last = 0;
    for (int t = 0; t < r->threads; ++t) {
        const long long took = r->done[t] - r->start;
        if (r->work[t] <= 0.0 || took <= 0) continue;
        const double rate = r->work[t] / (double)took;
        if (slow < 0.0 || rate < slow) slow = rate;
        if (rate > fast) fast = rate;
        if (first == 0 || r->done[t] < first) first = r->done[t];
        if (r->done[t] > last) last = r->done[t];
    }
    if (slow < 0.0) return;
    if (slow >= SLOW_RATE_RATIO * fast || last - first < MIN_LATENESS_NS) {
        if (__atomic_add_fetch(&clean, 1, __ATOMIC_RELAXED) >= CLEAN_TO_RESET)
            __atomic_store_n(&backoff, MIN_BACKOFF_NS, __ATOMIC_RELAXED);
        return;
    }
    __atomic_store_n(&clean, 0, __ATOMIC_RELAXED);
    const long long previous = __atomic_exchange_n(&last_strike, end, __ATOMIC_RELAXED);
    if (previous == 0 || end - previous > STRIKE_WINDOW_NS) return;
    __atomic_store_n(&last_strike, 0, __ATOMIC_RELAXED);
    const long long wait = __atomic_load_n(&backoff, __ATOMIC_RELAXED);
    __atomic_store_n(&serial_until, end + wait, __ATOMIC_RELAXED);
    __atomic_store_n(&backoff, wait * 2 > MAX_BACKOFF_NS ? MAX_BACKOFF_NS : wait * 2,
                     __ATOMIC_RELAXED);
    __atomic_add_fetch(&detections, 1, __ATOMIC_RELAXED);
}

long long fnn_contention_detections(void) { return __atomic_load_n(&detections, __ATOMIC_RELAXED); }

long long fnn_serial_remaining_ns(void)
{
    const long long until = __atomic_load_n(&serial_until, __ATOMIC_RELAXED);
    const long long left = until - fnn_now_ns();
    return until == 0 || left < 0 ? 0 : left;
}

void fnn_contention_reset(void)
{
    __atomic_store_n(&serial_until, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&backoff, MIN_BACKOFF_NS, __ATOMIC_RELAXED);
    __atomic_store_n(&last_strike, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&clean, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&last_team_end, 0, __ATOMIC_RELAXED);
}
