#pragma once
// TimeoutReport: where the pool's last timed-out task was when the interrupt stopped it. Its
// future resolved with TimeoutError at the deadline, before the code stopped, so the traceback
// the interrupt produced comes later, from the worker; stats().last_timeout_traceback shows it.

#include <exception>
#include <mutex>
#include <string>

#include <isolates/interp/errors.h>

namespace isolates::detail {

class TimeoutReport {
public:
    /// The worker, once a timed-out task's run ended: `what` is its TimeoutError's message,
    /// `stopped_with` what the task threw after that (the interrupt's exception), or nullptr.
    void record(const std::string& what, const std::exception_ptr& stopped_with) {
        std::string text = what;
        if (!stopped_with) {
            text += "; it returned after the deadline, without being stopped (its result was dropped)";
        } else {
            try {
                std::rethrow_exception(stopped_with);
            } catch (const PythonError& e) {
                text += "; the interrupt stopped it here:\n" + e.traceback();
            } catch (const std::exception& e) {
                text += "; it ended with: " + std::string(e.what());
            } catch (...) {
                text += "; it ended with an exception not derived from std::exception";
            }
        }
        std::lock_guard lock(mutex_);
        last_ = std::move(text);
    }
    /// Any thread: the last record, or empty.
    std::string last() const {
        std::lock_guard lock(mutex_);
        return last_;
    }

private:
    mutable std::mutex mutex_;
    std::string last_; // guarded by mutex_
};

} // namespace isolates::detail
