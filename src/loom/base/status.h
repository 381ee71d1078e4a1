// Status and StatusOr<T>: loom's error channel for everything that input, files, peers or
// solvers can cause. A Status is a code plus a message that names what was wrong and where.
// Broken invariants use LOOM_CHECK (check.h) instead. Thread-safety: values, no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "loom/base/check.h"

namespace loom {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,
  kNotFound = 2,
  kOutOfRange = 3,
  kFailedPrecondition = 4,
  kUnavailable = 5,
  kResourceExhausted = 6,
  kInfeasible = 7,
  kDataLoss = 8,
  kInternal = 9,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message);

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "InvalidArgument: message" (or "OK").
  std::string ToString() const;

  // Returns a copy whose message is "context: message"; OK stays OK. Used to add the file,
  // field or rank as an error travels up.
  Status WithContext(std::string_view context) const;

  // Marks the status as deliberately ignored.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

std::ostream& operator<<(std::ostream& os, const Status& s);

inline Status OkStatus() { return Status(); }
Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status OutOfRangeError(std::string message);
Status FailedPreconditionError(std::string message);
Status UnavailableError(std::string message);
Status ResourceExhaustedError(std::string message);
Status InfeasibleError(std::string message);
Status DataLossError(std::string message);
Status InternalError(std::string message);

// Either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const Status& status) : value_(status) {  // NOLINT(implicit)
    LOOM_CHECK(!status.ok()) << "StatusOr constructed from an OK Status without a value";
  }
  StatusOr(Status&& status) : value_(std::move(status)) {  // NOLINT(implicit)
    LOOM_CHECK(!std::get<Status>(value_).ok())
        << "StatusOr constructed from an OK Status without a value";
  }
  template <typename U = T,
            typename = std::enable_if_t<std::is_convertible_v<U&&, T> &&
                                        !std::is_same_v<std::decay_t<U>, Status> &&
                                        !std::is_same_v<std::decay_t<U>, StatusOr<T>>>>
  StatusOr(U&& value) : value_(std::in_place_index<1>, std::forward<U>(value)) {}  // NOLINT

  bool ok() const { return value_.index() == 1; }
  Status status() const { return ok() ? Status() : std::get<0>(value_); }

  const T& value() const& {
    CheckOk();
    return std::get<1>(value_);
  }
  T& value() & {
    CheckOk();
    return std::get<1>(value_);
  }
  // Returns by value, not T&&: `for (auto& x : F().value())` would otherwise iterate a
  // destroyed temporary. The move into the result is the only cost.
  T value() && {
    CheckOk();
    return std::get<1>(std::move(value_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? std::get<1>(value_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void CheckOk() const {
    LOOM_CHECK(ok()) << "StatusOr::value() on error: " << std::get<0>(value_).ToString();
  }
  std::variant<Status, T> value_;
};

namespace internal {
inline Status AsStatus(const Status& s) { return s; }
template <typename T>
Status AsStatus(const StatusOr<T>& s) {
  return s.status();
}
}  // namespace internal

}  // namespace loom

#define LOOM_STATUS_CONCAT_INNER(a, b) a##b
#define LOOM_STATUS_CONCAT(a, b) LOOM_STATUS_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` (a Status or StatusOr) is not OK.
#define LOOM_RETURN_IF_ERROR(expr)                                           \
  do {                                                                       \
    ::loom::Status loom_status_ = ::loom::internal::AsStatus((expr));        \
    if (!loom_status_.ok()) return loom_status_;                             \
  } while (0)

// `LOOM_ASSIGN_OR_RETURN(auto x, F());` declares or assigns x from a StatusOr, returning
// the error from the enclosing function if there is one.
#define LOOM_ASSIGN_OR_RETURN(lhs, expr) \
  LOOM_ASSIGN_OR_RETURN_IMPL(LOOM_STATUS_CONCAT(loom_statusor_, __LINE__), lhs, expr)
#define LOOM_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

// Aborts with the status message if not OK (for tests, tools and invariants).
#define LOOM_CHECK_OK(expr)                                                    \
  do {                                                                         \
    ::loom::Status loom_status_ = ::loom::internal::AsStatus((expr));          \
    LOOM_CHECK(loom_status_.ok()) << loom_status_.ToString();                  \
  } while (0)
