// The `isolates` Python module: Channel, select and errors, in and between sub-interpreters.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <isolates/channels/channel.h>
#include <isolates/interp/errors.h>
#include <isolates/interp/interpreter.h>
#include "tests/support/doctest.h"

using namespace isolates;
using namespace std::chrono_literals;

TEST_SUITE("PythonChannel") {

TEST_CASE("PythonChannel.module_imports_in_every_interpreter_with_docstrings") {
    Interpreter a;
    Interpreter b;
    for (Interpreter* in : {&a, &b}) {
        in->exec("import isolates\n");
        CHECK(in->eval("all(getattr(isolates, n).__doc__ for n in ('Channel', 'SharedBuffer', "
                       "'select', 'ChannelClosed', 'ChannelEmpty', 'ChannelFull', 'ChannelError', "
                       "'NotShareableError'))").as_bool());
        CHECK(in->eval("all(getattr(isolates.Channel, m).__doc__ for m in ('send', 'recv', "
                       "'try_send', 'try_recv', 'close', 'sender', 'receiver'))").as_bool());
        CHECK(in->eval("issubclass(isolates.NotShareableError, TypeError) and "
                       "issubclass(isolates.ChannelClosed, isolates.ChannelError)").as_bool());
    }
    // Each interpreter has its own type objects.
    CHECK(a.eval("id(__import__('isolates').Channel)") != b.eval("id(__import__('isolates').Channel)"));
}

TEST_CASE("PythonChannel.python_api_in_one_interpreter") {
    Interpreter in;
    in.exec(R"(
import isolates
ch = isolates.Channel(3)
ch.send(1); ch.send('two'); ch.send((3, [4.0], {'k': b'v'}))
assert len(ch) == 3 and ch.capacity == 3
try:
    ch.try_send(4)
    raise AssertionError('expected ChannelFull')
except isolates.ChannelFull:
    pass
got = [ch.recv(), ch.try_recv(), ch.recv(timeout=1.0)]
assert got == [1, 'two', (3, [4.0], {'k': b'v'})], got
try:
    ch.try_recv()
    raise AssertionError('expected ChannelEmpty')
except isolates.ChannelEmpty:
    pass
with isolates.Channel(None) as u:
    assert u.capacity is None
    for k in range(5): u.send(k)
assert u.closed
assert list(u) == [0, 1, 2, 3, 4]
try:
    u.send(5)
    raise AssertionError('expected ChannelClosed')
except isolates.ChannelClosed as e:
    assert 'closed' in str(e)
tx, rx = ch.sender(), ch.receiver()
assert tx == ch and rx == ch and hash(tx) == hash(ch)
assert ch.sender_count == 2 and ch.receiver_count == 2
tx.send('via sender')
assert rx.recv() == 'via sender'
assert 'capacity=3' in repr(ch) and 'sender' in repr(tx)
a, b = isolates.Channel(), isolates.Channel()
b.send('b1')
assert isolates.select([a, b], timeout=1) == (1, 'b1')
)");
    CHECK_THROWS_WITH_AS(in.exec("ch.send(object())"),
                         doctest::Contains("isolates.NotShareableError: value: object is not shareable"),
                         PythonError);
    CHECK_THROWS_WITH_AS(in.exec("ch.send([1, {2: open}])"),
                         doctest::Contains("value[1][2]: builtin_function_or_method is not shareable"),
                         PythonError);
    CHECK_THROWS_WITH_AS(in.exec("rx.send(1)"), doctest::Contains("PermissionError"), PythonError);
    CHECK_THROWS_WITH_AS(in.exec("tx.recv()"), doctest::Contains("PermissionError"), PythonError);
    CHECK_THROWS_WITH_AS(in.exec("isolates.Channel(0)"), doctest::Contains("ValueError"), PythonError);
    CHECK_THROWS_WITH_AS(in.exec("ch.recv(timeout=-1)"), doctest::Contains("ValueError"), PythonError);
    CHECK_THROWS_WITH_AS(in.exec("ch.recv(1, 2)"), doctest::Contains("TypeError"), PythonError);
    CHECK_THROWS_WITH_AS(in.exec("ch.send(1, bogus=2)"), doctest::Contains("unexpected keyword"),
                         PythonError);
    CHECK_THROWS_WITH_AS(in.exec("isolates.select([], timeout=0)"), doctest::Contains("ValueError"),
                         PythonError);
    CHECK_THROWS_WITH_AS(in.exec("isolates.select([1])"), doctest::Contains("TypeError"), PythonError);
}

TEST_CASE("PythonChannel.endpoint_misuse_raises_permission_error_on_every_path") {
    Interpreter in;
    in.exec(R"(
import isolates
ch = isolates.Channel(4)
tx, rx = ch.sender(), ch.receiver()
ch.send('waiting')
def raises_permission_error(call):
    try:
        call()
    except PermissionError as e:
        return str(e)
    raise AssertionError('expected PermissionError')
)");
    // Sending on a receive-only endpoint, through each call that sends.
    for (const char* call : {"lambda: rx.send(1)", "lambda: rx.send(1, timeout=0)", "lambda: rx.try_send(1)"})
        CHECK(in.eval(std::string("raises_permission_error(") + call + ")").as_str() ==
              "send on a receive-only channel endpoint");
    // Receiving on a send-only endpoint, through each call that receives: select too, even with
    // a ready channel beside it.
    for (const char* call : {"lambda: tx.recv()", "lambda: tx.try_recv()", "lambda: next(iter(tx))",
                             "lambda: isolates.select([tx], timeout=0)",
                             "lambda: isolates.select([ch, tx])"})
        CHECK(in.eval(std::string("raises_permission_error(") + call + ")").as_str() ==
              "recv on a send-only channel endpoint");
    // The same endpoint handed in from C++.
    Channel cpp(2);
    in.exec("def select_on(c):\n    return raises_permission_error(lambda: isolates.select([c]))\n");
    CHECK(in.call("__main__:select_on", cpp.sender()).as_str() == "recv on a send-only channel endpoint");
}

TEST_CASE("PythonChannel.cpp_and_python_share_a_channel") {
    Channel ch(16);
    Interpreter in;
    in.exec("import isolates\ndef produce(ch, n):\n    for k in range(n): ch.send(k * k)\n"
            "def consume(ch, n):\n    return sum(ch.recv() for _ in range(n))\n");
    in.call("__main__:produce", ch, 10);
    for (int k = 0; k < 10; ++k) CHECK(ch.recv().as_int64() == k * k);
    for (int k = 0; k < 10; ++k) ch.send(Value(k));
    CHECK(in.call("__main__:consume", ch, 10).as_int64() == 45);
    // A channel made in Python comes back to C++ as a working handle.
    const Channel made = in.eval("isolates.Channel(5)").as<Channel>();
    CHECK(made.capacity() == 5);
}

TEST_CASE("PythonChannel.interpreters_on_two_threads_exchange_everything" * doctest::timeout(120)) {
    Channel ch(64);
    constexpr int n = 50000;
    std::atomic<bool> producer_failed{false};
    std::thread producer([&] {
        try {
            Interpreter in;
            in.exec("def produce(ch, n):\n    for k in range(n): ch.send((k, str(k)))\n    ch.close()\n");
            in.call("__main__:produce", ch, n);
        } catch (const std::exception& e) {
            producer_failed = true;
            ch.close();
        }
    });
    Interpreter in;
    in.exec("def consume(ch):\n    total = count = 0\n    for k, s in ch:\n"
            "        assert s == str(k)\n        total += k; count += 1\n    return total, count\n");
    const Value result = in.call("__main__:consume", ch);
    producer.join();
    CHECK_FALSE(producer_failed.load());
    CHECK(result[0].as_int64() == std::int64_t(n) * (n - 1) / 2);
    CHECK(result[1].as_int64() == n);
}

TEST_CASE("PythonChannel.a_channel_outlives_the_interpreter_that_made_it" * doctest::timeout(60)) {
    Channel carrier(4);
    {
        Interpreter maker;
        maker.exec("import isolates\ninner = isolates.Channel(8)\ninner.send('left inside')\n");
        maker.call("__main__:inner.send", "second");
        carrier.send(maker.eval("inner"));
    } // `maker` is gone
    Interpreter user;
    user.exec("def take(carrier):\n    inner = carrier.recv()\n    inner.send('third')\n"
              "    return [inner.recv(), inner.recv(), inner.recv(), type(inner).__module__]\n");
    const Value got = user.call("__main__:take", carrier);
    CHECK(got.repr() == "['left inside', 'second', 'third', 'isolates']");
}

TEST_CASE("PythonChannel.channels_travel_through_channels_between_interpreters" * doctest::timeout(60)) {
    Channel requests(4);
    std::thread server([&] {
        Interpreter in;
        in.exec("def serve(requests):\n    for reply_to, x in requests:\n        reply_to.send(x * 2)\n");
        in.call("__main__:serve", requests);
    });
    Interpreter client;
    client.exec("import isolates\ndef ask(requests, xs):\n    reply = isolates.Channel(1)\n"
                "    out = []\n    for x in xs:\n        requests.send((reply, x))\n"
                "        out.append(reply.recv(timeout=10))\n    return out\n");
    CHECK(client.call("__main__:ask", requests, std::vector<int>{1, 2, 3}).repr() == "[2, 4, 6]");
    requests.close();
    server.join();
}

TEST_CASE("PythonChannel.close_wakes_python_receivers_and_senders_blocked_without_the_gil" * doctest::timeout(60)) {
    Channel empty(4);
    Channel full(1);
    full.send(Value(0));
    std::atomic<int> woken{0};
    std::vector<std::thread> threads;
    for (int k = 0; k < 2; ++k)
        threads.emplace_back([&, k] {
            Interpreter in;
            in.exec("import isolates\ndef wait_recv(ch):\n    try:\n        ch.recv()\n"
                    "    except isolates.ChannelClosed:\n        return 'closed'\n"
                    "def wait_send(ch):\n    try:\n        ch.send(1)\n"
                    "    except isolates.ChannelClosed:\n        return 'closed'\n");
            const Value got = k == 0 ? in.call("__main__:wait_recv", empty)
                                     : in.call("__main__:wait_send", full);
            if (got.kind() == Kind::str && got.as_str() == "closed") ++woken;
        });
    std::this_thread::sleep_for(100ms);
    CHECK(woken == 0);
    empty.close();
    full.close();
    for (auto& t : threads) t.join();
    CHECK(woken == 2);
}

TEST_CASE("PythonChannel.blocking_recv_releases_the_gil_and_honours_float_timeouts" * doctest::timeout(60)) {
    Interpreter in;
    in.exec(R"(
import isolates, threading, time
ch = isolates.Channel(1)
ticks = 0
stop = False
def spin():
    global ticks
    while not stop:
        ticks += 1
t = threading.Thread(target=spin)
t.start()
time.sleep(0.01)
before = ticks
start = time.perf_counter()
try:
    ch.recv(timeout=0.2)
except isolates.ChannelEmpty:
    pass
waited = time.perf_counter() - start
during = ticks - before
stop = True
t.join()
timings = []
for timeout in (0.0015, 0.01, 0.0):
    start = time.perf_counter()
    try:
        ch.recv(timeout=timeout)
    except isolates.ChannelEmpty:
        timings.append((timeout, time.perf_counter() - start))
)");
    CHECK(in.eval("waited >= 0.2").as_bool());
    // The other Python thread ran while recv waited: it had the GIL.
    CHECK(in.eval("during > 1000").as_bool());
    CHECK(in.eval("len(timings) == 3").as_bool());
    // Sub-second precision (not rounded up to seconds), with room for a sanitizer build
    // descheduled on a loaded 2-core machine.
    CHECK(in.eval("all(timeout <= took < timeout + 0.9 for timeout, took in timings)").as_bool());
}

TEST_CASE("PythonChannel.last_sender_endpoint_gone_ends_iteration_and_select_wakes" * doctest::timeout(60)) {
    std::optional<Channel> ch(std::in_place, 16);
    Channel rx = ch->receiver();
    std::optional<Channel> tx = ch->sender();
    ch.reset(); // from now on only `tx` may send
    std::thread producer([tx = std::move(tx)]() mutable {
        Interpreter in;
        in.exec("def produce(tx):\n    for k in range(1000): tx.send(k)\n");
        in.call("__main__:produce", *tx);
        tx.reset(); // the last sender endpoint: the channel closes
    });
    Interpreter in;
    in.exec("import isolates\ndef total(rx):\n    return sum(rx)\n"
            "def wait_any(channels):\n    return isolates.select(channels, timeout=10)\n");
    CHECK(in.call("__main__:total", rx).as_int64() == 999 * 1000 / 2);
    producer.join();
    CHECK(rx.closed());
    CHECK(rx.sender_count() == 0);

    Channel quiet(4), busy(4);
    std::thread late([&] {
        Interpreter other;
        other.exec("import time\ndef later(ch):\n    time.sleep(0.02)\n    ch.send('woke')\n");
        other.call("__main__:later", busy);
    });
    CHECK(in.call("__main__:wait_any", std::vector<Value>{Value(quiet), Value(busy)}).repr() == "(1, 'woke')");
    late.join();
    CHECK_THROWS_WITH_AS(in.eval("isolates.select([isolates.Channel()], timeout=0.001)"),
                         doctest::Contains("ChannelEmpty"), PythonError);
}

TEST_CASE("PythonChannel.interrupt_wakes_a_blocked_recv_and_send" * doctest::timeout(60)) {
    Channel empty(4);
    Channel full(1);
    full.send(0);
    std::atomic<Interpreter*> interpreter{nullptr};
    std::atomic<int> calls_done{0};
    std::atomic<bool> interrupter_done{false};
    std::vector<std::string> raised;
    std::thread worker([&] {
        Interpreter in;
        in.exec("def recv(ch):\n    return ch.recv()\ndef send(ch):\n    ch.send(1)\n");
        interpreter = &in;
        for (const char* target : {"__main__:recv", "__main__:send"}) {
            try {
                in.call(target, std::string_view(target) == "__main__:recv" ? empty : full);
            } catch (const PythonError& e) {
                raised.push_back(e.type_name());
            }
            ++calls_done;
        }
        raised.push_back(std::to_string(in.eval("6 * 7").as_int64())); // still serving
        while (!interrupter_done) std::this_thread::sleep_for(1ms); // `in` must outlive its use
    });
    while (!interpreter) std::this_thread::sleep_for(1ms);
    // Keep interrupting until both blocked calls have been woken and raised.
    while (calls_done < 2) {
        interpreter.load()->interrupt("TimeoutError");
        std::this_thread::sleep_for(5ms);
    }
    interrupter_done = true;
    worker.join();
    REQUIRE(raised.size() == 3);
    CHECK(raised[0] == "TimeoutError");
    CHECK(raised[1] == "TimeoutError");
    CHECK(raised[2] == "42");
    CHECK_FALSE(empty.closed());
    CHECK(full.size() == 1);
}

} // TEST_SUITE
