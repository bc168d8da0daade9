// Security: nothing isolates offers lets one interpreter reach another's objects; nothing received
// from a channel (or as a task's argument or result) is unpickled or executed unless the receiver
// asks for it; shared-memory segments (SharedBuffer's and the process links') are owner-only
// with unguessable names, removed when their last user is gone and after a crash of the process
// that made them. docs/reliability.md and docs/threat-model.md list these checks;
// tests/channels/shared_buffer_test.cpp has the basic ones.

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <isolates/channels/channel.h>
#include <isolates/channels/shared_buffer.h>
#include <isolates/executor/interpreter_pool_executor.h>
#include <isolates/interp/errors.h>
#include <isolates/interp/interpreter.h>
#include "process/detail/shm_link.h"
#include "tests/support/child_process.h"
#include "tests/support/doctest.h"

using namespace isolates;
using namespace std::chrono_literals;

namespace {
/// Python that defines classes whose pickling hooks would run code, and records whether any hook
/// (or any other method isolates could be tempted to call) ever ran.
constexpr const char* evil_classes = R"(
import builtins, pickle
ran = []
class Evil:
    def __reduce__(self):
        ran.append('__reduce__')
        return (exec, ("import builtins; builtins.PWNED = True",))
    def __reduce_ex__(self, protocol):
        ran.append('__reduce_ex__')
        return self.__reduce__()
    def __getstate__(self):
        ran.append('__getstate__')
        return {}
    def __repr__(self):
        ran.append('__repr__')
        return 'Evil()'
class EvilStr(str):
    def __reduce__(self):
        ran.append('str __reduce__')
        return (exec, ("import builtins; builtins.PWNED = True",))
    def __hash__(self):
        ran.append('__hash__')
        return 1
    def __eq__(self, other):
        ran.append('__eq__')
        return True
class EvilList(list):
    def __iter__(self):
        ran.append('__iter__')
        return iter([])
    def __len__(self):
        ran.append('__len__')
        return 0
def pwned():
    return getattr(builtins, 'PWNED', False)
def evaluate(source):
    candidate = eval(source)
    ran.clear()  # building a dict hashes its keys: only what happens after counts
    return candidate
)";

using testing::segment_exists;

/// Makes one segment of a kind, sets `name` to its name, returns its owner.
using MakeSegment = std::function<std::shared_ptr<void>(std::string& name)>;

/// The two kinds of shared-memory segment isolates makes, by name: a SharedBuffer's and a
/// process link's (a pool makes one per process worker).
std::vector<std::pair<std::string, MakeSegment>> segment_kinds() {
    return {
        {"SharedBuffer",
         [](std::string& name) {
             auto buffer = std::make_shared<SharedBuffer>(SharedBuffer::copy_of(
                 std::string_view("held"), SharedBuffer::Storage::shared_memory));
             name = buffer->name();
             return std::shared_ptr<void>(buffer);
         }},
        {"process link",
         [](std::string& name) {
             auto link = std::make_shared<detail::ShmLink>(detail::ShmLink::create(4096));
             name = link->name();
             return std::shared_ptr<void>(link);
         }},
    };
}
} // namespace

