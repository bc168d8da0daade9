// The far end of a process link for shm_link_test.cpp: maps the link named on the command line,
// removes its name (as a worker does), then echoes every frame from to_worker() back on
// to_host() until the ring closes. Exits 0 on close, 3 when the host process went away.

#include <unistd.h>

#include <cstdio>
#include <exception>
#include <vector>

#include "process/detail/shm_link.h"
#include "tests/support/far_end_link.h"

using namespace isolates::detail;

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s LINK-NAME\n", argv[0]);
        return 2;
    }
    try {
        ShmLink link = isolates::test::open_far_end(argv[1]);
        RingWait wait = isolates::test::while_host_lives();
        std::vector<std::byte> frame;
        for (;;) {
            const RingStatus got = link.to_worker().receive(frame, wait);
            if (got == RingStatus::closed) return 0;
            if (got != RingStatus::ok) return 3;
            const RingStatus sent = link.to_host().send(frame, wait);
            if (sent == RingStatus::closed) return 0;
            if (sent != RingStatus::ok) return 3;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "shm_link_probe: %s\n", e.what());
        return 1;
    }
}
