// Must not compile: Value::as<T>() of a container whose items have no conversion from Value.
#include <isolates.h>
#include <map>
struct NoConversion {};
void use(const isolates::Value& v) { (void)v.as<std::map<int, NoConversion>>(); }
