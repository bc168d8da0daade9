// lifecycle_probe: Runtime rules that need a process of their own, since CPython initialises
// only once per process. Run by Runtime.lifecycle_rules_hold_in_a_fresh_process; prints one
// line per check and exits 0 only when every rule held.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <isolates.h>
#include "tests/support/probe_checks.h"

using namespace isolates;
using namespace isolates::testing;


int main() {
    expect_usage_error("interpreter before any runtime", [] { Interpreter in; });
    expect_usage_error("pool before any runtime", [] { InterpreterPoolExecutor pool; });
    std::thread late_worker;
    {
        Runtime runtime;
        // The Runtime must wait for an interpreter that another thread still owns.
        std::atomic<bool> created{false};
        late_worker = std::thread([&created] {
            Interpreter in;
            created = true;
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            in.exec("x = 1");
        });
        while (!created) std::this_thread::yield();
        expect_usage_error("second runtime", [] { Runtime again; });
    }
    late_worker.join();
    std::printf("ok runtime waited for the last interpreter\n");
    expect_usage_error("interpreter after finalisation", [] { Interpreter in; });
    expect_usage_error("pool after finalisation", [] { InterpreterPoolExecutor pool; });
    expect_usage_error("runtime after finalisation", [] { Runtime again; });
    return probe_status();
}
