#include "loom/base/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <memory>

#include "loom/base/check.h"

namespace loom {
namespace {
thread_local bool t_in_worker = false;

std::atomic<int> g_default_threads{0};
}  // namespace

ThreadPool::ThreadPool(int num_threads) : num_threads_(std::max(1, num_threads)) {
  workers_.reserve(num_threads_ - 1);
  for (int i = 0; i + 1 < num_threads_; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

bool ThreadPool::InWorker() { return t_in_worker; }

void ThreadPool::Schedule(std::function<void()> task) {
  if (workers_.empty()) {
    task();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void ThreadPool::WorkerLoop() {
  t_in_worker = true;
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

namespace {
// Shared between the caller and helper tasks; helpers may run after the caller returned
// (they then find no chunk left), so the state is reference-counted.
struct ForState {
  int64_t n = 0;
  int64_t chunk = 0;
  int64_t num_chunks = 0;
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> done{0};
  const std::function<void(int64_t, int64_t)>* fn = nullptr;
  std::mutex mu;
  std::condition_variable cv;

  // Runs chunks until none is left; returns true if this call finished the last one.
  void RunChunks() {
    for (;;) {
      int64_t c = next.fetch_add(1, std::memory_order_relaxed);
      if (c >= num_chunks) return;
      int64_t b = c * chunk;
      int64_t e = std::min(n, b + chunk);
      (*fn)(b, e);
      if (done.fetch_add(1, std::memory_order_acq_rel) + 1 == num_chunks) {
        std::lock_guard<std::mutex> lock(mu);
        cv.notify_all();
      }
    }
  }
};
}  // namespace

void ThreadPool::ParallelFor(int64_t n, int64_t min_chunk,
                             const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  min_chunk = std::max<int64_t>(1, min_chunk);
  if (workers_.empty() || t_in_worker || n <= min_chunk) {
    fn(0, n);
    return;
  }
  // A few chunks per thread balances uneven work without much scheduling overhead.
  int64_t target_chunks = static_cast<int64_t>(num_threads_) * 4;
  int64_t chunk = std::max(min_chunk, (n + target_chunks - 1) / target_chunks);
  auto state = std::make_shared<ForState>();
  state->n = n;
  state->chunk = chunk;
  state->num_chunks = (n + chunk - 1) / chunk;
  state->fn = &fn;
  int64_t helpers = std::min<int64_t>(static_cast<int64_t>(workers_.size()), state->num_chunks - 1);
  for (int64_t i = 0; i < helpers; ++i) Schedule([state] { state->RunChunks(); });
  state->RunChunks();
  std::unique_lock<std::mutex> lock(state->mu);
  state->cv.wait(lock, [&] { return state->done.load(std::memory_order_acquire) == state->num_chunks; });
}

ThreadPool& DefaultThreadPool() {
  static ThreadPool* pool = new ThreadPool(DefaultThreadCount());  // never destroyed
  return *pool;
}

void SetDefaultThreadCount(int n) { g_default_threads.store(n); }

int DefaultThreadCount() {
  int n = g_default_threads.load();
  if (n > 0) return n;
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

}  // namespace loom
