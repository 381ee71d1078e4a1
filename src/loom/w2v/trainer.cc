#include "loom/w2v/trainer.h"

#include <optional>
#include <thread>

#include <time.h>

#include "loom/base/logging.h"
#include "loom/base/strings.h"
#include "loom/w2v/hogbatch.h"
#include "loom/w2v/kernels.h"
#include "loom/w2v/token_chunks.h"

namespace loom::w2v {
namespace {

// CPU time of the calling thread: per-thread CPU per word is the load-independent measure of
// what a second thread costs (cache-line traffic on shared rows shows up as more CPU per word).
int64_t ThreadCpuNanos() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct ThreadJob {
  const TrainContext* ctx;
  std::span<const uint32_t> tokens;  // the chunk this call trains
  Model* model;
  uint64_t* next_random;
  float* alpha;
  std::atomic<int64_t>* word_count_actual;
  int64_t* since_alpha;  // this thread's words since its last alpha refresh, carried across chunks
  double* cpu_seconds;   // this thread's slot (summed over its chunks)
  int64_t* words;        // this thread's slot: words trained (summed over its chunks)
  uint8_t* touched_out;  // this thread's marks of updated output rows (syn1neg / syn1), or null
  int64_t clock_base;    // the shared clock at the slice's start
  int64_t clock_ranks;   // clock words per word trained here (TrainSlice's clock_ranks)
};

// The learning-rate clock at a refresh: `total` words on the shared counter, the slice's share
// scaled by the ranks training theirs at the same time (exactly `total` for one rank).
inline int64_t ClockAt(const ThreadJob& job, int64_t total) {
  return job.clock_base + (total - job.clock_base) * job.clock_ranks;
}

// The end of a chunk: publishes its last words to the shared clock and saves the thread's LCG
// and learning rate, which its next chunk continues from, and the words since the thread last
// refreshed alpha (word2vec.c refreshes every 10,000 of a thread's words; counted per chunk, a
// pass cut into chunks shorter than that would never decay alpha).
void FinishRange(const ThreadJob& job, int64_t word_count, int64_t last_word_count,
                 int64_t since_alpha, uint64_t next_random, float alpha, int64_t cpu_start) {
  *job.cpu_seconds += static_cast<double>(ThreadCpuNanos() - cpu_start) * 1e-9;
  *job.words += word_count;
  job.word_count_actual->fetch_add(word_count - last_word_count);
  *job.since_alpha = since_alpha + (word_count - last_word_count);
  *job.next_random = next_random;
  *job.alpha = alpha;
}

// Reads the next sentence as word2vec.c does; returns false at the end of the range with an
// empty sentence (the end of the epoch).
class SentenceReader {
 public:
  SentenceReader(const TrainContext& ctx, std::span<const uint32_t> tokens)
      : keep_(ctx.keep.empty() ? nullptr : ctx.keep.data()), tokens_(tokens) {}
  bool Read(int64_t* sen, int64_t* length, int64_t* word_count, uint64_t* next_random) {
    *length = 0;
    while (pos_ < tokens_.size()) {
      int64_t word = tokens_[pos_++];
      ++*word_count;
      if (word == 0) return true;
      if (keep_ != nullptr) {
        *next_random = NextRandom(*next_random);
        if (keep_[word] < (*next_random & 0xFFFF) / static_cast<float>(65536)) continue;
      }
      sen[(*length)++] = word;
      if (*length >= kMaxSentenceLength) return true;
    }
    return *length > 0;
  }

