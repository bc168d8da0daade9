#include <isolates/interp/errors.h>

namespace isolates {

namespace {
std::string not_shareable_text(const std::string& type_name, const std::string& path,
                               const std::string& reason) {
    std::string text = path.empty() ? std::string() : path + ": ";
    text += type_name + " is not shareable";
    if (!reason.empty()) text += " (" + reason + ")";
    return text;
}
} // namespace

NotShareableError::NotShareableError(std::string type_name, std::string path, std::string reason)
    : Error(not_shareable_text(type_name, path, reason)),
      type_name_(std::move(type_name)),
      path_(std::move(path)),
      reason_(std::move(reason)) {}

PythonError::PythonError(std::string type_name, std::string message, std::string traceback)
    : Error(traceback.empty() ? type_name + ": " + message : traceback),
      type_name_(std::move(type_name)),
      message_(std::move(message)),
      traceback_(std::move(traceback)) {}

} // namespace isolates
