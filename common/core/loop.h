/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One non-blocking event loop per daemon: epoll for file descriptors and a
 * binary min-heap of timers. Callbacks run on the loop's thread, one at a time.
 *
 * Timers are embedded in the caller's objects (ims_timer_t): starting one
 * allocates nothing, and stopping an idle timer is a no-op, so an object can
 * stop all its timers in its destructor without tracking which are armed.
 */
#ifndef IMS_LOOP_H
#define IMS_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ims_loop ims_loop_t;

/* fd readiness bits handed to ims_fd_cb (subset of epoll's). */
#define IMS_EV_READ  0x1u
#define IMS_EV_WRITE 0x2u
#define IMS_EV_ERROR 0x4u  /* EPOLLERR or EPOLLHUP */

typedef void (*ims_fd_cb)(ims_loop_t *loop, int fd, unsigned events, void *arg);

typedef struct ims_timer ims_timer_t;
typedef void (*ims_timer_cb)(ims_loop_t *loop, ims_timer_t *t, void *arg);

struct ims_timer {
    uint64_t due_ms;    /* on ims_clock_now_ms() */
    size_t heap_idx;    /* position in the heap; SIZE_MAX when idle */
    ims_timer_cb cb;
    void *arg;
};

/* Create/destroy. ims_loop_free closes nothing: fds belong to their owners. */
ims_loop_t *ims_loop_new(void);
void ims_loop_free(ims_loop_t *loop);

/* Register fd for events (IMS_EV_READ|IMS_EV_WRITE). One registration per fd. */
int ims_loop_add_fd(ims_loop_t *loop, int fd, unsigned events, ims_fd_cb cb, void *arg);
int ims_loop_mod_fd(ims_loop_t *loop, int fd, unsigned events);
/* Safe to call from inside that fd's own callback. */
void ims_loop_del_fd(ims_loop_t *loop, int fd);

/* Must be called once on a timer before first use (or zero-init + heap_idx=SIZE_MAX). */
void ims_timer_init(ims_timer_t *t);
/* (Re)arm t to fire once after ms on the loop's clock. Re-arming an armed timer moves it. */
void ims_timer_start(ims_loop_t *loop, ims_timer_t *t, uint64_t ms, ims_timer_cb cb, void *arg);
/* Like ims_timer_start, for a timer whose only job is to free state or give up
 * (the end timers of SIP transactions): it fires no earlier than
 * ms from now and at most IMS_TIMER_COARSE_MS - 1 later, at the next multiple of
 * IMS_TIMER_COARSE_MS on the clock. Why: at hundreds of calls a second such
 * timers fall due in nearly every millisecond, and each would wake the daemon on
 * its own; on the grid they fire together, some 16 wake-ups a second. ms == 0
 * still fires in the current pass. */
#define IMS_TIMER_COARSE_MS 64u
void ims_timer_start_coarse(ims_loop_t *loop, ims_timer_t *t, uint64_t ms, ims_timer_cb cb,
                            void *arg);
/* Disarm; no-op if idle. Safe from any callback, including t's own. */
void ims_timer_stop(ims_loop_t *loop, ims_timer_t *t);
bool ims_timer_armed(const ims_timer_t *t);
/* Number of armed timers (for tests, metrics, leak checks). */
size_t ims_loop_timer_count(const ims_loop_t *loop);

/* Fire every timer whose due time is <= now. Returns how many fired.
 * The loop calls this itself; tests with a driven clock call it after ims_clock_advance. */
size_t ims_loop_run_timers(ims_loop_t *loop);

/* Wait at most max_wait_ms (-1: until the next timer) for events, dispatch them
 * and the due timers. Returns IMS_OK or IMS_ERROR (epoll failure). */
int ims_loop_run_once(ims_loop_t *loop, int max_wait_ms);

/* Run until ims_loop_stop() or a handled SIGINT/SIGTERM. */
int ims_loop_run(ims_loop_t *loop);
void ims_loop_stop(ims_loop_t *loop);

/* Block SIGINT/SIGTERM/SIGHUP and receive them on the loop (signalfd). cb gets the
 * signal number; with cb NULL, SIGINT/SIGTERM stop the loop. SIGPIPE is ignored.
 * Calling it again only replaces cb and arg (a cb must then stop the loop itself). */
typedef void (*ims_signal_cb)(ims_loop_t *loop, int signo, void *arg);
int ims_loop_handle_signals(ims_loop_t *loop, ims_signal_cb cb, void *arg);

#endif
