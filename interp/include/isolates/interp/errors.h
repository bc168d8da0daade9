#pragma once
/// Exceptions thrown by isolates. Every one carries plain strings, so it can be copied, stored in
/// a std::exception_ptr and rethrown on any thread, long after the interpreter it came from.

#include <stdexcept>
#include <string>

namespace isolates {

/// Base of every isolates exception.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The API was used against its contract: wrong thread, no Runtime, a second Runtime, ...
class UsageError : public Error {
public:
    using Error::Error;
};

/// A Value did not fit the C++ type asked for (wrong kind, overflow, invalid UTF-8, ...).
class ConversionError : public Error {
public:
    using Error::Error;
};

/// A Python object that cannot cross between interpreters. `path()` says where it was
/// (`args[1]['key'][3]`), `type_name()` what it was (`socket`).
class NotShareableError : public Error {
public:
    NotShareableError(std::string type_name, std::string path, std::string reason = {});

    const std::string& type_name() const noexcept { return type_name_; }
    const std::string& path() const noexcept { return path_; }
    /// Why, when more can be said than the type: "a subclass of str; ...".
    const std::string& reason() const noexcept { return reason_; }

private:
    std::string type_name_;
    std::string path_;
    std::string reason_;
};

/// A Python exception, copied into strings inside the interpreter that raised it.
/// what() is the formatted traceback ending in `Type: message`, as Python prints it.
class PythonError : public Error {
public:
    PythonError(std::string type_name, std::string message, std::string traceback);

    /// Qualified name of the exception type: `ValueError`, `json.decoder.JSONDecodeError`.
    const std::string& type_name() const noexcept { return type_name_; }
    /// str() of the exception.
    const std::string& message() const noexcept { return message_; }
    /// The whole `traceback.format_exception` text.
    const std::string& traceback() const noexcept { return traceback_; }

private:
    std::string type_name_;
    std::string message_;
    std::string traceback_;
};

} // namespace isolates
