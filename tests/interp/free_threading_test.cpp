// Free-threaded CPython (3.14t): Python threads of one interpreter mutate lists, dicts, sets and
// bytearrays while other threads of that interpreter send them through a Channel, return them
// from pool tasks and convert them. Every Value must be some consistent snapshot. On GIL builds
// the same tests run (the GIL makes them easy); on 3.14t they are the proof that nothing of ours
// leans on a GIL. Each runs for about a second, bounded by a deadline and an iteration cap.

#include <cstdint>
#include <string>
#include <vector>

#include <isolates/executor/interpreter_pool_executor.h>
#include <isolates/interp/interpreter.h>
#include <isolates/interp/value.h>
#include "tests/support/doctest.h"
#include "tests/support/skip.h"
#include "tests/support/pool_test_helpers.h"

using namespace isolates;

namespace {

// Mutators keep invariants that any consistent snapshot satisfies: list items and dict values
// are fresh tuples (k, -k) (replaced ones are freed at once), set items are ints in [0, 1000),
// bytearray bytes are even and its length is 64..136. Tables are grown and cleared over and
// over so that a reader holding a stale pointer reads freed memory. Threads stop on stop() or
// after 20 s, so an interpreter never ends with them running.
constexpr const char* mutators = R"(
import threading, time, isolates
L = [(k, -k) for k in range(16)]
D = {k: (k, -k) for k in range(16)}
S = set(range(16))
B = bytearray(64)
_stop = threading.Event()
_threads = []
errors = []

def _until_stopped(step):
    def run():
        give_up = time.monotonic() + 20
        k = 0
        try:
            while not _stop.is_set() and time.monotonic() < give_up:
                k += 1
                step(k)
        except BaseException as e:
            errors.append('mutator: ' + repr(e))
    return run

def _list(k):
    L.append((k, -k))
    L[len(L) // 2] = (-k, k)
    if len(L) > 200:
        del L[:150]

def _dict(k):
    D[k % 1000] = (k % 1000, -(k % 1000))
    if len(D) > 300:
        D.clear()

def _set(k):
    S.add(k % 1000)
    if len(S) > 300:
        S.clear()

def _bytes(k):
    B[:] = bytes([2 * (k % 128)]) * len(B)
    try:  # resizing fails while a reader holds the buffer: that is fine
        if len(B) > 128:
            del B[64:]
        else:
            B.extend(b'\x00' * 8)
    except BufferError:
        pass

def start():
    for step in (_list, _dict, _set, _bytes):
        t = threading.Thread(target=_until_stopped(step))
        t.start()
        _threads.append(t)

def stop():
    _stop.set()
    for t in _threads:
        t.join()
    return errors

def check(lds, where):
    l, d, s = lds
    if type(l) is not list or not all(type(x) is tuple and x[0] == -x[1] for x in l):
        errors.append(where + ': list ' + repr(l)[:200])
    if type(d) is not dict or not all(v == (k, -k) for k, v in d.items()):
        errors.append(where + ': dict ' + repr(d)[:200])
    if type(s) is not set or not all(type(x) is int and 0 <= x < 1000 for x in s):
        errors.append(where + ': set ' + repr(s)[:200])

def check_bytes(data, where):
    data = bytes(data)
    if not 64 <= len(data) <= 136 or any(b % 2 for b in data):
        errors.append(where + ': bytearray ' + repr(data[:40]))

def round_trips(seconds, limit, where):
    ch = isolates.Channel(4)
    deadline = time.monotonic() + seconds
    n = 0
    while n < limit and time.monotonic() < deadline:
        ch.send((L, D, S))
        check(ch.recv(), where)
        ch.send(B, as_buffer=True)
        check_bytes(ch.recv(), where + ' as_buffer')
        check_bytes(isolates.SharedBuffer(B), where + ' SharedBuffer')
        n += 1
    return n

def snapshot():
    return (L, D, S)

def run_for(seconds):
    global _deadline
    _deadline = time.monotonic() + seconds

def still_running():
    return time.monotonic() < _deadline

def sender_thread(seconds, limit):
    done = []
    def run():
        try:
            done.append(round_trips(seconds, limit, 'sender thread'))
        except BaseException as e:
            errors.append('sender thread: ' + repr(e))
    t = threading.Thread(target=run)
    t.start()
    _threads.append(t)
    return done
)";

/// Whether `l` is a list of (k, -k) tuples, `d` a dict {k: (k, -k)} and `s` a set of ints in
/// [0, 1000): what the mutators keep true at every instant.
bool consistent(const Value& lds) {
    if (lds.kind() != Kind::tuple || lds.size() != 3) return false;
    const Value& l = lds[0];
    const Value& d = lds[1];
    const Value& s = lds[2];
    if (l.kind() != Kind::list || d.kind() != Kind::dict || s.kind() != Kind::set) return false;
    const auto pair = [](const Value& t) {
        return t.kind() == Kind::tuple && t.size() == 2 && t[0].kind() == Kind::integer &&
               t[1].kind() == Kind::integer && t[0].as_int64() == -t[1].as_int64();
    };
    for (const Value& item : l.items())
        if (!pair(item)) return false;
    for (const auto& [key, value] : d.dict_items())
        if (key.kind() != Kind::integer || !pair(value) || value[0].as_int64() != key.as_int64())
            return false;
    for (const Value& item : s.items())
        if (item.kind() != Kind::integer || item.as_int64() < 0 || item.as_int64() >= 1000) return false;
    return true;
}

std::vector<std::string> strings_of(const Value& list) {
    std::vector<std::string> out;
    for (const Value& item : list.items()) out.emplace_back(item.as_str());
    return out;
}

} // namespace

