/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The event loop: epoll for descriptors, a binary min-heap for timers.
 *
 * Each turn: wait until the earliest timer is due (or an fd is ready), dispatch
 * the ready fds, then fire the due timers. Timers fire after fds so that a
 * response that arrived in the same instant as its timeout wins.
 *
 * An fd registration carries a generation number in the epoll cookie: when a
 * callback closes fd A and some other code opens a new A in the same turn, the
 * old event still queued for A is recognised as stale and skipped.
 */
#include "common/core/loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/rc.h"

#define LOOP_MAX_EVENTS 64

typedef struct fd_slot {
    ims_fd_cb cb;
    void *arg;
    uint32_t gen;   /* 0: free */
} fd_slot_t;

struct ims_loop {
    int epfd;
    bool stop;
    fd_slot_t *fds;
    size_t nfds;
    uint32_t next_gen;
    ims_timer_t **heap;
    size_t heap_len, heap_cap;
    int sigfd;
    ims_signal_cb sig_cb;
    void *sig_arg;
};

ims_loop_t *ims_loop_new(void)
{
    ims_loop_t *loop = calloc(1, sizeof(*loop));

    if (!loop)
        abort();
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        free(loop);
        return NULL;
    }
    loop->sigfd = -1;
    loop->next_gen = 1;
    return loop;
}

void ims_loop_free(ims_loop_t *loop)
{
    if (!loop)
        return;
    if (loop->sigfd >= 0)
        close(loop->sigfd);
    close(loop->epfd);
    free(loop->fds);
    free(loop->heap);
    free(loop);
}

static fd_slot_t *slot_for(ims_loop_t *loop, int fd, bool grow)
{
    if (fd < 0)
        return NULL;
    if ((size_t)fd >= loop->nfds) {
        size_t n = loop->nfds ? loop->nfds : 64;

        if (!grow)
            return NULL;
        while (n <= (size_t)fd)
            n *= 2;
        loop->fds = realloc(loop->fds, n * sizeof(*loop->fds));
        if (!loop->fds)
            abort();
        memset(loop->fds + loop->nfds, 0, (n - loop->nfds) * sizeof(*loop->fds));
        loop->nfds = n;
    }
    return &loop->fds[fd];
}

static uint32_t to_epoll(unsigned events)
{
    return ((events & IMS_EV_READ) ? EPOLLIN : 0u) | ((events & IMS_EV_WRITE) ? EPOLLOUT : 0u);
}

static int epoll_set(ims_loop_t *loop, int op, int fd, unsigned events, uint32_t gen)
{
    struct epoll_event ev = { .events = to_epoll(events) };

    ev.data.u64 = ((uint64_t)gen << 32) | (uint32_t)fd;
    return epoll_ctl(loop->epfd, op, fd, &ev) == 0 ? IMS_OK : IMS_ERROR;
}

int ims_loop_add_fd(ims_loop_t *loop, int fd, unsigned events, ims_fd_cb cb, void *arg)
{
    fd_slot_t *s = slot_for(loop, fd, true);

    if (!s || s->gen)
        return IMS_ERROR;
    if (++loop->next_gen == 0)
        loop->next_gen = 1;
    if (epoll_set(loop, EPOLL_CTL_ADD, fd, events, loop->next_gen) != IMS_OK)
        return IMS_ERROR;
    s->cb = cb;
    s->arg = arg;
    s->gen = loop->next_gen;
    return IMS_OK;
}

int ims_loop_mod_fd(ims_loop_t *loop, int fd, unsigned events)
{
    fd_slot_t *s = slot_for(loop, fd, false);

    if (!s || !s->gen)
        return IMS_ERROR;
    return epoll_set(loop, EPOLL_CTL_MOD, fd, events, s->gen);
}

void ims_loop_del_fd(ims_loop_t *loop, int fd)
{
    fd_slot_t *s = slot_for(loop, fd, false);

    if (!s || !s->gen)
        return;
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    memset(s, 0, sizeof(*s));
}

/* ---- timer heap ---- */

void ims_timer_init(ims_timer_t *t)
{
    memset(t, 0, sizeof(*t));
    t->heap_idx = SIZE_MAX;
}

bool ims_timer_armed(const ims_timer_t *t)
{
    return t->heap_idx != SIZE_MAX;
}

size_t ims_loop_timer_count(const ims_loop_t *loop)
{
    return loop->heap_len;
}

static void heap_place(ims_loop_t *loop, size_t i, ims_timer_t *t)
{
    loop->heap[i] = t;
    t->heap_idx = i;
}

static void heap_up(ims_loop_t *loop, size_t i)
{
    ims_timer_t *t = loop->heap[i];

    while (i > 0) {
        size_t parent = (i - 1) / 2;

        if (loop->heap[parent]->due_ms <= t->due_ms)
            break;
        heap_place(loop, i, loop->heap[parent]);
        i = parent;
    }
    heap_place(loop, i, t);
}

static void heap_down(ims_loop_t *loop, size_t i)
{
    ims_timer_t *t = loop->heap[i];

    for (;;) {
        size_t c = 2 * i + 1;

        if (c >= loop->heap_len)
            break;
        if (c + 1 < loop->heap_len && loop->heap[c + 1]->due_ms < loop->heap[c]->due_ms)
            c++;
        if (t->due_ms <= loop->heap[c]->due_ms)
            break;
        heap_place(loop, i, loop->heap[c]);
        i = c;
    }
    heap_place(loop, i, t);
}

