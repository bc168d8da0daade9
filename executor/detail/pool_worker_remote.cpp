// The loop of a process worker: it keeps up to 1 + Options::process_prefetch requests in flight,
// so a worker process that finishes a short task finds the next one already in its ring instead
// of waiting for a wake-up round trip through the host. The process runs them in order and
// answers each in order. Sending ahead starts again from one request after any task that took
// longer than a millisecond, and takes no more than a fair part of the queue, so long tasks are
// spread over the workers as before. A task with a timeout goes alone (its clock starts when it
// is sent), and so does a host job (post()).
//
// Stops: a request not yet started is marked to be skipped (RemoteWorker::interrupt); the one
// running is interrupted, and its process killed past kill_after. When the process ends, the
// oldest request in flight is the one it ran (it fails with WorkerProcessError); the rest never
// started and go to the replacement process, so none runs twice and none is lost.

#include <algorithm>

#include <isolates/process/process_worker.h>
#include "executor/detail/pool_impl.h"
#include "executor/detail/pool_worker.h"

namespace isolates::detail {

namespace {
/// A task that takes longer than this ends sending ahead: it gains nothing from it, and tasks
/// queued behind it would wait while another worker may be idle.
constexpr auto short_task = std::chrono::milliseconds(1);
} // namespace

void PoolWorker::serve_process() {
    const auto stop = [&] { return pool_.lifecycle.stopping() || pool_.lifecycle.broken(); };
    while (process_ && (!pool_.lifecycle.broken() || !in_flight_.empty())) {
        if (in_flight_.empty() && backlog_.empty()) {
            Task* task = pool_.queues.take_or_sleep(index_, stop);
            if (!task) {
                if (stop()) break; // nothing queued: a stopping pool runs every task queued before
                continue;
            }
            backlog_.emplace_back(task);
        }
        send_more();
        if (!in_flight_.empty()) receive_one();
    }
    // Left only by a broken pool (or a process that could not be replaced, which broke it).
    for (auto& task : resend_) backlog_.push_back(std::move(task));
    resend_.clear();
    for (auto& task : backlog_) task->state().fail(pool_.broken_error());
    backlog_.clear();
}

bool PoolWorker::may_send_ahead() const {
    const std::size_t process_workers = pool_.options.worker_kind == InterpreterPoolExecutor::WorkerKind::mixed
                                            ? pool_.options.process_workers
                                            : pool_.workers.size();
    return pool_.queues.depth() >= 2 * process_workers * in_flight_.size();
}

void PoolWorker::send_more() {
    while (!barrier_ && !pool_.lifecycle.broken()) {
        if (!in_flight_.empty() && in_flight_.size() >= window_) return;
        std::unique_ptr<Task> task;
        if (!backlog_.empty()) {
            task = std::move(backlog_.front());
            backlog_.pop_front();
        } else if (!in_flight_.empty() && may_send_ahead()) {
            task.reset(pool_.queues.take(index_));
        }
        if (!task || !start(std::move(task))) return;
    }
}

bool PoolWorker::start(std::unique_ptr<Task> task) {
    StateBase& state = task->state();
    worker_protocol::Request request;
    const bool sends = task->make_request(request);
    const bool ahead = !in_flight_.empty();
    if (ahead && (!sends || task->timeout.count() > 0)) {
        backlog_.push_front(std::move(task)); // alone, once the ones in flight are done
        return false;
    }
    if (!sends) { // a host job, or a C++ callable that fails with UsageError
        run_here(*task);
        return true;
    }
    {
        // In flight before it can be stopped, so that a stop finds it.
        std::lock_guard lock(running_mutex_);
        InFlight entry;
        entry.state = task->shared_state();
        entry.seq = process_->next_seq();
        in_flight_.push_back(std::move(entry));
    }
    const auto take_back = [&] {
        std::lock_guard lock(running_mutex_);
        in_flight_.pop_back();
    };
    if (!state.begin_running(this)) { // resolved while queued
        take_back();
        return true;
    }
    RemoteWorker::Sent sent;
    try {
        sent = process_->send(request, ahead);
    } catch (...) { // an argument that cannot cross processes
        take_back();
        worker_protocol::Reply failed;
        failed.error = std::current_exception();
        task->finish(std::move(failed));
        task_done(*task, Clock::now(), {});
        return true;
    }
    if (sent != RemoteWorker::Sent::sent) {
        take_back();
        state.end_running();
        wait_until_released();
        backlog_.push_front(std::move(task));
        if (sent == RemoteWorker::Sent::gone && !ahead) replace_process(); // it died idle
        return false;
    }
    InFlight& entry = in_flight_.back(); // only this thread adds or removes entries
    entry.sent = Clock::now();
    entry.timeout_what = start_timeout(*task);
    if (task->timeout.count() > 0) barrier_ = true;
    entry.task = std::move(task);
    return true;
}

void PoolWorker::receive_one() {
    worker_protocol::Reply reply;
    if (!process_->receive(reply)) return process_ended();
    InFlight done;
    {
        std::lock_guard lock(running_mutex_);
        done = std::move(in_flight_.front());
        in_flight_.pop_front();
    }
    const auto now = Clock::now();
    const auto started = std::max(done.sent, last_reply_); // when the process could start it
    last_reply_ = now;
    window_ = now - started < short_task ? std::min(window_ * 2, 1 + pool_.options.process_prefetch) : 1;
    if (done.task->timeout.count() > 0) barrier_ = false;
    if (!reply.ran && !done.state->ready()) {
        // Skipped because an earlier task broke the interpreter: it goes to the replacement.
        done.state->end_running();
        wait_until_released();
        resend_.push_back(std::move(done.task));
    } else {
        done.task->finish(std::move(reply));
        task_done(*done.task, started, done.timeout_what);
    }
    // A reply said the interpreter broke (the ones after it were skipped), or the process died.
    if (in_flight_.empty() && !process_->healthy()) replace_process();
}

void PoolWorker::process_ended() {
    const auto error = std::make_exception_ptr(WorkerProcessError(process_->end_message()));
    std::deque<InFlight> ended;
    {
        std::lock_guard lock(running_mutex_);
        ended.swap(in_flight_);
    }
    // The process runs requests in order: the oldest is the one it ran, the rest never started.
    worker_protocol::Reply failed;
    failed.error = error;
    ended.front().task->finish(std::move(failed));
    task_done(*ended.front().task, std::max(ended.front().sent, last_reply_), ended.front().timeout_what);
    for (std::size_t k = 1; k < ended.size(); ++k) {
        ended[k].state->end_running();
        resend_.push_back(std::move(ended[k].task));
    }
    replace_process();
}

void PoolWorker::replace_process() {
    wait_until_released(); // no stop still uses the old process
    process_.reset();
    barrier_ = false;
    window_ = 1;
    pool_.counters.replaced_interpreters.fetch_add(1, std::memory_order_relaxed);
    for (auto it = resend_.rbegin(); it != resend_.rend(); ++it) backlog_.push_front(std::move(*it));
    resend_.clear();
    make_interpreter(); // on failure the pool is broken and serve_process() ends
}

void PoolWorker::stop_in_process(StateBase& state) noexcept {
    const auto now = Clock::now();
    std::uint64_t seq = 0;
    bool kill = false;
    std::shared_ptr<StateBase> retry;
    std::chrono::milliseconds backoff;
    {
        std::lock_guard lock(running_mutex_);
        auto it = std::find_if(in_flight_.begin(), in_flight_.end(),
                               [&](const InFlight& request) { return request.state.get() == &state; });
        if (it == in_flight_.end()) return; // a host job (it checks stop_requested()), or done
        seq = it->seq;
        if (it->first_stop == Clock::time_point{}) it->first_stop = now;
        // Code blocked in C never sees the interrupt: only the process's end stops it. Only the
        // oldest request can be running.
        kill = it == in_flight_.begin() && now - it->first_stop >= pool_.options.kill_after;
        it->backoff = backoff = std::min(std::chrono::milliseconds(50), it->backoff * 2);
        retry = it->state;
    }
    // Held (see Runner): the process is the one the request went to, until it is replaced
    // after this request is done with.
    process_->interrupt(seq);
    if (kill) process_->kill();
    // Again later while it is in flight: the code may catch KeyboardInterrupt, the request may
    // not have been sent yet, or it may need killing.
    pool_.timer.schedule(now + backoff, retry, Timer::Kind::retry);
}

} // namespace isolates::detail
