// TokenChunks: hands out one training pass's token range in chunks to the threads that ask, in
// order, each chunk exactly once (thread-safe; one atomic counter).
//
// Why chunks and not one fixed 1/T range per thread (word2vec.c's split): on a shared host one
// vCPU often runs 15-30 % slower than the other for seconds at a time, and with fixed ranges
// the faster thread then idles while the slower one finishes (2-thread runs ended with one
// thread done at 85-88 % of the pass). With 16 chunks per thread the faster thread simply trains
// more of them. A single thread gets the whole range as one chunk, so its run stays word2vec.c's
// bit for bit. Each thread keeps its own LCG and learning rate across its chunks, and the
// learning-rate clock is the shared word count, as before.
#ifndef LOOM_W2V_TOKEN_CHUNKS_H_
#define LOOM_W2V_TOKEN_CHUNKS_H_

#include <algorithm>
#include <atomic>
#include <cstddef>

namespace loom::w2v {

class TokenChunks {
 public:
  // Chunks per thread, and the smallest chunk worth a call of the epoch loop (a chunk boundary
  // ends a sentence early, as a thread boundary does in word2vec.c).
  static constexpr size_t kChunksPerThread = 16;
  static constexpr size_t kMinChunk = 8192;

  struct Range {
    size_t begin, end;
  };

  // kMinChunk yields to the thread count: a range shorter than threads x kMinChunk (a
  // distributed rank's round slice is <= 8K words at the default rounds) is still cut into at
  // least `threads` chunks, else one thread trained it all while the others idled.
  TokenChunks(size_t tokens, int threads)
      : tokens_(tokens),
        chunk_(threads <= 1
                   ? std::max<size_t>(tokens, 1)
                   : std::max({size_t{1}, (tokens + Shares(threads) - 1) / Shares(threads),
                               std::min(kMinChunk, tokens / static_cast<size_t>(threads))})) {}

  // The next chunk; an empty range once the pass is handed out.
  Range Next() {
    const size_t begin = std::min(next_.fetch_add(chunk_, std::memory_order_relaxed), tokens_);
    return {begin, std::min(begin + chunk_, tokens_)};
  }

  size_t chunk_size() const { return chunk_; }

 private:
  static size_t Shares(int threads) { return kChunksPerThread * static_cast<size_t>(threads); }

  const size_t tokens_;
  const size_t chunk_;
  std::atomic<size_t> next_{0};
};

}  // namespace loom::w2v

#endif  // LOOM_W2V_TOKEN_CHUNKS_H_