void ims_timer_stop(ims_loop_t *loop, ims_timer_t *t)
{
    size_t i = t->heap_idx;

    if (i == SIZE_MAX)
        return;
    t->heap_idx = SIZE_MAX;
    loop->heap_len--;
    if (i == loop->heap_len)
        return;
    /* Move the last timer into the hole and restore the heap in whichever
     * direction it violates. */
    ims_timer_t *moved = loop->heap[loop->heap_len];

    heap_place(loop, i, moved);
    heap_up(loop, i);
    heap_down(loop, moved->heap_idx);
}

static void timer_arm(ims_loop_t *loop, ims_timer_t *t, uint64_t due_ms, ims_timer_cb cb,
                      void *arg)
{
    ims_timer_stop(loop, t);
    t->due_ms = due_ms;
    t->cb = cb;
    t->arg = arg;
    if (loop->heap_len == loop->heap_cap) {
        loop->heap_cap = loop->heap_cap ? loop->heap_cap * 2 : 256;
        loop->heap = realloc(loop->heap, loop->heap_cap * sizeof(*loop->heap));
        if (!loop->heap)
            abort();
    }
    heap_place(loop, loop->heap_len++, t);
    heap_up(loop, loop->heap_len - 1);
}

void ims_timer_start(ims_loop_t *loop, ims_timer_t *t, uint64_t ms, ims_timer_cb cb, void *arg)
{
    timer_arm(loop, t, ims_clock_now_ms() + ms, cb, arg);
}

void ims_timer_start_coarse(ims_loop_t *loop, ims_timer_t *t, uint64_t ms, ims_timer_cb cb,
                            void *arg)
{
    uint64_t due = ims_clock_now_ms() + ms;

    if (ms > 0 && due <= UINT64_MAX - IMS_TIMER_COARSE_MS)
        due = (due + IMS_TIMER_COARSE_MS - 1) / IMS_TIMER_COARSE_MS * IMS_TIMER_COARSE_MS;
    timer_arm(loop, t, due, cb, arg);
}

size_t ims_loop_run_timers(ims_loop_t *loop)
{
    uint64_t now = ims_clock_now_ms();
    size_t fired = 0;

    /* A callback may start timers due "now" (0 ms); they fire in this same pass,
     * which is what a zero-duration RFC 3261 timer means. Bounded by the heap. */
    while (loop->heap_len > 0 && loop->heap[0]->due_ms <= now) {
        ims_timer_t *t = loop->heap[0];

        ims_timer_stop(loop, t);
        fired++;
        t->cb(loop, t, t->arg);
    }
    return fired;
}

static int next_timeout(ims_loop_t *loop, int max_wait_ms)
{
    uint64_t now, due;
    int wait;

    if (loop->heap_len == 0)
        return max_wait_ms;
    now = ims_clock_now_ms();
    due = loop->heap[0]->due_ms;
    wait = due <= now ? 0 : (due - now > 60000 ? 60000 : (int)(due - now));
    if (ims_clock_is_driven())
        wait = 0;  /* a driven clock never moves by itself */
    return (max_wait_ms >= 0 && max_wait_ms < wait) ? max_wait_ms : wait;
}

int ims_loop_run_once(ims_loop_t *loop, int max_wait_ms)
{
    struct epoll_event evs[LOOP_MAX_EVENTS];
    int n = epoll_wait(loop->epfd, evs, LOOP_MAX_EVENTS, next_timeout(loop, max_wait_ms));

    if (n < 0 && errno != EINTR) {
        IMS_ERR("epoll_wait: %s", strerror(errno));
        return IMS_ERROR;
    }
    for (int i = 0; i < n; i++) {
        int fd = (int)(uint32_t)evs[i].data.u64;
        uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
        fd_slot_t *s = slot_for(loop, fd, false);
        unsigned ev = 0;

        if (!s || s->gen != gen)
            continue;  /* removed (and maybe reused) earlier in this turn */
        if (evs[i].events & EPOLLIN)
            ev |= IMS_EV_READ;
        if (evs[i].events & EPOLLOUT)
            ev |= IMS_EV_WRITE;
        if (evs[i].events & (EPOLLERR | EPOLLHUP))
            ev |= IMS_EV_ERROR | IMS_EV_READ;
        s->cb(loop, fd, ev, s->arg);
    }
    ims_loop_run_timers(loop);
    return IMS_OK;
}

int ims_loop_run(ims_loop_t *loop)
{
    loop->stop = false;
    while (!loop->stop)
        if (ims_loop_run_once(loop, -1) != IMS_OK)
            return IMS_ERROR;
    return IMS_OK;
}

void ims_loop_stop(ims_loop_t *loop)
{
    loop->stop = true;
}

static void on_signal(ims_loop_t *loop, int fd, unsigned events, void *arg)
{
    struct signalfd_siginfo si;

    while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (loop->sig_cb)
            loop->sig_cb(loop, (int)si.ssi_signo, loop->sig_arg);
        else if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)
            ims_loop_stop(loop);
    }
}

int ims_loop_handle_signals(ims_loop_t *loop, ims_signal_cb cb, void *arg)
{
    sigset_t set;

    if (loop->sigfd >= 0) {
        /* already receiving them: a later caller (the control socket's SIGHUP)
         * takes over the callback */
        loop->sig_cb = cb;
        loop->sig_arg = arg;
        return IMS_OK;
    }
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return IMS_ERROR;
    loop->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (loop->sigfd < 0)
        return IMS_ERROR;
    loop->sig_cb = cb;
    loop->sig_arg = arg;
    return ims_loop_add_fd(loop, loop->sigfd, IMS_EV_READ, on_signal, NULL);
}