 private:
  const float* keep_;
  std::span<const uint32_t> tokens_;
  size_t pos_ = 0;
};

// Negative samples drawn one output step early. A step's noise targets are a pure function of
// the LCG state before its first draw, so the trainer draws the next step's targets from the
// state it predicts that step starts at and prefetches their syn1neg rows (random rows of a
// model larger than L2: ~150 ns each from memory on this host), and uses them only when the
// step really starts at that state. word2vec.c's random stream and update order stay exact; a
// wrong prediction (a new sentence's subsampling draws, an empty CBOW window) only redraws.
class NegativeAhead {
 public:
  NegativeAhead(const TrainContext& ctx, const float* syn1neg, int64_t dim)
      : noise_(*ctx.noise), vm1_(static_cast<uint64_t>(ctx.vocab->size() - 1)), syn1neg_(syn1neg),
        dim_(dim) {
    for (Step& b : bufs_) b.target.resize(static_cast<size_t>(ctx.options.negative));
  }
  // The targets of the step starting at LCG state `start`, before the caller skips the
  // positive word (one per draw); *end = the state after the step's draws.
  const int64_t* Take(uint64_t start, uint64_t* end) {
    if (ready_ < 0 || bufs_[ready_].start != start) {
      ready_ = 1 - cur_;
      Fill(start, &bufs_[ready_]);
    }
    cur_ = ready_;
    ready_ = -1;
    *end = bufs_[cur_].end;
    return bufs_[cur_].target.data();
  }
  // Draws the step predicted to start at `start` (keeping the taken one) and prefetches its rows.
  void Prepare(uint64_t start) {
    ready_ = 1 - cur_;
    Fill(start, &bufs_[ready_]);
    for (int64_t t : bufs_[ready_].target) PrefetchRow(syn1neg_ + t * dim_, dim_);
  }

