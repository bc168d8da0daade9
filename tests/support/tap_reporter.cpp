// A doctest reporter that writes TAP (the Test Anything Protocol), so meson reads each test case
// as a result of its own (`protocol: 'tap'`): `ok`, `not ok`, `# SKIP` for ISOLATES_SKIP, and
// `Bail out!` when a case crashes. Failed assertions, exceptions and messages follow their case as
// `#` comment lines. Every test program's meson test() runs it with --reporters=tap; run by hand a
// program keeps doctest's console reporter.

#include <mutex>
#include <ostream>
#include <string>

#include "tests/support/doctest.h"
#include "tests/support/skip.h"

namespace isolates::testing {

namespace {

std::mutex skip_mutex;
std::string skip_reason; // guarded by skip_mutex; set by skip() for the running case

/// A TAP description may not hold '#' (it starts a directive) or a line break.
std::string tap_text(std::string text) {
    for (char& c : text)
        if (c == '#' || c == '\n' || c == '\r') c = c == '#' ? '_' : ' ';
    return text;
}

class TapReporter : public doctest::IReporter {
public:
    explicit TapReporter(const doctest::ContextOptions& options) : out_(*options.cout) {}

    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override { out_ << "TAP version 13" << std::endl; }
    void test_run_end(const doctest::TestRunStats&) override { out_ << "1.." << number_ << std::endl; }

    void test_case_start(const doctest::TestCaseData& test_case) override {
        std::lock_guard lock(mutex_);
        current_ = &test_case;
        std::lock_guard skip_lock(skip_mutex);
        skip_reason.clear();
    }
    void test_case_reenter(const doctest::TestCaseData&) override {}

    void test_case_end(const doctest::CurrentTestCaseStats& stats) override {
        std::lock_guard lock(mutex_);
        std::string skipped;
        {
            std::lock_guard skip_lock(skip_mutex);
            skipped.swap(skip_reason);
        }
        out_ << (stats.testCaseSuccess ? "ok " : "not ok ") << ++number_ << " - " << name();
        if (stats.testCaseSuccess && !skipped.empty()) out_ << " # SKIP " << tap_text(skipped);
        out_ << std::endl;
        current_ = nullptr;
    }

    void test_case_exception(const doctest::TestCaseException& e) override {
        std::lock_guard lock(mutex_);
        comment(std::string(e.is_crash ? "crashed: " : "exception: ") + e.error_string.c_str());
        // Say which case crashed. doctest 2.4.9 still ends the case (`not ok`) before the process
        // dies, so it counts once, as that case (tests/support/runner_fakes proves it).
        if (e.is_crash) out_ << "Bail out! " << name() << " crashed" << std::endl;
    }

    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}

    void log_assert(const doctest::AssertData& a) override {
        if (!a.m_failed) return;
        std::lock_guard lock(mutex_);
        std::string text = std::string(doctest::skipPathFromFilename(a.m_file)) + ":" +
                           std::to_string(a.m_line) + ": " + doctest::assertString(a.m_at) + "( " +
                           a.m_expr + " )";
        if (a.m_threw) text += std::string(" threw: ") + a.m_exception.c_str();
        else if (a.m_decomp.size()) text += std::string(" is ") + a.m_decomp.c_str();
        comment(text);
    }

    void log_message(const doctest::MessageData& m) override {
        std::lock_guard lock(mutex_);
        comment(std::string(doctest::skipPathFromFilename(m.m_file)) + ":" + std::to_string(m.m_line) +
                ": " + m.m_string.c_str());
    }

    void test_case_skipped(const doctest::TestCaseData&) override {} // filtered out: not a result

private:
    std::string name() const { return current_ ? tap_text(current_->m_name) : "(no test case)"; }

    void comment(const std::string& text) {
        std::string line = "# ";
        for (char c : text) {
            line += c;
            if (c == '\n') line += "# ";
        }
        out_ << line << std::endl;
    }

    std::ostream& out_;
    std::mutex mutex_;
    const doctest::TestCaseData* current_ = nullptr; // guarded by mutex_
    unsigned number_ = 0;                             // guarded by mutex_
};

} // namespace

void skip(std::string reason) {
    MESSAGE("skipped: " << reason);
    std::lock_guard lock(skip_mutex);
    skip_reason = reason.empty() ? "skipped" : std::move(reason);
}

} // namespace isolates::testing

REGISTER_REPORTER("tap", 1, isolates::testing::TapReporter);
