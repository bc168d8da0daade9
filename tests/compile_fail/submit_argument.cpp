// Must not compile: a submit() argument with no conversion to Value.
#include <isolates.h>
struct NoConversion {};
void use(isolates::InterpreterPoolExecutor& pool) { pool.submit("json:dumps", 1, NoConversion{}); }
