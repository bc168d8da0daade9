// Must not compile: map(f, items) where f returns a type with no conversion to Value.
#include <isolates.h>
#include <vector>
struct NoConversion {};
void use(isolates::InterpreterPoolExecutor& pool, const std::vector<int>& items) {
    pool.map([](isolates::Interpreter&, int) { return NoConversion{}; }, items);
}
