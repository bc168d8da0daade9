#include "cluster/detail/serving_rank.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include <isolates/executor/errors.h>
#include <isolates/interp/errors.h>
#include <isolates/interp/wire.h>
#include "cluster/detail/comm.h"
#include "cluster/detail/frame_header.h"
#include "cluster/detail/message_size.h"
#include "cluster/detail/pool_config.h"

namespace isolates::cluster::detail {

namespace {
namespace wp = isolates::worker_protocol;

std::string host_name() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return "?";
    return name;
}

Bytes wire_bytes(const Value& value) {
    Bytes out;
    put_frame(out, wire::encode(value));
    return out;
}

/// A Python exception keeps its type and message; its traceback says where it ran.
std::exception_ptr placed(const std::exception_ptr& error, const std::string& where) {
    try {
        std::rethrow_exception(error);
    } catch (const PythonError& e) {
        return std::make_exception_ptr(PythonError(e.type_name(), e.message(), "On MPI " + where + ":\n" + e.traceback()));
    } catch (...) {
        return error;
    }
}

class Server {
public:
    Server(boost::mpi::communicator world, const MpiPoolExecutor::Options& options)
        : root_(options.root), where_rank_("rank " + std::to_string(world.rank()) + " (host " + host_name() + ")") {
        Comm::Options comm_options;
        comm_options.peers = {options.root};
        comm_options.heartbeat = options.heartbeat;
        comm_options.silence = options.rank_timeout;
        comm_ = std::make_unique<Comm>(
            std::move(world), comm_options,
            [this](int source, int tag, Bytes&& message) { on_message(source, tag, std::move(message)); },
            [this](int) { on_silent(); });
    }

    ~Server() {
        // The pool first (its continuations post replies), then the Comm thread.
        pool_.reset();
        comm_.reset();
    }

    bool run() {
        std::optional<Bytes> config;
        {
            std::unique_lock lock(mutex_);
            changed_.wait(lock, [&] { return config_.has_value() || ending_; });
            if (!config_) { // the client ended serving (end_serving)
                const bool silent = client_silent_;
                lock.unlock();
                if (!silent) comm_->post(root_, tag_done, Bytes(1));
                comm_->stop();
                return false;
            }
            config = std::move(config_);
        }
        if (!start_pool(*config)) {
            wait_for_end();
            comm_->post(root_, tag_done, Bytes(1));
            comm_->stop();
            return true;
        }
        wait_for_end();
        pool_->shutdown(/*wait=*/true, /*cancel_pending=*/true);
        bool silent = false;
        {
            std::lock_guard lock(mutex_);
            silent = client_silent_;
        }
        if (!silent) comm_->post(root_, tag_done, Bytes(1));
        comm_->stop();
        return true;
    }

private:
    /// Starts the pool and tells the client; false (told too) when it could not.
    bool start_pool(const Bytes& config) {
        try {
            auto pool = std::make_unique<InterpreterPoolExecutor>(decode_pool_config(config));
            pool->wait_until_started();
            const std::size_t workers = pool->size();
            {
                std::lock_guard lock(mutex_);
                pool_ = std::move(pool);
            }
            comm_->post(root_, tag_ready,
                        wire_bytes(Value::tuple({Value::integer(static_cast<std::int64_t>(workers)),
                                                 Value::str(host_name())})));
            return true;
        } catch (const std::exception& e) {
            comm_->post(root_, tag_ready, wire_bytes(Value::tuple({Value::none(), Value::str(e.what())})));
            return false;
        }
    }

