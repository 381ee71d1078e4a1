#include "loom/base/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "loom/base/logging.h"
#include "loom/base/timer.h"

namespace loom {
namespace {
std::atomic<int> g_mode{-1};

std::string FormatCount(double v) {
  char buf[32];
  if (v >= 1e9) std::snprintf(buf, sizeof(buf), "%.2fG", v / 1e9);
  else if (v >= 1e6) std::snprintf(buf, sizeof(buf), "%.2fM", v / 1e6);
  else if (v >= 1e4) std::snprintf(buf, sizeof(buf), "%.1fk", v / 1e3);
  else std::snprintf(buf, sizeof(buf), "%.0f", v);
  return buf;
}

std::string FormatDuration(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "?";
  int s = static_cast<int>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}
}  // namespace

void Progress::ForceMode(int mode) { g_mode.store(mode); }

Progress::Progress(std::string label, int64_t total, std::string unit, double log_interval)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      log_interval_(log_interval),
      start_ns_(NowNanos()) {
  int mode = g_mode.load();
  silent_ = mode == 2 || !LogEnabled(LogLevel::kInfo);
  tty_ = mode == 1 || (mode == -1 && ::isatty(STDERR_FILENO));
  last_draw_ns_.store(start_ns_);
}

Progress::~Progress() { Finish(); }

void Progress::Add(int64_t delta) {
  done_.fetch_add(delta, std::memory_order_relaxed);
  MaybeDraw(false);
}

void Progress::Set(int64_t done) {
  done_.store(done, std::memory_order_relaxed);
  MaybeDraw(false);
}

void Progress::SetDetail(std::string detail) {
  std::lock_guard<std::mutex> lock(mu_);
  detail_ = std::move(detail);
}

std::string Progress::Render() const {
  int64_t done = done_.load(std::memory_order_relaxed);
  double elapsed = static_cast<double>(NowNanos() - start_ns_) * 1e-9;
  double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  std::string line = label_;
  if (total_ > 0) {
    double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
    constexpr int kWidth = 24;
    int filled = static_cast<int>(frac * kWidth);
    line += "  [" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "]";
    char pct[16];
    std::snprintf(pct, sizeof(pct), " %3.0f%%", frac * 100.0);
    line += pct;
    line += "  " + FormatCount(static_cast<double>(done)) + "/" +
            FormatCount(static_cast<double>(total_)) + " " + unit_;
    if (rate > 0 && done < total_)
      line += "  ETA " + FormatDuration(static_cast<double>(total_ - done) / rate);
  } else {
    line += "  " + FormatCount(static_cast<double>(done)) + " " + unit_;
  }
  line += "  " + FormatCount(rate) + " " + unit_ + "/s";
  line += "  " + FormatDuration(elapsed);
  if (!detail_.empty()) line += "  " + detail_;
  return line;
}

void Progress::MaybeDraw(bool force) {
  if (silent_) return;
  int64_t now = NowNanos();
  int64_t last = last_draw_ns_.load(std::memory_order_relaxed);
  int64_t interval_ns = tty_ ? 100'000'000 : static_cast<int64_t>(log_interval_ * 1e9);
  if (!force && now - last < interval_ns) return;
  if (!force && !last_draw_ns_.compare_exchange_strong(last, now)) return;  // another thread draws
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  std::string line = Render();
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
  } else {
    LOOM_LOG(kInfo) << "progress " << line;
  }
}

void Progress::Finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_) return;
  }
  MaybeDraw(true);
  std::lock_guard<std::mutex> lock(mu_);
  finished_ = true;
  if (tty_ && !silent_) std::fputc('\n', stderr);
}

}  // namespace loom
