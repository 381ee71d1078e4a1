// LOOM_CHECK / LOOM_DCHECK: abort with file:line and a message when an invariant is broken.
// For conditions that input can cause, return a Status instead (status.h).
//   LOOM_CHECK(n > 0) << "n=" << n;
// LOOM_DCHECK compiles to nothing in NDEBUG builds (the condition is not evaluated).
#pragma once

#include <sstream>

namespace loom::internal {

// Collects the streamed message and aborts in its destructor.
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  [[noreturn]] ~CheckFailure();
  std::ostream& stream() { return stream_; }

 private:
  std::ostringstream stream_;
};

// Lets `LOOM_CHECK(c) << x` parse as a void expression in both branches of ?:.
struct Voidify {
  void operator&(std::ostream&) {}
};

}  // namespace loom::internal

#define LOOM_CHECK(condition)                 \
  (condition) ? (void)0                       \
              : ::loom::internal::Voidify() & \
                    ::loom::internal::CheckFailure(__FILE__, __LINE__, #condition).stream()

#ifdef NDEBUG
#define LOOM_DCHECK(condition) \
  true ? (void)0 : ::loom::internal::Voidify() & ::loom::internal::NullStream()
namespace loom::internal {
inline std::ostream& NullStream() {
  static std::ostringstream sink;
  return sink;
}
}  // namespace loom::internal
#else
#define LOOM_DCHECK(condition) LOOM_CHECK(condition)
#endif
