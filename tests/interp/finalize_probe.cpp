// finalize_probe: CPython is finalised cleanly after sub-interpreters passed keywords to
// functions of extension modules, which on CPython 3.12.0 to 3.12.3 left tuples of theirs for
// Py_FinalizeEx to free in the main interpreter (interp/detail/keyword_tuples_312.h): a crash
// at exit. Run by Runtime.finalises_after_sub_interpreters_passed_keywords_to_extensions; exits
// 0 only when the Runtime, and with it CPython, ended.

#include <cstdio>
#include <thread>

#include <isolates.h>

using namespace isolates;

namespace {
// _pickle.dumps and _hashlib's constructors parse keywords with Argument Clinic; both modules
// are shared libraries (lib-dynload), whose keyword tuples CPython builds lazily.
constexpr const char* pass_keywords =
    "import _pickle\n"
    "assert _pickle.loads(_pickle.dumps([1], protocol=2, fix_imports=False)) == [1]\n"
    "try:\n"
    "    import hashlib\n"
    "except ImportError:\n"
    "    pass\n"
    "else:\n"
    "    hashlib.sha256(b'abc', usedforsecurity=False).hexdigest()\n";
} // namespace

int main() {
    {
        Runtime runtime;
        std::thread worker([] {
            Interpreter in;
            in.exec(pass_keywords);
        });
        worker.join();
        {
            Interpreter here; // on the Runtime's own thread too
            here.exec(pass_keywords);
        }
        std::printf("ok keywords passed in two sub-interpreters\n");
        std::fflush(stdout);
    }
    std::printf("ok finalised\n");
    return 0;
}
