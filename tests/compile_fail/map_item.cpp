// Must not compile: map() of a Python target over items with no conversion to Value.
#include <isolates.h>
#include <vector>
struct NoConversion {};
void use(isolates::InterpreterPoolExecutor& pool, const std::vector<NoConversion>& items) {
    pool.map("builtins:repr", items);
}
