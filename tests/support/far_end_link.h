#pragma once
// The far end of a process link in the tests' own worker programs (shm_link_probe,
// scripted_worker): the link opened and its name removed, as a real worker does, and a wait that
// gives up when the host process (this process's parent) goes away.

#include <unistd.h>

#include "process/detail/shm_link.h"

namespace isolates::test {

/// Maps the link named `name` and removes its name.
inline detail::ShmLink open_far_end(const char* name) {
    detail::ShmLink link = detail::ShmLink::open(name);
    link.remove_name();
    return link;
}

/// A ring wait that ends when the parent that started this process is gone.
inline detail::RingWait while_host_lives() {
    const pid_t host = ::getppid();
    detail::RingWait wait;
    wait.keep_waiting = [host] { return ::getppid() == host; };
    return wait;
}

} // namespace isolates::test
