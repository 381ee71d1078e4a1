// Progress for long work (training, synthesis, search, key generation). On a terminal it
// redraws one bar on stderr ("train  [#####.....]  52%  1.2M words/s  ETA 0:41"); otherwise
// it logs a plain line at most every `log_interval` seconds and at the end, so CI logs stay
// readable. Quiet when the log level is above info.
// Thread-safety: Add/Set may be called from any thread; drawing is rate-limited.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace loom {

class Progress {
 public:
  // `total` <= 0 means unknown (no percentage or ETA). `unit` names what is counted.
  Progress(std::string label, int64_t total, std::string unit = "items",
           double log_interval_seconds = 5.0);
  ~Progress();  // calls Finish() if not yet finished
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Add(int64_t delta);
  void Set(int64_t done);
  // Extra text shown after the rate (e.g. "loss 2.31").
  void SetDetail(std::string detail);
  void Finish();

  int64_t done() const { return done_.load(std::memory_order_relaxed); }

  // Overrides TTY detection (tests, --no-progress).
  static void ForceMode(int mode);  // -1 auto, 0 plain lines, 1 bar, 2 silent

  // Renders the current line (without drawing it). Public for tests.
  std::string Render() const;

 private:
  void MaybeDraw(bool force);

  std::string label_;
  int64_t total_;
  std::string unit_;
  double log_interval_;
  std::atomic<int64_t> done_{0};
  int64_t start_ns_;
  std::atomic<int64_t> last_draw_ns_{0};
  std::mutex mu_;  // guards detail_ and drawing
  std::string detail_;
  bool finished_ = false;
  bool tty_;
  bool silent_;
};

}  // namespace loom