TEST_SUITE("FreeThreading") {

TEST_CASE("FreeThreading.importing_isolates_leaves_the_gil_off") {
    Interpreter in;
    in.exec("import sys, sysconfig, warnings\n"
            "free_threaded = sysconfig.get_config_var('Py_GIL_DISABLED') == 1\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    warnings.simplefilter('always')\n"
            "    import isolates\n"
            "warned = [str(w.message) for w in caught]\n");
    CHECK(in.eval("warned").size() == 0);
    if (!in.eval("free_threaded").as_bool())
        ISOLATES_SKIP("a GIL build: sys._is_gil_enabled() is always True here");
    CHECK_FALSE(in.eval("sys._is_gil_enabled()").as_bool());
}

TEST_CASE("FreeThreading.containers_mutated_by_threads_cross_a_channel_as_snapshots" *
          doctest::timeout(60)) {
    Interpreter in;
    in.exec(mutators);
    in.exec("start()\nother = sender_thread(1.5, 20000)\n");
    // The interpreter's own thread sends and receives while a Python thread does the same.
    const std::int64_t own = in.eval("round_trips(1.5, 20000, 'own thread')").as_int64();
    const std::vector<std::string> errors = strings_of(in.eval("stop()"));
    for (const std::string& e : errors) MESSAGE(e);
    REQUIRE(errors.empty());
    CHECK(own > 0);
    CHECK(in.eval("other[0] if other else 0").as_int64() > 0);
}

TEST_CASE("FreeThreading.containers_mutated_by_threads_convert_as_snapshots" *
          doctest::timeout(60)) {
    Interpreter in;
    in.exec(mutators);
    in.exec("start()\n");
    // Converted on the interpreter's own thread into Values, between which the mutators run on.
    in.exec("run_for(1.5)\n");
    int inconsistent = 0, taken = 0;
    for (; taken < 20000 && in.eval("still_running()").as_bool(); ++taken)
        if (!consistent(in.eval("(L, D, S)"))) ++inconsistent;
    const std::vector<std::string> errors = strings_of(in.eval("stop()"));
    for (const std::string& e : errors) MESSAGE(e);
    REQUIRE(errors.empty());
    CHECK(inconsistent == 0);
    CHECK(taken > 0);
}

TEST_CASE("FreeThreading.containers_mutated_by_threads_return_from_pool_tasks_as_snapshots" *
          doctest::timeout(60)) {
    InterpreterPoolExecutor pool(testing::pool_options(1, mutators));
    pool.submit_to(0, "__main__:start").get();
    pool.submit_to(0, "__main__:run_for", 1.5).get();
    // Each result is converted on the worker's thread while the mutators keep running there.
    int inconsistent = 0, taken = 0;
    for (; taken < 20000 && pool.submit_to(0, "__main__:still_running").get().as_bool(); ++taken)
        if (!consistent(pool.submit_to(0, "__main__:snapshot").get())) ++inconsistent;
    const std::vector<std::string> errors = strings_of(pool.submit("__main__:stop").get());
    for (const std::string& e : errors) MESSAGE(e);
    REQUIRE(errors.empty());
    CHECK(inconsistent == 0);
    CHECK(taken > 0);
}

} // TEST_SUITE
