// Interpreter's cached call-target lookup: a call sees what the target names now, whatever
// rebound, deleted, reloaded or replaced it since the previous call.

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <isolates/interp/errors.h>
#include <isolates/interp/interpreter.h>
#include "tests/support/doctest.h"

using namespace isolates;

namespace {
/// A fresh directory holding lookmod.py with `source`, removed at the end; per process, as
/// several test runs may share /tmp.
struct ModuleDir {
    explicit ModuleDir(const std::string& source)
        : path(std::filesystem::temp_directory_path() /
               ("isolates_lookup_test_" + std::to_string(::getpid()))) {
        std::filesystem::create_directories(path);
        write(source);
    }
    ~ModuleDir() { std::filesystem::remove_all(path); }
    void write(const std::string& source) const { std::ofstream(path / "lookmod.py") << source; }
    std::filesystem::path path;
};

std::string error_of(Interpreter& in, const char* target) {
    try {
        in.call(target);
    } catch (const PythonError& e) {
        return e.type_name() + ": " + e.message();
    }
    return "no error";
}
} // namespace

TEST_SUITE("Interpreter") {

TEST_CASE("Interpreter.cached_lookup_sees_a_rebound_function") {
    ModuleDir dir("def f():\n    return 1\n");
    Interpreter in(Interpreter::Options{{dir.path.string()}});
    CHECK(in.call("lookmod:f").as_int64() == 1);
    CHECK(in.call("lookmod:f").as_int64() == 1);
    in.exec("import lookmod\nlookmod.f = lambda: 2\n");
    CHECK(in.call("lookmod:f").as_int64() == 2);
    in.exec("setattr(lookmod, 'f', lambda: 3)\n");
    CHECK(in.call("lookmod:f").as_int64() == 3);
}

TEST_CASE("Interpreter.cached_lookup_sees_a_deleted_function") {
    ModuleDir dir("def f():\n    return 1\n");
    Interpreter in(Interpreter::Options{{dir.path.string()}});
    CHECK(in.call("lookmod:f").as_int64() == 1);
    in.exec("import lookmod\ndel lookmod.f\n");
    const std::string error = error_of(in, "lookmod:f");
    CHECK(error.find("AttributeError") == 0);
    CHECK(error.find("'f'") != std::string::npos);
}

TEST_CASE("Interpreter.cached_lookup_sees_a_reloaded_module") {
    ModuleDir dir("def f():\n    return 1\n");
    Interpreter in(Interpreter::Options{{dir.path.string()}});
    in.exec("import sys\nsys.dont_write_bytecode = True\n");
    CHECK(in.call("lookmod:f").as_int64() == 1);
    dir.write("def f():\n    return 'reloaded'\n");
    in.exec("import importlib, lookmod\nimportlib.reload(lookmod)\n");
    CHECK(in.call("lookmod:f").as_str() == "reloaded");
}

TEST_CASE("Interpreter.cached_lookup_sees_a_module_replaced_or_removed_in_sys_modules") {
    ModuleDir dir("def f():\n    return 1\n");
    Interpreter in(Interpreter::Options{{dir.path.string()}});
    in.exec("import sys\nsys.dont_write_bytecode = True\n");
    CHECK(in.call("lookmod:f").as_int64() == 1);
    in.exec("import types\nm = types.ModuleType('lookmod')\nm.f = lambda: 'replacement'\n"
            "sys.modules['lookmod'] = m\n");
    CHECK(in.call("lookmod:f").as_str() == "replacement");
    // Removed: the next call imports the module again, from its new source.
    dir.write("def f():\n    return 'imported again'\n");
    in.exec("del sys.modules['lookmod']\n");
    CHECK(in.call("lookmod:f").as_str() == "imported again");
}

TEST_CASE("Interpreter.cached_lookup_sees_main_functions_redefined_by_exec") {
    Interpreter in;
    in.exec("def g():\n    return 1\n");
    CHECK(in.call("__main__:g").as_int64() == 1);
    in.exec("def g():\n    return 2\n");
    CHECK(in.call("__main__:g").as_int64() == 2);
    in.exec("globals().clear()\n");
    CHECK(error_of(in, "__main__:g").find("AttributeError") == 0);
}

TEST_CASE("Interpreter.cached_lookup_sees_changes_made_by_the_called_code_and_other_threads") {
    ModuleDir dir("calls = 0\n"
                  "def f():\n"
                  "    global calls\n"
                  "    calls += 1\n"
                  "    return calls\n"
                  "def rebind():\n"
                  "    global f\n"
                  "    f = lambda: 'rebound by itself'\n");
    Interpreter in(Interpreter::Options{{dir.path.string()}});
    // A function rebinding its module's other globals keeps working (and stays cached).
    CHECK(in.call("lookmod:f").as_int64() == 1);
    CHECK(in.call("lookmod:f").as_int64() == 2);
    in.call("lookmod:rebind");
    CHECK(in.call("lookmod:f").as_str() == "rebound by itself");
    // A Python thread started inside the interpreter rebinds it.
    in.exec("import threading, lookmod\n"
            "t = threading.Thread(target=lambda: setattr(lookmod, 'f', lambda: 'from a thread'))\n"
            "t.start()\nt.join()\n");
    CHECK(in.call("lookmod:f").as_str() == "from a thread");
}

TEST_CASE("Interpreter.lookup_of_dotted_names_and_module_getattr_is_never_stale") {
    ModuleDir dir("n = 0\n"
                  "def __getattr__(name):\n"
                  "    global n\n"
                  "    n += 1\n"
                  "    return (lambda k: lambda: k)(n)\n"
                  "class K:\n"
                  "    @staticmethod\n"
                  "    def m():\n"
                  "        return 'first'\n");
    Interpreter in(Interpreter::Options{{dir.path.string()}});
    CHECK(in.call("lookmod:dynamic").as_int64() == 1);
    CHECK(in.call("lookmod:dynamic").as_int64() == 2);
    CHECK(in.call("lookmod:K.m").as_str() == "first");
    in.exec("import lookmod\nlookmod.K.m = staticmethod(lambda: 'second')\n");
    CHECK(in.call("lookmod:K.m").as_str() == "second");
}

} // TEST_SUITE
