#include <isolates/cluster/mpi_pool_executor.h>

#include <mpi.h>

#include <boost/mpi/communicator.hpp>
#include <boost/mpi/environment.hpp>

#include <isolates/interp/errors.h>
#include <isolates/interp/runtime.h>
#include "cluster/detail/client_link.h"
#include "cluster/detail/serving_rank.h"

namespace isolates {

// --- MpiEnvironment -----------------------------------------------------------------------------

struct MpiEnvironment::Impl {
    boost::mpi::environment environment;
    Impl(int& argc, char**& argv)
        : environment(argc, argv, boost::mpi::threading::serialized, /*abort_on_exception=*/false) {}
};

MpiEnvironment::MpiEnvironment(int& argc, char**& argv) {
    if (boost::mpi::environment::initialized())
        throw UsageError("MpiEnvironment: MPI is already initialised (make one MpiEnvironment, first)");
    impl_ = std::make_unique<Impl>(argc, argv);
    if (boost::mpi::environment::thread_level() < boost::mpi::threading::serialized)
        throw UsageError("MpiEnvironment: this MPI offers less than MPI_THREAD_SERIALIZED, which "
                         "MpiPoolExecutor's communication thread needs");
}

MpiEnvironment::~MpiEnvironment() = default;

int MpiEnvironment::rank() const { return boost::mpi::communicator().rank(); }
int MpiEnvironment::size() const { return boost::mpi::communicator().size(); }

// --- MpiPoolExecutor ----------------------------------------------------------------------------

namespace {
/// MPI_COMM_WORLD, checked for what MpiPoolExecutor needs.
boost::mpi::communicator checked_world(const MpiPoolExecutor::Options& options) {
    if (!boost::mpi::environment::initialized() || boost::mpi::environment::finalized())
        throw UsageError("MpiPoolExecutor: MPI is not initialised (make an isolates::MpiEnvironment "
                         "first, on every rank)");
    boost::mpi::communicator world;
    if (options.root < 0 || options.root >= world.size())
        throw UsageError("MpiPoolExecutor: root " + std::to_string(options.root) + " is not a rank of "
                         "MPI_COMM_WORLD (0 .. " + std::to_string(world.size() - 1) + ")");
    // So that a failed MPI call reports an error instead of aborting every rank.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    return world;
}
} // namespace

class MpiPoolExecutor::Impl {
public:
    explicit Impl(const Options& options) {
        boost::mpi::communicator world = checked_world(options);
        if (!Runtime::alive())
            throw UsageError("MpiPoolExecutor: no isolates::Runtime is alive (make one on every rank)");
        if (world.rank() != options.root) {
            served_ = cluster::detail::serve_rank(world, options);
            return;
        }
        link_ = std::make_unique<cluster::detail::ClientLink>(world, options);
        InterpreterPoolExecutor::Options pool_options = options.pool;
        pool_options.worker_kind = InterpreterPoolExecutor::WorkerKind::processes;
        pool_options.workers = link_->total_workers();
        pool_ = std::make_unique<InterpreterPoolExecutor>(
            pool_options, [link = link_.get()](std::size_t worker) { return link->make_slot(worker); });
    }

    ~Impl() { shutdown(false); }

    void shutdown(bool cancel_pending) {
        if (!link_) return;
        if (pool_) pool_->shutdown(/*wait=*/true, cancel_pending);
        link_->shutdown();
    }

    bool is_client() const noexcept { return link_ != nullptr; }
    bool served() const noexcept { return served_; }
    InterpreterPoolExecutor& pool() {
        if (!pool_) throw UsageError("MpiPoolExecutor::pool(): this rank serves; only the client (the root) has the pool");
        return *pool_;
    }
    std::vector<RankInfo> ranks() const { return link_ ? link_->ranks() : std::vector<RankInfo>{}; }

private:
    bool served_ = true;
    std::unique_ptr<cluster::detail::ClientLink> link_;
    std::unique_ptr<InterpreterPoolExecutor> pool_; // after link_: destroyed first
};

MpiPoolExecutor::MpiPoolExecutor(Options options) : impl_(std::make_unique<Impl>(options)) {}
MpiPoolExecutor::~MpiPoolExecutor() = default;
bool MpiPoolExecutor::is_client() const noexcept { return impl_->is_client(); }
bool MpiPoolExecutor::served() const noexcept { return impl_->served(); }

void MpiPoolExecutor::end_serving(const Options& options) {
    boost::mpi::communicator world = checked_world(options);
    if (world.rank() != options.root)
        throw UsageError("MpiPoolExecutor::end_serving: only the client (rank " +
                         std::to_string(options.root) + ") ends the serving ranks");
    cluster::detail::ClientLink(world, options, cluster::detail::ClientLink::NoPool{}).shutdown();
}
InterpreterPoolExecutor& MpiPoolExecutor::pool() { return impl_->pool(); }
std::vector<MpiPoolExecutor::RankInfo> MpiPoolExecutor::ranks() const { return impl_->ranks(); }
void MpiPoolExecutor::shutdown(bool cancel_pending) { impl_->shutdown(cancel_pending); }

} // namespace isolates
