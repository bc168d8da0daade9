// The MPI tests' program, run on 3 ranks by tests/cluster/mpi_run.sh: every rank makes the
// MpiEnvironment and the Runtime; rank 0 runs the doctest cases, each making its own
// MpiPoolExecutor, while ranks 1 and 2 serve those executors one after another until rank 0
// ends serving.

#define DOCTEST_CONFIG_IMPLEMENT
#include "tests/support/doctest.h"

#include <isolates/cluster/mpi_pool_executor.h>
#include <isolates/interp/runtime.h>
#include "tests/cluster/mpi_test_options.h"

int main(int argc, char** argv) {
    isolates::MpiEnvironment mpi(argc, argv);
    isolates::Runtime runtime;
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
