// Value's Python side: snapshots of Python objects and fresh objects built from Values.
// Both run attached to the current interpreter and never run Python code. Other threads of the
// same interpreter may run at the same time (always on the free-threaded build), so each list,
// dict and set is first copied into strong references under its own critical section, which is
// a consistent snapshot of that one container, and only then converted (see Snapshot).

#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include <span>
#include <vector>

#include <isolates/interp/value.h>
#include "interp/detail/native_hooks.h"
#include "interp/detail/node_builder.h"

namespace isolates {

using detail::ContainerBuilder;
using py::Object;

// --- Python -> Value ---------------------------------------------------------------------------

namespace {

/// Where a value sits inside what is being converted, kept on the stack and rendered only when
/// an error needs it: `args[1]['key'][3]`.
struct Path {
    enum class Step { root, index, key_of, dict_key, set_item };
    const Path* parent;
    Step step;
    std::string_view root;
    Py_ssize_t index = 0;
    PyObject* key = nullptr; // borrowed, for Step::key_of
    std::size_t depth = parent ? parent->depth + 1 : 0;

    std::string render() const {
        std::string out = parent ? parent->render() : std::string();
        switch (step) {
        case Step::root: out += root; break;
        case Step::index: out += "[" + std::to_string(index) + "]"; break;
        case Step::dict_key: out += "<key " + std::to_string(index) + ">"; break;
        case Step::set_item: out += "<item " + std::to_string(index) + ">"; break;
        case Step::key_of: {
            Object r = Object::steal(PyObject_Repr(key));
            const char* text = r ? PyUnicode_AsUTF8(r.get()) : nullptr;
            if (!text) PyErr_Clear();
            out += "[" + std::string(text ? text : "?") + "]";
            break;
        }
        }
        return out;
    }
};

[[noreturn]] void not_shareable(PyObject* object, const Path& path, std::string reason = {}) {
    PyTypeObject* type = Py_TYPE(object);
    Object name = Object::steal(PyType_GetName(type));
    const char* text = name ? PyUnicode_AsUTF8(name.get()) : nullptr;
    if (!text) PyErr_Clear();
    if (reason.empty()) {
        for (PyTypeObject* base : {&PyLong_Type, &PyFloat_Type, &PyUnicode_Type, &PyBytes_Type,
                                   &PyTuple_Type, &PyList_Type, &PyDict_Type, &PySet_Type,
                                   &PyFrozenSet_Type, &PyComplex_Type})
            if (PyType_IsSubtype(type, base))
                reason = std::string("a subclass of ") + base->tp_name +
                         "; only the exact built-in type is shareable";
    }
    throw NotShareableError(text ? text : type->tp_name, path.render(), std::move(reason));
}

Value convert(PyObject* object, const Path& path);

Value from_big_int(PyObject* object) {
#if PY_VERSION_HEX >= 0x030D0000
    const int flags = Py_ASNATIVEBYTES_LITTLE_ENDIAN;
    Py_ssize_t n = PyLong_AsNativeBytes(object, nullptr, 0, flags);
    if (n < 0) py::throw_error();
    std::vector<std::byte> bytes(static_cast<std::size_t>(n));
    if (PyLong_AsNativeBytes(object, bytes.data(), n, flags) < 0) py::throw_error();
#else
    const std::size_t n = _PyLong_NumBits(object) / 8 + 1;
    std::vector<std::byte> bytes(n);
    if (_PyLong_AsByteArray(reinterpret_cast<PyLongObject*>(object),
                            reinterpret_cast<unsigned char*>(bytes.data()), n, 1, 1) < 0)
        py::throw_error();
#endif
    return Value::integer_from_bytes(bytes);
}

Value from_str(PyObject* object) {
    Py_ssize_t size = 0;
    if (const char* utf8 = PyUnicode_AsUTF8AndSize(object, &size))
        return detail::make_str({utf8, static_cast<std::size_t>(size)}, false);
    // Lone surrogates have no UTF-8 form: keep them as 'surrogatepass' bytes.
    PyErr_Clear();
    Object encoded = Object::steal(PyUnicode_AsEncodedString(object, "utf-8", "surrogatepass"));
    if (!encoded) py::throw_error();
    return detail::make_str({PyBytes_AS_STRING(encoded.get()),
                             static_cast<std::size_t>(PyBytes_GET_SIZE(encoded.get()))},
                            true);
}

/// Refuses a container nested past max_nesting before descending into it, so that a
/// reference cycle fails fast instead of exhausting the stack.
void check_depth(PyObject* object, const Path& path) {
    if (path.depth >= max_nesting)
        not_shareable(object, path,
                      "containers nested more than " + std::to_string(max_nesting) +
                          " levels deep; is there a reference cycle?");
}

/// Strong references to one container's items, taken while holding its critical section (the
/// container's lock on the free-threaded build, nothing more on GIL builds) and converted after
/// it ends: converting may block on another object's lock, which would suspend ours anyway.
/// Nothing that can throw or run Python code happens inside the critical section.
class Snapshot {
public:
    /// `[0, count)` reserved items fit; `fill` takes them or returns false (the container grew
    /// past them in the meantime), and then the copy is tried again with more room.
    template <class Size, class Fill>
    Snapshot([[maybe_unused]] PyObject* container, std::size_t per_item, Size size, Fill fill) {
        for (std::size_t room = size() * per_item + 8;; room *= 2) {
            items_.reserve(room);
            bool fitted = false;
            Py_BEGIN_CRITICAL_SECTION(container);
            fitted = fill(items_); // only push_back within capacity: no allocation, no throw
            Py_END_CRITICAL_SECTION();
            if (fitted) return;
            items_.clear();
        }
    }
    std::span<const Object> items() const noexcept { return items_; }

private:
    std::vector<Object> items_;
};

Value from_tuple(PyObject* object, const Path& path) {
    check_depth(object, path);
    // Immutable, and kept alive by the caller's reference (or a parent's snapshot).
    const Py_ssize_t n = PyTuple_GET_SIZE(object);
    ContainerBuilder builder(Kind::tuple, static_cast<std::size_t>(n));
    for (Py_ssize_t k = 0; k < n; ++k)
        builder.add(convert(PyTuple_GET_ITEM(object, k), Path{&path, Path::Step::index, {}, k}));
    return builder.finish();
}

Value from_list(PyObject* object, const Path& path) {
    check_depth(object, path);
    const Snapshot snapshot(
        object, 1, [&] { return static_cast<std::size_t>(PyList_GET_SIZE(object)); },
        [&](std::vector<Object>& out) {
            const Py_ssize_t n = PyList_GET_SIZE(object);
            if (static_cast<std::size_t>(n) > out.capacity()) return false;
            for (Py_ssize_t k = 0; k < n; ++k) out.push_back(Object::borrow(PyList_GET_ITEM(object, k)));
            return true;
        });
    const auto items = snapshot.items();
    ContainerBuilder builder(Kind::list, items.size());
    for (std::size_t k = 0; k < items.size(); ++k)
        builder.add(convert(items[k].get(),
                            Path{&path, Path::Step::index, {}, static_cast<Py_ssize_t>(k)}));
    return builder.finish();
}

Value from_dict(PyObject* object, const Path& path) {
    check_depth(object, path);
    // Keys and values alternate: [key0, value0, key1, value1, ...].
    const Snapshot snapshot(
        object, 2, [&] { return static_cast<std::size_t>(PyDict_GET_SIZE(object)); },
        [&](std::vector<Object>& out) {
            if (2 * static_cast<std::size_t>(PyDict_GET_SIZE(object)) > out.capacity()) return false;
            Py_ssize_t position = 0;
            PyObject *key, *value; // borrowed, and safe to take only inside the critical section
            while (PyDict_Next(object, &position, &key, &value)) {
                out.push_back(Object::borrow(key));
                out.push_back(Object::borrow(value));
            }
            return true;
        });
    const auto items = snapshot.items();
    ContainerBuilder builder(Kind::dict, items.size() / 2);
    for (std::size_t k = 0; k < items.size(); k += 2) {
        PyObject* key = items[k].get();
        Value key_value = convert(key, Path{&path, Path::Step::dict_key, {}, static_cast<Py_ssize_t>(k / 2)});
        builder.add(std::move(key_value),
                    convert(items[k + 1].get(), Path{&path, Path::Step::key_of, {}, 0, key}));
    }
    return builder.finish();
}

Value from_set(PyObject* object, Kind kind, const Path& path) {
    check_depth(object, path);
    // list(set) copies the set's items with strong references under the set's lock (CPython's
    // own list_extend); iterating the set itself would raise "Set changed size during
    // iteration" while another thread adds to it.
    const Object copy = Object::steal(PySequence_List(object));
    if (!copy) py::throw_error();
    const Py_ssize_t n = PyList_GET_SIZE(copy.get());
    ContainerBuilder builder(kind, static_cast<std::size_t>(n));
    for (Py_ssize_t k = 0; k < n; ++k) // the copy is ours alone: nobody else can change it
        builder.add(convert(PyList_GET_ITEM(copy.get(), k), Path{&path, Path::Step::set_item, {}, k}));
    return builder.finish();
}

Value from_native(PyObject* object, const Path& path) {
    try {
        if (auto shareable = detail::native_from_python(object)) return Value::native(std::move(shareable));
    } catch (const NotShareableError& e) {
        throw NotShareableError(e.type_name(), path.render(), e.reason());
    }
    not_shareable(object, path);
}

Value convert(PyObject* object, const Path& path) {
    if (object == Py_None) return Value();
    if (PyBool_Check(object)) return Value::boolean(object == Py_True);
    if (PyLong_CheckExact(object)) {
        int overflow = 0;
        const long long i = PyLong_AsLongLongAndOverflow(object, &overflow);
        if (overflow == 0) return Value::integer(i);
        return from_big_int(object);
    }
    if (PyFloat_CheckExact(object)) return Value::floating(PyFloat_AS_DOUBLE(object));
    if (PyUnicode_CheckExact(object)) return from_str(object);
    if (PyBytes_CheckExact(object))
        return Value::bytes(std::string_view(PyBytes_AS_STRING(object),
                                             static_cast<std::size_t>(PyBytes_GET_SIZE(object))));
    if (PyTuple_CheckExact(object)) return from_tuple(object, path);
    if (PyList_CheckExact(object)) return from_list(object, path);
    if (PyDict_CheckExact(object)) return from_dict(object, path);
    if (PySet_CheckExact(object)) return from_set(object, Kind::set, path);
    if (PyFrozenSet_CheckExact(object)) return from_set(object, Kind::frozenset, path);
    if (PyComplex_CheckExact(object)) {
        const Py_complex c = PyComplex_AsCComplex(object);
        return Value::complex(c.real, c.imag);
    }
    return from_native(object, path);
}

} // namespace

Value Value::from_python(_object* object, std::string_view path) {
    return convert(object, Path{nullptr, Path::Step::root, path});
}

// --- Value -> Python ---------------------------------------------------------------------------

namespace {

PyObject* make(const Value& v);

PyObject* make_big_int(const Value& v) {
    const auto bytes = v.int_bytes();
#if PY_VERSION_HEX >= 0x030D0000
    return PyLong_FromNativeBytes(bytes.data(), bytes.size(), Py_ASNATIVEBYTES_LITTLE_ENDIAN);
#else
    return _PyLong_FromByteArray(reinterpret_cast<const unsigned char*>(bytes.data()),
                                 bytes.size(), 1, 1);
#endif
}

template <class Fill>
PyObject* make_items(PyObject* container, std::span<const Value> items, Fill fill) {
    if (!container) return nullptr;
    Py_ssize_t k = 0;
    for (const Value& item : items) {
        PyObject* made = make(item);
        if (!made || fill(container, k++, made) < 0) {
            Py_DECREF(container);
            return nullptr;
        }
    }
    return container;
}

int set_add_stealing(PyObject* set, Py_ssize_t, PyObject* item) {
    const int rc = PySet_Add(set, item);
    Py_DECREF(item);
    return rc;
}

PyObject* make(const Value& v) {
    switch (v.kind()) {
    case Kind::none: Py_RETURN_NONE;
    case Kind::boolean: return PyBool_FromLong(v.as_bool());
    case Kind::integer:
        return v.fits_int64() ? PyLong_FromLongLong(v.as_int64()) : make_big_int(v);
    case Kind::floating: return PyFloat_FromDouble(v.as_double());
    case Kind::complex: {
        auto c = v.as_complex();
        return PyComplex_FromDoubles(c.real(), c.imag());
    }
    case Kind::str: {
        const auto text = v.as_str();
        const char* errors = detail::holds_surrogates(v) ? "surrogatepass" : nullptr;
        return PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), errors);
    }
    case Kind::bytes: {
        const auto data = v.as_bytes();
        return PyBytes_FromStringAndSize(reinterpret_cast<const char*>(data.data()),
                                         static_cast<Py_ssize_t>(data.size()));
    }
    case Kind::tuple:
        return make_items(PyTuple_New(static_cast<Py_ssize_t>(v.items().size())), v.items(),
                          [](PyObject* t, Py_ssize_t k, PyObject* item) {
                              PyTuple_SET_ITEM(t, k, item);
                              return 0;
                          });
    case Kind::list:
        return make_items(PyList_New(static_cast<Py_ssize_t>(v.items().size())), v.items(),
                          [](PyObject* l, Py_ssize_t k, PyObject* item) {
                              PyList_SET_ITEM(l, k, item);
                              return 0;
                          });
    case Kind::set: return make_items(PySet_New(nullptr), v.items(), set_add_stealing);
    case Kind::frozenset: return make_items(PyFrozenSet_New(nullptr), v.items(), set_add_stealing);
    case Kind::dict: {
        Object dict = Object::steal(PyDict_New());
        if (!dict) return nullptr;
        for (const auto& [key, value] : v.dict_items()) {
            Object k = Object::steal(make(key));
            Object x = k ? Object::steal(make(value)) : Object();
            if (!x || PyDict_SetItem(dict.get(), k.get(), x.get()) < 0) return nullptr;
        }
        return dict.release();
    }
    case Kind::native: return detail::native_to_python(v.as_native());
    }
    PyErr_SetString(PyExc_SystemError, "isolates: unknown Value kind");
    return nullptr;
}

} // namespace

_object* Value::to_python() const {
    PyObject* object = make(*this);
    if (!object) py::throw_error();
    return object;
}

} // namespace isolates