TEST_SUITE("Reliability") {

TEST_CASE("Security.objects_whose_pickling_would_run_code_are_refused_not_pickled" *
          doctest::timeout(60)) {
    Channel ch(16);
    Interpreter sender;
    sender.exec(evil_classes);
    sender.exec("import isolates\n"
                "def try_send(ch):\n"
                "    try:\n"
                "        ch.send(candidate)\n"
                "        return 'sent'\n"
                "    except isolates.NotShareableError as e:\n"
                "        return str(e)\n"
                "def try_return():\n"
                "    return candidate\n");
    struct Case {
        const char* expression;
        const char* refusal;
    };
    const Case cases[] = {
        {"Evil()", "value: Evil is not shareable"},
        {"[1, {'k': Evil()}]", "value[1]['k']: Evil is not shareable"},
        {"EvilStr('x')", "subclass of str"},
        {"{EvilStr('k'): 1}", "subclass of str"},
        {"EvilList([1])", "subclass of list"},
        {"(1, EvilList())", "subclass of list"},
    };
    InterpreterPoolExecutor::Options options;
    options.workers = 1;
    options.init_source = evil_classes;
    InterpreterPoolExecutor pool(options);
    for (const Case& c : cases) {
        CAPTURE(c.expression);
        sender.exec(std::string("candidate = ") + c.expression + "\nran.clear()");
        CHECK(sender.call("__main__:try_send", ch).as_str().find(c.refusal) != std::string::npos);
        // Returned from a call or a pool task: refused the same way.
        CHECK_THROWS_AS(sender.call("__main__:try_return"), NotShareableError);
        CHECK_THROWS_AS(pool.submit("__main__:evaluate", c.expression).get(), NotShareableError);
    }
    CHECK(ch.size() == 0); // nothing was sent
    // No hook of any of these objects ran, on either side, and no code ran.
    CHECK(sender.eval("ran").repr() == "[]");
    CHECK_FALSE(sender.call("__main__:pwned").as_bool());
    CHECK(pool.submit("builtins:repr", Value()).get().as_str() == "None");
    CHECK(pool.submit_to(0, [](Interpreter& in) { return in.eval("ran").repr(); }).get() == "[]");
    CHECK_FALSE(pool.submit("__main__:pwned").get().as_bool());
}

TEST_CASE("Security.received_bytes_and_text_are_data_never_unpickled_or_executed" *
          doctest::timeout(60)) {
    Channel ch(16);
    Interpreter sender;
    sender.exec(evil_classes);
    // The sender pickles on purpose (its own choice, its own hooks) and sends the bytes, plus
    // source text; the receiver gets exactly those bytes and that text, inert.
    sender.exec("import isolates\n"
                "def send_all(ch):\n"
                "    payload = pickle.dumps(Evil())\n"
                "    ch.send(payload)\n"
                "    ch.send(payload, as_buffer=True)\n"
                "    ch.send('import builtins; builtins.PWNED = True')\n"
                "    ch.send(('__import__', 'os', {'system': 'true'}))\n"
                "    return payload\n");
    const Value payload = sender.call("__main__:send_all", ch);
    CHECK(sender.eval("ran").repr() == "['__reduce_ex__', '__reduce__']"); // the sender's own doing
    Interpreter receiver;
    receiver.exec("import builtins\n"
                  "def take(ch):\n"
                  "    got = [ch.recv() for _ in range(4)]\n"
                  "    return [type(g).__name__ for g in got], bytes(got[0]), bytes(got[1]), got[2], got[3]\n"
                  "def pwned():\n"
                  "    return getattr(builtins, 'PWNED', False)\n");
    const Value got = receiver.call("__main__:take", ch);
    CHECK(got[0].repr() == "['bytes', 'memoryview', 'str', 'tuple']");
    CHECK(got[1] == payload);
    CHECK(got[2] == payload);
    CHECK(got[3].as_str() == "import builtins; builtins.PWNED = True");
    CHECK_FALSE(receiver.call("__main__:pwned").as_bool());
    // Only when the receiver asks (pickle.loads) does the payload run, and only in the receiver.
    receiver.exec("import pickle\ndef load(b):\n    return pickle.loads(b)\n");
    receiver.call("__main__:load", payload);
    CHECK(receiver.call("__main__:pwned").as_bool());
    CHECK_FALSE(sender.call("__main__:pwned").as_bool());
    // In C++ a received Value is data too: the bytes are the bytes.
    CHECK(payload.kind() == Kind::bytes);
}

TEST_CASE("Security.the_isolates_module_offers_no_way_into_another_interpreter" *
          doctest::timeout(60)) {
    Interpreter a;
    Interpreter b;
    // Everything public in the module: channels, buffers, select and exceptions. No function
    // takes an interpreter id or returns a live object of another interpreter.
    const std::set<std::string> allowed = {"Channel", "ChannelClosed", "ChannelEmpty",
                                           "ChannelError", "ChannelFull", "NotShareableError",
                                           "SharedBuffer", "select"};
    const Value names = a.eval("[n for n in dir(__import__('isolates')) if not n.startswith('_')]");
    for (std::size_t k = 0; k < names.size(); ++k) {
        const std::string name(names[k].as_str());
        CAPTURE(name);
        CHECK(allowed.count(std::string(names[k].as_str())) == 1);
    }
    // A channel handle received from another interpreter is a new object of the receiver's own
    // type; values come out as fresh objects owned by the receiver.
    Channel ch(4);
    a.exec("import isolates\nshared = [1, 2]\n"
           "def give(ch):\n    ch.send(shared)\n    ch.send(ch)\n");
    a.call("__main__:give", ch);
    b.exec("import isolates, sys\n"
           "def take(ch):\n"
           "    lst = ch.recv()\n"
           "    handle = ch.recv()\n"
           "    lst.append(3)\n"
           "    return [type(handle) is isolates.Channel, handle == ch, sys.getrefcount(lst) < 5, lst]\n");
    CHECK(b.call("__main__:take", ch).repr() == "[True, True, True, [1, 2, 3]]");
    CHECK(a.eval("shared").repr() == "[1, 2]");
    // A SharedBuffer arrives read-only: no interpreter writes into bytes another one reads.
    const SharedBuffer buffer = SharedBuffer::copy_of(std::string_view("original"));
    b.exec("def scribble(view):\n"
           "    errors = []\n"
           "    for attempt in (lambda: view.__setitem__(0, 65),\n"
           "                    lambda: view.cast('B').__setitem__(0, 65),\n"
           "                    lambda: memoryview(view.obj).__setitem__(0, 65) if view.obj is not None else None,\n"
           "                    lambda: bytearray(view).__setitem__(0, 65)):\n"
           "        try:\n"
           "            attempt()\n"
           "        except TypeError:\n"
           "            errors.append('refused')\n"
           "    return errors, bytes(view)\n");
    const Value scribbled = b.call("__main__:scribble", buffer);
    CHECK(scribbled[0].repr() == "['refused', 'refused', 'refused']");
    CHECK(scribbled[1].as_bytes().size() == 8);
    CHECK(std::string_view(reinterpret_cast<const char*>(buffer.data()), buffer.size()) ==
          "original");
}

TEST_CASE("Security.segments_are_owner_only_whatever_the_umask_with_unguessable_names") {
    // SharedBuffer's segments and the process links (one per process worker) alike.
    for (const auto& kind_and_maker : segment_kinds()) {
        const std::string& kind = kind_and_maker.first;
        const MakeSegment& make = kind_and_maker.second;
        CAPTURE(kind);
        const mode_t previous = ::umask(0);
        std::set<std::string> names, random_parts;
        std::vector<std::shared_ptr<void>> segments;
        for (int k = 0; k < 64; ++k) {
            std::string name;
            segments.push_back(make(name));
            names.insert(name);
            struct stat info {};
            REQUIRE(::stat(("/dev/shm/" + name).c_str(), &info) == 0);
            CHECK((info.st_mode & 07777) == 0600);
            CHECK(info.st_uid == ::getuid());
            const std::string prefix = "isolates-" + std::to_string(::getpid()) + "-";
            REQUIRE(name.starts_with(prefix));
            const std::string random = name.substr(prefix.size());
            CHECK(random.size() == 32); // 128 bits
            for (char c : random) CHECK(std::isxdigit(static_cast<unsigned char>(c)));
            random_parts.insert(random.substr(0, 8));
        }
        ::umask(previous);
        CHECK(names.size() == 64);
        CHECK(random_parts.size() == 64); // not a counter: even 32-bit prefixes all differ
        // Names that could reach outside isolates' own segments are refused before any system call.
        for (const char* bad : {"../../etc/passwd", "isolates-1-../../etc/passwd", "/isolates-1-x",
                                "other-segment", ""}) {
            CAPTURE(bad);
            CHECK_THROWS_WITH_AS(SharedBuffer::open_shared(bad),
                                 doctest::Contains("not the name of an isolates shared memory segment"),
                                 UsageError);
            CHECK_THROWS_WITH_AS(detail::ShmLink::open(bad),
                                 doctest::Contains("not the name of an isolates process link"),
                                 UsageError);
        }
        segments.clear();
        for (const auto& name : names) CHECK_FALSE(segment_exists(name));
    }
}

TEST_CASE("Security.a_segment_lives_exactly_as_long_as_its_last_user" * doctest::timeout(60)) {
    std::string name;
    Channel ch(4);
    {
        const SharedBuffer buffer = SharedBuffer::copy_of(std::string_view("0123456789"),
                                                          SharedBuffer::Storage::shared_memory);
        name = buffer.name();
        ch.send(Value(buffer.slice(2, 3))); // a slice in a channel keeps it alive
    }
    CHECK(segment_exists(name));
    std::thread holder([&] {
        Interpreter in;
        in.exec("def keep(ch):\n    global kept\n    kept = ch.recv()\n    return bytes(kept)\n");
        CHECK(in.call("__main__:keep", ch).as_bytes().size() == 3);
        // Now only this interpreter's memoryview holds it.
        CHECK(segment_exists(name));
        in.exec("del kept\nimport gc\ngc.collect()\n");
        CHECK_FALSE(segment_exists(name)); // the last user let go
    });
    holder.join();
    CHECK_FALSE(segment_exists(name));
}

TEST_CASE("Security.segments_of_a_killed_process_are_removed_and_a_live_ones_kept" *
          doctest::timeout(60)) {
    // Two children each make a segment (a SharedBuffer's, or a process link as a pool makes for
    // each worker) and report its name: one is killed with SIGKILL (a crash: no destructor runs),
    // the other stays alive. Making a segment here sweeps the dead child's segment only.
    for (const auto& kind_and_maker : segment_kinds()) {
        const std::string& kind = kind_and_maker.first;
        const MakeSegment& make = kind_and_maker.second;
        CAPTURE(kind);
        auto spawn = [&make](std::string& name, int& to_child) -> pid_t {
            int down[2];
            REQUIRE(::pipe(down) == 0);
            const testing::Child child = testing::fork_child([&](int out) {
                ::close(down[1]);
                {
                    std::string made;
                    const std::shared_ptr<void> segment = make(made);
                    testing::write_all(out, made);
                    ::close(out); // the parent has the name now
                    char c;
                    [[maybe_unused]] auto r = ::read(down[0], &c, 1); // wait until told to go
                } // a clean end: the segment's last user in this process lets go
            });
            ::close(down[0]);
            REQUIRE_FALSE(child.output.empty());
            name = child.output;
            to_child = down[1];
            return child.pid;
        };
        std::string crashed_name, alive_name;
        int crashed_pipe = -1, alive_pipe = -1;
        const pid_t crashed = spawn(crashed_name, crashed_pipe);
        const pid_t alive = spawn(alive_name, alive_pipe);
        CHECK(segment_exists(crashed_name));
        CHECK(segment_exists(alive_name));
        ::kill(crashed, SIGKILL);
        int status = 0;
        ::waitpid(crashed, &status, 0);
        CHECK(WIFSIGNALED(status));
        CHECK(segment_exists(crashed_name)); // nobody has swept yet
        std::string trigger_name;
        const std::shared_ptr<void> trigger = make(trigger_name);
        CHECK_FALSE(segment_exists(crashed_name)); // the crashed process's segment is gone
        CHECK(segment_exists(alive_name));         // a live process's segment is left alone
        // The live child's segment goes when the child ends.
        ::close(alive_pipe);
        ::close(crashed_pipe);
        ::waitpid(alive, &status, 0);
        CHECK(WIFEXITED(status));
        CHECK_FALSE(segment_exists(alive_name)); // a clean exit removes its own segment
    }
}

} // TEST_SUITE