 private:
  struct Step {
    uint64_t start = 0, end = 0;
    std::vector<int64_t> target;
  };
  void Fill(uint64_t start, Step* s) const {
    s->start = start;
    uint64_t r = start;
    for (int64_t& t : s->target) {
      r = NextRandom(r);
      t = noise_.Draw(r);
      if (t == 0) t = static_cast<int64_t>(r % vm1_) + 1;
    }
    s->end = r;
  }
  const NoiseSampler& noise_;
  const uint64_t vm1_;
  const float* syn1neg_;
  const int64_t dim_;
  Step bufs_[2];
  int cur_ = 0, ready_ = -1;
};

// Prefetches the rows position p + 1 will read first: its word's output row and the input
// row entering the window on the right (it stays in the window for the next positions).
inline void PrefetchNextPosition(const int64_t* sen, int64_t p, int64_t length, int64_t window,
                                 const float* syn0, const float* syn1neg, int64_t d) {
  if (p + 1 < length && syn1neg != nullptr) PrefetchRow(syn1neg + sen[p + 1] * d, d);
  if (p + 1 + window < length) PrefetchRow(syn0 + sen[p + 1 + window] * d, d);
}

// kMark: record updated output rows in job.touched_out (the distributed trainer's rounds); a
// compile-time switch so the single-process loop carries no per-row test.
// always_inline: the body (and its output_step lambda) must be compiled inside each ISA clone
// of the entry points below, not once for the baseline.
template <class Ops, bool kMark>
[[gnu::always_inline]] inline void ExactEpoch(const ThreadJob& job) {
  const TrainContext& ctx = *job.ctx;
  const TrainOptions& o = ctx.options;
  const int64_t d = job.model->dim;
  const int64_t window = o.window;
  float* syn0 = job.model->syn0.data();
  float* syn1 = job.model->syn1.data();
  float* syn1neg = job.model->syn1neg.data();
  uint8_t* const mark = job.touched_out;
  std::vector<float> neu1(static_cast<size_t>(d)), neu1e(static_cast<size_t>(d));
  int64_t sen[kMaxSentenceLength + 1] = {0};
  int64_t sentence_length = 0, sentence_position = 0, word_count = 0, last_word_count = 0;
  uint64_t next_random = *job.next_random;
  float alpha = *job.alpha;
  int64_t since_alpha = *job.since_alpha;  // words before this chunk since the last refresh
  SentenceReader reader(ctx, job.tokens);
  const int64_t cpu_start = ThreadCpuNanos();

  std::optional<NegativeAhead> ahead;
  if (o.negative > 0) ahead.emplace(ctx, syn1neg, d);

  // last: no other output step follows in this position (the next one starts after the next
  // position's window draw).
  auto output_step = [&](int64_t word, const float* h, float* e, bool last) [[gnu::always_inline]] {
    if (o.hs) {
      const auto& code = ctx.huffman.code[static_cast<size_t>(word)];
      const auto& point = ctx.huffman.point[static_cast<size_t>(word)];
      for (size_t j = 0; j < code.size(); j++) {
        float* r = syn1 + point[j] * d;
        if constexpr (kMark) mark[point[j]] = 1;
        float f = Ops::Dot(h, r, d);
        if (f <= -kMaxExp || f >= kMaxExp) continue;
        float g = (1 - code[j] - ctx.sigmoid(f)) * alpha;
        Ops::Axpy(g, r, e, d);
        Ops::Axpy(g, h, r, d);
      }
    }
    if (o.negative > 0) {
      uint64_t end;
      const int64_t* negatives = ahead->Take(next_random, &end);
      next_random = end;
      ahead->Prepare(last ? NextRandom(end) : end);
      for (int64_t j = 0; j < o.negative + 1; j++) {
        int64_t target;
        float label;
        if (j == 0) {
          target = word;
          label = 1;
        } else {
          target = negatives[j - 1];
          if (target == word) continue;
          label = 0;
        }
        float* r = syn1neg + target * d;
        if constexpr (kMark) mark[target] = 1;
        float f = Ops::Dot(h, r, d);
        float g;
        if (f > kMaxExp) g = (label - 1) * alpha;
        else if (f < -kMaxExp) g = label * alpha;
        else g = (label - ctx.sigmoid(f)) * alpha;
        Ops::Axpy(g, r, e, d);
        Ops::Axpy(g, h, r, d);
      }
    }
  };

  bool more = true;
  while (true) {
    if (word_count - last_word_count + since_alpha > 10000) {
      int64_t total = job.word_count_actual->fetch_add(word_count - last_word_count) +
                      (word_count - last_word_count);
      last_word_count = word_count;
      since_alpha = 0;
      alpha = DecayedAlpha(ctx, ClockAt(job, total));
    }
    if (sentence_length == 0) {
      more = reader.Read(sen, &sentence_length, &word_count, &next_random);
      sentence_position = 0;
    }
    if (!more) break;
    int64_t word = sen[sentence_position];
    PrefetchNextPosition(sen, sentence_position, sentence_length, window, syn0,
                         o.negative > 0 ? syn1neg : nullptr, d);
    next_random = NextRandom(next_random);
    int64_t b = static_cast<int64_t>(next_random % static_cast<uint64_t>(window));
    int64_t lo = std::max<int64_t>(b, window - sentence_position);
    int64_t hi = std::min<int64_t>(window * 2 + 1 - b, sentence_length - sentence_position + window);
    if (o.cbow) {
      std::fill(neu1.begin(), neu1.end(), 0.0f);
      std::fill(neu1e.begin(), neu1e.end(), 0.0f);
      int64_t cw = 0;
      for (int64_t a = lo; a < hi; a++) {
        if (a == window) continue;
        Ops::Add(syn0 + sen[sentence_position - window + a] * d, neu1.data(), d);
        cw++;
      }
      if (cw) {
        for (int64_t k = 0; k < d; k++) neu1[k] /= cw;
        output_step(word, neu1.data(), neu1e.data(), true);
        for (int64_t a = lo; a < hi; a++) {
          if (a == window) continue;
          Ops::Add(neu1e.data(), syn0 + sen[sentence_position - window + a] * d, d);
        }
      }
    } else {
      const int64_t last_a = hi - 1 == window ? hi - 2 : hi - 1;
      for (int64_t a = lo; a < hi; a++) {
        if (a == window) continue;
        float* l1 = syn0 + sen[sentence_position - window + a] * d;
        std::fill(neu1e.begin(), neu1e.end(), 0.0f);
        output_step(word, l1, neu1e.data(), a == last_a);
        Ops::Add(neu1e.data(), l1, d);
      }
    }
    sentence_position++;
    if (sentence_position >= sentence_length) sentence_length = 0;
  }
  FinishRange(job, word_count, last_word_count, since_alpha, next_random, alpha, cpu_start);
}

LOOM_W2V_ISA_CLONES void ExactEpochFast(const ThreadJob& job) { ExactEpoch<FastOps, false>(job); }
LOOM_W2V_ISA_CLONES void ExactEpochFastMarked(const ThreadJob& job) { ExactEpoch<FastOps, true>(job); }

void BatchedEpoch(const ThreadJob& job) {
  const TrainContext& ctx = *job.ctx;
  const TrainOptions& o = ctx.options;
  const int64_t d = job.model->dim;
  const int64_t window = o.window;
  int64_t sen[kMaxSentenceLength + 1] = {0};
  int64_t sentence_length = 0, word_count = 0, last_word_count = 0;
  uint64_t next_random = *job.next_random;
  float alpha = *job.alpha;
  int64_t since_alpha = *job.since_alpha;  // words before this chunk since the last refresh
  SentenceReader reader(ctx, job.tokens);
  const int64_t cpu_start = ThreadCpuNanos();
  HogBatchScratch scratch;
  std::vector<int32_t> inputs(static_cast<size_t>(2 * window)), outputs(static_cast<size_t>(o.negative + 1));
  std::vector<float> mult(static_cast<size_t>(o.negative + 1));
  NegativeAhead ahead(ctx, job.model->syn1neg.data(), d);
  while (reader.Read(sen, &sentence_length, &word_count, &next_random)) {
    if (word_count - last_word_count + since_alpha > 10000) {
      int64_t total = job.word_count_actual->fetch_add(word_count - last_word_count) +
                      (word_count - last_word_count);
      last_word_count = word_count;
      since_alpha = 0;
      alpha = DecayedAlpha(ctx, ClockAt(job, total));
    }
    for (int64_t p = 0; p < sentence_length; ++p) {
      const int64_t word = sen[p];
      PrefetchNextPosition(sen, p, sentence_length, window, job.model->syn0.data(),
                           job.model->syn1neg.data(), d);
      next_random = NextRandom(next_random);
      int64_t b = static_cast<int64_t>(next_random % static_cast<uint64_t>(window));
      int n_in = 0;
      for (int64_t a = b; a < window * 2 + 1 - b; a++) {
        if (a == window) continue;
        int64_t c = p - window + a;
        if (c < 0 || c >= sentence_length) continue;
        inputs[static_cast<size_t>(n_in++)] = static_cast<int32_t>(sen[c]);
      }
      for (int start = 0; start < n_in; start += o.batch_size) {
        int nb = std::min(o.batch_size, n_in - start);
        int n_out = 1;
        outputs[0] = static_cast<int32_t>(word);
        mult[0] = 1;
        uint64_t end;
        const int64_t* negatives = ahead.Take(next_random, &end);
        next_random = end;
        ahead.Prepare(start + o.batch_size < n_in ? end : NextRandom(end));
        for (int j = 0; j < o.negative; ++j) {
          const int64_t t = negatives[j];
          if (t == word) continue;
          int k = 1;
          while (k < n_out && outputs[static_cast<size_t>(k)] != t) ++k;
          if (k < n_out) {
            mult[static_cast<size_t>(k)] += 1;
          } else {
            outputs[static_cast<size_t>(n_out)] = static_cast<int32_t>(t);
            mult[static_cast<size_t>(n_out++)] = 1;
          }
        }
        if (job.touched_out != nullptr)
          for (int j = 0; j < n_out; ++j) job.touched_out[outputs[static_cast<size_t>(j)]] = 1;
        HogBatchUpdate(inputs.data() + start, nb, outputs.data(), mult.data(), n_out, alpha, d,
                       ctx.sigmoid, job.model->syn0.data(), job.model->syn1neg.data(), &scratch);
      }
    }
  }
  FinishRange(job, word_count, last_word_count, since_alpha, next_random, alpha, cpu_start);
}

}  // namespace

float DecayedAlpha(const TrainContext& ctx, int64_t words) {
  const float a0 = ctx.options.starting_alpha();
  float alpha = a0 * (1 - words / static_cast<float>(ctx.options.iter * ctx.vocab->train_words() + 1));
  if (alpha < a0 * 0.0001) alpha = static_cast<float>(a0 * 0.0001);
  return alpha;
}

TrainState InitialTrainState(const TrainOptions& options) {
  TrainState s;
  for (int t = 0; t < options.threads; ++t) {
    s.rng.push_back(ThreadSeed(options.seed, t));
    s.alpha.push_back(options.starting_alpha());
  }
  return s;
}

Status TrainSlice(const TrainContext& ctx, std::span<const uint32_t> tokens, Model* model,
                  TrainState* state, Kernels kernels, std::vector<uint8_t>* touched_out,
                  int clock_ranks) {
  const int threads = static_cast<int>(state->rng.size());
  if (threads < 1 || state->alpha.size() != state->rng.size())
    return FailedPreconditionError("training state has no threads");
  if (clock_ranks < 1) return InvalidArgumentError(StrCat("clock_ranks ", clock_ranks, " < 1"));
  if (model->vocab_size != ctx.vocab->size() || model->dim != ctx.options.dim)
    return FailedPreconditionError("model shape does not match vocabulary and -size");
  std::atomic<int64_t> wca(state->words_done);
  std::vector<ThreadJob> jobs;
  // A pass starts the refresh count afresh (word2vec.c: every epoch; the distributed trainer
  // refreshes alpha itself at a round start).
  std::vector<int64_t> since_alpha(static_cast<size_t>(threads), 0);
  std::vector<double> cpu(static_cast<size_t>(threads), 0.0);
  std::vector<int64_t> words(static_cast<size_t>(threads), 0);
  // One mark array per thread (no cache line written by two threads), merged after the join.
  std::vector<std::vector<uint8_t>> marks(touched_out != nullptr ? static_cast<size_t>(threads) : 0);
  for (auto& m : marks) m.assign(static_cast<size_t>(model->vocab_size), 0);
  for (int t = 0; t < threads; ++t) {
    const auto i = static_cast<size_t>(t);
    jobs.push_back({&ctx,
                    {},
                    model,
                    &state->rng[i],
                    &state->alpha[i],
                    &wca,
                    &since_alpha[i],
                    &cpu[i],
                    &words[i],
                    marks.empty() ? nullptr : marks[i].data(),
                    state->words_done,
                    clock_ranks});
  }
  TokenChunks chunks(tokens.size(), threads);
  auto run = [&](ThreadJob job) {
    for (TokenChunks::Range r = chunks.Next(); r.begin < r.end; r = chunks.Next()) {
      job.tokens = tokens.subspan(r.begin, r.end - r.begin);
      if (ctx.options.mode == Mode::kBatched)
        BatchedEpoch(job);
      else if (kernels == Kernels::kSequential && job.touched_out)
        ExactEpoch<SequentialOps, true>(job);
      else if (kernels == Kernels::kSequential)
        ExactEpoch<SequentialOps, false>(job);
      else if (job.touched_out)
        ExactEpochFastMarked(job);
      else
        ExactEpochFast(job);
    }
  };
  if (threads == 1) {
    run(jobs[0]);
  } else {
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(run, jobs[static_cast<size_t>(t)]);
    run(jobs[0]);
    for (auto& th : pool) th.join();
  }
  state->words_done = wca.load();
  for (double c : cpu) state->cpu_seconds += c;
  for (int t = 0; t < threads; ++t) {
    const auto i = static_cast<size_t>(t);
    LOOM_LOG(kDebug) << "w2v thread " << t << ": " << words[i] << " words, " << cpu[i] << " CPU-s, "
                     << cpu[i] * 1e9 / static_cast<double>(std::max<int64_t>(words[i], 1))
                     << " CPU-ns/word";
  }
  if (touched_out != nullptr) {
    touched_out->resize(static_cast<size_t>(model->vocab_size), 0);
    for (const auto& m : marks)
      for (size_t i = 0; i < m.size(); ++i) (*touched_out)[i] |= m[i];
  }
  return OkStatus();
}

Status Train(const TrainContext& ctx, std::span<const uint32_t> tokens, Model* model,
             TrainState* state, const EpochCallback& after_epoch, Kernels kernels) {
  const int threads = ctx.options.threads;
  if (static_cast<int>(state->rng.size()) != threads || state->alpha.size() != state->rng.size())
    return FailedPreconditionError(StrCat("training state has ", state->rng.size(),
                                          " threads, options ask for ", threads));
  if (tokens.empty()) return InvalidArgumentError("the encoded corpus has no in-vocabulary tokens");
  for (int epoch = state->epochs_done; epoch < ctx.options.iter; ++epoch) {
    LOOM_RETURN_IF_ERROR(TrainSlice(ctx, tokens, model, state, kernels));
    LOOM_RETURN_IF_ERROR(CheckFinite(*model, StrCat("in epoch ", epoch + 1)));
    state->epochs_done = epoch + 1;
    if (after_epoch) LOOM_RETURN_IF_ERROR(after_epoch(*state));
  }
  return OkStatus();
}

}  // namespace loom::w2v