    void wait_for_end() {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return ending_; });
    }

    void on_message(int source, int tag, Bytes&& message) {
        if (source != root_) return;
        if (tag == tag_config) {
            std::lock_guard lock(mutex_);
            config_ = std::move(message);
            changed_.notify_all();
        } else if (tag == tag_request) {
            relay(message);
        } else if (tag == tag_interrupt) {
            interrupt(message);
        } else if (tag == tag_shutdown) {
            std::lock_guard lock(mutex_);
            ending_ = true;
            changed_.notify_all();
        }
    }

    void on_silent() {
        std::fprintf(stderr, "isolates: MPI %s: the client (rank %d) fell silent; shutting down\n",
                     where_rank_.c_str(), root_);
        std::lock_guard lock(mutex_);
        client_silent_ = true;
        ending_ = true;
        changed_.notify_all();
    }

    /// Runs a request on the worker it names; its reply goes back when it resolves.
    void relay(const Bytes& message) {
        std::uint32_t slot = 0, local = 0;
        std::uint64_t seq = 0;
        try {
            std::size_t at = 0;
            slot = static_cast<std::uint32_t>(get_uint(message, at, 4));
            local = static_cast<std::uint32_t>(get_uint(message, at, 4));
            seq = get_uint(message, at, 8);
            {
                std::lock_guard lock(mutex_);
                replies_[slot].order.push_back(seq); // its reply goes out after the earlier ones
            }
            wp::Request request = wp::decode_request(frame_after(message, at));
            InterpreterPoolExecutor* pool = nullptr;
            {
                std::lock_guard lock(mutex_);
                pool = pool_.get();
            }
            if (!pool) throw UsageError("MpiPoolExecutor: a request before the pool started");
            if (local >= pool->size()) throw UsageError("MpiPoolExecutor: no worker " + std::to_string(local));
            // An import is for later interpreters of this rank too (replacements).
            if (request.op == wp::Op::import_module && imported_.insert(request.text).second)
                (void)pool->import_module(request.text);
            InterpreterPoolExecutor::TaskOptions options;
            options.worker = local;
            const std::string where = where_rank_ + " worker " + std::to_string(local);
            auto future = pool->submit_request(options, std::move(request));
            {
                std::lock_guard lock(mutex_);
                if (!future.ready()) running_[{slot, seq}] = future;
            }
            future.then([this, slot, seq, where](Future<wp::Reply> done) {
                wp::Reply reply;
                try {
                    reply = std::move(done).get();
                    if (reply.error) reply.error = placed(reply.error, where);
                } catch (const CancelledError&) {
                    reply.error = std::current_exception();
                    reply.ran = false;
                } catch (...) {
                    reply.error = std::current_exception();
                }
                reply.seq = seq;
                reply.healthy = true; // this rank's pool replaces a broken interpreter itself
                answer(slot, reply);
            });
        } catch (...) {
            wp::Reply reply;
            reply.seq = seq;
            reply.error = std::current_exception();
            answer(slot, reply);
        }
    }

    /// Sends the reply once every earlier request of its slot is answered: the client matches
    /// replies to requests by order (as a worker process answers them), but a request cancelled
    /// while queued here resolves before the one running ahead of it.
    void answer(std::uint32_t slot, const wp::Reply& reply) {
        std::vector<std::byte> frame;
        wp::encode(reply, frame);
        try {
            check_message_size(4 + frame.size(), "the task's reply");
        } catch (...) {
            // Too large for one send: the client gets why instead of the result.
            wp::Reply refused;
            refused.seq = reply.seq;
            refused.error = std::current_exception();
            wp::encode(refused, frame);
        }
        Bytes message;
        message.reserve(4 + frame.size());
        put_uint(message, slot, 4);
        put_frame(message, frame);
        std::lock_guard lock(mutex_);
        running_.erase({slot, reply.seq});
        auto it = replies_.find(slot);
        if (it == replies_.end() ||
            std::find(it->second.order.begin(), it->second.order.end(), reply.seq) == it->second.order.end()) {
            comm_->post(root_, tag_reply, std::move(message)); // malformed: its slot or seq is unknown
            return;
        }
        SlotReplies& pending = it->second;
        pending.ready[reply.seq] = std::move(message);
        // Posted under mutex_, so that two answers never overtake each other on the way out.
        while (!pending.order.empty()) {
            auto next = pending.ready.find(pending.order.front());
            if (next == pending.ready.end()) break;
            comm_->post(root_, tag_reply, std::move(next->second));
            pending.ready.erase(next);
            pending.order.pop_front();
        }
        if (pending.order.empty()) replies_.erase(it);
    }

    void interrupt(const Bytes& message) {
        Future<wp::Reply> future;
        try {
            std::size_t at = 0;
            const auto slot = static_cast<std::uint32_t>(get_uint(message, at, 4));
            const std::uint64_t seq = get_uint(message, at, 8);
            std::lock_guard lock(mutex_);
            auto it = running_.find({slot, seq});
            if (it == running_.end()) return; // done meanwhile
            future = it->second;
        } catch (const std::exception&) {
            return;
        }
        future.cancel(); // not under the lock: the continuation may run here and take it
    }

    const int root_;
    const std::string where_rank_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::optional<Bytes> config_;   // guarded by mutex_
    bool ending_ = false;           // guarded by mutex_
    bool client_silent_ = false;    // guarded by mutex_
    std::unique_ptr<InterpreterPoolExecutor> pool_; // set under mutex_ once
    std::map<std::pair<std::uint32_t, std::uint64_t>, Future<wp::Reply>> running_; // guarded by mutex_
    /// Per slot: the seqs relayed and not yet answered, in arrival order, and finished replies
    /// waiting for an earlier one.
    struct SlotReplies {
        std::deque<std::uint64_t> order;
        std::map<std::uint64_t, Bytes> ready;
    };
    std::map<std::uint32_t, SlotReplies> replies_; // guarded by mutex_
    std::set<std::string> imported_; // the Comm thread's
    std::unique_ptr<Comm> comm_;     // last: destroyed first, its thread calls the members above
};
} // namespace

bool serve_rank(boost::mpi::communicator world, const MpiPoolExecutor::Options& options) {
    Server server(std::move(world), options);
    return server.run();
}

} // namespace isolates::cluster::detail
