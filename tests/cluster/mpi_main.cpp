// The MPI tests' program, run on 3 ranks by tests/cluster/mpi_run.sh: every rank makes the
// MpiEnvironment and the Runtime; rank 0 runs the doctest cases, each making its own
// MpiPoolExecutor, while ranks 1 and 2 serve those executors one after another until rank 0
// ends serving (rank 2 as a rogue rank with --isolates-rogue-rank-2).

#define DOCTEST_CONFIG_IMPLEMENT
#include "tests/support/doctest.h"

#include <isolates/cluster/mpi_pool_executor.h>
#include <isolates/interp/runtime.h>
#include <string_view>

#include "tests/cluster/mpi_test_options.h"
#include "tests/cluster/rogue_rank.h"

int main(int argc, char** argv) {
    isolates::MpiEnvironment mpi(argc, argv);
    isolates::Runtime runtime;
    // --isolates-rogue-rank-2: rank 2 misbehaves on cue (rogue_rank.h) instead of serving.
    bool rogue = false;
    for (int k = 1; k < argc; ++k) rogue |= std::string_view(argv[k]) == "--isolates-rogue-rank-2";
    if (rogue && mpi.rank() == 2) return isolates::test::serve_as_rogue(isolates::test::cluster_options());
    if (mpi.rank() != 0) {
        while (isolates::MpiPoolExecutor(isolates::test::cluster_options()).served()) {
        }
        return 0;
    }
    doctest::Context context(argc, argv);
    const int status = context.run();
    isolates::MpiPoolExecutor::end_serving(isolates::test::cluster_options());
    return status;
}
