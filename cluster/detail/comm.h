#pragma once
// Comm: the one thread of a rank that makes MPI calls (MPI_THREAD_SERIALIZED), with nonblocking
// calls (and a receive only of a message a probe found). Any thread posts a message (a byte
// frame and a tag) for another rank; the thread sends it, receives whatever arrives and hands it
// to the handler, sends heartbeats to the peers it was given, and reports a peer that has sent
// nothing for `silence` (dead or hung). While messages flow it polls without sleeping; when
// nothing happens it sleeps in growing steps up to `max_poll_interval` (Open MPI's blocking waits
// spin: an idle rank must not take a core from the workers), woken at once by a post.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/mpi/communicator.hpp>
#include <boost/mpi/request.hpp>

namespace isolates::cluster::detail {

using Bytes = std::vector<char>;

/// What the ranks say to each other: the MPI tag of each kind of message.
enum Tag : int {
    tag_config = 1,    ///< client -> rank: the pool options (wire Value)
    tag_ready = 2,     ///< rank -> client: its pool started (wire Value: workers, host) or not
    tag_request = 3,   ///< client -> rank: slot id (u32), local worker (u32), request frame
    tag_interrupt = 4, ///< client -> rank: slot id (u32), seq (u64)
    tag_reply = 5,     ///< rank -> client: slot id (u32), reply frame
    tag_heartbeat = 6, ///< either way, when nothing else was sent for a heartbeat period
    tag_shutdown = 7,  ///< client -> rank: shut down and answer tag_done
    tag_done = 8,      ///< rank -> client: its pool has shut down
};

class Comm {
public:
    struct Options {
        /// Ranks to send heartbeats to and to watch for silence.
        std::vector<int> peers;
        std::chrono::milliseconds heartbeat{500};
        /// A peer that sent nothing for this long is reported (once) to on_silent.
        std::chrono::milliseconds silence{3000};
        std::chrono::microseconds max_poll_interval{1000};
    };
    /// Called on the comm thread for every message but heartbeats: (source rank, tag, bytes).
    using Handler = std::function<void(int source, int tag, Bytes&& message)>;
    /// Called on the comm thread when a peer fell silent.
    using SilenceHandler = std::function<void(int rank)>;

    /// Starts the thread. MPI must be initialised with at least MPI_THREAD_SERIALIZED, and no
    /// other thread may make MPI calls while this Comm lives.
    Comm(boost::mpi::communicator world, Options options, Handler on_message, SilenceHandler on_silent);
    /// stop(), then joins the thread.
    ~Comm();
    Comm(const Comm&) = delete;
    Comm& operator=(const Comm&) = delete;

    /// Any thread: queues `message` for rank `dest`; it goes in order with the other messages
    /// posted to that rank. Throws UsageError for a message of 2 GiB or more (check_message_size).
    void post(int dest, int tag, Bytes message);
    /// Any thread: sends what was posted (waiting up to `flush` for the sends to complete: a
    /// dead peer never completes one), then ends the thread. Idempotent.
    void stop(std::chrono::milliseconds flush = std::chrono::milliseconds(2000));
    /// This rank.
    int rank() const noexcept { return rank_; }

private:
    struct Outgoing {
        int dest;
        int tag;
        Bytes message;
    };
    struct InFlight {
        boost::mpi::request request;
        Bytes message; // alive until the send completes
    };

    void main();
    /// Starts the sends posted so far; true if there were any.
    bool send_posted();
    /// Frees completed sends; true if any completed.
    bool complete_sends();
    /// Receives every message that has arrived; true if any did.
    bool receive_arrived();
    /// Heartbeats due, silences due.
    void keep_alive();
    /// Sleeps up to `interval` or until a post.
    void idle(std::chrono::microseconds interval);

    boost::mpi::communicator world_;
    const Options options_;
    const Handler on_message_;
    const SilenceHandler on_silent_;
    const int rank_;

    std::mutex mutex_;
    std::condition_variable posted_;
    std::deque<Outgoing> outbox_; // guarded by mutex_
    bool stopping_ = false;       // guarded by mutex_
    std::chrono::steady_clock::time_point flush_deadline_; // guarded by mutex_

    // The comm thread's own.
    std::deque<InFlight> sending_;
    std::map<int, std::chrono::steady_clock::time_point> last_sent_, last_heard_;
    std::map<int, bool> reported_silent_;
    std::thread thread_;
};

} // namespace isolates::cluster::detail
