// Must not compile: an Interpreter::call() argument with no conversion to Value.
#include <isolates.h>
#include <set>
struct NoConversion {};
void use(isolates::Interpreter& in) { in.call("builtins:len", std::set<NoConversion*>{}); }
