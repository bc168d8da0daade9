#pragma once
// The side of the native-type registry (isolates/interp/native.h) that Value's Python conversion calls.
// Both run with the GIL of the current interpreter held.

#include <memory>

#include <isolates/interp/value.h>

namespace isolates::detail {

/// The Shareable the first from-Python hook recognises in `object`, or nullptr when none does.
/// Lets a hook's NotShareableError through.
std::shared_ptr<const Shareable> native_from_python(_object* object);

/// A new reference made by the hook registered for `object`'s dynamic type; nullptr with a
/// Python exception set when that hook fails or there is none (TypeError).
_object* native_to_python(const std::shared_ptr<const Shareable>& object);

} // namespace isolates::detail
