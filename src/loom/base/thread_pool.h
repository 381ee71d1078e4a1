// A fixed-size thread pool and ParallelFor. One default pool per process, sized by --threads
// (SetDefaultThreadCount before first use; default = hardware concurrency).
//
// Thread-safety: Schedule and ParallelFor may be called from any thread. A ParallelFor called
// from inside a pool worker runs inline on that worker, so nested parallelism cannot deadlock.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace loom {

class ThreadPool {
 public:
  // `num_threads` >= 1 is the total parallelism of ParallelFor: the calling thread plus
  // num_threads - 1 workers.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  // Runs `task` on a worker (or inline when the pool has no workers). Fire and forget.
  void Schedule(std::function<void()> task);

  // Calls fn(begin, end) over disjoint chunks covering [0, n), each at least `min_chunk`
  // long (but the last), and returns when all are done. The caller works too.
  void ParallelFor(int64_t n, int64_t min_chunk,
                   const std::function<void(int64_t begin, int64_t end)>& fn);

  // Calls fn(i) for i in [0, n), one task per index (for coarse, uneven work).
  void ParallelForEach(int64_t n, const std::function<void(int64_t i)>& fn) {
    ParallelFor(n, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) fn(i);
    });
  }

  // True on a thread owned by any ThreadPool.
  static bool InWorker();

 private:
  void WorkerLoop();

  const int num_threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

// The process-wide pool. Created on first use with DefaultThreadCount() threads.
ThreadPool& DefaultThreadPool();
// Sets the size of the default pool; only effective before its first use. n <= 0 means
// hardware concurrency.
void SetDefaultThreadCount(int n);
int DefaultThreadCount();

// Shorthand for DefaultThreadPool().ParallelFor.
inline void ParallelFor(int64_t n, int64_t min_chunk,
                        const std::function<void(int64_t, int64_t)>& fn) {
  DefaultThreadPool().ParallelFor(n, min_chunk, fn);
}

}  // namespace loom
