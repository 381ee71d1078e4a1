// Leveled logging to stderr: LOOM_LOG(kInfo) << "trained " << n << " words";
// Lines look like "[I 14:51:02.123 trainer.cc:42] message". The threshold is process-wide
// (set from --log-level); messages below it cost one relaxed atomic load. Thread-safe: each
// line is written with a single write call.
#pragma once

#include <sstream>
#include <string_view>

#include "loom/base/status.h"

namespace loom {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3, kOff = 4 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
inline bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= static_cast<int>(GetLogLevel()); }

// Accepts debug, info, warning (or warn), error, off.
StatusOr<LogLevel> ParseLogLevel(std::string_view name);

namespace internal {
class LogMessage {
 public:
  LogMessage(LogLevel level, const char* file, int line);
  ~LogMessage();
  std::ostream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};
}  // namespace internal

}  // namespace loom

#define LOOM_LOG(level)                                           \
  !::loom::LogEnabled(::loom::LogLevel::level)                    \
      ? (void)0                                                   \
      : ::loom::internal::Voidify() &                             \
            ::loom::internal::LogMessage(::loom::LogLevel::level, __FILE__, __LINE__).stream()
